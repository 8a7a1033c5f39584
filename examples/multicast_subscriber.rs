//! Multicast subscriber: joins a group on one interface, any-source or source-specific (SSM),
//! and prints each datagram's sequence number, sender, destination group, one-way latency and
//! the time since the kernel received it, then a summary per publisher.
//! Runs on loopback with no setup; start it first, then `multicast_publisher`:
//!
//! ```text
//! # SSM: accept 127.0.0.1 only (repeat --source to accept more senders)
//! cargo run -p sonic-examples --example multicast_subscriber -- --source 127.0.0.1
//! # any-source, but drop one sender at run time
//! cargo run -p sonic-examples --example multicast_subscriber -- --block 127.0.0.2
//! cargo run -p sonic-examples --example multicast_publisher -- --source 127.0.0.2
//! ```
//!
//! Options: `--group 239.255.0.1` `--port 30001` `--iface lo` (`lo0` on macOS) `--source ADDR` (repeatable)
//! `--block ADDR` (repeatable, any-source only) `--count 20` (stop after that many messages)
//! `--idle-secs 10` (stop after that long without a datagram) `--max-jump 1000000` (a sequence
//! number further ahead than this is rejected, not counted as a gap) `--quiet` `--busy-poll`.
//!
//! Every datagram is untrusted input, and is checked before it counts as a message:
//! - it must be addressed to the group (the socket is bound to the wildcard address, so a
//!   unicast datagram to the port reaches it too) and come from an accepted source (the
//!   kernel's SSM and block filters apply to multicast only);
//! - it must be whole (not truncated by the receive buffer) and exactly 16 bytes;
//! - its sequence number must have a successor and may not jump absurdly far ahead.
//!
//! Rejections are counted by reason and printed at the end. Gaps are counted per publisher
//! (source address and port): several publishers each count from 0, and a shared counter would
//! report every switch between them as a loss.

use sonic_net::multicast::{Peer, RecvMeta};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The command line.
#[derive(Debug)]
pub struct Args {
    /// The group to join.
    pub group: IpAddr,
    /// The group's port (the socket binds it on the wildcard address).
    pub port: u16,
    /// The interface to join on.
    pub iface: String,
    /// Source-specific join: only these senders.
    pub sources: Vec<IpAddr>,
    /// Any-source join, minus these senders.
    pub blocked: Vec<IpAddr>,
    /// Stop after this many messages.
    pub count: u64,
    /// Stop after this long without a datagram.
    pub idle: Duration,
    /// A sequence number more than this ahead of the expected one is rejected.
    pub max_jump: u64,
    /// Print the summary only, not a line per message.
    pub quiet: bool,
    /// Run the runtime in busy-poll mode.
    pub busy_poll: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            group: Ipv4Addr::new(239, 255, 0, 1).into(),
            port: 30001,
            iface: LOOPBACK.into(),
            sources: Vec::new(),
            blocked: Vec::new(),
            count: 20,
            idle: Duration::from_secs(10),
            max_jump: 1_000_000,
            quiet: false,
            busy_poll: false,
        }
    }
}

/// The publisher's datagram: sequence number and send time, both u64 big-endian.
pub const DATAGRAM_LEN: usize = 16;

/// Most publishers tracked at once; datagrams from further sources are rejected, so forged
/// source addresses cannot make the table grow without bound.
pub const MAX_SOURCES: usize = 64;

/// Why a datagram was not counted as a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Not addressed to the group (a unicast datagram to the port), or no destination known.
    NotToGroup,
    /// From a source the join does not accept (not listed for SSM, or blocked).
    Source,
    /// Longer than the receive buffer: its tail was cut off.
    Truncated,
    /// Not exactly [`DATAGRAM_LEN`] bytes.
    Length,
    /// Sequence number `u64::MAX`: it has no successor.
    SequenceOverflow,
    /// Sequence number more than `max_jump` ahead of the expected one.
    Jump,
    /// A new source while [`MAX_SOURCES`] are already tracked.
    TooManySources,
}

impl Reject {
    /// Every reason, in the order the summary prints them.
    pub const ALL: [Reject; 7] = [
        Reject::NotToGroup,
        Reject::Source,
        Reject::Truncated,
        Reject::Length,
        Reject::SequenceOverflow,
        Reject::Jump,
        Reject::TooManySources,
    ];

    fn name(self) -> &'static str {
        match self {
            Reject::NotToGroup => "not to the group",
            Reject::Source => "source not accepted",
            Reject::Truncated => "truncated",
            Reject::Length => "wrong length",
            Reject::SequenceOverflow => "sequence overflow",
            Reject::Jump => "sequence jump too large",
            Reject::TooManySources => "too many sources",
        }
    }
}

