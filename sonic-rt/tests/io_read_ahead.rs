//! Read-ahead on `Async<T>`: a small stream read is served from one larger kernel read, a short
//! fill proves the socket drained, buffered bytes always come first (before any syscall, EOF
//! or error), large reads bypass the buffer, and nothing buffered is ever dropped silently.
//!
//! The `read` closures count their calls: each call is one `read(2)`, so the tests see exactly
//! which syscalls a read path makes.

mod common;

use sonic_test_support::each_mode;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use sonic_rt::io::Async;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSliceMut, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

fn pair() -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (Async::new(a).unwrap(), Async::new(b).unwrap())
}

/// A loopback TCP pair (client, server).
fn tcp_pair() -> (Async<TcpStream>, Async<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (Async::new(client).unwrap(), Async::new(server).unwrap())
}

/// `read_exact` over `poll_read_stream`, counting the `read(2)` calls in `calls`.
async fn read_exact_counted(
    io: &Async<UnixStream>,
    buf: &mut [u8],
    calls: &Cell<usize>,
) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let n = poll_fn(|cx| {
            io.poll_read_stream(cx, &mut buf[got..], |mut s, b| {
                calls.set(calls.get() + 1);
                s.read(b)
            })
        })
        .await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got += n;
    }
    Ok(())
}

/// One poll of `poll_read_stream` with a waker that does nothing: what a read does right now.
fn poll_read_now(
    io: &Async<UnixStream>,
    buf: &mut [u8],
    calls: &Cell<usize>,
) -> Poll<io::Result<usize>> {
    let mut cx = Context::from_waker(Waker::noop());
    io.poll_read_stream(&mut cx, buf, |mut s, b| {
        calls.set(calls.get() + 1);
        s.read(b)
    })
}

fn small_read_exact_is_one_read_and_proves_the_drain(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        b.set_read_ahead(4096);
        a.write_with(|mut s| s.write(&[7u8; 64])).await.unwrap();
        let calls = Cell::new(0);
        let mut msg = [0u8; 64];
        read_exact_counted(&b, &mut msg, &calls).await.unwrap();
        assert_eq!((calls.get(), msg), (1, [7u8; 64]));
        // The 64-byte fill was short of 4096: the socket is known drained, so the next read
        // waits without asking the kernel (no EAGAIN call).
        assert!(poll_read_now(&b, &mut msg, &calls).is_pending());
        assert_eq!(
            calls.get(),
            1,
            "a read after a short fill called the kernel"
        );

        // Without read-ahead the same read_exact reads exactly 64 bytes, which proves nothing,
        // so the next read pays for an EAGAIN: the syscall read-ahead saves.
        b.set_read_ahead(0);
        a.write_with(|mut s| s.write(&[8u8; 64])).await.unwrap();
        let calls = Cell::new(0);
        read_exact_counted(&b, &mut msg, &calls).await.unwrap();
        assert_eq!(calls.get(), 1);
        assert!(poll_read_now(&b, &mut msg, &calls).is_pending());
        assert_eq!(calls.get(), 2);
    });
}

fn ping_pong_read_exact_makes_one_read_per_message(rt: &Runtime) {
    rt.block_on(async {
        let (client, server) = pair();
        client.set_read_ahead(4096);
        server.set_read_ahead(4096);
        let server_calls = Rc::new(Cell::new(0));
        let counted = server_calls.clone();
        let echo = spawn(async move {
            let mut buf = [0u8; 64];
            while read_exact_counted(&server, &mut buf, &counted)
                .await
                .is_ok()
            {
                server.write_with(|mut s| s.write(&buf)).await.unwrap();
            }
        });
        let calls = Cell::new(0);
        const ROUNDS: usize = 200;
        for i in 0..=ROUNDS {
            if i == 1 {
                // Round 0 warmed up: a new source starts out "ready", so the client's first
                // read was an optimistic EAGAIN.
                calls.set(0);
                server_calls.set(0);
            }
            client
                .write_with(|mut s| s.write(&[i as u8; 64]))
                .await
                .unwrap();
            let mut buf = [0u8; 64];
            read_exact_counted(&client, &mut buf, &calls).await.unwrap();
            assert_eq!(buf, [i as u8; 64]);
        }
        // One read(2) per message on each end: no EAGAIN call anywhere.
        assert_eq!(calls.get(), ROUNDS);
        assert_eq!(server_calls.get(), ROUNDS);
        drop(client);
        echo.await.unwrap();
        assert_eq!(server_calls.get(), ROUNDS + 1, "EOF is one more read");
    });
}

