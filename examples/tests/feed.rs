//! The feed examples end to end, on loopback: `feed_publisher` with 5% loss and 5% reorder on
//! each line and `feed_handler` with recovery over TCP, asserting every sequence number is
//! released exactly once, in order; hostile datagrams to the handler (overflowing sequence
//! numbers, truncated, oversize 65,507 B, wrong length fields, unicast), each dropped and
//! counted; and the wire format on its own. The example files are compiled in as modules.

// Both examples and this test load feed_wire.rs: sharing it is the point.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../feed_handler.rs"]
mod handler;
#[allow(dead_code)]
#[path = "../feed_publisher.rs"]
mod publisher;
#[path = "../feed_wire.rs"]
mod wire;

use handler::Reject;
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

/// The network tests take turns: each runs a publisher and a (possibly busy-polling) handler,
/// and two at once on a 2-core machine would mostly measure each other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A UDP port free right now (both lines bind it with SO_REUSEPORT).
fn free_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the handler on `rt`, collecting the released sequence numbers.
fn run_handler(
    rt: &sonic_rt::Runtime,
    args: &handler::Args,
    ready: impl FnOnce(u16),
) -> (handler::Report, Vec<u64>) {
    let got = Rc::new(RefCell::new(Vec::new()));
    let sink = got.clone();
    let report = rt
        .block_on(handler::run(args, ready, move |seq, payload| {
            assert!(wire::payload_ok(seq, payload), "payload of {seq}");
            sink.borrow_mut().push(seq);
        }))
        .unwrap();
    let got = got.borrow().clone();
    (report, got)
}

/// 5% loss and 5% reorder on each line, independently: the handler releases 1..=N, each once,
/// in order, recovering over TCP what both lines lost.
fn every_message_is_released_once_in_order_through_loss_and_reorder(busy_poll: bool) {
    let _turn = turn();
    let rt = &sonic_test_support::rt(busy_poll);
    const N: u64 = 5000;
    let port = free_port();
    let (group_a, group_b) = (
        Ipv4Addr::new(239, 77, 14, 31),
        Ipv4Addr::new(239, 77, 14, 32),
    );
    let pub_args = publisher::Args {
        group_a: group_a.into(),
        group_b: group_b.into(),
        port,
        replay: (Ipv4Addr::LOCALHOST, 0).into(),
        count: N,
        rate: Some(25_000.0),
        impair: [publisher::Impair {
            loss: 0.05,
            reorder: 0.05,
            dup: 0.0,
        }; 2],
        seed: 14,
        wait_for_client: true,
        ..Default::default()
    };
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    let publisher = std::thread::spawn(move || {
        sonic_rt::Runtime::new()
            .unwrap()
            .block_on(publisher::run(&pub_args, |addr| tx.send(addr).unwrap()))
            .unwrap()
    });
    let replay = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let args = handler::Args {
        group_a: group_a.into(),
        group_b: group_b.into(),
        port,
        replay: Some(replay),
        count: Some(N),
        idle: Duration::from_secs(10),
        busy_poll,
        ..Default::default()
    };
    let (report, got) = run_handler(rt, &args, |_| {});
    let sent = publisher.join().unwrap();
    let lines = report.lines_out().join("\n");
    assert_eq!(got, (1..=N).collect::<Vec<_>>(), "{lines}");
    assert_eq!((report.released, report.out_of_order), (N, 0), "{lines}");
    // The impairments happened, on both lines, and both lines lost some of the same numbers
    // (more when the machine is so busy that the kernel drops some too: then more is recovered).
    for l in 0..2 {
        assert!(sent.dropped[l] > 100 && sent.reordered[l] > 100, "{sent:?}");
        assert!(
            report.lines[l].gaps > 0 && report.lines[l].sole > 0,
            "{lines}"
        );
    }
    assert!(report.arbiter.lost_on_all > 0, "{lines}");
    // Every number was stored once: first from a line, or recovered; nothing given up.
    let first: u64 = report.lines.iter().map(|l| l.first).sum();
    assert_eq!(first + report.arbiter.recovered, N, "{lines}");
    assert!(
        report.arbiter.lost_on_all <= report.arbiter.recovered,
        "{lines}"
    );
    assert_eq!(report.sequencer.skipped, 0, "{lines}");
    // Nothing malformed; the only refusal an overloaded handler may see is a datagram too far
    // ahead of a gap still being recovered.
    let refused = report.rejected.iter().sum::<u64>();
    assert_eq!(refused, report.rejected(Reject::OutOfWindow), "{lines}");
    assert!(sent.requests > 0 && sent.replayed >= report.arbiter.recovered);
    assert_eq!(
        report.latency.len(),
        first,
        "a latency sample per first copy"
    );
}

#[test]
fn every_message_is_released_once_in_order_through_loss_and_reorder_busy_poll() {
    every_message_is_released_once_in_order_through_loss_and_reorder(true);
}

#[test]
fn every_message_is_released_once_in_order_through_loss_and_reorder_parked() {
    every_message_is_released_once_in_order_through_loss_and_reorder(false);
}

fn message(seq: u64) -> Vec<u8> {
    let mut b = vec![0u8; wire::MAX_DATAGRAM];
    let n = wire::encode_message(&mut b, seq, wire::now_ns(), 16);
    b.truncate(n);
    b
}

