//! An echo over a non-blocking std `UnixStream` pair driven through `tokio::io::unix::AsyncFd`
//! and its ready guards (the API for fds tokio does not wrap itself), written against tokio and
//! compiled unchanged against tokio and against sonic through the facade (see `chat.rs`). Then
//! the guard rules on a second pair: a guard dropped without clearing leaves the readiness set,
//! `try_io` seeing `WouldBlock` clears it. The output is the same on every run. Registration is
//! tokio 1.54's `unsafe` `AsyncFd::register` (the safe `new` is deprecated there).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// One read through a guard: wait, try, and on `WouldBlock` (readiness cleared) wait again.
async fn read_some(fd: &AsyncFd<UnixStream>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|inner| inner.get_ref().read(buf)) {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

async fn write_all(fd: &AsyncFd<UnixStream>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|inner| inner.get_ref().write(buf)) {
            Ok(result) => buf = &buf[result?..],
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

/// Whether `fd` is readable on the first poll (its readiness still set), or would wait.
async fn readable_at_once(fd: &AsyncFd<UnixStream>) -> &'static str {
    tokio::select! {
        biased;
        _ = fd.readable() => "ready at once",
        _ = std::future::ready(()) => "waits for new data",
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let (client, server) = UnixStream::pair()?;
    // AsyncFd leaves O_NONBLOCK to its user.
    client.set_nonblocking(true)?;
    server.set_nonblocking(true)?;

    // SAFETY: each stream owns its fd and keeps it open (and the same) while registered.
    let server = unsafe { AsyncFd::register(server) }?;
    let echo = tokio::spawn(async move {
        let mut buf = [0u8; 64]; // small: a long message takes several reads
        let mut total = 0;
        loop {
            let n = read_some(&server, &mut buf).await?;
            if n == 0 {
                break;
            }
            write_all(&server, &buf[..n]).await?;
            total += n;
        }
        // End of stream is final readiness: waiting again returns at once, read-closed.
        let closed = server.readable().await?.ready().is_read_closed();
        Ok::<_, io::Error>((total, closed))
    });

    let interest = Interest::READABLE | Interest::WRITABLE;
    // SAFETY: as for `server`.
    let client = unsafe { AsyncFd::register_with_interest(client, interest) }?;
    let long = "x".repeat(1000);
    for msg in ["hello", "through an AsyncFd", long.as_str()] {
        write_all(&client, msg.as_bytes()).await?;
        let mut back = vec![0u8; msg.len()];
        let mut got = 0;
        while got < back.len() {
            match read_some(&client, &mut back[got..]).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => got += n,
            }
        }
        assert_eq!(back, msg.as_bytes());
        let shown = if msg.len() > 40 { "1000 x" } else { msg };
        println!("echoed {} bytes: {shown}", msg.len());
    }
    // Deregistered and given back open: end the stream with std's own shutdown.
    let client: UnixStream = client.into_inner();
    client.shutdown(std::net::Shutdown::Write)?;
    let (total, closed) = echo.await.expect("the echo task")?;
    println!("server echoed {total} bytes, then saw the read side closed: {closed}");

    let (left, mut right) = UnixStream::pair()?;
    left.set_nonblocking(true)?;
    // SAFETY: as for `server`.
    let left = unsafe { AsyncFd::register(left) }?;
    right.write_all(b"ping")?;
    let guard = left.readable().await?;
    let mut buf = [0u8; 16];
    let n = left.get_ref().read(&mut buf)?; // drained behind the guard's back
    println!("read {:?}", std::str::from_utf8(&buf[..n]).unwrap());
    drop(guard);
    println!("after a dropped guard: {}", readable_at_once(&left).await);
    let mut guard = left.readable().await?;
    let outcome = guard.try_io(|inner| inner.get_ref().read(&mut buf));
    println!("try_io would block: {}", outcome.is_err());
    println!("after try_io cleared it: {}", readable_at_once(&left).await);
    right.write_all(b"pong")?;
    let n = read_some(&left, &mut buf).await?;
    println!("read {:?}", std::str::from_utf8(&buf[..n]).unwrap());
    Ok(())
}
