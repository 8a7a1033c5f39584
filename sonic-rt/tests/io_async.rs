//! `Async<T>` on real fds: readiness, optimistic I/O, futures-io traits, cancellation, errors.

mod common;

use sonic_test_support::each_mode;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use sonic_rt::io::Async;
use sonic_rt::time::{sleep, timeout};
use sonic_rt::{spawn, Runtime};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn pair() -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (Async::new(a).unwrap(), Async::new(b).unwrap())
}

fn echo_between_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (mut client, mut server) = pair();
        let echo = spawn(async move {
            let mut buf = [0u8; 1024];
            let mut total = 0;
            loop {
                let n = server.read(&mut buf).await.unwrap();
                if n == 0 {
                    return total;
                }
                total += n;
                server.write_all(&buf[..n]).await.unwrap();
            }
        });
        for i in 0..200u32 {
            let msg = i.to_le_bytes().repeat(16);
            client.write_all(&msg).await.unwrap();
            let mut back = vec![0u8; msg.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg);
        }
        drop(client); // EOF for the server
        assert_eq!(echo.await.unwrap(), 200 * 64);
    });
    assert_eq!(rt.io_sources(), 0, "dropped Async must deregister");
}

fn read_waits_until_peer_writes(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let writer = spawn(async move {
            sleep(Duration::from_millis(3)).await;
            b.write_with(|mut s| s.write(b"late")).await.unwrap();
            b
        });
        let mut buf = [0u8; 8];
        let start = std::time::Instant::now();
        let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"late");
        assert!(start.elapsed() >= Duration::from_millis(3));
        drop(writer.await.unwrap());
    });
}

fn large_transfer_with_backpressure(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, mut b) = pair();
        const LEN: usize = 8 << 20; // far beyond the socket buffers: writes must wait
        let writer = spawn(async move {
            let chunk: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
            let mut sent = 0;
            while sent < LEN {
                a.write_all(&chunk).await.unwrap();
                sent += chunk.len();
            }
            a.close().await.unwrap();
        });
        let mut got = 0usize;
        let mut buf = vec![0u8; 100_000];
        loop {
            let n = b.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            for (k, byte) in buf[..n].iter().enumerate() {
                assert_eq!(*byte, (((got + k) % 65536) % 251) as u8);
            }
            got += n;
            if got == LEN {
                break;
            }
        }
        assert_eq!(got, LEN);
        writer.await.unwrap();
    });
}

fn dropped_read_future_does_not_lose_data(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let mut buf = [0u8; 4];
        // A read that is cancelled while pending...
        let r = timeout(
            Duration::from_millis(1),
            a.read_with(|mut s| s.read(&mut buf)),
        )
        .await;
        assert!(r.is_err());
        // ...leaves the source usable: the next read sees data written afterwards.
        b.write_with(|mut s| s.write(b"abcd")).await.unwrap();
        let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"abcd");
    });
}

fn readable_and_writable(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        a.writable().await.unwrap();
        // Nothing to read yet: readable() must not complete.
        assert!(timeout(Duration::from_millis(2), async {
            // Force the cached readiness off first, as an EAGAIN would.
            a.clear_readable();
            a.readable().await
        })
        .await
        .is_err());
        b.write_with(|mut s| s.write(b"x")).await.unwrap();
        timeout(Duration::from_secs(5), a.readable())
            .await
            .unwrap()
            .unwrap();
    });
}

fn peer_close_reads_eof(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, b) = pair();
        let closer = spawn(async move {
            sleep(Duration::from_millis(1)).await;
            drop(b);
        });
        let mut buf = [0u8; 16];
        assert_eq!(a.read(&mut buf).await.unwrap(), 0);
        closer.await.unwrap();
        // Writing to a closed peer is an error, not a panic.
        let err = loop {
            match a.write(b"into the void").await {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    });
}

fn many_sources_on_one_thread(rt: &Runtime) {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (mut a, mut b) = pair();
            tasks.push(spawn(async move {
                a.write_all(&i.to_be_bytes()).await.unwrap();
                let mut buf = [0u8; 4];
                b.read_exact(&mut buf).await.unwrap();
                u32::from_be_bytes(buf)
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as u32);
        }
    });
    assert_eq!(rt.io_sources(), 0);
}

each_mode!(
    echo_between_tasks,
    read_waits_until_peer_writes,
    large_transfer_with_backpressure,
    dropped_read_future_does_not_lose_data,
    readable_and_writable,
    peer_close_reads_eof,
    many_sources_on_one_thread,
);

#[test]
fn async_new_outside_runtime_is_an_error() {
    let (a, _b) = UnixStream::pair().unwrap();
    let err = Async::new(a).unwrap_err();
    assert!(err.to_string().contains("inside a sonic runtime"), "{err}");
}

#[test]
fn regular_file_is_refused_with_an_error() {
    let rt = common::rt(false);
    rt.block_on(async {
        let f = std::fs::File::open("/proc/self/exe").unwrap();
        // epoll refuses regular files (EPERM): that must be an error, never a panic.
        let err = Async::new(f).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    });
    assert_eq!(rt.io_sources(), 0);
}

#[test]
fn into_inner_deregisters() {
    let rt = common::rt(false);
    rt.block_on(async {
        let (a, _b) = pair();
        assert!(!sonic_rt::Handle::current().is_closed());
        let _raw: UnixStream = a.into_inner().unwrap();
    });
    assert_eq!(rt.io_sources(), 0);
}

#[test]
fn spin_reads_deliver_data_in_busy_poll_mode() {
    for busy in [true, false] {
        let rt = common::rt(busy);
        rt.block_on(async {
            let (a, b) = pair();
            a.set_spin_reads(true);
            assert!(a.spin_reads());
            let writer = spawn(async move {
                for i in 0..50u8 {
                    sleep(Duration::from_micros(50)).await;
                    b.write_with(|mut s| s.write(&[i])).await.unwrap();
                }
                b
            });
            for i in 0..50u8 {
                let mut byte = [0u8; 1];
                let n = a.read_with(|mut s| s.read(&mut byte)).await.unwrap();
                assert_eq!((n, byte[0]), (1, i));
            }
            drop(writer.await.unwrap());
        });
    }
}

#[test]
fn from_nonblocking_registers_an_already_nonblocking_fd() {
    let rt = common::rt(false);
    rt.block_on(async {
        let (x, y) = UnixStream::pair().unwrap();
        x.set_nonblocking(true).unwrap();
        y.set_nonblocking(true).unwrap();
        let (mut x, mut y) = (
            Async::from_nonblocking(x).unwrap(),
            Async::from_nonblocking(y).unwrap(),
        );
        x.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        y.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    });
}
