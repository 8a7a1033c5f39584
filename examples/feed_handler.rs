//! Feed handler: joins both lines of `feed_publisher`'s feed, arbitrates them (first copy
//! wins), detects gaps, asks the publisher's replay server for what both lines lost, and
//! releases every message exactly once, in order. At the end it prints an HDR histogram of the
//! one-way latency (send to first-copy receive) and a line of counts.
//!
//! ```text
//! cargo run --release -p sonic-examples --example feed_handler -- --count 100000 --busy-poll
//! cargo run --release -p sonic-examples --example feed_publisher -- --count 100000 \
//!     --rate 50000 --loss 0.05 --reorder 0.05
//! ```
//!
//! Options: `--group-a 239.255.1.1` `--group-b 239.255.1.2` `--port 31001` `--source
//! 127.0.0.1` (source-specific joins; `any` for any-source) `--iface lo` (`lo0` on macOS)
//! `--replay 127.0.0.1:31002` (`none`: no recovery) `--start 1` `--count N` (stop after N
//! messages) `--max-slots 4096` `--max-bytes 4194304` `--gap-timeout-us 2000` `--gap-depth 64`
//! `--recovery-timeout-ms 500` (then give the gap up) `--idle-secs 10` `--rcvbuf 4194304`
//! (`SO_RCVBUF` of each line) `--warmup N` (messages left out of the histogram) `--busy-poll`
//! (with spin reads) `--print`.
//!
//! Every datagram is untrusted: it must be addressed to its line's group, come from the source,
//! be whole (not truncated by the 1472-byte receive space), decode (`feed_wire.rs`: length field
//! equal to the real length, known kind) with the publisher's payload, and carry a sequence
//! number the sequencer can hold (not `u64::MAX`, not beyond the window). Anything else is
//! counted by reason and dropped.
//!
//! How it works: each datagram is received straight into the sequencer's store (a
//! `BipBuffer`: `Arbiter::claim`, `Peer::poll_recv_msg`, then `Arbiter::commit`), checked there,
//! and released from there; nothing is copied on the way. One task polls both lines and the gap
//! timer; a second and third write recovery requests and read the replies.

#[path = "feed_wire.rs"]
mod wire;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use hdrhistogram::Histogram;
use sonic_buf::sequencer::{
    Arbiter, ArbiterStats, Config, Gap, LineStats, PushError, Pushed, SequencerStats,
};
use sonic_net::multicast::{Peer, PeerStats, RecvMeta};
use sonic_net::TcpStream;
use sonic_rt::sync::Notify;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The command line.
#[derive(Clone, Debug)]
pub struct Args {
    /// Line A's group.
    pub group_a: IpAddr,
    /// Line B's group.
    pub group_b: IpAddr,
    /// The port of both groups (0: any, for tests; see [`run`]'s `ready`).
    pub port: u16,
    /// Source-specific joins on this sender; `None`: any-source.
    pub source: Option<IpAddr>,
    /// The interface to join on.
    pub iface: String,
    /// The publisher's replay server; `None`: no recovery (lost gaps are given up).
    pub replay: Option<SocketAddr>,
    /// The first sequence number.
    pub start: u64,
    /// Stop after releasing this many messages.
    pub count: Option<u64>,
    /// The sequencer's slot bound.
    pub max_slots: usize,
    /// The sequencer's byte bound.
    pub max_bytes: usize,
    /// A gap is requested this long after it appeared...
    pub gap_timeout: Duration,
    /// ...or once this many newer sequence numbers arrived.
    pub gap_depth: u64,
    /// A gap still blocking this long after it timed out is given up.
    pub recovery_timeout: Duration,
    /// Stop after this long without a datagram.
    pub idle: Duration,
    /// Receive buffer of each line's socket (`SO_RCVBUF`; the kernel caps it at
    /// `net.core.rmem_max`); 0 leaves the default. A burst beyond it is dropped by the kernel
    /// (counted as kernel drops) and recovered.
    pub rcvbuf: usize,
    /// Messages at the start left out of the latency histogram (warm-up).
    pub warmup: u64,
    /// Busy-poll runtime, with spin reads on both lines.
    pub busy_poll: bool,
    /// Print every released message.
    pub print: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            group_a: Ipv4Addr::new(239, 255, 1, 1).into(),
            group_b: Ipv4Addr::new(239, 255, 1, 2).into(),
            port: 31001,
            source: Some(Ipv4Addr::LOCALHOST.into()),
            iface: LOOPBACK.into(),
            replay: Some((Ipv4Addr::LOCALHOST, 31002).into()),
            start: 1,
            count: None,
            max_slots: 4096,
            max_bytes: 4 << 20,
            gap_timeout: Duration::from_micros(2000),
            gap_depth: 64,
            recovery_timeout: Duration::from_millis(500),
            idle: Duration::from_secs(10),
            rcvbuf: 4 << 20,
            warmup: 0,
            busy_poll: false,
            print: false,
        }
    }
}

