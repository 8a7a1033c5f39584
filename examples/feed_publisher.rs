//! Feed publisher: a sequenced market-data feed on two redundant multicast lines, A and B, with
//! a TCP replay server for recovery. Each line can drop, reorder and duplicate a fraction of its
//! datagrams, independently, to exercise `feed_handler`. Runs on loopback with no setup:
//!
//! ```text
//! cargo run --release -p sonic-examples --example feed_handler -- --count 100000
//! cargo run --release -p sonic-examples --example feed_publisher -- --count 100000 \
//!     --rate 50000 --loss 0.05 --reorder 0.05
//! ```
//!
//! Options: `--group-a 239.255.1.1` `--group-b 239.255.1.2` `--port 31001` `--source 127.0.0.1`
//! `--iface lo` (`lo0` on macOS) `--replay 127.0.0.1:31002` (the TCP replay server) `--count
//! 1000` `--start 1` (first sequence number) `--rate 10000` (messages per second, or `max`)
//! `--size 32` (payload bytes) `--loss F` `--reorder F` `--dup F` (fractions for both lines;
//! `--loss-a`, `--loss-b`... for one) `--seed N` `--heartbeat-ms 5` `--linger-secs 10` (after
//! the last message, keep serving replays and heartbeats until the replay client leaves or this
//! long) `--wait-for-client` (start sending once a replay client connected) `--busy-poll`.
//!
//! The wire format is in `feed_wire.rs`. Heartbeats (every `--heartbeat-ms`, on both lines,
//! never impaired) carry the next sequence number, so a handler sees losses at the tail too.

#[path = "feed_wire.rs"]
mod wire;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use sonic_net::multicast::Peer;
use sonic_net::{TcpListener, TcpStream};
use sonic_rt::sync::Notify;
use sonic_rt::time::Instant;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

/// What one line does to its datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Impair {
    /// Fraction dropped.
    pub loss: f64,
    /// Fraction held back and sent after the next 1 to 3 datagrams of the line.
    pub reorder: f64,
    /// Fraction sent twice.
    pub dup: f64,
}

/// The command line.
#[derive(Clone, Debug)]
pub struct Args {
    /// Line A's group.
    pub group_a: IpAddr,
    /// Line B's group.
    pub group_b: IpAddr,
    /// The port of both groups.
    pub port: u16,
    /// The address to send from.
    pub source: IpAddr,
    /// The outgoing interface.
    pub iface: String,
    /// Where the replay server listens (port 0: any).
    pub replay: SocketAddr,
    /// Messages to send.
    pub count: u64,
    /// The first sequence number.
    pub start: u64,
    /// Messages per second; `None`: as fast as the socket takes them.
    pub rate: Option<f64>,
    /// Payload bytes per message.
    pub size: usize,
    /// Impairments of line A and line B.
    pub impair: [Impair; 2],
    /// Seed of the impairments.
    pub seed: u64,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// How long to keep serving after the last message.
    pub linger: Duration,
    /// Start sending once a replay client connected.
    pub wait_for_client: bool,
    /// Busy-poll runtime.
    pub busy_poll: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            group_a: Ipv4Addr::new(239, 255, 1, 1).into(),
            group_b: Ipv4Addr::new(239, 255, 1, 2).into(),
            port: 31001,
            source: Ipv4Addr::LOCALHOST.into(),
            iface: LOOPBACK.into(),
            replay: (Ipv4Addr::LOCALHOST, 31002).into(),
            count: 1000,
            start: 1,
            rate: Some(10_000.0),
            size: 32,
            impair: [Impair::default(); 2],
            seed: 1,
            heartbeat: Duration::from_millis(5),
            linger: Duration::from_secs(10),
            wait_for_client: false,
            busy_poll: false,
        }
    }
}