fn buffered_bytes_are_served_before_any_syscall_even_with_readiness_cleared(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        b.set_read_ahead(16);
        a.write_with(|mut s| s.write(b"abcdef")).await.unwrap();
        let calls = Cell::new(0);
        let mut two = [0u8; 2];
        read_exact_counted(&b, &mut two, &calls).await.unwrap();
        assert_eq!((&two, b.read_ahead_len(), calls.get()), (b"ab", 4, 1));
        // Readiness is cleared (the short fill, and once more by hand): the buffered bytes
        // must still be read at once. Waiting for an event here would be a lost wake-up.
        b.clear_readable();
        assert!(matches!(
            poll_read_now(&b, &mut two, &calls),
            Poll::Ready(Ok(2))
        ));
        assert_eq!(&two, b"cd");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(b.poll_readable(&mut cx).is_ready());
        timeout(Duration::from_secs(5), b.readable())
            .await
            .expect("readable() waited with bytes buffered")
            .unwrap();
        let mut peeked = [0u8; 8];
        assert_eq!(b.peek_read_ahead(&mut peeked), 2);
        assert_eq!(&peeked[..2], b"ef");
        let mut rest = [0u8; 8];
        assert_eq!(
            b.try_read_stream(&mut rest, |mut s, b| s.read(b)).unwrap(),
            2
        );
        assert_eq!(&rest[..2], b"ef");
        assert_eq!(calls.get(), 1);
        // Now empty, and the socket drained: readable() waits again.
        assert!(b.poll_readable(&mut cx).is_pending());
        let err = b
            .try_read_stream(&mut rest, |mut s, b| s.read(b))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    });
}

fn partial_reads_keep_the_byte_stream_intact(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, mut b) = pair();
        b.set_read_ahead(100);
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
        let d = data.clone();
        let writer = spawn(async move {
            // Writes of odd sizes, so fills end mid-read and reads end mid-fill.
            for chunk in d.chunks(37) {
                a.write_all(chunk).await.unwrap();
            }
            a
        });
        let mut got = Vec::new();
        let sizes = [1usize, 7, 64, 99, 100, 101, 333, 3];
        let mut i = 0;
        while got.len() < data.len() {
            let want = sizes[i % sizes.len()].min(data.len() - got.len());
            let mut buf = vec![0u8; want];
            b.read_exact(&mut buf).await.unwrap();
            got.extend_from_slice(&buf);
            i += 1;
        }
        assert_eq!(got, data);
        assert_eq!(b.read_ahead_len(), 0);
        drop(writer.await.unwrap());
        let mut byte = [0u8; 1];
        assert_eq!(b.read(&mut byte).await.unwrap(), 0);
    });
}

fn eof_comes_after_buffered_data(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.set_read_ahead(64);
        a.write_with(|mut s| s.write(b"hello")).await.unwrap();
        drop(a); // EOF behind the data
        let mut buf = [0u8; 2];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"he");
        let mut rest = [0u8; 16];
        assert_eq!(b.read(&mut rest).await.unwrap(), 3);
        assert_eq!(&rest[..3], b"llo");
        assert_eq!(b.read(&mut rest).await.unwrap(), 0);
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "EOF is sticky");
    });
}

fn eof_with_nothing_buffered(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.set_read_ahead(64);
        let closer = spawn(async move { drop(a) });
        let mut buf = [0u8; 4];
        assert_eq!(b.read(&mut buf).await.unwrap(), 0);
        closer.await.unwrap();
        let err = b.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

/// Waits (blocking, deterministic) until the kernel reports the reset on `fd`.
fn wait_for_reset(fd: i32) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, 5000) };
        assert!(n > 0, "no reset within 5 s");
        if pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            return;
        }
    }
}

