//! feed_latency: one-way latency of a market-data feed on loopback, send to first-copy receive,
//! read by the `feed_handler` example (sonic: both lines received straight into the sequencer,
//! arbitrated, released in order) against a plain blocking `recv_from` loop on one socket
//! joined to both lines (keeping the first copy of each sequence number, nothing else).
//!
//! A publisher thread (pinned to CPU 0) sends the feed of `examples/feed_wire.rs`, every message
//! on line A then line B, paced by sleeping (spinning would starve the kernel's softirq thread
//! on that CPU, which delivers loopback datagrams once it has been woken). The reader under test runs on CPU 1,
//! alone with the publisher: modes run one after the other, interleaved run by run (sonic
//! busy-poll with spin reads, plain `recv_from`, sonic parked), and each figure is the median
//! over the runs of that run's percentile. The first `--warmup` messages are left out.
//!
//! `cargo bench -p sonic-benches --bench feed_latency` (options after `--`: `--count N`
//! `--warmup N` `--rate PER_SECOND` `--runs N`).

// The bench runs the example itself, which loads the wire format too.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/feed_handler.rs"]
mod handler;
#[path = "../examples/feed_wire.rs"]
mod wire;

use hdrhistogram::Histogram;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const GROUP_A: Ipv4Addr = Ipv4Addr::new(239, 77, 14, 51);
const GROUP_B: Ipv4Addr = Ipv4Addr::new(239, 77, 14, 52);
const RCVBUF: usize = 4 << 20;

#[derive(Clone, Copy)]
struct Opts {
    count: u64,
    warmup: u64,
    rate: f64,
    runs: usize,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    Opts {
        count: get("--count").map_or(50_000, |v| v as u64),
        warmup: get("--warmup").map_or(5_000, |v| v as u64),
        rate: get("--rate").unwrap_or(20_000.0),
        runs: get("--runs").map_or(5, |v| v as usize),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    SonicBusy,
    Plain,
    SonicParked,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::SonicBusy => "feed_handler, busy-poll + spin reads",
            Mode::Plain => "plain recv_from loop (blocking)",
            Mode::SonicParked => "feed_handler, parked",
        }
    }
}