/// What the publisher did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Message datagrams sent per line (duplicates included).
    pub sent: [u64; 2],
    /// Messages dropped per line.
    pub dropped: [u64; 2],
    /// Messages sent out of order per line.
    pub reordered: [u64; 2],
    /// Messages sent twice per line.
    pub duplicated: [u64; 2],
    /// Recovery requests served.
    pub requests: u64,
    /// Messages sent over TCP.
    pub replayed: u64,
}

/// The default interface: loopback.
pub const LOOPBACK: &str = if cfg!(target_os = "linux") {
    "lo"
} else {
    "lo0"
};

fn main() -> io::Result<()> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("feed_publisher: {e}");
            eprintln!(
                "usage: feed_publisher [--group-a ADDR] [--group-b ADDR] [--port N] [--source ADDR] \
                 [--iface NAME] [--replay ADDR:PORT] [--count N] [--start N] [--rate N|max] \
                 [--size N] [--loss F] [--reorder F] [--dup F] [--loss-a F] [--loss-b F] \
                 [--reorder-a F] [--reorder-b F] [--dup-a F] [--dup-b F] [--seed N] \
                 [--heartbeat-ms N] [--linger-secs N] [--wait-for-client] [--busy-poll]"
            );
            std::process::exit(2);
        }
    };
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    let report = rt.block_on(run(&args, |replay| {
        println!(
            "lines A {}:{} and B {}:{} from {}, replay on {replay}",
            args.group_a, args.port, args.group_b, args.port, args.source
        );
    }))?;
    for (l, name) in ["A", "B"].iter().enumerate() {
        println!(
            "line {name}: sent {}, dropped {}, reordered {}, duplicated {}",
            report.sent[l], report.dropped[l], report.reordered[l], report.duplicated[l]
        );
    }
    println!(
        "replay: {} requests, {} messages",
        report.requests, report.replayed
    );
    Ok(())
}

/// State shared by the sender, the heartbeat task and the replay server.
struct Shared {
    /// Send time of each message sent so far, by `seq - start`.
    history: RefCell<Vec<u64>>,
    clients: Cell<usize>,
    client_seen: Cell<bool>,
    changed: Notify,
    done: Cell<bool>,
    requests: Cell<u64>,
    replayed: Cell<u64>,
}

