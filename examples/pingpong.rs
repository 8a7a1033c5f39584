//! Loopback TCP ping-pong on one sonic runtime: a client task and an echo task trade a 64-byte
//! message, and the program prints the round trips' percentiles and their distribution as a
//! bar chart (an HDR histogram, like the Go sonic library's `TtyHist`). No setup needed:
//!
//! `cargo run --release -p sonic-examples --example pingpong [-- --count 100000 --busy-poll]`

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_benches::Latency;
use sonic_rt::io::Async;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

const MSG: usize = 64;

fn main() -> io::Result<()> {
    let mut count = 100_000;
    let mut busy_poll = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => count = n,
                _ => usage(),
            },
            "--busy-poll" => busy_poll = true,
            _ => usage(),
        }
    }

    // One thread runs everything: both tasks, both sockets, the reactor.
    let rt = sonic_rt::Builder::new().busy_poll(busy_poll).build()?;
    let rtts = rt.block_on(async {
        let (mut client, mut server) = loopback_pair()?;

        // The server: echo every message back until the client hangs up.
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 4096];
            while read_msg(&mut server, &mut buf).await.is_ok() {
                if server.write_all(&buf[..MSG]).await.is_err() {
                    break;
                }
            }
        });

        // The client: send a message, wait for the echo, time the round trip.
        let msg = [0x5a; MSG];
        let mut buf = [0u8; 4096];
        let mut rtts = Latency::new();
        for i in 0..count + count / 10 {
            let start = Instant::now();
            client.write_all(&msg).await?;
            read_msg(&mut client, &mut buf).await?;
            if i >= count / 10 {
                rtts.record(start.elapsed()); // the first tenth was warm-up
            }
        }
        drop(client);
        echo.await.expect("the echo task panicked");
        io::Result::Ok(rtts)
    })?;

    let mode = if busy_poll {
        "busy-poll"
    } else {
        "default (sleeps in epoll when idle)"
    };
    let title =
        format!("sonic-rt ping-pong: {MSG} B over loopback TCP, one thread, {mode}; round trips");
    rtts.write_tty(&title, io::stdout().lock())
}

fn usage() -> ! {
    eprintln!("usage: pingpong [--count N] [--busy-poll]");
    std::process::exit(2)
}

/// A connected client/server pair over loopback, Nagle off, registered with the runtime.
fn loopback_pair() -> io::Result<(Async<TcpStream>, Async<TcpStream>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((Async::new(client)?, Async::new(server)?))
}

/// Reads one message. The buffer is bigger than a message, so a read that comes up short tells
/// the runtime the socket is drained, and the next read waits for an event instead of trying
/// the kernel first and getting `EAGAIN`.
async fn read_msg(sock: &mut Async<TcpStream>, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < MSG {
        match sock.read(&mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}
