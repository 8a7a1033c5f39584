//! IPv4 multicast over `lo`, with 127.0.0.1 and 127.0.0.2 as two distinct sources. Every join
//! names `lo` and every sender binds a 127.x address and sets `lo` as its outgoing interface, so
//! nothing is routed elsewhere. Each test runs with busy-poll off and on; receivers bind port 0
//! so every run gets its own port. (On macOS, 127.0.0.2 needs `ifconfig lo0 alias 127.0.0.2`.)

mod multicast_common;

use multicast_common::{both_modes, collect_until, count_from, drain, send_n};
use sonic_net::multicast::{Interface, Peer};
use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::task::Poll;
use std::time::{Duration, SystemTime};

/// The loopback interface's name.
#[cfg(any(target_os = "linux", target_os = "android"))]
const LO: &str = "lo";
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const LO: &str = "lo0";
const S1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const S2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const N: usize = 4;
const GRACE: Duration = Duration::from_millis(30);
const QUIET: Duration = Duration::from_millis(150);

fn receiver() -> (Peer, u16) {
    let rx = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let port = rx.local_addr().port();
    (rx, port)
}

fn sender(src: Ipv4Addr) -> Peer {
    let tx = Peer::bind((src, 0)).unwrap();
    tx.set_outbound(LO).unwrap();
    tx
}

fn to(group: Ipv4Addr, port: u16) -> SocketAddr {
    (group, port).into()
}

/// Interface forms a join can take; by name and index the peer uses `ip_mreqn` and the RFC 3678
/// options, by address the classic `ip_mreq` / `ip_mreq_source` ones.
fn lo_forms() -> [Interface; 3] {
    let index = Interface::from(LO).index().unwrap();
    [
        Interface::from(LO),
        Interface::Index(index),
        Interface::from(S1),
    ]
}

#[test]
fn any_source_join_receives_both_sources_and_leave_stops() {
    both_modes(|busy| async move {
        for (k, lo) in lo_forms().into_iter().enumerate() {
            let g = Ipv4Addr::new(239, 77, 1, k as u8 + 1);
            let (rx, port) = receiver();
            rx.set_spin_reads(busy);
            let (t1, t2) = (sender(S1), sender(S2));
            rx.join_on(g, &lo).unwrap();
            assert_eq!(rx.memberships().len(), 1);

            send_n(&t1, to(g, port), "a", N).await;
            send_n(&t2, to(g, port), "b", N).await;
            t1.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S1.into()), N + 1, "{lo}: {got:?}");
            assert_eq!(count_from(&got, S2.into()), N, "{lo}: {got:?}");

            rx.leave(g).unwrap();
            assert!(rx.memberships().is_empty());
            send_n(&t1, to(g, port), "a", N).await;
            send_n(&t2, to(g, port), "b", N).await;
            assert_eq!(
                drain(&rx, QUIET).await,
                vec![],
                "{lo}: received after leave"
            );

            let err = rx.leave(g).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        }
    });
}

#[test]
fn source_specific_join_accepts_one_source_and_rejects_the_other() {
    both_modes(|_| async {
        for (k, lo) in lo_forms().into_iter().enumerate() {
            let g = Ipv4Addr::new(239, 77, 2, k as u8 + 1);
            let (rx, port) = receiver();
            let (t1, t2) = (sender(S1), sender(S2));
            rx.join_source_on(g, S1, &lo).unwrap();

            // S2's datagrams go first; S1's fence proves they had their chance.
            send_n(&t2, to(g, port), "rejected", N).await;
            send_n(&t1, to(g, port), "accepted", N).await;
            t1.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S1.into()), N + 1, "{lo}: {got:?}");
            assert_eq!(count_from(&got, S2.into()), 0, "{lo}: {got:?}");

            // A second source, then drop the first.
            rx.join_source_on(g, S2, &lo).unwrap();
            send_n(&t2, to(g, port), "b", N).await;
            t1.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S2.into()), N, "{lo}: {got:?}");

            rx.leave_source(g, S1).unwrap();
            send_n(&t1, to(g, port), "dropped", N).await;
            t2.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S1.into()), 0, "{lo}: {got:?}");
            assert_eq!(count_from(&got, S2.into()), 1, "{lo}: {got:?}");

            // Dropping the last source leaves the group.
            rx.leave_source(g, S2).unwrap();
            assert!(rx.memberships().is_empty());
            send_n(&t2, to(g, port), "b", N).await;
            assert_eq!(drain(&rx, QUIET).await, vec![], "{lo}");
        }
    });
}

