//! Multicast publisher: sends numbered, timestamped datagrams to a group at a fixed rate.
//! Runs on loopback with no setup; start `multicast_subscriber` first, in another terminal:
//!
//! ```text
//! cargo run -p sonic-examples --example multicast_subscriber -- --source 127.0.0.1
//! cargo run -p sonic-examples --example multicast_publisher
//! # a second publisher from another source address, which the SSM subscriber above ignores:
//! cargo run -p sonic-examples --example multicast_publisher -- --source 127.0.0.2
//! ```
//!
//! Options: `--group 239.255.0.1` `--port 30001` `--source 127.0.0.1` (the address to send
//! from) `--iface lo` (`lo0` on macOS) (outgoing interface) `--count 20` `--interval-ms 100` `--ttl 1`
//! `--busy-poll`. IPv6 works the same way on an interface with IPv6 multicast (not Linux's `lo`).
//!
//! Payload: sequence number (u64, big-endian), then the send time in nanoseconds since the Unix
//! epoch (u64, big-endian), so a subscriber on the same host can measure one-way latency.

use sonic_net::multicast::Peer;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Args {
    group: IpAddr,
    port: u16,
    source: IpAddr,
    iface: String,
    count: u64,
    interval: Duration,
    ttl: u32,
    busy_poll: bool,
}

fn main() -> io::Result<()> {
    let args = parse_args();
    let rt = sonic_rt::Builder::new().busy_poll(args.busy_poll).build()?;
    rt.block_on(async {
        // Bind a concrete source address (on Linux `lo` an unbound sender would use 0.0.0.0,
        // which source-specific subscribers never accept) and name the outgoing interface.
        let peer = Peer::bind((args.source, 0))?;
        peer.set_outbound(args.iface.as_str())?;
        peer.set_multicast_ttl(args.ttl)?;
        let to = SocketAddr::new(args.group, args.port);
        println!(
            "publishing {} datagrams to {to} from {} via {} (ttl {})",
            args.count,
            peer.local_addr(),
            args.iface,
            args.ttl
        );

        let mut tick = sonic_rt::time::interval(args.interval);
        for seq in 0..args.count {
            tick.tick().await;
            let mut msg = [0u8; 16];
            msg[..8].copy_from_slice(&seq.to_be_bytes());
            msg[8..].copy_from_slice(&now_ns().to_be_bytes());
            peer.send_to(&msg, to).await?;
        }
        println!("done");
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
        source: "127.0.0.1".parse().unwrap(),
        iface: LOOPBACK.into(),
        count: 20,
        interval: Duration::from_millis(100),
        ttl: 1,
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
            "--source" => value.parse().map(|v| a.source = v).is_ok(),
            "--iface" => {
                a.iface = value;
                true
            }
            "--count" => value.parse().map(|v| a.count = v).is_ok(),
            "--interval-ms" => value
                .parse()
                .map(|v| a.interval = Duration::from_millis(v))
                .is_ok(),
            "--ttl" => value.parse().map(|v| a.ttl = v).is_ok(),
            _ => false,
        };
        if !ok {
            usage();
        }
    }
    a
}

fn usage() -> ! {
    eprintln!(
        "usage: multicast_publisher [--group ADDR] [--port N] [--source ADDR] [--iface NAME] \
         [--count N] [--interval-ms N] [--ttl N] [--busy-poll]"
    );
    std::process::exit(2)
}
