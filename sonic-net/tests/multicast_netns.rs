//! Multicast over a veth pair between two network namespaces that each test creates for itself
//! (IPv6 cannot use Linux's `lo`; loop and TTL only mean something on a real link). IPv6
//! throughout, and IPv4 for what `lo` cannot show (loop/TTL) or shows only on loopback (SSM and
//! block on a real interface, joined by name and by address). Namespace A
//! holds the "remote" receivers on `va`; namespace B the senders (two source addresses) and the
//! "local" receivers on `vb`. Traffic never leaves the two namespaces, which vanish with the test
//! thread. Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); prints SKIPPED and passes on EPERM.
#![cfg(target_os = "linux")]

mod multicast_common;

use multicast_common::netns::{with_pair, Pair};
use multicast_common::{both_modes, collect_until, count_from, drain, send_n};
use sonic_net::multicast::{Interface, Peer};
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

const N: usize = 4;
const GRACE: Duration = Duration::from_millis(30);
const QUIET: Duration = Duration::from_millis(150);

fn v6(s: &str) -> IpAddr {
    s.parse::<Ipv6Addr>().unwrap().into()
}

/// The two senders' addresses in B, per family.
fn sources(family6: bool) -> (IpAddr, IpAddr) {
    if family6 {
        (v6("fdaa:77::1"), v6("fdaa:77::3"))
    } else {
        (
            Ipv4Addr::new(10, 77, 0, 1).into(),
            Ipv4Addr::new(10, 77, 0, 3).into(),
        )
    }
}

fn wildcard(family6: bool) -> IpAddr {
    if family6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    }
}

/// A receiver in A on a fresh port. (The test thread stays in A between calls.)
fn remote_receiver(family6: bool) -> (Peer, u16) {
    let rx = Peer::bind((wildcard(family6), 0)).unwrap();
    let port = rx.local_addr().port();
    (rx, port)
}

/// A sender in B bound to `src`, sending out of `vb`.
fn sender(p: &Pair, src: IpAddr) -> Peer {
    p.enter_b();
    let tx = Peer::bind((src, 0)).unwrap();
    tx.set_outbound("vb").unwrap();
    p.enter_a();
    tx
}

#[test]
fn v6_any_source_join_and_leave() {
    with_pair("v6_any_source_join_and_leave", |p| {
        both_modes(|_| async move {
            let (s1, s2) = sources(true);
            // By name, by index, by one of the interface's addresses, and unspecified (the
            // kernel's route for ff00::/8 in A points at `va`: safe inside the namespace).
            let forms = [
                Interface::from("va"),
                Interface::Index(p.va),
                Interface::from(v6("fdaa:77::2")),
                Interface::Unspecified,
            ];
            for (k, iface) in forms.into_iter().enumerate() {
                let g = v6(&format!("ff15::77:1:{}", k + 1));
                let (rx, port) = remote_receiver(true);
                let to = SocketAddr::new(g, port);
                let (t1, t2) = (sender(p, s1), sender(p, s2));
                rx.join_on(g, &iface).unwrap();

                send_n(&t1, to, "a", N).await;
                send_n(&t2, to, "b", N).await;
                t1.send_to(b"fence", to).await.unwrap();
                let got = collect_until(&rx, b"fence", GRACE).await;
                assert_eq!(count_from(&got, s1), N + 1, "{iface}: {got:?}");
                assert_eq!(count_from(&got, s2), N, "{iface}: {got:?}");

                rx.leave(g).unwrap();
                send_n(&t1, to, "a", N).await;
                assert_eq!(drain(&rx, QUIET).await, vec![], "{iface}: after leave");
                assert_eq!(rx.leave(g).unwrap_err().kind(), ErrorKind::NotFound);
            }
        })
    });
}

/// A group for the SSM and block tests: IPv6 SSM range ff3x::/32, or admin-scoped IPv4.
fn group(family6: bool, ssm: bool, n: u8) -> IpAddr {
    match (family6, ssm) {
        (true, true) => v6(&format!("ff35::77:2:{n}")),
        (true, false) => v6(&format!("ff15::77:3:{n}")),
        (false, true) => Ipv4Addr::new(239, 77, 12, n).into(),
        (false, false) => Ipv4Addr::new(239, 77, 13, n).into(),
    }
}

/// The interface forms to join `va` by: name, and for IPv4 also its address (which selects
/// `IP_ADD_SOURCE_MEMBERSHIP` / `IP_BLOCK_SOURCE` with `ip_mreq_source` over the RFC 3678
/// options).
fn va_forms(family6: bool) -> Vec<Interface> {
    let mut forms = vec![Interface::from("va")];
    if !family6 {
        forms.push(Interface::from(Ipv4Addr::new(10, 77, 0, 2)));
    }
    forms
}