#[test]
fn block_and_unblock_a_source_at_runtime() {
    both_modes(|_| async {
        for (k, lo) in lo_forms().into_iter().enumerate() {
            let g = Ipv4Addr::new(239, 77, 3, k as u8 + 1);
            let (rx, port) = receiver();
            let (t1, t2) = (sender(S1), sender(S2));
            rx.join_on(g, &lo).unwrap();

            rx.block_source(g, S2).unwrap();
            assert_eq!(rx.memberships()[0].blocked, vec![IpAddr::from(S2)]);
            send_n(&t2, to(g, port), "blocked", N).await;
            t1.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S2.into()), 0, "{lo}: {got:?}");

            rx.unblock_source(g, S2).unwrap();
            send_n(&t2, to(g, port), "back", N).await;
            t1.send_to(b"fence", to(g, port)).await.unwrap();
            let got = collect_until(&rx, b"fence", GRACE).await;
            assert_eq!(count_from(&got, S2.into()), N, "{lo}: {got:?}");

            // Leave works after block/unblock (on the interface of the join).
            rx.block_source(g, S1).unwrap();
            rx.leave(g).unwrap();
        }
    });
}

#[test]
fn pktinfo_tells_apart_two_groups_on_one_socket() {
    both_modes(|_| async {
        let (g1, g2) = (Ipv4Addr::new(239, 77, 4, 1), Ipv4Addr::new(239, 77, 4, 2));
        let lo = Interface::from(LO).index().unwrap();
        let (rx, port) = receiver();
        rx.join_on(g1, LO).unwrap();
        rx.join_on(g2, S1).unwrap();
        rx.set_recv_destination(true).unwrap();
        let tx = sender(S2);
        for (i, g) in [g1, g2, g2, g1].into_iter().enumerate() {
            tx.send_to(&[i as u8; 10], to(g, port)).await.unwrap();
            let mut buf = [0u8; 64];
            let m = rx.recv_msg(&mut buf).await.unwrap();
            assert_eq!((m.len, buf[0]), (10, i as u8));
            assert_eq!(m.source, tx.local_addr());
            assert_eq!(m.destination, Some(IpAddr::from(g)));
            assert_eq!(m.interface, Some(lo));
            assert!(!m.truncated);
        }

        // Truncation is reported; without IP_PKTINFO there is no destination.
        tx.send_to(&[7; 100], to(g1, port)).await.unwrap();
        let mut small = [0u8; 8];
        let m = rx.recv_msg(&mut small).await.unwrap();
        assert!(m.truncated);
        assert_eq!(m.len, 8);
        rx.set_recv_destination(false).unwrap();
        tx.send_to(b"x", to(g2, port)).await.unwrap();
        let m = rx.recv_msg(&mut small).await.unwrap();
        assert_eq!((m.destination, m.interface), (None, None));
    });
}

#[test]
fn kernel_receive_timestamps_with_pktinfo() {
    both_modes(|_| async {
        let g = Ipv4Addr::new(239, 77, 4, 3);
        let (rx, port) = receiver();
        rx.join_on(g, LO).unwrap();
        let tx = sender(S1);
        let mut buf = [0u8; 64];

        tx.send_to(b"no stamp", to(g, port)).await.unwrap();
        assert_eq!(rx.recv_msg(&mut buf).await.unwrap().timestamp, None);

        rx.set_recv_timestamp(true).unwrap();
        rx.set_recv_destination(true).unwrap();
        for _ in 0..3 {
            let before = SystemTime::now();
            tx.send_to(b"stamped", to(g, port)).await.unwrap();
            let m = rx.recv_msg(&mut buf).await.unwrap();
            let after = SystemTime::now();
            let at = m.timestamp.expect("a receive timestamp");
            assert!(
                before <= at && at <= after,
                "{before:?} <= {at:?} <= {after:?}"
            );
            assert_eq!(m.destination, Some(g.into()));
        }
    });
}

#[test]
fn the_buffer_can_change_between_polls() {
    // The Rust form of the Go peer's SetAsyncReadBuffer: a pending read owns no buffer, so the
    // next poll may bring another one and the datagram lands there.
    both_modes(|_| async {
        let g = Ipv4Addr::new(239, 77, 5, 1);
        let (rx, port) = receiver();
        rx.join_on(g, LO).unwrap();
        let tx = sender(S1);
        let (mut first, mut second) = ([0u8; 16], [0u8; 16]);
        let mut polls = 0;
        let n = poll_fn(|cx| {
            polls += 1;
            if polls == 1 {
                assert!(rx.poll_recv_from(cx, &mut first).is_pending());
                tx.try_send_to(b"second", to(g, port)).unwrap();
                return Poll::Pending;
            }
            rx.poll_recv_from(cx, &mut second).map(|r| r.unwrap().0)
        })
        .await;
        assert_eq!(&second[..n], b"second");
        assert_eq!(first, [0; 16]);
    });
}