/// What one publisher (source address and port) delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceTally {
    /// Messages received.
    pub received: u64,
    /// Sequence numbers skipped over when a later one arrived first.
    pub missing: u64,
    /// Messages older than the next expected one (reordered or duplicated).
    pub late: u64,
    /// The next expected sequence number.
    pub next: u64,
}

/// A message that passed every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its sequence number.
    pub seq: u64,
    /// Receive time minus send time, 0 if the sender's clock is ahead.
    pub latency_ns: u64,
    /// Sequence numbers it skipped over (0 when in order).
    pub gap: u64,
}

/// The subscriber's checks and counters, one datagram at a time.
#[derive(Debug)]
pub struct Tally {
    group: IpAddr,
    sources: Vec<IpAddr>,
    blocked: Vec<IpAddr>,
    max_jump: u64,
    /// Messages accepted.
    pub received: u64,
    rejected: [u64; Reject::ALL.len()],
    latency_sum_ns: u128,
    publishers: Vec<(SocketAddr, SourceTally)>,
}

impl Tally {
    /// A tally for the group and source filter of `args`.
    pub fn new(args: &Args) -> Tally {
        Tally {
            group: args.group,
            sources: args.sources.clone(),
            blocked: args.blocked.clone(),
            max_jump: args.max_jump,
            received: 0,
            rejected: [0; Reject::ALL.len()],
            latency_sum_ns: 0,
            publishers: Vec::new(),
        }
    }

    /// Checks one received datagram (`bytes` is what `meta.len` says was written) and counts it
    /// as a message or as a rejection.
    pub fn on_datagram(
        &mut self,
        meta: &RecvMeta,
        bytes: &[u8],
        now_ns: u64,
    ) -> Result<Message, Reject> {
        let r = self.check(meta, bytes, now_ns);
        match r {
            Ok(m) => {
                self.received += 1;
                self.latency_sum_ns += u128::from(m.latency_ns);
            }
            Err(why) => self.rejected[why as usize] += 1,
        }
        r
    }

    fn check(&mut self, meta: &RecvMeta, bytes: &[u8], now_ns: u64) -> Result<Message, Reject> {
        if meta.destination != Some(self.group) {
            return Err(Reject::NotToGroup);
        }
        let from = meta.source.ip();
        if self.blocked.contains(&from)
            || !(self.sources.is_empty() || self.sources.contains(&from))
        {
            return Err(Reject::Source);
        }
        if meta.truncated {
            return Err(Reject::Truncated);
        }
        let Ok(bytes) = <[u8; DATAGRAM_LEN]>::try_from(bytes) else {
            return Err(Reject::Length);
        };
        let seq = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let sent = u64::from_be_bytes(bytes[8..].try_into().expect("8 bytes"));
        let Some(after) = seq.checked_add(1) else {
            return Err(Reject::SequenceOverflow);
        };
        let max_jump = self.max_jump;
        let known = self.publishers.len();
        let src = match self.publishers.iter().position(|(a, _)| *a == meta.source) {
            Some(i) => &mut self.publishers[i].1,
            None if known >= MAX_SOURCES => return Err(Reject::TooManySources),
            None => {
                // The first datagram of a publisher sets where it starts.
                self.publishers.push((
                    meta.source,
                    SourceTally {
                        next: seq,
                        ..Default::default()
                    },
                ));
                &mut self.publishers[known].1
            }
        };
        // 0 when late (`seq < next`). A new publisher starts at `seq`.
        let gap = seq.saturating_sub(src.next);
        if gap > max_jump {
            return Err(Reject::Jump);
        }
        src.received += 1;
        if seq < src.next {
            src.late += 1;
        } else {
            src.missing += gap;
            src.next = after;
        }
        Ok(Message {
            seq,
            latency_ns: now_ns.saturating_sub(sent),
            gap,
        })
    }

    /// Rejections for one reason.
    pub fn rejected(&self, why: Reject) -> u64 {
        self.rejected[why as usize]
    }

    /// All rejections.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// Per-publisher counts, in order of first appearance.
    pub fn publishers(&self) -> &[(SocketAddr, SourceTally)] {
        &self.publishers
    }

    /// The summary lines printed at the end.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mean = if self.received == 0 {
            0.0
        } else {
            self.latency_sum_ns as f64 / self.received as f64 / 1e3
        };
        out.push(format!(
            "received {}, rejected {}, mean one-way latency {mean:.1} us",
            self.received,
            self.rejected_total()
        ));
        for (addr, s) in &self.publishers {
            out.push(format!(
                "  from {addr}: received {}, missing {}, late {}",
                s.received, s.missing, s.late
            ));
        }
        for why in Reject::ALL {
            let n = self.rejected(why);
            if n > 0 {
                out.push(format!("  rejected ({}): {n}", why.name()));
            }
        }
        out
    }
}

