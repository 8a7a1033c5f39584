//! Unix stream, listener and datagram sockets. Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::{temp_dir, within};
use futures_util::{AsyncReadExt, AsyncWriteExt, StreamExt};
use sonic_net::{Shutdown, UnixDatagram, UnixListener, UnixStream};
use sonic_rt::Runtime;
use std::io;
use std::os::unix::net::SocketAddr;

each_mode!(
    stream_pair_echo,
    listener_connect_accept,
    stream_half_close_and_eof,
    connect_errors,
    datagram_bind_send_to_recv_from,
    datagram_pair_and_connect,
    listener_incoming,
    std_round_trip,
    owned_halves_from_two_tasks_and_reunite,
    borrowed_halves_under_join,
    socket_addr_variants_bind_connect_and_send,
);

fn stream_pair_echo(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let echo = sonic_rt::spawn(async move {
            let mut b = b;
            let mut buf = [0u8; 1024];
            loop {
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                b.write_all(&buf[..n]).await.unwrap();
            }
        });
        let payload: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        // futures' lock-based split over `&mut UnixStream` (the inherent one is tested below).
        let (mut rd, mut wr) = AsyncReadExt::split(&mut a);
        let write = async {
            wr.write_all(&payload).await.unwrap();
            wr.close().await.unwrap();
        };
        let read = async {
            let mut out = Vec::new();
            rd.read_to_end(&mut out).await.unwrap();
            out
        };
        let ((), out) = futures_util::join!(write, read);
        assert_eq!(out, payload);
        echo.await.unwrap();
    }));
}

fn listener_connect_accept(rt: &Runtime) {
    let dir = temp_dir("lca");
    let path = dir.join("s.sock");
    rt.block_on(within(10, async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let p = path.clone();
        let client = sonic_rt::spawn(async move {
            let mut c = UnixStream::connect(&p).await.unwrap();
            assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(p.as_path()));
            c.write_all(b"hello listener").await.unwrap();
            let mut buf = [0u8; 2];
            c.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ok");
        });
        let (mut conn, addr) = listener.accept().await.unwrap();
        assert!(addr.is_unnamed());
        let mut buf = [0u8; 14];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello listener");
        conn.write_all(b"ok").await.unwrap();
        client.await.unwrap();
        // Binding the same path again: AddrInUse, not a panic.
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    }));
    std::fs::remove_dir_all(dir).unwrap();
}

fn stream_half_close_and_eof(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"question").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut q = Vec::new();
        b.read_to_end(&mut q).await.unwrap();
        assert_eq!(q, b"question");
        b.write_all(b"answer").await.unwrap();
        drop(b);
        let mut ans = Vec::new();
        a.read_to_end(&mut ans).await.unwrap();
        assert_eq!(ans, b"answer");
        // Writing to a socket whose peer is gone: EPIPE, and no SIGPIPE (MSG_NOSIGNAL).
        let err = a.write_all(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
    }));
}

fn connect_errors(rt: &Runtime) {
    let dir = temp_dir("ce");
    rt.block_on(within(10, async {
        let err = UnixStream::connect(dir.join("missing.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        // A bound path whose listener is gone: the file stays, connecting is refused.
        let path = dir.join("gone.sock");
        drop(UnixListener::bind(&path).unwrap());
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        // A path too long for sockaddr_un.
        let long = dir.join("x".repeat(200));
        assert!(UnixStream::connect(&long).await.is_err());
        assert!(UnixListener::bind(&long).is_err());
    }));
    std::fs::remove_dir_all(dir).unwrap();
}

fn datagram_bind_send_to_recv_from(rt: &Runtime) {
    let dir = temp_dir("dg");
    rt.block_on(within(10, async {
        let (pa, pb) = (dir.join("a.sock"), dir.join("b.sock"));
        let a = UnixDatagram::bind(&pa).unwrap();
        let b = UnixDatagram::bind(&pb).unwrap();
        a.send_to(b"to b", &pb).await.unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(pa.as_path()));
        // An unbound sender arrives unnamed.
        let u = UnixDatagram::unbound().unwrap();
        u.send_to(b"anon", &pb).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"anon");
        assert!(from.is_unnamed());
        // Sending to a path nobody bound: an error.
        let err = a.send_to(b"x", dir.join("nobody")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    }));
    std::fs::remove_dir_all(dir).unwrap();
}

fn datagram_pair_and_connect(rt: &Runtime) {
    let dir = temp_dir("dgc");
    rt.block_on(within(10, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let waiter = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            let n = b.recv(&mut buf).await.unwrap(); // waits for readiness
            assert_eq!(&buf[..n], b"later");
        });
        sonic_rt::time::sleep(std::time::Duration::from_millis(5)).await;
        a.send(b"later").await.unwrap();
        waiter.await.unwrap();

        let path = dir.join("srv.sock");
        let srv = UnixDatagram::bind(&path).unwrap();
        let c = UnixDatagram::unbound().unwrap();
        c.connect(&path).unwrap();
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        c.send(b"connected").await.unwrap();
        let mut buf = [0u8; 64];
        let n = srv.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        assert!(c.take_error().unwrap().is_none());
        c.shutdown(Shutdown::Both).unwrap();
    }));
    std::fs::remove_dir_all(dir).unwrap();
}