/// Pins this thread to `core`; a failure (fewer cores) only warns.
fn pin(core: usize) {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes a bit inside it; sched_setaffinity reads it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        eprintln!(
            "warning: pinning to CPU {core}: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn set_rcvbuf(fd: i32, bytes: usize) {
    let v = bytes as libc::c_int;
    // SAFETY: a plain int option on a socket we own; the kernel copies the value.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Sends messages 1..=count on both lines at `rate`, then heartbeats (so a reader that lost the
/// tail sees it), from a thread on CPU 0. Starts when `go` yields the port.
///
/// The caller pins itself to CPU 1 only after this returns: a thread inherits its creator's
/// CPU, and under `chrt` a new thread queued behind a busy-polling reader on CPU 1 would never
/// run long enough to move.
fn publisher(o: Opts, go: mpsc::Receiver<u16>) -> std::thread::JoinHandle<()> {
    pin(0);
    std::thread::spawn(move || {
        let Ok(port) = go.recv() else { return };
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let lines = [
            SocketAddr::from((GROUP_A, port)),
            SocketAddr::from((GROUP_B, port)),
        ];
        let mut buf = [0u8; wire::MAX_DATAGRAM];
        let period = Duration::from_secs_f64(1.0 / o.rate);
        // Sleep, never spin, between sends: loopback delivery runs in softirq context on this
        // CPU, and once the kernel hands softirqs to ksoftirqd a spinning sender starves it
        // (milliseconds of latency for every reader). A 1 ns timer slack keeps the sleeps short.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1u64, 0u64, 0u64, 0u64) };
        let start = Instant::now();
        for i in 0..o.count {
            let due = start + period * i as u32;
            let now = Instant::now();
            if now < due {
                std::thread::sleep(due - now);
            }
            let n = wire::encode_message(&mut buf, i + 1, wire::now_ns(), 32);
            for to in lines {
                let _ = s.send_to(&buf[..n], to);
            }
        }
        for _ in 0..20 {
            let n = wire::encode_heartbeat(&mut buf, o.count + 1, wire::now_ns());
            for to in lines {
                let _ = s.send_to(&buf[..n], to);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram")
}

/// One run of the feed_handler example; returns its histogram of first-copy latencies.
fn run_sonic(o: Opts, busy: bool) -> Histogram<u64> {
    let (tx, rx) = mpsc::channel();
    let publisher = publisher(o, rx);
    pin(1);
    let rt = sonic_rt::Builder::new()
        .busy_poll(busy)
        .build()
        .expect("runtime");
    let args = handler::Args {
        group_a: GROUP_A.into(),
        group_b: GROUP_B.into(),
        port: 0,
        replay: None,
        count: Some(o.count),
        warmup: o.warmup,
        idle: Duration::from_secs(2),
        busy_poll: busy,
        rcvbuf: RCVBUF,
        ..Default::default()
    };
    let report = rt
        .block_on(handler::run(
            &args,
            |port| tx.send(port).expect("publisher"),
            |_, payload| {
                std::hint::black_box(payload);
            },
        ))
        .expect("feed_handler");
    publisher.join().expect("publisher");
    if report.released != o.count {
        eprintln!("warning: {}", report.lines_out().last().expect("summary"));
    }
    report.latency
}

/// One run of a plain blocking `recv_from` loop on one socket joined to both lines.
fn run_plain(o: Opts) -> Histogram<u64> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind");
    s.join_multicast_v4(&GROUP_A, &Ipv4Addr::LOCALHOST)
        .expect("join A");
    s.join_multicast_v4(&GROUP_B, &Ipv4Addr::LOCALHOST)
        .expect("join B");
    set_rcvbuf(s.as_raw_fd(), RCVBUF);
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let (tx, rx) = mpsc::channel();
    let publisher = publisher(o, rx);
    pin(1);
    tx.send(s.local_addr().expect("addr").port())
        .expect("publisher");
    let mut h = new_histogram();
    let mut buf = [0u8; wire::MAX_DATAGRAM];
    let mut next = 1u64;
    while next <= o.count {
        let Ok((n, _)) = s.recv_from(&mut buf) else {
            eprintln!("warning: plain reader stopped at {next} (no datagram for 2 s)");
            break;
        };
        let now = wire::now_ns();
        if let Ok(wire::Frame::Message { seq, sent_ns, .. }) = wire::decode(&buf[..n]) {
            // First copy only (the other line's copy of the same number is a duplicate).
            if seq >= next {
                next = seq + 1;
                if seq > o.warmup {
                    h.saturating_record(now.saturating_sub(sent_ns));
                }
            }
        }
    }
    publisher.join().expect("publisher");
    h
}

fn main() {
    let o = opts();
    println!(
        "feed_latency: {} messages on 2 lines at {}/s, first {} left out, {} interleaved runs; \
         one-way latency send -> first-copy receive in us, median of the runs' percentiles",
        o.count, o.rate, o.warmup, o.runs
    );
    let modes = [Mode::SonicBusy, Mode::Plain, Mode::SonicParked];
    let mut samples: Vec<Vec<[f64; 4]>> = vec![Vec::new(); modes.len()];
    for r in 0..o.runs {
        for k in 0..modes.len() {
            // Rotate which mode goes first in each run.
            let i = (k + r) % modes.len();
            let h = match modes[i] {
                Mode::SonicBusy => run_sonic(o, true),
                Mode::SonicParked => run_sonic(o, false),
                Mode::Plain => run_plain(o),
            };
            let us = |v: u64| v as f64 / 1e3;
            samples[i].push([
                us(h.value_at_quantile(0.5)),
                us(h.value_at_quantile(0.99)),
                us(h.value_at_quantile(0.999)),
                us(h.max()),
            ]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut rows = Vec::new();
    println!(
        "  {:<40} {:>9} {:>9} {:>9} {:>10}",
        "reader", "p50", "p99", "p99.9", "max"
    );
    for (i, m) in modes.iter().enumerate() {
        let col = |c: usize| {
            let mut v: Vec<f64> = samples[i].iter().map(|s| s[c]).collect();
            median(&mut v)
        };
        let row = [col(0), col(1), col(2), col(3)];
        println!(
            "  {:<40} {:>9.1} {:>9.1} {:>9.1} {:>10.1}",
            m.name(),
            row[0],
            row[1],
            row[2],
            row[3]
        );
        rows.push(row);
    }
    println!(
        "  plain / busy-poll feed_handler: p50 {:.2}x, p99 {:.2}x, p99.9 {:.2}x",
        rows[1][0] / rows[0][0],
        rows[1][1] / rows[0][1],
        rows[1][2] / rows[0][2]
    );
}
