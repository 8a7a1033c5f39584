//! Multicast subscriber: joins a group on one interface, any-source or source-specific (SSM),
//! and prints each datagram's sequence number, sender, destination group, one-way latency and
//! the time since the kernel received it.
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
//! `--block ADDR` (repeatable, any-source only) `--count 20` (stop after that many datagrams)
//! `--idle-secs 10` (stop after that long without one) `--busy-poll`.

use sonic_net::multicast::{Peer, RecvMeta};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Args {
    group: IpAddr,
    port: u16,
    iface: String,
    sources: Vec<IpAddr>,
    blocked: Vec<IpAddr>,
    count: u64,
    idle: Duration,
    busy_poll: bool,
}

fn main() -> io::Result<()> {
    let args = parse_args();
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    rt.block_on(async {
        // Bind the group's port on the wildcard address of the group's family.
        let any: IpAddr = match args.group {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let peer = Peer::bind((any, args.port))?;
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
        // Report each datagram's destination group (useful once a socket joins several) and
        // when the kernel received it (so the time spent queued in the socket shows).
        peer.set_recv_destination(true)?;
        peer.set_recv_timestamp(true)?;
        for m in peer.memberships() {
            println!("joined {m:?}");
        }
        println!(
            "listening on {} for {} datagrams",
            peer.local_addr(),
            args.count
        );

        let (mut received, mut gaps, mut next) = (0u64, 0u64, None::<u64>);
        let mut latency_sum = 0u64;
        // A burst that queued up while we were busy is taken with one recvmmsg (up to 16 here).
        let mut bufs = [[0u8; 2048]; 16];
        let mut metas = [RecvMeta::default(); 16];
        'recv: while received < args.count {
            let batch = sonic_rt::time::timeout(args.idle, peer.recv_batch(&mut bufs, &mut metas));
            let n = match batch.await {
                Ok(r) => r?,
                Err(_) => {
                    println!("no datagram for {:?}; stopping", args.idle);
                    break;
                }
            };
            for (buf, m) in bufs.iter().zip(&metas).take(n) {
                if received == args.count {
                    break 'recv;
                }
                received += 1;
                if m.len < 16 {
                    println!(
                        "{} bytes from {} (not a publisher datagram)",
                        m.len, m.source
                    );
                    continue;
                }
                let seq = u64::from_be_bytes(buf[..8].try_into().unwrap());
                let sent = u64::from_be_bytes(buf[8..16].try_into().unwrap());
                let latency = now_ns().saturating_sub(sent);
                latency_sum += latency;
                if let Some(want) = next {
                    if seq > want {
                        gaps += seq - want;
                    }
                }
                next = Some(seq + 1);
                let to = m.destination.map_or("?".into(), |d| d.to_string());
                let on = m.interface.unwrap_or(0);
                let queued = m
                    .timestamp
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .map_or(0.0, |d| d.as_nanos() as f64 / 1e3);
                println!(
                    "seq {seq:>5} from {} to {to} on ifindex {on}: {:.1} us one-way, {queued:.1} \
                     us since the kernel received it (batch of {n})",
                    m.source,
                    latency as f64 / 1e3
                );
            }
        }
        if received > 0 {
            println!(
                "received {received}, missing {gaps}, mean one-way latency {:.1} us",
                latency_sum as f64 / received as f64 / 1e3
            );
        }
        Ok(())
    })
}

/// The default interface: loopback.
const LOOPBACK: &str = if cfg!(target_os = "linux") {
    "lo"
} else {
    "lo0"
};

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn parse_args() -> Args {
    let mut a = Args {
        group: "239.255.0.1".parse().unwrap(),
        port: 30001,
        iface: LOOPBACK.into(),
        sources: Vec::new(),
        blocked: Vec::new(),
        count: 20,
        idle: Duration::from_secs(10),
        busy_poll: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--busy-poll" {
            a.busy_poll = true;
            continue;
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
         [--block ADDR]... [--count N] [--idle-secs N] [--busy-poll]"
    );
    std::process::exit(2)
}