/// The default interface: loopback.
pub const LOOPBACK: &str = if cfg!(target_os = "linux") {
    "lo"
} else {
    "lo0"
};

/// Why a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Not addressed to its line's group (a unicast datagram to the port).
    NotToGroup,
    /// Not from the source.
    Source,
    /// Longer than the receive space (cut by the kernel).
    Truncated,
    /// Shorter than the header.
    Short,
    /// Unknown kind.
    Kind,
    /// Length field not equal to the real length.
    Length,
    /// Payload not the publisher's.
    Payload,
    /// Sequence number `u64::MAX` (no successor).
    SequenceOverflow,
    /// Sequence number (or heartbeat) beyond the sequencer's window.
    OutOfWindow,
    /// The sequencer's store is full.
    Full,
    /// A recovery reply that is not a message of the range asked for.
    Recovery,
}

impl Reject {
    /// Every reason, in the order the summary prints them.
    pub const ALL: [Reject; 11] = [
        Reject::NotToGroup,
        Reject::Source,
        Reject::Truncated,
        Reject::Short,
        Reject::Kind,
        Reject::Length,
        Reject::Payload,
        Reject::SequenceOverflow,
        Reject::OutOfWindow,
        Reject::Full,
        Reject::Recovery,
    ];

    fn name(self) -> &'static str {
        match self {
            Reject::NotToGroup => "not-to-group",
            Reject::Source => "source",
            Reject::Truncated => "truncated",
            Reject::Short => "short",
            Reject::Kind => "kind",
            Reject::Length => "length",
            Reject::Payload => "payload",
            Reject::SequenceOverflow => "sequence-overflow",
            Reject::OutOfWindow => "out-of-window",
            Reject::Full => "full",
            Reject::Recovery => "recovery",
        }
    }

    fn of(e: PushError) -> Reject {
        match e {
            PushError::NoSuccessor => Reject::SequenceOverflow,
            PushError::SlotsFull { .. } => Reject::OutOfWindow,
            _ => Reject::Full,
        }
    }
}

/// What the handler saw, at the end.
#[derive(Debug)]
pub struct Report {
    /// Messages released (in order, once each).
    pub released: u64,
    /// Messages released out of order (always 0: the sequencer's promise, checked).
    pub out_of_order: u64,
    /// Per line: the arbiter's counters.
    pub lines: [LineStats; 2],
    /// Per line: the socket's counters.
    pub sockets: [PeerStats; 2],
    /// Counters not tied to a line (recovered, lost on both).
    pub arbiter: ArbiterStats,
    /// The sequencer's counters.
    pub sequencer: SequencerStats,
    /// Drops by reason (index: position in [`Reject::ALL`]).
    pub rejected: [u64; Reject::ALL.len()],
    /// Recovery requests sent.
    pub requests: u64,
    /// One-way latency of first copies from the lines, in ns.
    pub latency: Histogram<u64>,
    /// How the run ended.
    pub ended: &'static str,
}

impl Report {
    /// Drops for one reason.
    pub fn rejected(&self, why: Reject) -> u64 {
        self.rejected[why as usize]
    }