async fn source_specific(p: &Pair, family6: bool) {
    let (s1, s2) = sources(family6);
    for (k, iface) in va_forms(family6).into_iter().enumerate() {
        let g = group(family6, true, k as u8 + 1);
        let (rx, port) = remote_receiver(family6);
        let to = SocketAddr::new(g, port);
        let (t1, t2) = (sender(p, s1), sender(p, s2));
        rx.join_source_on(g, s1, &iface).unwrap();

        send_n(&t2, to, "rejected", N).await;
        send_n(&t1, to, "accepted", N).await;
        t1.send_to(b"fence", to).await.unwrap();
        let got = collect_until(&rx, b"fence", GRACE).await;
        let counts = (count_from(&got, s1), count_from(&got, s2));
        assert_eq!(counts, (N + 1, 0), "{iface}: {got:?}");

        rx.join_source_on(g, s2, &iface).unwrap();
        send_n(&t2, to, "b", N).await;
        t1.send_to(b"fence", to).await.unwrap();
        let got = collect_until(&rx, b"fence", GRACE).await;
        let counts = (count_from(&got, s1), count_from(&got, s2));
        assert_eq!(counts, (1, N), "{iface}: {got:?}");

        rx.leave_source(g, s1).unwrap();
        send_n(&t1, to, "dropped", N).await;
        t2.send_to(b"fence", to).await.unwrap();
        let got = collect_until(&rx, b"fence", GRACE).await;
        let counts = (count_from(&got, s1), count_from(&got, s2));
        assert_eq!(counts, (0, 1), "{iface}: {got:?}");

        // Blocking is for any-source joins.
        let err = rx.block_source(g, s1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        rx.leave_source(g, s2).unwrap();
        assert!(rx.memberships().is_empty());
        send_n(&t2, to, "b", N).await;
        assert_eq!(drain(&rx, QUIET).await, vec![], "{iface}");
    }
}

async fn block_unblock(p: &Pair, family6: bool) {
    let (s1, s2) = sources(family6);
    for (k, iface) in va_forms(family6).into_iter().enumerate() {
        let g = group(family6, false, k as u8 + 1);
        let (rx, port) = remote_receiver(family6);
        let to = SocketAddr::new(g, port);
        let (t1, t2) = (sender(p, s1), sender(p, s2));
        rx.join_on(g, &iface).unwrap();

        rx.block_source(g, s2).unwrap();
        send_n(&t2, to, "blocked", N).await;
        t1.send_to(b"fence", to).await.unwrap();
        let got = collect_until(&rx, b"fence", GRACE).await;
        let counts = (count_from(&got, s1), count_from(&got, s2));
        assert_eq!(counts, (1, 0), "{iface}: {got:?}");

        rx.unblock_source(g, s2).unwrap();
        send_n(&t2, to, "back", N).await;
        t1.send_to(b"fence", to).await.unwrap();
        let got = collect_until(&rx, b"fence", GRACE).await;
        let counts = (count_from(&got, s1), count_from(&got, s2));
        assert_eq!(counts, (1, N), "{iface}: {got:?}");
        rx.leave_on(g, &iface).unwrap();
    }
}

#[test]
fn v6_source_specific_join_accepts_one_source_and_rejects_the_other() {
    with_pair("v6_ssm", |p| both_modes(|_| source_specific(p, true)));
}

#[test]
fn v4_source_specific_join_across_the_veth() {
    with_pair("v4_ssm", |p| both_modes(|_| source_specific(p, false)));
}

#[test]
fn v6_block_and_unblock_a_source_at_runtime() {
    with_pair("v6_block", |p| both_modes(|_| block_unblock(p, true)));
}

#[test]
fn v4_block_and_unblock_across_the_veth() {
    with_pair("v4_block", |p| both_modes(|_| block_unblock(p, false)));
}

#[test]
fn v6_pktinfo_and_link_local_groups() {
    with_pair("v6_pktinfo", |p| {
        both_modes(|_| async move {
            let (s1, _) = sources(true);
            let (g1, g2) = (v6("ff15::77:4:1"), v6("ff02::77:4:2"));
            let (rx, port) = remote_receiver(true);
            rx.join_on(g1, "va").unwrap();
            rx.join_on(g2, "va").unwrap(); // link-local scope: needs the interface
            rx.set_recv_destination(true).unwrap();
            let tx = sender(p, s1);
            for (i, g) in [g1, g2, g1].into_iter().enumerate() {
                tx.send_to(&[i as u8], SocketAddr::new(g, port))
                    .await
                    .unwrap();
                let mut buf = [0u8; 16];
                let m = sonic_rt::time::timeout(Duration::from_secs(2), rx.recv_msg(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("datagram {i} to {g} never arrived"))
                    .unwrap();
                assert_eq!((m.len, buf[0]), (1, i as u8));
                assert_eq!(m.source.ip(), s1);
                assert_eq!(m.destination, Some(g));
                assert_eq!(m.interface, Some(p.va));
            }
        })
    });
}

/// Loop and TTL / hop limit across the link, for one family: a "local" receiver in the sender's
/// namespace (on `vb`) and a "remote" one across the veth (on `va`).
async fn loop_and_ttl(p: &Pair, family6: bool) {
    let (s1, _) = sources(family6);
    let g: IpAddr = if family6 {
        v6("ff15::77:5:1")
    } else {
        Ipv4Addr::new(239, 77, 5, 1).into()
    };
    let (remote, port) = remote_receiver(family6);
    remote.join_on(g, "va").unwrap();
    p.enter_b();
    let local = Peer::bind((wildcard(family6), port)).unwrap();
    local.join_on(g, "vb").unwrap();
    p.enter_a();
    let to = SocketAddr::new(g, port);
    let tx = sender(p, s1);
    // Default settings reach both receivers: the fence for every case.
    let fence_tx = sender(p, s1);

    for (lp, ttl, want_local, want_remote) in [
        (true, 1, N, N),  // the defaults
        (false, 1, 0, N), // loop off: this host's members get nothing
        (true, 0, N, 0),  // TTL / hops 0: nothing leaves the host
        // Both off. IPv4 drops a TTL-0 datagram after the loopback copy would have been made.
        // Linux's IPv6 output path only drops a hop-limit-0 datagram where it makes the
        // loopback copy (loop on and a member on this host), so with loop off it goes out on
        // the link with hop limit 0, and the remote host delivers it.
        (false, 0, 0, if family6 { N } else { 0 }),
    ] {
        tx.set_multicast_loop(lp).unwrap();
        tx.set_multicast_ttl(ttl).unwrap();
        assert_eq!(tx.multicast_loop().unwrap(), lp);
        assert_eq!(tx.multicast_ttl().unwrap(), ttl);
        send_n(&tx, to, "x", N).await;
        fence_tx.send_to(b"fence", to).await.unwrap();
        let got_local = collect_until(&local, b"fence", GRACE).await;
        let got_remote = collect_until(&remote, b"fence", GRACE).await;
        let case = format!("v{} loop={lp} ttl={ttl}", if family6 { 6 } else { 4 });
        assert_eq!(
            got_local.len() - 1,
            want_local,
            "{case} local: {got_local:?}"
        );
        assert_eq!(
            got_remote.len() - 1,
            want_remote,
            "{case} remote: {got_remote:?}"
        );
    }
}

#[test]
fn v6_loop_and_hop_limit_across_the_veth() {
    with_pair("v6_loop_and_hop_limit", |p| {
        both_modes(|_| loop_and_ttl(p, true));
    });
}

#[test]
fn v4_loop_and_ttl_across_the_veth() {
    with_pair("v4_loop_and_ttl", |p| {
        both_modes(|_| loop_and_ttl(p, false));
    });
}

#[test]
fn v6_bad_input_is_an_error() {
    with_pair("v6_bad_input", |_| {
        both_modes(|_| async move {
            let (rx, _) = remote_receiver(true);
            let kind = |r: std::io::Result<()>| r.unwrap_err().kind();
            let g = v6("ff15::77:6:1");
            let v4g = Ipv4Addr::new(239, 77, 6, 1);
            assert_eq!(kind(rx.join_on(v4g, "va")), ErrorKind::InvalidInput);
            assert_eq!(
                kind(rx.join_on(v6("fdaa:77::1"), "va")),
                ErrorKind::InvalidInput
            );
            assert_eq!(kind(rx.join_on(g, "vb")), ErrorKind::NotFound); // B's, not A's
            assert_eq!(
                kind(rx.join_source_on(g, v4g, "va")),
                ErrorKind::InvalidInput
            );
            assert_eq!(kind(rx.leave(g)), ErrorKind::NotFound);
            assert_eq!(
                kind(rx.unblock_source(g, v6("fdaa:77::1"))),
                ErrorKind::NotFound
            );
        })
    });
}