#[test]
fn peers_sharing_a_port_each_get_a_copy_and_non_members_get_none() {
    both_modes(|_| async {
        let g = Ipv4Addr::new(239, 77, 6, 1);
        let (a, port) = receiver();
        let b = Peer::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
        let outsider = Peer::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
        assert!(!outsider.multicast_all().unwrap());
        a.join_on(g, LO).unwrap();
        b.join_on(g, LO).unwrap();
        let tx = sender(S1);
        send_n(&tx, to(g, port), "x", N).await;
        tx.send_to(b"fence", to(g, port)).await.unwrap();
        assert_eq!(collect_until(&a, b"fence", GRACE).await.len(), N + 1);
        assert_eq!(collect_until(&b, b"fence", GRACE).await.len(), N + 1);
        assert_eq!(drain(&outsider, GRACE).await, vec![]);

        // Linux's own default delivers to sockets that never joined.
        #[cfg(target_os = "linux")]
        {
            outsider.set_multicast_all(true).unwrap();
            tx.send_to(b"fence", to(g, port)).await.unwrap();
            assert_eq!(collect_until(&outsider, b"fence", GRACE).await.len(), 1);
        }
    });
}

#[test]
fn a_socket_bound_to_a_group_ignores_other_groups() {
    both_modes(|_| async {
        let (g1, g2) = (Ipv4Addr::new(239, 77, 7, 1), Ipv4Addr::new(239, 77, 7, 2));
        let (wild, port) = receiver();
        let bound = Peer::bind((g1, port)).unwrap();
        for p in [&wild, &bound] {
            p.join_on(g1, LO).unwrap();
            p.join_on(g2, LO).unwrap();
        }
        let tx = sender(S1);
        tx.send_to(b"other", to(g2, port)).await.unwrap();
        tx.send_to(b"fence", to(g1, port)).await.unwrap();
        assert_eq!(collect_until(&wild, b"fence", GRACE).await.len(), 2);
        assert_eq!(collect_until(&bound, b"fence", GRACE).await.len(), 1);
    });
}

#[test]
fn options_report_the_kernel_values() {
    both_modes(|_| async {
        let p = Peer::bind((S1, 0)).unwrap();
        // Linux defaults: loop on, TTL 1 (the Go peer reported loop inverted).
        assert!(p.multicast_loop().unwrap());
        assert_eq!(p.multicast_ttl().unwrap(), 1);
        p.set_multicast_loop(false).unwrap();
        assert!(!p.multicast_loop().unwrap());
        p.set_multicast_ttl(7).unwrap();
        assert_eq!(p.multicast_ttl().unwrap(), 7);
        assert_eq!(p.outbound(), Interface::Unspecified);
        for iface in lo_forms() {
            p.set_outbound(&iface).unwrap();
            assert_eq!(p.outbound(), iface);
        }
        p.set_outbound(Interface::Unspecified).unwrap();
        let lo = Interface::from(LO).index().unwrap();
        p.set_inbound(LO).unwrap();
        assert_eq!(p.inbound(), lo);
        p.set_inbound(Interface::Unspecified).unwrap();
        assert_eq!(p.inbound(), 0);
    });
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    both_modes(|_| async {
        let g = Ipv4Addr::new(239, 77, 8, 1);
        let p = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let kind = |r: std::io::Result<()>| r.unwrap_err().kind();

        assert_eq!(kind(p.join_on(S1, LO)), ErrorKind::InvalidInput);
        assert_eq!(kind(p.join_on(g, "no-such-if0")), ErrorKind::NotFound);
        assert_eq!(kind(p.join_on(g, "bad\0name")), ErrorKind::InvalidInput);
        assert_eq!(kind(p.join_on(g, 999_999u32)), ErrorKind::NotFound);
        assert_eq!(
            kind(p.join_on(g, Ipv4Addr::new(192, 0, 2, 1))),
            ErrorKind::NotFound
        );
        let v6: IpAddr = "ff15::1".parse().unwrap();
        assert_eq!(kind(p.join_on(v6, LO)), ErrorKind::InvalidInput);
        assert_eq!(kind(p.leave(g)), ErrorKind::NotFound);
        assert_eq!(kind(p.leave_on(g, LO)), ErrorKind::NotFound);
        assert_eq!(kind(p.block_source(g, S2)), ErrorKind::NotFound);
        assert_eq!(kind(p.leave_source(g, S2)), ErrorKind::NotFound);
        assert_eq!(kind(p.join_source_on(g, g, LO)), ErrorKind::InvalidInput);
        assert_eq!(
            kind(p.join_source_on(g, Ipv4Addr::UNSPECIFIED, LO)),
            ErrorKind::InvalidInput
        );

        p.join_on(g, LO).unwrap();
        assert_eq!(kind(p.join_on(g, LO)), ErrorKind::AlreadyExists);
        assert_eq!(kind(p.join_source_on(g, S1, LO)), ErrorKind::InvalidInput);
        assert_eq!(kind(p.leave_source(g, S1)), ErrorKind::NotFound);
        assert_eq!(kind(p.unblock_source(g, S2)), ErrorKind::NotFound);
        p.block_source(g, S2).unwrap();
        assert_eq!(kind(p.block_source(g, S2)), ErrorKind::AlreadyExists);
        // The same interface named another way: the membership is found by index.
        p.leave_on(g, S1).unwrap();
        assert!(p.memberships().is_empty());

        p.join_source_on(g, S1, LO).unwrap();
        assert_eq!(kind(p.join_source_on(g, S1, LO)), ErrorKind::AlreadyExists);
        assert_eq!(kind(p.join_on(g, LO)), ErrorKind::InvalidInput);
        assert_eq!(kind(p.block_source(g, S2)), ErrorKind::InvalidInput);
        p.leave_on(g, LO).unwrap();

        assert_eq!(kind(p.set_multicast_ttl(256)), ErrorKind::InvalidInput);
        assert_eq!(kind(p.set_outbound("no-such-if0")), ErrorKind::NotFound);
    });
}