fn main() -> io::Result<()> {
    let args = parse_args();
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    let tally = rt.block_on(async {
        let peer = join(&args)?;
        for m in peer.memberships() {
            println!("joined {m:?}");
        }
        println!(
            "listening on {} for {} messages",
            peer.local_addr(),
            args.count
        );
        run(&args, &peer).await
    })?;
    for line in tally.summary() {
        println!("{line}");
    }
    Ok(())
}

/// Binds the group's port on the wildcard address of the group's family and joins as `args`
/// says, with destination addresses and kernel timestamps turned on.
pub fn join(args: &Args) -> io::Result<Peer> {
    let any: IpAddr = match args.group {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let peer = Peer::bind((any, args.port))?;
    // Before joining, so that every datagram carries its destination (the filter needs it) and
    // when the kernel received it (so the time spent queued in the socket shows).
    peer.set_recv_destination(true)?;
    peer.set_recv_timestamp(true)?;
    let iface = args.iface.as_str();
    if args.sources.is_empty() {
        peer.join_on(args.group, iface)?;
        for &b in &args.blocked {
            peer.block_source(args.group, b)?;
        }
    } else {
        for &s in &args.sources {
            peer.join_source_on(args.group, s, iface)?;
        }
    }
    Ok(peer)
}

/// Receives until `args.count` messages passed the checks, or nothing arrived for `args.idle`.
pub async fn run(args: &Args, peer: &Peer) -> io::Result<Tally> {
    let mut tally = Tally::new(args);
    // A burst that queued up while we were busy is taken with one recvmmsg (up to 16 here).
    // 2048 bytes hold any publisher datagram; longer ones arrive truncated and are rejected.
    let mut bufs = [[0u8; 2048]; 16];
    let mut metas = [RecvMeta::default(); 16];
    'recv: while tally.received < args.count {
        let batch = sonic_rt::time::timeout(args.idle, peer.recv_batch(&mut bufs, &mut metas));
        let n = match batch.await {
            Ok(r) => r?,
            Err(_) => {
                println!("no datagram for {:?}; stopping", args.idle);
                break;
            }
        };
        for (buf, m) in bufs.iter().zip(&metas).take(n) {
            if tally.received == args.count {
                break 'recv;
            }
            match tally.on_datagram(m, &buf[..m.len], now_ns()) {
                Ok(msg) if !args.quiet => {
                    let to = m.destination.map_or("?".into(), |d| d.to_string());
                    let on = m.interface.unwrap_or(0);
                    let queued = m
                        .timestamp
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .map_or(0.0, |d| d.as_nanos() as f64 / 1e3);
                    println!(
                        "seq {:>5} from {} to {to} on ifindex {on}: {:.1} us one-way, {queued:.1} \
                         us since the kernel received it (batch of {n})",
                        msg.seq,
                        m.source,
                        msg.latency_ns as f64 / 1e3
                    );
                }
                Ok(_) => {}
                Err(why) if !args.quiet => {
                    println!("rejected {} bytes from {}: {}", m.len, m.source, why.name());
                }
                Err(_) => {}
            }
        }
    }
    Ok(tally)
}

/// The default interface: loopback.
pub const LOOPBACK: &str = if cfg!(target_os = "linux") {
    "lo"
} else {
    "lo0"
};

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn parse_args() -> Args {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--busy-poll" => {
                a.busy_poll = true;
                continue;
            }
            "--quiet" => {
                a.quiet = true;
                continue;
            }
            _ => {}
        }
        let Some(value) = it.next() else { usage() };
        let ok = match flag.as_str() {
            "--group" => value.parse().map(|v| a.group = v).is_ok(),
            "--port" => value.parse().map(|v| a.port = v).is_ok(),
            "--iface" => {
                a.iface = value;
                true
            }
            "--source" => value.parse().map(|v| a.sources.push(v)).is_ok(),
            "--block" => value.parse().map(|v| a.blocked.push(v)).is_ok(),
            "--count" => value.parse().map(|v| a.count = v).is_ok(),
            "--idle-secs" => value
                .parse()
                .map(|v| a.idle = Duration::from_secs(v))
                .is_ok(),
            "--max-jump" => value.parse().map(|v| a.max_jump = v).is_ok(),
            _ => false,
        };
        if !ok {
            usage();
        }
    }
    if !a.sources.is_empty() && !a.blocked.is_empty() {
        eprintln!("--block applies to any-source joins; drop it or the --source options");
        usage();
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: multicast_subscriber [--group ADDR] [--port N] [--iface NAME] [--source ADDR]... \
         [--block ADDR]... [--count N] [--idle-secs N] [--max-jump N] [--quiet] [--busy-poll]"
    );
    std::process::exit(2)
}