fn listener_incoming(rt: &Runtime) {
    let dir = temp_dir("inc");
    let path = dir.join("inc.sock");
    rt.block_on(within(10, async {
        let listener = UnixListener::bind(&path).unwrap();
        let p = path.clone();
        let clients = sonic_rt::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(UnixStream::connect(&p).await.unwrap());
            }
            v
        });
        let conns: Vec<_> = listener.incoming().take(3).collect().await;
        assert!(conns.into_iter().all(|c| c.is_ok()));
        clients.await.unwrap();
    }));
    std::fs::remove_dir_all(dir).unwrap();
}

fn std_round_trip(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let a = UnixStream::from_std(a).unwrap();
        let b = UnixStream::from_std(b).unwrap();
        // Through shared references (`&UnixStream` implements the traits too).
        (&a).write_all(b"z").await.unwrap();
        let mut buf = [0u8; 1];
        assert_eq!((&b).read(&mut buf).await.unwrap(), 1);
        let a = a.into_std().unwrap();
        drop(a);
        drop(b.into_std().unwrap());
        let (x, y) = UnixDatagram::pair().unwrap();
        drop(x.into_std().unwrap());
        drop(y);
    });
    assert_eq!(rt.io_sources(), 0);
}

fn owned_halves_from_two_tasks_and_reunite(rt: &Runtime) {
    const TOTAL: usize = 1 << 20;
    rt.block_on(within(30, async {
        let (a, mut echo) = UnixStream::pair().unwrap();
        // The peer echoes everything back, then half-closes when we do.
        let server = sonic_rt::spawn(async move {
            let mut buf = vec![0u8; 32 << 10];
            loop {
                let n = echo.read(&mut buf).await.unwrap();
                if n == 0 {
                    echo.shutdown(Shutdown::Write).unwrap();
                    return;
                }
                echo.write_all(&buf[..n]).await.unwrap();
            }
        });
        let (mut rd, mut wr) = a.into_split();
        assert!(rd.peer_addr().is_ok() && wr.local_addr().is_ok());
        // 1 MiB each way at once: neither half could finish alone once the buffers fill.
        let writer = sonic_rt::spawn(async move {
            let chunk: Vec<u8> = (0..4096).map(|i| (i % 253) as u8).collect();
            for _ in 0..TOTAL / chunk.len() {
                wr.write_all(&chunk).await.unwrap();
            }
            wr
        });
        let reader = sonic_rt::spawn(async move {
            let mut buf = vec![0u8; 65536];
            let mut got = 0;
            while got < TOTAL {
                let n = rd.read(&mut buf).await.unwrap();
                assert!(n > 0, "early EOF at {got}");
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, (((got + k) % 4096) % 253) as u8);
                }
                got += n;
            }
            rd
        });
        let wr = writer.await.unwrap();
        let rd = reader.await.unwrap();
        // Halves of different streams do not reunite; their own do.
        let (b, _b_peer) = UnixStream::pair().unwrap();
        let (br, bw) = b.into_split();
        let err = rd.reunite(bw).unwrap_err();
        assert!(err.to_string().contains("not from the same"));
        let a = err.0.reunite(wr).unwrap();
        drop(br.reunite(err.1).unwrap());
        // Dropping an owned write half shuts the write side down: the peer sees EOF and
        // answers with its own.
        let (mut rd, wr) = a.into_split();
        drop(wr);
        let mut rest = Vec::new();
        rd.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        server.await.unwrap();
    }));
}

fn borrowed_halves_under_join(rt: &Runtime) {
    rt.block_on(within(30, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let data = vec![9u8; 300_000];
        let (mut rd, mut wr) = UnixStream::split(&mut a);
        let write = async {
            wr.write_all(&data).await.unwrap();
            wr.close().await.unwrap(); // half-close through the borrowed half
        };
        let echo = async {
            let mut buf = vec![0u8; 16 << 10];
            loop {
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    b.shutdown(Shutdown::Write).unwrap();
                    return;
                }
                b.write_all(&buf[..n]).await.unwrap();
            }
        };
        let read = async {
            let mut out = Vec::new();
            rd.read_to_end(&mut out).await.unwrap();
            out
        };
        let ((), (), out) = futures_util::join!(write, echo, read);
        assert_eq!(out, data);
    }));
}

/// `bind_addr`, `connect_addr` and `send_to_addr` take a `std` `SocketAddr` (here filesystem
/// paths, which work on every Unix); the address a socket reports can be used as it is.
fn socket_addr_variants_bind_connect_and_send(rt: &Runtime) {
    let dir = temp_dir("addr");
    rt.block_on(within(10, async {
        let addr = SocketAddr::from_pathname(dir.join("l.sock")).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(local.as_pathname(), addr.as_pathname());
        let mut client = UnixStream::connect_addr(&local).await.unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        client.write_all(b"via addr").await.unwrap();
        let mut buf = [0u8; 8];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"via addr");

        // Nothing can be reached at an unnamed address.
        let unnamed = client.local_addr().unwrap();
        assert!(unnamed.is_unnamed());
        let err = UnixStream::connect_addr(&unnamed).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

        let (pa, pb) = (dir.join("a.sock"), dir.join("b.sock"));
        let a = UnixDatagram::bind_addr(&SocketAddr::from_pathname(&pa).unwrap()).unwrap();
        let b_addr = SocketAddr::from_pathname(&pb).unwrap();
        let b = UnixDatagram::bind_addr(&b_addr).unwrap();
        a.send_to_addr(b"to b", &b_addr).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..n], from.as_pathname()),
            (&b"to b"[..], Some(pa.as_path()))
        );
        b.connect_addr(&from).unwrap();
        assert_eq!(b.peer_addr().unwrap().as_pathname(), Some(pa.as_path()));
        b.send(b"back").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
    }));
    std::fs::remove_dir_all(dir).unwrap();
}
