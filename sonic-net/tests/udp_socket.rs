//! UDP on loopback: send/recv, send_to/recv_from, peek, connect, options, errors. Every test runs
//! with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::within;
use sonic_net::UdpSocket;
use sonic_rt::Runtime;
use std::io;
use std::time::Duration;

each_mode!(
    send_to_recv_from,
    connected_send_recv,
    peek_and_peek_from,
    truncated_datagram,
    options_round_trip,
    refused_on_connected_socket,
    bad_addresses_are_errors,
    many_datagrams_wait_for_readiness,
    std_round_trip,
);

fn send_to_recv_from(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send_to(b"ping", ba).await.unwrap(), 4);
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], aa));
        // A string address works too (resolved without DNS for an IP literal).
        b.send_to(b"pong", aa.to_string()).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], ba));
        // An empty datagram is a datagram.
        a.send_to(b"", ba).await.unwrap();
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(n, 0);
    }));
}

fn connected_send_recv(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            a.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        // A connected socket drops datagrams from anyone else.
        stranger
            .send_to(b"not for you", a.local_addr().unwrap())
            .await
            .unwrap();
        b.send(b"from b").await.unwrap();
        let mut buf = [0u8; 64];
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from b");
        a.send(b"from a").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from a");
    }));
}

fn peek_and_peek_from(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let peeker = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            // Waits for the datagram, then leaves it queued.
            let (n, from) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"look"[..], a_addr));
            let (n2, from2) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!((n2, from2), (n, from));
            assert_eq!(b.peek(&mut buf).await.unwrap(), n);
            let (n4, from4) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n4], from4), (&b"look"[..], a_addr));
        });
        // Let the peeker block first, so the wake-up path is exercised.
        sonic_rt::time::sleep(Duration::from_millis(5)).await;
        a.send_to(b"look", b_addr).await.unwrap();
        peeker.await.unwrap();
    }));
}

fn truncated_datagram(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(&[9u8; 100], b.local_addr().unwrap())
            .await
            .unwrap();
        a.send_to(b"next", b.local_addr().unwrap()).await.unwrap();
        let mut small = [0u8; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!(n, 10); // the rest of the datagram is dropped
        let mut buf = [0u8; 64];
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"next");
    }));
}

fn options_round_trip(rt: &Runtime) {
    rt.block_on(within(10, async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_broadcast(false).unwrap();
        assert!(!s.broadcast().unwrap());
        s.set_ttl(7).unwrap();
        assert_eq!(s.ttl().unwrap(), 7);
        s.set_send_buffer_size(128 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() >= 128 * 1024);
        s.set_recv_buffer_size(64 * 1024).unwrap();
        assert!(s.recv_buffer_size().unwrap() >= 64 * 1024);
        match s.set_busy_poll(Duration::from_micros(20)) {
            Ok(()) => assert_eq!(s.busy_poll().unwrap(), Duration::from_micros(20)),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::Unsupported
                ),
                "{e}"
            ),
        }
        assert!(s.take_error().unwrap().is_none());
        assert!(format!("{s:?}").contains("UdpSocket"));
    }));
}

/// A datagram to a closed port on loopback comes back as ICMP port unreachable; a connected
/// socket reports it on the next call as `ConnectionRefused`.
fn refused_on_connected_socket(rt: &Runtime) {
    rt.block_on(within(10, async {
        let dead = {
            let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            s.local_addr().unwrap()
        };
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.connect(dead).await.unwrap();
        s.send(b"anyone?").await.unwrap();
        let mut buf = [0u8; 16];
        let err = s.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    }));
}

fn bad_addresses_are_errors(rt: &Runtime) {
    rt.block_on(within(10, async {
        for bad in ["", "127.0.0.1", "127.0.0.1:70000"] {
            let err = UdpSocket::bind(bad).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {err}");
        }
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = s.send_to(b"x", "nonsense").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let none: &[std::net::SocketAddr] = &[];
        let err = s.send_to(b"x", none).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // Port 0 and a datagram larger than UDP allows: kernel errors, not panics.
        assert!(s.send_to(b"x", "127.0.0.1:0").await.is_err());
        let huge = vec![0u8; 70_000];
        let err = s.send_to(&huge, s.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EMSGSIZE), "{err}");
        // Broadcast without SO_BROADCAST.
        let err = s.send_to(b"x", "255.255.255.255:9").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    }));
}

fn many_datagrams_wait_for_readiness(rt: &Runtime) {
    const N: usize = 2000;
    rt.block_on(within(20, async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(addr).await.unwrap();
        let mut buf = [0u8; 64];
        for i in 0..N {
            let msg = (i as u64).to_le_bytes();
            client.send(&msg).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &msg);
        }
        echo.abort();
    }));
}

fn std_round_trip(rt: &Runtime) {
    rt.block_on(async {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_sock.local_addr().unwrap();
        let s = UdpSocket::from_std(std_sock).unwrap();
        assert_eq!(s.local_addr().unwrap(), addr);
        let back = s.into_std().unwrap();
        assert_eq!(back.local_addr().unwrap(), addr);
    });
    assert_eq!(rt.io_sources(), 0);
}