/// Runs the publisher: binds the replay server (`ready` gets its address), sends the feed,
/// then lingers. Returns what it did.
pub async fn run(args: &Args, ready: impl FnOnce(SocketAddr)) -> io::Result<Report> {
    let peer = Rc::new(Peer::bind((args.source, 0))?);
    peer.set_outbound(args.iface.as_str())?;
    peer.set_multicast_ttl(1)?;
    let listener = TcpListener::bind(args.replay).await?;
    ready(listener.local_addr()?);
    let shared = Rc::new(Shared {
        history: RefCell::new(Vec::with_capacity(args.count.min(1 << 24) as usize)),
        clients: Cell::new(0),
        client_seen: Cell::new(false),
        changed: Notify::new(),
        done: Cell::new(false),
        requests: Cell::new(0),
        replayed: Cell::new(0),
    });
    let server = sonic_rt::spawn(serve(listener, shared.clone(), args.start, args.size));
    if args.wait_for_client {
        while shared.clients.get() == 0 {
            shared.changed.notified().await;
        }
    }
    let lines = [
        SocketAddr::new(args.group_a, args.port),
        SocketAddr::new(args.group_b, args.port),
    ];
    let next = Rc::new(Cell::new(args.start));
    let heartbeat = sonic_rt::spawn(heartbeats(
        peer.clone(),
        lines,
        next.clone(),
        args.heartbeat,
        shared.clone(),
    ));

    let mut report = Report::default();
    let mut rng = [
        args.seed ^ 0x9e37_79b9_7f4a_7c15,
        args.seed ^ 0xd1b5_4a32_d192_ed03,
    ];
    // Per line: datagrams held back, with the sequence number after which they go out.
    let mut held: [Vec<(u64, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    let mut buf = [0u8; wire::MAX_DATAGRAM];
    let begin = Instant::now();
    for i in 0..args.count {
        let seq = args.start + i;
        if let Some(rate) = args.rate {
            let due = Duration::try_from_secs_f64(i as f64 / rate).unwrap_or(Duration::MAX);
            if let Some(at) = begin.checked_add(due) {
                if Instant::now() < at {
                    sonic_rt::time::sleep_until(at).await;
                }
            }
        }
        let sent_ns = wire::now_ns();
        shared.history.borrow_mut().push(sent_ns);
        let n = wire::encode_message(&mut buf, seq, sent_ns, args.size);
        next.set(seq + 1);
        for line in 0..2 {
            let imp = args.impair[line];
            let r = &mut rng[line];
            if chance(r, imp.loss) {
                report.dropped[line] += 1;
            } else if chance(r, imp.reorder) {
                report.reordered[line] += 1;
                held[line].push((seq + 1 + next_u64(r) % 3, buf[..n].to_vec()));
            } else {
                send(&peer, &buf[..n], lines[line], &mut report.sent[line]).await?;
                if chance(r, imp.dup) {
                    report.duplicated[line] += 1;
                    send(&peer, &buf[..n], lines[line], &mut report.sent[line]).await?;
                }
            }
            // What was held back until after this one goes now.
            let mut k = 0;
            while k < held[line].len() {
                if held[line][k].0 <= seq {
                    let (_, d) = held[line].swap_remove(k);
                    send(&peer, &d, lines[line], &mut report.sent[line]).await?;
                } else {
                    k += 1;
                }
            }
        }
    }
    for line in 0..2 {
        for (_, d) in std::mem::take(&mut held[line]) {
            send(&peer, &d, lines[line], &mut report.sent[line]).await?;
        }
    }
    // Linger: serve replays until the client that came leaves (or none came), at most `linger`.
    let deadline = Instant::now()
        .checked_add(args.linger)
        .unwrap_or_else(Instant::now);
    let linger = async {
        while !(shared.client_seen.get() && shared.clients.get() == 0) {
            shared.changed.notified().await;
        }
    };
    let _ = sonic_rt::time::timeout_at(deadline, linger).await;
    shared.done.set(true);
    heartbeat.abort();
    server.abort();
    let _ = heartbeat.await;
    let _ = server.await;
    report.requests = shared.requests.get();
    report.replayed = shared.replayed.get();
    Ok(report)
}

async fn send(peer: &Peer, d: &[u8], to: SocketAddr, count: &mut u64) -> io::Result<()> {
    peer.send_to(d, to).await?;
    *count += 1;
    Ok(())
}

/// xorshift64*: a small, seeded, reproducible generator.
fn next_u64(s: &mut u64) -> u64 {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    s.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn chance(s: &mut u64, p: f64) -> bool {
    p > 0.0 && (next_u64(s) >> 11) as f64 / (1u64 << 53) as f64 <= p
}

async fn heartbeats(
    peer: Rc<Peer>,
    lines: [SocketAddr; 2],
    next: Rc<Cell<u64>>,
    period: Duration,
    shared: Rc<Shared>,
) {
    let mut tick = sonic_rt::time::interval(period);
    let mut buf = [0u8; wire::HEADER];
    while !shared.done.get() {
        tick.tick().await;
        let n = wire::encode_heartbeat(&mut buf, next.get(), wire::now_ns());
        for to in lines {
            let _ = peer.send_to(&buf[..n], to).await;
        }
    }
}

async fn serve(listener: TcpListener, shared: Rc<Shared>, start: u64, size: usize) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        shared.clients.set(shared.clients.get() + 1);
        shared.client_seen.set(true);
        shared.changed.notify_waiters();
        let shared = shared.clone();
        drop(sonic_rt::spawn(async move {
            let _ = replay(stream, &shared, start, size).await;
            shared.clients.set(shared.clients.get() - 1);
            shared.changed.notify_waiters();
        }));
    }
}

/// Answers recovery requests on one connection until it closes.
async fn replay(mut stream: TcpStream, shared: &Shared, start: u64, size: usize) -> io::Result<()> {
    let mut req = [0u8; wire::REQUEST_LEN];
    let mut out = Vec::new();
    let mut buf = [0u8; wire::MAX_DATAGRAM];
    loop {
        if let Err(e) = stream.read_exact(&mut req).await {
            return if e.kind() == io::ErrorKind::UnexpectedEof {
                Ok(())
            } else {
                Err(e)
            };
        }
        let (from, to) = wire::decode_request(&req);
        shared.requests.set(shared.requests.get() + 1);
        out.clear();
        {
            let history = shared.history.borrow();
            let sent_end = start + history.len() as u64;
            // At most 4096 per request, and only what was sent.
            let to = to.min(sent_end).min(from.saturating_add(4096));
            for seq in from.max(start)..to {
                let sent_ns = history[(seq - start) as usize];
                let n = wire::encode_message(&mut buf, seq, sent_ns, size);
                out.extend_from_slice(&(n as u16).to_be_bytes());
                out.extend_from_slice(&buf[..n]);
                shared.replayed.set(shared.replayed.get() + 1);
            }
        }
        out.extend_from_slice(&0u16.to_be_bytes());
        stream.write_all(&out).await?;
    }
}

fn fraction(flag: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{flag} {v:?}: a fraction from 0 to 1")),
    }
}

