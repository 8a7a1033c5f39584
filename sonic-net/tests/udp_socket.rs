//! UDP on loopback: send/recv, send_to/recv_from, peek, connect, options, errors. Every test runs
//! with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::within;
use sonic_net::UdpSocket;
use sonic_rt::io::Interest;
use sonic_rt::Runtime;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
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
    try_send_and_try_recv_wait_for_an_event_after_would_block,
    peek_sender_and_try_peek_leave_the_datagram_queued,
    poll_receives_take_slices_and_arrays,
    new_options_round_trip,
    error_interest_sees_an_icmp_error,
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
        let s = refused_socket().await;
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

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    match res {
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        Ok(v) => panic!("expected WouldBlock, got Ok({v:?})"),
    }
}

async fn connected_pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    (a, b)
}

/// tokio's rule: after `WouldBlock`, a `try_*` answers `WouldBlock` without asking the kernel
/// until an event says the socket is ready again (the datagram below is queued at once on
/// loopback, but no event has been seen yet).
fn try_send_and_try_recv_wait_for_an_event_after_would_block(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (a, b) = connected_pair().await;
        let mut buf = [0u8; 16];
        assert!(would_block(b.try_recv(&mut buf)));
        a.writable().await.unwrap();
        assert_eq!(a.try_send(b"one").unwrap(), 3);
        assert!(would_block(b.try_recv(&mut buf)));
        assert!(would_block(b.try_recv_from(&mut buf)));
        b.readable().await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
        a.try_send_to(b"two", b.local_addr().unwrap()).unwrap();
        // Readiness stays until a receive would block: the second datagram is read at once.
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"two"[..], a.local_addr().unwrap()));
        assert!(would_block(b.try_recv(&mut buf)));
        // `ready` reports the directions asked for.
        let ready = b
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
    }));
}

fn peek_sender_and_try_peek_leave_the_datagram_queued(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 16];
        assert!(would_block(b.try_peek_sender()));
        a.send_to(b"peeked", b.local_addr().unwrap()).await.unwrap();
        assert_eq!(b.peek_sender().await.unwrap(), a.local_addr().unwrap());
        assert_eq!(b.try_peek_sender().unwrap(), a.local_addr().unwrap());
        assert_eq!(
            poll_fn(|cx| b.poll_peek_sender(cx)).await.unwrap(),
            a.local_addr().unwrap()
        );
        let (n, from) = b.try_peek_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"peeked"[..], a.local_addr().unwrap()));
        assert_eq!(b.try_peek(&mut buf).unwrap(), 6);
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"peeked");
        assert!(would_block(b.try_peek_from(&mut buf)));
    }));
}

fn poll_receives_take_slices_and_arrays(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (a, b) = connected_pair().await;
        let mut arr = [0u8; 8];
        a.send(b"1").await.unwrap();
        assert_eq!(poll_fn(|cx| b.poll_peek(cx, &mut arr)).await.unwrap(), 1);
        assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut arr)).await.unwrap(), 1);
        a.send(b"22").await.unwrap();
        let slice = &mut arr[..];
        let (n, from) = poll_fn(|cx| b.poll_peek_from(cx, &mut *slice))
            .await
            .unwrap();
        assert_eq!((n, from), (2, a.local_addr().unwrap()));
        let (n, _) = poll_fn(|cx| b.poll_recv_from(cx, &mut *slice))
            .await
            .unwrap();
        assert_eq!(&slice[..n], b"22");
        poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
        assert!(would_block(b.try_recv(&mut arr)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(b.poll_recv_ready(&mut cx).is_pending());
    }));
}

fn new_options_round_trip(rt: &Runtime) {
    rt.block_on(within(10, async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for on in [false, true] {
            s.set_multicast_loop_v4(on).unwrap();
            assert_eq!(s.multicast_loop_v4().unwrap(), on);
        }
        s.set_multicast_ttl_v4(9).unwrap();
        assert_eq!(s.multicast_ttl_v4().unwrap(), 9);
        s.set_tos_v4(0x10).unwrap();
        assert_eq!(s.tos_v4().unwrap(), 0x10);
        #[allow(deprecated)]
        {
            s.set_tos(0x08).unwrap();
            assert_eq!(s.tos().unwrap(), 0x08);
        }
        let group = Ipv4Addr::new(239, 255, 77, 1);
        match s.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            Ok(()) => s.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap(),
            // A loopback without the MULTICAST flag.
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}"),
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        common::check_bind_device(|d| s.bind_device(d), || s.device());
        let Ok(v6) = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).await else {
            return; // no IPv6 on this host
        };
        for on in [false, true] {
            v6.set_multicast_loop_v6(on).unwrap();
            assert_eq!(v6.multicast_loop_v6().unwrap(), on);
        }
        v6.set_tclass_v6(0x20).unwrap();
        assert_eq!(v6.tclass_v6().unwrap(), 0x20);
        let group6: Ipv6Addr = "ff15::7701".parse().unwrap();
        if v6.join_multicast_v6(&group6, 0).is_ok() {
            v6.leave_multicast_v6(&group6, 0).unwrap();
        }
    }));
}

/// `Interest::ERROR` waits for the error readiness an ICMP port unreachable brings, which no
/// read or write readiness satisfies.
fn error_interest_sees_an_icmp_error(rt: &Runtime) {
    rt.block_on(within(10, async {
        let s = refused_socket().await;
        let ready = s.ready(Interest::ERROR).await.unwrap();
        assert!(ready.is_error() && !ready.is_readable(), "{ready:?}");
        let err = s.recv(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    }));
}

/// A connected socket whose datagram to a closed port has been refused (the ICMP error is
/// pending on it).
async fn refused_socket() -> UdpSocket {
    let dead = {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        s.local_addr().unwrap()
    };
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.connect(dead).await.unwrap();
    s.send(b"anyone?").await.unwrap();
    s
}

/// Regression: the reactor once kept the error readiness after the error was read, so every
/// later receive ran `recv` in a loop inside one poll (never returning `Pending`, so not even a
/// timeout could end it). The runtime runs on its own thread, watched from the test's.
fn recv_after_a_refusal_waits_for_the_next_datagram(busy_poll: bool) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = sonic_test_support::rt(busy_poll);
        rt.block_on(async {
            let s = refused_socket().await;
            // The error event has been seen (the ERROR bit is set) before it is read.
            s.ready(Interest::ERROR).await.unwrap();
            let mut buf = [0u8; 16];
            let err = s.recv(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
            let waited = sonic_rt::time::timeout(Duration::from_millis(20), s.recv(&mut buf)).await;
            assert!(waited.is_err(), "nothing was sent: {waited:?}");
            // And a real datagram is still received.
            let peer = std::net::UdpSocket::bind(s.peer_addr().unwrap()).unwrap();
            peer.send_to(b"late", s.local_addr().unwrap()).unwrap();
            let n = s.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"late");
        });
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the runtime thread spun (or panicked) instead of finishing");
}

#[test]
fn recv_after_a_refusal_waits_busy_poll() {
    recv_after_a_refusal_waits_for_the_next_datagram(true);
}

#[test]
fn recv_after_a_refusal_waits_parked() {
    recv_after_a_refusal_waits_for_the_next_datagram(false);
}
