//! The multicast example pair, driven from outside: the subscriber's checks on crafted
//! datagrams (hostile sequence numbers, truncation, several publishers), its source filter on
//! real sockets over `lo`, and the publisher's rate option and pacing.
//!
//! The example files are compiled in here as modules (their `main` is unused).

#[allow(dead_code)]
#[path = "../multicast_publisher.rs"]
mod publisher;
#[allow(dead_code)]
#[path = "../multicast_subscriber.rs"]
mod subscriber;

use publisher::Rate;
use sonic_net::multicast::RecvMeta;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;
use subscriber::{Reject, Tally};

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 77, 14, 1);
const S1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const S2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn sub_args() -> subscriber::Args {
    subscriber::Args {
        group: GROUP.into(),
        ..Default::default()
    }
}

/// A datagram as the publisher sends it.
fn datagram(seq: u64, sent_ns: u64) -> [u8; 16] {
    let mut d = [0u8; 16];
    d[..8].copy_from_slice(&seq.to_be_bytes());
    d[8..].copy_from_slice(&sent_ns.to_be_bytes());
    d
}

/// What `recv_msg` reports for a whole datagram of `len` bytes from `from` to the group.
fn meta(from: SocketAddr, len: usize) -> RecvMeta {
    let mut m = RecvMeta::default();
    m.len = len;
    m.source = from;
    m.destination = Some(GROUP.into());
    m
}

fn feed(t: &mut Tally, from: SocketAddr, seq: u64) -> Result<subscriber::Message, Reject> {
    let d = datagram(seq, 1_000);
    t.on_datagram(&meta(from, d.len()), &d, 2_000)
}

const P1: SocketAddr = SocketAddr::new(IpAddr::V4(S1), 40001);
const P2: SocketAddr = SocketAddr::new(IpAddr::V4(S1), 40002);

#[test]
fn subscriber_rejects_the_sequence_number_without_successor() {
    let mut t = Tally::new(&sub_args());
    assert!(feed(&mut t, P1, 7).is_ok());
    // The crafted datagram of the issue: before the fix, `seq + 1` panicked in a debug build.
    assert_eq!(feed(&mut t, P1, u64::MAX), Err(Reject::SequenceOverflow));
    assert_eq!(feed(&mut t, P1, 8).map(|m| m.gap), Ok(0));
    assert_eq!(t.rejected(Reject::SequenceOverflow), 1);
    assert_eq!(t.received, 2);
    assert_eq!(t.publishers()[0].1.missing, 0);
}

#[test]
fn subscriber_rejects_an_absurd_jump_instead_of_counting_it_missing() {
    let mut t = Tally::new(&sub_args());
    assert!(feed(&mut t, P1, 100).is_ok());
    // Before: "missing 18446744073709551508" (release) or an overflow panic (debug).
    assert_eq!(feed(&mut t, P1, 1 << 63), Err(Reject::Jump));
    assert_eq!(feed(&mut t, P1, u64::MAX - 1), Err(Reject::Jump));
    assert!(feed(&mut t, P1, 101).is_ok());
    let s = t.publishers()[0].1;
    assert_eq!((s.received, s.missing, s.next), (2, 0, 102));
    assert_eq!(t.rejected(Reject::Jump), 2);
    // A real gap within the bound is a gap.
    assert_eq!(feed(&mut t, P1, 105).map(|m| m.gap), Ok(3));
    assert_eq!(t.publishers()[0].1.missing, 3);
}

#[test]
fn subscriber_counts_gaps_per_publisher() {
    let mut t = Tally::new(&sub_args());
    // Two publishers, each counting from 0, interleaved; the second loses 5.
    for seq in 0..10 {
        feed(&mut t, P1, seq).unwrap();
        if seq != 5 {
            feed(&mut t, P2, seq).unwrap();
        }
    }
    let pubs = t.publishers();
    assert_eq!(pubs.len(), 2);
    assert_eq!(
        (pubs[0].0, pubs[0].1.missing, pubs[0].1.received),
        (P1, 0, 10)
    );
    assert_eq!(
        (pubs[1].0, pubs[1].1.missing, pubs[1].1.received),
        (P2, 1, 9)
    );
    // A late datagram is counted as late, not as a new start that reopens the range.
    feed(&mut t, P2, 5).unwrap();
    assert_eq!(t.publishers()[1].1.late, 1);
    feed(&mut t, P2, 10).unwrap();
    assert_eq!(t.publishers()[1].1.missing, 1);
}

#[test]
fn subscriber_does_not_count_truncated_or_misshapen_datagrams() {
    let mut t = Tally::new(&sub_args());
    let d = datagram(1, 0);
    let mut cut = meta(P1, d.len());
    cut.truncated = true;
    assert_eq!(t.on_datagram(&cut, &d, 0), Err(Reject::Truncated));
    assert_eq!(t.on_datagram(&meta(P1, 8), &d[..8], 0), Err(Reject::Length));
    let long = [0u8; 17];
    assert_eq!(t.on_datagram(&meta(P1, 17), &long, 0), Err(Reject::Length));
    assert_eq!(t.received, 0);
    assert!(t.publishers().is_empty());
    assert_eq!(t.rejected_total(), 3);
}