/// Hostile datagrams first, then messages 1..=20: each hostile one is dropped and counted by
/// reason, nothing crashes, and the 20 come out in order.
fn hostile_datagrams_are_dropped_and_counted(busy_poll: bool) {
    let _turn = turn();
    let rt = &sonic_test_support::rt(busy_poll);
    let port = free_port();
    let group = Ipv4Addr::new(239, 77, 14, 41);
    let args = handler::Args {
        group_a: group.into(),
        group_b: Ipv4Addr::new(239, 77, 14, 42).into(),
        port,
        replay: None,
        count: Some(20),
        idle: Duration::from_secs(10),
        busy_poll,
        ..Default::default()
    };
    let (tx, rx) = mpsc::channel::<u16>();
    let sender = std::thread::spawn(move || {
        let port = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // Bound to 127.0.0.1, so Linux sends multicast out of lo with that source.
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let to = SocketAddr::from((group, port));
        let send = |d: &[u8]| {
            s.send_to(d, to).unwrap();
        };
        send(&message(u64::MAX)); // sequence overflow
        send(&message(u64::MAX - 1)); // out of the window
        send(&message(1 << 40)); // out of the window
        send(&[1, 0, 0, 0, 7]); // shorter than the header
        let mut oversize = vec![0u8; 65_507]; // the largest UDP datagram over IPv4
        wire::encode_message(&mut oversize, 2, 0, 0);
        oversize[2..4].copy_from_slice(&(65_507u16 - 20).to_be_bytes());
        send(&oversize); // cut to the receive space: truncated
        let mut long_field = message(3);
        long_field[3] += 1;
        send(&long_field); // length field one more than the payload
        let mut zero_field = message(4);
        zero_field[2..4].copy_from_slice(&[0, 0]);
        send(&zero_field); // length field 0 with a payload
        let mut kind = message(5);
        kind[0] = 9;
        send(&kind); // unknown kind
        let mut payload = message(6);
        *payload.last_mut().unwrap() ^= 0xff;
        send(&payload); // not the publisher's payload
        let mut hb = [0u8; wire::HEADER];
        wire::encode_heartbeat(&mut hb, u64::MAX, 0);
        send(&hb); // a heartbeat announcing the end of the range: out of the window
        let mut hb_payload = message(7);
        hb_payload[0] = 2;
        send(&hb_payload); // a heartbeat with a payload
                           // A unicast datagram to the port: a valid message, but not to the group.
        s.send_to(&message(1), (Ipv4Addr::LOCALHOST, port)).unwrap();
        for seq in 1..=20 {
            send(&message(seq));
        }
    });
    let (report, got) = run_handler(rt, &args, |port| tx.send(port).unwrap());
    sender.join().unwrap();
    let lines = report.lines_out().join("\n");
    assert_eq!(got, (1..=20).collect::<Vec<_>>(), "{lines}");
    let want = [
        (Reject::SequenceOverflow, 1),
        (Reject::OutOfWindow, 3),
        (Reject::Short, 1),
        (Reject::Truncated, 1),
        (Reject::Length, 3),
        (Reject::Kind, 1),
        (Reject::Payload, 1),
        (Reject::NotToGroup, 1),
    ];
    for (why, n) in want {
        assert_eq!(report.rejected(why), n, "{why:?}: {lines}");
    }
    assert_eq!(report.rejected.iter().sum::<u64>(), 12, "{lines}");
    assert_eq!(report.sockets[0].truncated, 1, "{lines}");
}

#[test]
fn hostile_datagrams_are_dropped_and_counted_busy_poll() {
    hostile_datagrams_are_dropped_and_counted(true);
}

#[test]
fn hostile_datagrams_are_dropped_and_counted_parked() {
    hostile_datagrams_are_dropped_and_counted(false);
}

#[test]
fn the_wire_format_checks_every_length() {
    let m = message(42);
    assert_eq!(
        wire::decode(&m),
        Ok(wire::Frame::Message {
            seq: 42,
            sent_ns: u64::from_be_bytes(m[12..20].try_into().unwrap()),
            payload: &m[20..],
        })
    );
    assert!(wire::payload_ok(42, &m[20..]));
    assert!(!wire::payload_ok(43, &m[20..]));
    for cut in 0..wire::HEADER {
        assert_eq!(wire::decode(&m[..cut]), Err(wire::Malformed::Short));
    }
    for cut in wire::HEADER..m.len() {
        assert_eq!(
            wire::decode(&m[..cut]),
            Err(wire::Malformed::Length),
            "{cut}"
        );
    }
    let mut hb = [0u8; wire::HEADER];
    wire::encode_heartbeat(&mut hb, 7, 0);
    assert_eq!(wire::decode(&hb), Ok(wire::Frame::Heartbeat { next: 7 }));
    assert_eq!(wire::decode_request(&wire::encode_request(3, 9)), (3, 9));
}

#[test]
fn the_publisher_refuses_bad_options() {
    let parse = |v: &[&str]| publisher::parse_args(v.iter().map(|s| s.to_string()));
    assert!(parse(&["--rate", "0"]).unwrap_err().contains("above 0"));
    assert!(parse(&["--loss", "1.5"]).unwrap_err().contains("fraction"));
    assert!(parse(&["--size", "5000"]).is_err());
    assert!(parse(&["--start", &u64::MAX.to_string(), "--count", "2"]).is_err());
    let a = parse(&["--loss-b", "0.1", "--reorder", "0.05"]).unwrap();
    assert_eq!(a.impair[0].loss, 0.0);
    assert_eq!(a.impair[1].loss, 0.1);
    assert_eq!(a.impair[1].reorder, 0.05);
    let h = handler::parse_args(["--max-bytes".to_string(), "10".to_string()]);
    assert!(h.is_err());
}