fn peer_reset_comes_after_buffered_data(rt: &Runtime) {
    rt.block_on(async {
        let (client, mut server) = tcp_pair();
        server.set_read_ahead(64);
        client
            .write_with(|mut s| s.write(b"data1234"))
            .await
            .unwrap();
        let mut two = [0u8; 2];
        server.read_exact(&mut two).await.unwrap();
        assert_eq!((&two, server.read_ahead_len()), (b"da", 6));
        // The peer resets the connection (SO_LINGER 0, then close) after the fill.
        let client = client.into_inner().unwrap();
        socket_linger_zero(&client);
        drop(client);
        wait_for_reset(server.as_raw_fd());
        let mut rest = [0u8; 16];
        assert_eq!(server.read(&mut rest).await.unwrap(), 6);
        assert_eq!(&rest[..6], b"ta1234");
        let err = server.read(&mut rest).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    });
}

fn socket_linger_zero(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: SO_LINGER with a pointer to a linger struct that lives across the call.
    let res = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(res, 0, "{}", io::Error::last_os_error());
}

fn large_reads_bypass_the_buffer(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, b) = pair();
        b.set_read_ahead(4096);
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        a.write_all(&data).await.unwrap();
        let mut big = vec![0u8; 8192];
        let target = big.as_ptr();
        let n = poll_fn(|cx| {
            b.poll_read_stream(cx, &mut big, |mut s, buf| {
                // The kernel writes straight into the caller's buffer: no copy.
                assert_eq!((buf.as_ptr(), buf.len()), (target, 8192));
                s.read(buf)
            })
        })
        .await
        .unwrap();
        assert_eq!(n, 8192);
        assert_eq!(b.read_ahead_len(), 0);
        assert_eq!(&big[..], &data[..8192]);
        // A read as large as the read-ahead bypasses it too.
        let mut exact = vec![0u8; 4096];
        let n = poll_fn(|cx| {
            b.poll_read_stream(cx, &mut exact, |mut s, buf| {
                assert_eq!(buf.len(), 4096);
                s.read(buf)
            })
        })
        .await
        .unwrap();
        assert_eq!(&exact[..n], &data[8192..]);
        assert_eq!(b.read_ahead_len(), 0);
    });
}

fn read_ahead_is_per_socket(rt: &Runtime) {
    rt.block_on(async {
        let (a1, b1) = pair();
        let (a2, b2) = pair();
        b1.set_read_ahead(4096);
        assert_eq!((b1.read_ahead(), b2.read_ahead()), (4096, 0));
        a1.write_with(|mut s| s.write(b"0123456789")).await.unwrap();
        a2.write_with(|mut s| s.write(b"0123456789")).await.unwrap();
        let mut four = [0u8; 4];
        let lens = Cell::new(0);
        for b in [&b1, &b2] {
            poll_fn(|cx| {
                b.poll_read_stream(cx, &mut four, |mut s, buf| {
                    lens.set(buf.len());
                    s.read(buf)
                })
            })
            .await
            .unwrap();
            assert_eq!(&four, b"0123");
            if b.read_ahead() > 0 {
                assert_eq!((lens.get(), b.read_ahead_len()), (4096, 6));
            } else {
                assert_eq!((lens.get(), b.read_ahead_len()), (4, 0));
            }
        }
        // Turning read-ahead off keeps what is buffered: it is still read first.
        b1.set_read_ahead(0);
        let mut rest = [0u8; 16];
        let n = poll_fn(|cx| b1.poll_read_stream(cx, &mut rest, |mut s, b| s.read(b)))
            .await
            .unwrap();
        assert_eq!(&rest[..n], b"456789");
        let n = poll_fn(|cx| b2.poll_read_stream(cx, &mut rest, |mut s, b| s.read(b)))
            .await
            .unwrap();
        assert_eq!(&rest[..n], b"456789");
    });
}