#[test]
fn subscriber_source_filter_needs_the_group_as_destination() {
    let mut t = Tally::new(&subscriber::Args {
        sources: vec![S1.into()],
        ..sub_args()
    });
    let d = datagram(1, 0);
    let mut unicast = meta(P1, 16);
    unicast.destination = Some(S1.into());
    assert_eq!(t.on_datagram(&unicast, &d, 0), Err(Reject::NotToGroup));
    let mut unknown = meta(P1, 16);
    unknown.destination = None;
    assert_eq!(t.on_datagram(&unknown, &d, 0), Err(Reject::NotToGroup));
    let other = SocketAddr::new(S2.into(), 1);
    assert_eq!(t.on_datagram(&meta(other, 16), &d, 0), Err(Reject::Source));
    assert!(t.on_datagram(&meta(P1, 16), &d, 0).is_ok());
}

#[test]
fn subscriber_latency_of_hostile_timestamps_does_not_overflow() {
    let mut t = Tally::new(&sub_args());
    // Send time 0: each latency is ~1.8e18 ns, and ten of them overflow a u64 sum.
    for seq in 0..20 {
        let d = datagram(seq, 0);
        t.on_datagram(&meta(P1, 16), &d, u64::MAX).unwrap();
    }
    assert_eq!(t.received, 20);
    assert!(t.summary()[0].starts_with("received 20, rejected 0"));
}

#[test]
fn subscriber_tracks_a_bounded_number_of_publishers() {
    let mut t = Tally::new(&sub_args());
    for port in 0..subscriber::MAX_SOURCES as u16 {
        feed(&mut t, SocketAddr::new(S1.into(), 1000 + port), 0).unwrap();
    }
    let more = SocketAddr::new(S1.into(), 9999);
    assert_eq!(feed(&mut t, more, 0), Err(Reject::TooManySources));
    assert_eq!(t.publishers().len(), subscriber::MAX_SOURCES);
}

/// The subscriber on a real socket: a unicast datagram to its port, from the accepted source
/// address, gets through the kernel (SSM filters multicast only) and must be rejected by the
/// example's own filter; multicast datagrams count.
fn subscriber_rejects_unicast_on_the_wire(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        let args = subscriber::Args {
            port: 0,
            sources: vec![S1.into()],
            count: 3,
            idle: Duration::from_secs(5),
            quiet: true,
            ..sub_args()
        };
        let peer = subscriber::join(&args).unwrap();
        let port = peer.local_addr().port();
        let uni = UdpSocket::bind((S1, 0)).unwrap();
        uni.send_to(&datagram(0, 0), (S1, port)).unwrap();
        let tx = publisher::sender(&publisher::Args {
            iface: subscriber::LOOPBACK.into(),
            ..Default::default()
        })
        .unwrap();
        for seq in 0..3 {
            tx.send_to(&datagram(seq, 0), (GROUP, port).into())
                .await
                .unwrap();
        }
        let t = subscriber::run(&args, &peer).await.unwrap();
        assert_eq!(t.received, 3, "{:?}", t.summary());
        assert_eq!(t.rejected(Reject::NotToGroup), 1, "{:?}", t.summary());
        assert_eq!(t.publishers().len(), 1);
        assert_eq!(t.publishers()[0].1.missing, 0);
    });
}

sonic_test_support::each_mode!(subscriber_rejects_unicast_on_the_wire);

#[test]
fn publisher_rejects_a_zero_rate_with_a_clear_error() {
    let parse = |v: &[&str]| publisher::parse_args(v.iter().map(|s| s.to_string()));
    let err = parse(&["--rate", "0"]).expect_err("rate 0 must be refused");
    assert!(err.contains("above 0"), "{err}");
    for bad in ["-5", "NaN", "inf", "fast"] {
        assert!(parse(&["--rate", bad]).is_err(), "--rate {bad}");
    }
    // The old option panicked with 0 ("period must be non-zero"); it now says what replaced it.
    let err = parse(&["--interval-ms", "0"]).expect_err("the old option is refused");
    assert!(err.contains("--rate"), "{err}");
    assert_eq!(
        parse(&["--rate", "250000"]).unwrap().rate,
        Rate::PerSecond(250_000.0)
    );
    assert_eq!(parse(&["--rate", "max"]).unwrap().rate, Rate::Max);
}

#[test]
fn publisher_schedule_follows_the_rate() {
    let r = Rate::PerSecond(1_000_000.0);
    assert_eq!(r.due(0), Some(Duration::ZERO));
    assert_eq!(r.due(1), Some(Duration::from_micros(1)));
    assert_eq!(r.due(1_000_000), Some(Duration::from_secs(1)));
    assert_eq!(Rate::PerSecond(0.5).due(3), Some(Duration::from_secs(6)));
    assert_eq!(Rate::Max.due(123), None);
    assert_eq!(Rate::PerSecond(1e-300).due(u64::MAX), Some(Duration::MAX));
}

/// 101 datagrams at 20,000/s take 5 ms of (paused, so exact) clock time; whole-millisecond
/// intervals capped a publisher at 1,000/s (100 ms here).
fn publisher_sends_faster_than_one_per_millisecond(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        sonic_rt::time::pause();
        let rx = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        rx.join_multicast_v4(&GROUP, &S1).unwrap();
        rx.set_nonblocking(true).unwrap();
        let args = publisher::Args {
            group: GROUP.into(),
            port: rx.local_addr().unwrap().port(),
            count: 101,
            rate: Rate::PerSecond(20_000.0),
            ..Default::default()
        };
        let tx = publisher::sender(&args).unwrap();
        let start = sonic_rt::time::Instant::now();
        publisher::publish(&args, &tx).await.unwrap();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(5) && took < Duration::from_micros(5_100),
            "{took:?}"
        );
        let mut buf = [0u8; 64];
        let mut n = 0;
        while rx.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        assert_eq!(n, 101);
    });
}

sonic_test_support::each_mode!(publisher_sends_faster_than_one_per_millisecond);
