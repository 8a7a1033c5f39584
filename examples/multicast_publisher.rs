//! Multicast publisher: sends numbered, timestamped datagrams to a group at a given rate.
//! Runs on loopback with no setup; start `multicast_subscriber` first, in another terminal:
//!
//! ```text
//! cargo run -p sonic-examples --example multicast_subscriber -- --source 127.0.0.1
//! cargo run -p sonic-examples --example multicast_publisher
//! # a second publisher from another source address, which the SSM subscriber above ignores:
//! cargo run -p sonic-examples --example multicast_publisher -- --source 127.0.0.2
//! # as fast as the socket takes them
//! cargo run --release -p sonic-examples --example multicast_publisher -- --count 1000000 --rate max
//! ```
//!
//! Options: `--group 239.255.0.1` `--port 30001` `--source 127.0.0.1` (the address to send
//! from) `--iface lo` (`lo0` on macOS) (outgoing interface) `--count 20` `--rate 10` (datagrams
//! per second, fractions allowed, or `max` for no pacing) `--ttl 1` `--busy-poll`. IPv6 works the
//! same way on an interface with IPv6 multicast (not Linux's `lo`).
//!
//! Payload: sequence number (u64, big-endian), then the send time in nanoseconds since the Unix
//! epoch (u64, big-endian), so a subscriber on the same host can measure one-way latency.
//!
//! Pacing: datagram `i` is due `i / rate` seconds after the first; everything already due is sent
//! at once, then the publisher sleeps until the next one is due (nanosecond timers, so rates far
//! above 1,000/s keep their schedule, and a late wake-up is caught up rather than lost).

use sonic_net::multicast::Peer;
use sonic_rt::time::Instant;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How fast to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// Datagrams per second (finite, > 0).
    PerSecond(f64),
    /// No pacing: as fast as the socket takes them.
    Max,
}

impl Rate {
    /// Parses `--rate`: a positive number of datagrams per second, or `max`.
    pub fn parse(s: &str) -> Result<Rate, String> {
        if s == "max" {
            return Ok(Rate::Max);
        }
        let r: f64 = s
            .parse()
            .map_err(|_| format!("--rate {s:?}: expected datagrams per second or `max`"))?;
        if r.is_finite() && r > 0.0 {
            Ok(Rate::PerSecond(r))
        } else {
            Err(format!(
                "--rate {s}: the rate must be above 0 datagrams per second (use `max` for no pacing)"
            ))
        }
    }

    /// When datagram `i` is due, counted from the first. `None` for [`Rate::Max`] (always due).
    pub fn due(self, i: u64) -> Option<Duration> {
        match self {
            Rate::Max => None,
            // f64 keeps 53 bits: exact to the nanosecond for the first ~104 days of a feed.
            // Beyond what a Duration holds (absurdly slow rates), saturate.
            Rate::PerSecond(r) => {
                Some(Duration::try_from_secs_f64(i as f64 / r).unwrap_or(Duration::MAX))
            }
        }
    }
}

/// The command line.
#[derive(Debug)]
pub struct Args {
    /// The group to send to.
    pub group: IpAddr,
    /// The group's port.
    pub port: u16,
    /// The source address to bind.
    pub source: IpAddr,
    /// The outgoing interface.
    pub iface: String,
    /// Datagrams to send.
    pub count: u64,
    /// Pacing.
    pub rate: Rate,
    /// Multicast TTL.
    pub ttl: u32,
    /// Run the runtime in busy-poll mode.
    pub busy_poll: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            group: Ipv4Addr::new(239, 255, 0, 1).into(),
            port: 30001,
            source: Ipv4Addr::LOCALHOST.into(),
            iface: LOOPBACK.into(),
            count: 20,
            rate: Rate::PerSecond(10.0),
            ttl: 1,
            busy_poll: false,
        }
    }
}

fn main() -> io::Result<()> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("multicast_publisher: {e}");
            usage()
        }
    };
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    rt.block_on(async {
        let peer = sender(&args)?;
        println!(
            "publishing {} datagrams to {}:{} from {} via {} (ttl {}, rate {:?})",
            args.count,
            args.group,
            args.port,
            peer.local_addr(),
            args.iface,
            args.ttl,
            args.rate
        );
        publish(&args, &peer).await?;
        println!("done");
        Ok(())
    })
}

/// A peer bound to `args.source`, sending by `args.iface` with `args.ttl`.
pub fn sender(args: &Args) -> io::Result<Peer> {
    // Bind a concrete source address (on Linux `lo` an unbound sender would use 0.0.0.0,
    // which source-specific subscribers never accept) and name the outgoing interface.
    let peer = Peer::bind((args.source, 0))?;
    peer.set_outbound(args.iface.as_str())?;
    peer.set_multicast_ttl(args.ttl)?;
    Ok(peer)
}

/// Sends `args.count` datagrams paced by `args.rate`.
pub async fn publish(args: &Args, peer: &Peer) -> io::Result<()> {
    let to = SocketAddr::new(args.group, args.port);
    let start = Instant::now();
    for seq in 0..args.count {
        if let Some(due) = args.rate.due(seq) {
            let Some(at) = start.checked_add(due) else {
                return Err(io::Error::other(format!(
                    "datagram {seq} is due beyond the clock's range at {:?}",
                    args.rate
                )));
            };
            if Instant::now() < at {
                sonic_rt::time::sleep_until(at).await;
            }
        }
        let mut msg = [0u8; 16];
        msg[..8].copy_from_slice(&seq.to_be_bytes());
        msg[8..].copy_from_slice(&now_ns().to_be_bytes());
        peer.send_to(&msg, to).await?;
    }
    Ok(())
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

/// Parses the options (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--busy-poll" {
            a.busy_poll = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag} {value:?}: not a valid value");
        match flag.as_str() {
            "--group" => a.group = value.parse().map_err(|_| bad())?,
            "--port" => a.port = value.parse().map_err(|_| bad())?,
            "--source" => a.source = value.parse().map_err(|_| bad())?,
            "--iface" => a.iface = value,
            "--count" => a.count = value.parse().map_err(|_| bad())?,
            "--rate" => a.rate = Rate::parse(&value)?,
            "--interval-ms" => {
                return Err("--interval-ms is gone: use --rate (datagrams per second)".into())
            }
            "--ttl" => a.ttl = value.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn usage() -> ! {
    eprintln!(
        "usage: multicast_publisher [--group ADDR] [--port N] [--source ADDR] [--iface NAME] \
         [--count N] [--rate PER_SECOND|max] [--ttl N] [--busy-poll]"
    );
    std::process::exit(2)
}