    /// The HDR histogram and the counts, as printed at the end.
    pub fn lines_out(&self) -> Vec<String> {
        let h = &self.latency;
        let us = |v: u64| v as f64 / 1e3;
        let mut out = vec![format!(
            "one-way latency, send to first-copy receive ({} messages, us):",
            h.len()
        )];
        if !h.is_empty() {
            out.push(format!(
                "  min {:.1}  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  p99.99 {:.1}  max {:.1}",
                us(h.min()),
                us(h.value_at_quantile(0.5)),
                us(h.value_at_quantile(0.9)),
                us(h.value_at_quantile(0.99)),
                us(h.value_at_quantile(0.999)),
                us(h.value_at_quantile(0.9999)),
                us(h.max())
            ));
            // The distribution: a row each time the tail halves.
            for q in h.iter_quantiles(1) {
                out.push(format!(
                    "  {:>9.3}%  {:>10.1} us  {:>9} messages",
                    q.quantile_iterated_to() * 100.0,
                    us(q.value_iterated_to()),
                    q.count_since_last_iteration()
                ));
            }
        }
        for (l, name) in ["A", "B"].iter().enumerate() {
            let (s, p) = (&self.lines[l], &self.sockets[l]);
            out.push(format!(
                "line {name}: received {} first {} duplicates {} gaps {} ({} missing) late {} \
                 only-this-line {} rejected {} | reads at once {} after waiting {} kernel drops {}",
                s.received,
                s.first,
                s.duplicates,
                s.gaps,
                s.missing,
                s.late,
                s.sole,
                s.rejected,
                p.reads_immediate,
                p.reads_waited,
                p.kernel_drops
            ));
        }
        let rejected: Vec<String> = Reject::ALL
            .iter()
            .filter(|&&r| self.rejected(r) > 0)
            .map(|&r| format!("{} {}", r.name(), self.rejected(r)))
            .collect();
        out.push(format!(
            "released {} in order (out of order {}), lost on both lines {}, recovered {} in {} \
             requests, skipped {}, rejected [{}], ended: {}",
            self.released,
            self.out_of_order,
            self.arbiter.lost_on_all,
            self.arbiter.recovered,
            self.requests,
            self.sequencer.skipped,
            rejected.join(", "),
            self.ended
        ));
        out
    }
}

fn main() -> io::Result<()> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("feed_handler: {e}");
            eprintln!(
                "usage: feed_handler [--group-a ADDR] [--group-b ADDR] [--port N] \
                 [--source ADDR|any] [--iface NAME] [--replay ADDR:PORT|none] [--start N] \
                 [--count N] [--max-slots N] [--max-bytes N] [--gap-timeout-us N] \
                 [--gap-depth N] [--recovery-timeout-ms N] [--idle-secs N] [--rcvbuf N] \
                 [--warmup N] [--busy-poll] [--print]"
            );
            std::process::exit(2);
        }
    };
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    let print = args.print;
    let report = rt.block_on(run(
        &args,
        |port| println!("joined both lines on port {port}"),
        move |seq, payload| {
            if print {
                println!("{seq} ({} bytes)", payload.len());
            }
        },
    ))?;
    for line in report.lines_out() {
        println!("{line}");
    }
    Ok(())
}