#[test]
fn batch_receive_takes_a_burst_with_metadata_in_order() {
    both_modes(|busy| async move {
        let (g1, g2) = (Ipv4Addr::new(239, 77, 9, 1), Ipv4Addr::new(239, 77, 9, 2));
        let (rx, port) = receiver();
        rx.set_spin_reads(busy);
        rx.join_on(g1, LO).unwrap();
        rx.join_on(g2, LO).unwrap();
        rx.set_recv_destination(true).unwrap();
        rx.set_recv_timestamp(true).unwrap();
        let (tx1, tx2) = (sender(S1), sender(S2));
        // A burst of 50 from two sources to two groups, the 8th one too long for its buffer.
        const BURST: usize = 50;
        for i in 0..BURST {
            let (tx, g) = if i % 2 == 0 { (&tx1, g1) } else { (&tx2, g2) };
            let len = if i == 7 { 300 } else { 20 };
            tx.send_to(&vec![i as u8; len], to(g, port)).await.unwrap();
        }
        let mut bufs = vec![[0u8; 64]; BURST];
        let mut metas = vec![sonic_net::multicast::RecvMeta::default(); BURST];
        let mut got = 0;
        let mut calls = 0;
        while got < BURST {
            let n = rx
                .recv_batch(&mut bufs[got..], &mut metas[got..])
                .await
                .unwrap();
            assert!((1..=sonic_net::multicast::MAX_BATCH).contains(&n));
            got += n;
            calls += 1;
        }
        // All queued before the first call: at most 32 per call, so two calls suffice.
        assert!(calls <= 3, "{calls} calls for {BURST} queued datagrams");
        for (i, (m, b)) in metas.iter().zip(&bufs).enumerate() {
            let (src, g) = if i % 2 == 0 { (S1, g1) } else { (S2, g2) };
            assert_eq!(b[0], i as u8, "order");
            assert_eq!(m.source.ip(), IpAddr::from(src));
            assert_eq!(m.destination, Some(IpAddr::from(g)));
            assert!(m.timestamp.is_some());
            assert_eq!(
                (m.len, m.truncated),
                if i == 7 { (64, true) } else { (20, false) }
            );
        }
        // Nothing queued: try_ says WouldBlock; empty lists take nothing.
        let e = rx.try_recv_batch(&mut bufs, &mut metas).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        let none: &mut [[u8; 64]] = &mut [];
        assert_eq!(rx.recv_batch(none, &mut metas).await.unwrap(), 0);
        // A later datagram still wakes a waiting batch receive.
        tx1.send_to(b"late", to(g1, port)).await.unwrap();
        let n = rx.recv_batch(&mut bufs, &mut metas).await.unwrap();
        assert_eq!((n, metas[0].len, &bufs[0][..4]), (1, 4, &b"late"[..]));
    });
}