fn vectored_reads_see_buffered_bytes(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.set_read_ahead(64);
        a.write_with(|mut s| s.write(b"abcdefgh")).await.unwrap();
        let mut one = [0u8; 3];
        b.read_exact(&mut one).await.unwrap();
        let (mut x, mut y) = ([0u8; 0], [0u8; 8]);
        let mut bufs = [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)];
        let n = b.read_vectored(&mut bufs).await.unwrap();
        assert_eq!(&y[..n], b"defgh");
        drop(a);
    });
}

fn spin_reads_with_read_ahead(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, mut b) = pair();
        b.set_read_ahead(4096);
        b.set_spin_reads(true);
        let writer = spawn(async move {
            for i in 0..100u8 {
                a.write_all(&[i; 10]).await.unwrap();
                sonic_rt::task::yield_now().await;
            }
            a
        });
        for i in 0..100u8 {
            let mut buf = [0u8; 10];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [i; 10]);
        }
        drop(writer.await.unwrap());
    });
}

each_mode!(
    small_read_exact_is_one_read_and_proves_the_drain,
    ping_pong_read_exact_makes_one_read_per_message,
    buffered_bytes_are_served_before_any_syscall_even_with_readiness_cleared,
    partial_reads_keep_the_byte_stream_intact,
    eof_comes_after_buffered_data,
    eof_with_nothing_buffered,
    peer_reset_comes_after_buffered_data,
    large_reads_bypass_the_buffer,
    read_ahead_is_per_socket,
    vectored_reads_see_buffered_bytes,
    spin_reads_with_read_ahead,
);

#[test]
fn builder_read_ahead_is_every_new_sockets_default() {
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new()
            .busy_poll(busy)
            .read_ahead(2048)
            .build()
            .unwrap();
        rt.block_on(async {
            let (a, mut b) = pair();
            assert_eq!((a.read_ahead(), b.read_ahead()), (2048, 2048));
            a.write_with(|mut s| s.write(b"xyz")).await.unwrap();
            let mut one = [0u8; 1];
            b.read_exact(&mut one).await.unwrap();
            assert_eq!(b.read_ahead_len(), 2);
            b.set_read_ahead(0); // per socket, over the default
            assert_eq!((a.read_ahead(), b.read_ahead()), (2048, 0));
        });
    }
    let rt = common::rt(false);
    rt.block_on(async {
        let (a, _b) = pair();
        assert_eq!(a.read_ahead(), 0, "read-ahead is off by default");
    });
}

#[test]
fn into_inner_refuses_to_drop_buffered_bytes_and_into_parts_returns_them() {
    let rt = common::rt(false);
    rt.block_on(async {
        let (a, mut b) = pair();
        b.set_read_ahead(64);
        a.write_with(|mut s| s.write(b"keep me")).await.unwrap();
        let mut one = [0u8; 1];
        b.read_exact(&mut one).await.unwrap();
        let err = b.into_inner().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("6 read-ahead bytes"), "{err}");

        let (a, mut b) = pair();
        b.set_read_ahead(64);
        a.write_with(|mut s| s.write(b"keep me")).await.unwrap();
        b.read_exact(&mut one).await.unwrap();
        let (mut raw, buffered) = b.into_parts().unwrap();
        assert_eq!(buffered, b"eep me");
        a.write_with(|mut s| s.write(b"!")).await.unwrap();
        let mut next = [0u8; 1];
        assert_eq!(raw.read(&mut next).unwrap(), 1);
        assert_eq!(&next, b"!");

        // Nothing buffered: into_inner works as before.
        let (_a, b) = pair();
        b.set_read_ahead(64);
        let _raw: UnixStream = b.into_inner().unwrap();
    });
    assert_eq!(rt.io_sources(), 0);
}

#[test]
fn poll_read_ahead_with_read_ahead_off_is_an_error() {
    let rt = common::rt(false);
    rt.block_on(async {
        let (_a, b) = pair();
        let err =
            poll_fn(|cx| b.poll_read_ahead(cx, |mut s, buf| s.read(buf), |bytes| bytes.len()))
                .await
                .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}