/// Parses the options (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--busy-poll" => {
                a.busy_poll = true;
                continue;
            }
            "--wait-for-client" => {
                a.wait_for_client = true;
                continue;
            }
            _ => {}
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag} {v:?}: not a valid value");
        match flag.as_str() {
            "--group-a" => a.group_a = v.parse().map_err(|_| bad())?,
            "--group-b" => a.group_b = v.parse().map_err(|_| bad())?,
            "--port" => a.port = v.parse().map_err(|_| bad())?,
            "--source" => a.source = v.parse().map_err(|_| bad())?,
            "--iface" => a.iface = v,
            "--replay" => a.replay = v.parse().map_err(|_| bad())?,
            "--count" => a.count = v.parse().map_err(|_| bad())?,
            "--start" => a.start = v.parse().map_err(|_| bad())?,
            "--rate" if v == "max" => a.rate = None,
            "--rate" => match v.parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => a.rate = Some(r),
                _ => {
                    return Err(format!(
                        "--rate {v:?}: above 0 messages per second, or `max`"
                    ))
                }
            },
            "--size" => match v.parse::<usize>() {
                Ok(n) if n <= wire::MAX_PAYLOAD => a.size = n,
                _ => return Err(format!("--size {v:?}: at most {} bytes", wire::MAX_PAYLOAD)),
            },
            "--loss" | "--reorder" | "--dup" => {
                let f = fraction(&flag, &v)?;
                for imp in &mut a.impair {
                    set(imp, &flag, f);
                }
            }
            "--loss-a" | "--reorder-a" | "--dup-a" => {
                set(&mut a.impair[0], &flag, fraction(&flag, &v)?)
            }
            "--loss-b" | "--reorder-b" | "--dup-b" => {
                set(&mut a.impair[1], &flag, fraction(&flag, &v)?)
            }
            "--seed" => a.seed = v.parse().map_err(|_| bad())?,
            "--heartbeat-ms" => match v.parse::<u64>() {
                Ok(ms) if ms > 0 => a.heartbeat = Duration::from_millis(ms),
                _ => return Err(format!("--heartbeat-ms {v:?}: at least 1")),
            },
            "--linger-secs" => a.linger = Duration::from_secs(v.parse().map_err(|_| bad())?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.start.checked_add(a.count).is_none() {
        return Err("--start + --count overflows the sequence numbers".into());
    }
    Ok(a)
}

fn set(imp: &mut Impair, flag: &str, f: f64) {
    if flag.starts_with("--loss") {
        imp.loss = f;
    } else if flag.starts_with("--reorder") {
        imp.reorder = f;
    } else {
        imp.dup = f;
    }
}