/// The two lines' sockets, joined. Port 0 binds line A to any port and line B to the same.
pub fn join(args: &Args) -> io::Result<[Peer; 2]> {
    let mut port = args.port;
    let mut join_one = |group: IpAddr| -> io::Result<Peer> {
        let any: IpAddr = match group {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let peer = Peer::bind((any, port))?;
        port = peer.local_addr().port();
        if args.rcvbuf > 0 {
            set_rcvbuf(&peer, args.rcvbuf)?;
        }
        peer.set_recv_destination(true)?;
        if cfg!(target_os = "linux") {
            peer.set_recv_drop_count(true)?;
        }
        match args.source {
            Some(src) => peer.join_source_on(group, src, args.iface.as_str())?,
            None => peer.join_on(group, args.iface.as_str())?,
        }
        peer.set_spin_reads(args.busy_poll);
        Ok(peer)
    };
    Ok([join_one(args.group_a)?, join_one(args.group_b)?])
}

/// Sets `SO_RCVBUF` (sonic-net's `Peer` leaves buffer sizes to the caller).
fn set_rcvbuf(peer: &Peer, bytes: usize) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: a plain int option on the peer's own, open socket; the kernel copies the value.
    let rc = unsafe {
        libc::setsockopt(
            peer.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A datagram that passed the checks.
enum Verdict {
    Message { seq: u64, sent_ns: u64 },
    Heartbeat { next: u64 },
}

/// The checks of a datagram received on `line`, on its bytes in place.
fn check(args: &Args, line: usize, m: &RecvMeta, bytes: &[u8]) -> Result<Verdict, Reject> {
    let group = [args.group_a, args.group_b][line];
    if m.destination != Some(group) {
        return Err(Reject::NotToGroup);
    }
    if args.source.is_some_and(|s| s != m.source.ip()) {
        return Err(Reject::Source);
    }
    if m.truncated {
        return Err(Reject::Truncated);
    }
    match wire::decode(bytes) {
        Err(wire::Malformed::Short) => Err(Reject::Short),
        Err(wire::Malformed::Kind) => Err(Reject::Kind),
        Err(wire::Malformed::Length) => Err(Reject::Length),
        Ok(wire::Frame::Message {
            seq,
            sent_ns,
            payload,
        }) => {
            if wire::payload_ok(seq, payload) {
                Ok(Verdict::Message { seq, sent_ns })
            } else {
                Err(Reject::Payload)
            }
        }
        Ok(wire::Frame::Heartbeat { next }) => Ok(Verdict::Heartbeat { next }),
    }
}

/// Everything the tasks share: the arbiter and the counters.
struct Core<F> {
    args: Args,
    arb: Arbiter,
    on_release: F,
    released: u64,
    out_of_order: u64,
    next_out: u64,
    rejected: [u64; Reject::ALL.len()],
    latency: Histogram<u64>,
    /// Gaps to ask the replay server for.
    requests: VecDeque<Gap>,
    requests_sent: u64,
    /// The blocking gap's start and when it timed out (to give it up later).
    blocked: Option<(u64, Instant)>,
    last_datagram: Instant,
    /// Receive space when the store is full (the datagram is then dropped).
    scratch: Box<[u8; wire::MAX_DATAGRAM]>,
}

impl<F: FnMut(u64, &[u8])> Core<F> {
    fn reject(&mut self, why: Reject) {
        self.rejected[why as usize] += 1;
    }

    /// Receives what `peer` (line `line`) has queued, straight into the store; `Ready(n)` when
    /// it took `n > 0` datagrams, `Pending` when none was queued.
    fn poll_line(
        &mut self,
        line: usize,
        peer: &Peer,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let mut n = 0;
        while n < 64 {
            let Core {
                args, arb, scratch, ..
            } = self;
            let (meta, verdict) = match arb.claim(wire::MAX_DATAGRAM) {
                Ok(space) => match peer.poll_recv_msg(cx, space) {
                    Poll::Ready(Ok(m)) => (m, check(args, line, &m, &space[..m.len])),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => break,
                },
                // Full: take the datagram off the socket anyway, and drop it.
                Err(_) => match peer.poll_recv_msg(cx, &mut scratch[..]) {
                    Poll::Ready(Ok(m)) => (m, Err(Reject::Full)),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => break,
                },
            };
            n += 1;
            match verdict {
                Ok(Verdict::Message { seq, sent_ns }) => {
                    match self.arb.commit(line, seq, meta.len) {
                        Ok(Pushed::Duplicate) => {}
                        Ok(_) if seq.wrapping_sub(self.args.start) >= self.args.warmup => {
                            let now = wire::now_ns();
                            self.latency.saturating_record(now.saturating_sub(sent_ns));
                        }
                        Ok(_) => {}
                        Err(e) => self.reject(Reject::of(e)),
                    }
                }
                Ok(Verdict::Heartbeat { next }) => {
                    if let Err(e) = self.arb.sequencer_mut().expect_until(next) {
                        self.reject(Reject::of(e));
                    }
                }
                Err(why) => self.reject(why),
            }
        }
        if n > 0 {
            self.last_datagram = Instant::now();
            Poll::Ready(Ok(n))
        } else {
            Poll::Pending
        }
    }

    /// A message from the replay server.
    fn on_recovered(&mut self, bytes: &[u8]) {
        match wire::decode(bytes) {
            Ok(wire::Frame::Message { seq, payload, .. }) if wire::payload_ok(seq, payload) => {
                if let Err(e) = self.arb.push_recovered(seq, bytes) {
                    self.reject(Reject::of(e));
                }
            }
            _ => self.reject(Reject::Recovery),
        }
        self.release();
    }

    /// Releases what is in order; gives up a gap that blocked too long after its timeout.
    fn release(&mut self) {
        while let Some((seq, d)) = self.arb.pop() {
            if seq != self.next_out {
                self.out_of_order += 1;
            }
            self.next_out = seq + 1;
            self.released += 1;
            // Checked when it arrived; the payload follows the header.
            (self.on_release)(seq, &d[wire::HEADER..]);
        }
    }

    /// Asks for timed-out gaps; gives up on one that still blocks after the recovery timeout.
    fn on_time(&mut self, now: Instant) {
        while let Some(g) = self.arb.sequencer_mut().poll_timeout(now) {
            self.requests.push_back(g);
        }
        let next = self.arb.sequencer().next();
        let blocking = self
            .arb
            .sequencer()
            .gaps()
            .next()
            .filter(|g| g.start == next);
        match (blocking, self.blocked) {
            (Some(g), Some((start, since))) if g.start == start => {
                let patience = if self.args.replay.is_some() {
                    self.args.recovery_timeout
                } else {
                    self.args.gap_timeout
                };
                if now.duration_since(since) >= patience {
                    self.arb.sequencer_mut().skip_gap();
                    self.blocked = None;
                    self.release();
                }
            }
            (Some(g), _) => self.blocked = Some((g.start, now)),
            (None, _) => self.blocked = None,
        }
    }

    fn done(&self) -> bool {
        self.args.count.is_some_and(|c| self.released >= c)
    }
}

/// Runs the handler until `args.count` messages were released (or `args.idle` passed without
/// a datagram). `ready` gets the lines' port once both are joined; `on_release` gets every
/// message, in order, once.
pub async fn run<F: FnMut(u64, &[u8]) + 'static>(
    args: &Args,
    ready: impl FnOnce(u16),
    on_release: F,
) -> io::Result<Report> {
    let peers = join(args)?;
    ready(peers[0].local_addr().port());
    let config = Config {
        max_slots: args.max_slots,
        max_bytes: args.max_bytes,
        start: Some(args.start),
        gap_timeout: Some(args.gap_timeout),
        gap_depth: Some(args.gap_depth),
    };
    let core = Rc::new(RefCell::new(Core {
        args: args.clone(),
        arb: Arbiter::new(2, config),
        on_release,
        released: 0,
        out_of_order: 0,
        next_out: args.start,
        rejected: [0; Reject::ALL.len()],
        latency: Histogram::new_with_bounds(1, 60_000_000_000, 3)
            .map_err(|e| io::Error::other(format!("histogram: {e}")))?,
        requests: VecDeque::with_capacity(args.max_slots),
        requests_sent: 0,
        blocked: None,
        last_datagram: Instant::now(),
        scratch: Box::new([0; wire::MAX_DATAGRAM]),
    }));
    let wake_writer = Rc::new(Notify::new());
    // Recovery: one task connects (retrying until the publisher listens) and writes requests,
    // one reads replies.
    let recovery = args
        .replay
        .map(|addr| sonic_rt::spawn(recover(addr, core.clone(), wake_writer.clone())));

    let tick = args.gap_timeout.min(Duration::from_millis(1));
    let mut timer = pin!(sonic_rt::time::sleep(tick));
    let ended = poll_fn(|cx| {
        let mut c = core.borrow_mut();
        loop {
            let mut progress = false;
            for (line, peer) in peers.iter().enumerate() {
                match c.poll_line(line, peer, cx) {
                    Poll::Ready(Ok(_)) => progress = true,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            let now = Instant::now();
            if timer.as_mut().poll(cx).is_ready() {
                timer
                    .as_mut()
                    .reset(sonic_rt::time::Instant::from_std(now + tick));
                progress = true;
            }
            if progress {
                c.release();
                c.on_time(now);
                if !c.requests.is_empty() {
                    wake_writer.notify_one();
                }
            }
            if c.done() {
                return Poll::Ready(Ok("released --count messages"));
            }
            if now.duration_since(c.last_datagram) >= c.args.idle {
                return Poll::Ready(Ok("idle"));
            }
            if !progress {
                return Poll::Pending;
            }
            // Progress: go round again (the budget makes a busy socket yield in time).
        }
    })
    .await?;
    if let Some(task) = recovery {
        // Dropping the task closes the connection, which tells the publisher we are done.
        task.abort();
        let _ = task.await;
    }
    let c = core.borrow();
    Ok(Report {
        released: c.released,
        out_of_order: c.out_of_order,
        lines: [c.arb.line_stats(0), c.arb.line_stats(1)],
        sockets: [peers[0].stats(), peers[1].stats()],
        arbiter: c.arb.stats(),
        sequencer: c.arb.sequencer().stats(),
        rejected: c.rejected,
        requests: c.requests_sent,
        latency: c.latency.clone(),
        ended,
    })
}

async fn recover<F: FnMut(u64, &[u8]) + 'static>(
    addr: SocketAddr,
    core: Rc<RefCell<Core<F>>>,
    wake: Rc<Notify>,
) -> io::Result<()> {
    let stream = loop {
        match TcpStream::connect(addr).await {
            Ok(s) => break s,
            Err(_) => sonic_rt::time::sleep(Duration::from_millis(20)).await,
        }
    };
    stream.set_nodelay(true)?;
    let (rd, mut wr) = stream.into_split();
    // Aborting this task drops the reader with it, which closes the connection.
    let mut reader = pin!(read_replies(rd, core.clone()));
    let writer = async {
        loop {
            let next = core.borrow_mut().requests.pop_front();
            match next {
                Some(g) => {
                    wr.write_all(&wire::encode_request(g.start, g.end)).await?;
                    core.borrow_mut().requests_sent += 1;
                }
                None => wake.notified().await,
            }
        }
    };
    let mut writer = pin!(writer);
    poll_fn(|cx| {
        if let Poll::Ready(r) = reader.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        writer.as_mut().poll(cx)
    })
    .await
}

async fn read_replies<F: FnMut(u64, &[u8])>(
    mut rd: sonic_net::tcp::OwnedReadHalf,
    core: Rc<RefCell<Core<F>>>,
) -> io::Result<()> {
    let mut len = [0u8; 2];
    let mut buf = [0u8; wire::MAX_DATAGRAM];
    loop {
        rd.read_exact(&mut len).await?;
        let n = usize::from(u16::from_be_bytes(len));
        if n == 0 {
            continue; // end of one reply
        }
        if n > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("replay frame of {n} bytes (at most {})", wire::MAX_DATAGRAM),
            ));
        }
        rd.read_exact(&mut buf[..n]).await?;
        core.borrow_mut().on_recovered(&buf[..n]);
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
            "--print" => {
                a.print = true;
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
            "--source" if v == "any" => a.source = None,
            "--source" => a.source = Some(v.parse().map_err(|_| bad())?),
            "--iface" => a.iface = v,
            "--replay" if v == "none" => a.replay = None,
            "--replay" => a.replay = Some(v.parse().map_err(|_| bad())?),
            "--start" => a.start = v.parse().map_err(|_| bad())?,
            "--count" => a.count = Some(v.parse().map_err(|_| bad())?),
            "--max-slots" => a.max_slots = v.parse().map_err(|_| bad())?,
            "--max-bytes" => a.max_bytes = v.parse().map_err(|_| bad())?,
            "--gap-timeout-us" => {
                a.gap_timeout = Duration::from_micros(v.parse().map_err(|_| bad())?)
            }
            "--gap-depth" => a.gap_depth = v.parse().map_err(|_| bad())?,
            "--recovery-timeout-ms" => {
                a.recovery_timeout = Duration::from_millis(v.parse().map_err(|_| bad())?)
            }
            "--idle-secs" => a.idle = Duration::from_secs(v.parse().map_err(|_| bad())?),
            "--rcvbuf" => a.rcvbuf = v.parse().map_err(|_| bad())?,
            "--warmup" => a.warmup = v.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.max_bytes < wire::MAX_DATAGRAM {
        return Err(format!("--max-bytes: at least {}", wire::MAX_DATAGRAM));
    }
    Ok(a)
}
