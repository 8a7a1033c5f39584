//! Same-thread TCP ping-pong over loopback: sonic-rt (busy-poll and default) against tokio's
//! current_thread runtime and against the raw floor, in one run.
//!
//! `cargo bench -p sonic-benches --bench pingpong_local` (options after `--`: `--count N` round
//! trips per run, `--warmup N`, `--runs N`, `--core N`, `--hist DIR` to write each mode's
//! histogram for `latency_plots`).
//!
//! A client sends 64 bytes, the server reads them and sends them back, the client reads them:
//! one round trip, timed with `Instant`. Both ends live on one thread: two tasks on one runtime
//! for sonic and tokio, and for the raw floor the same four blocking syscalls in a plain loop
//! (client write, server read, server write, client read). TCP_NODELAY on both ends; the thread
//! is pinned to one core. Each mode runs `--runs` times, interleaved; a percentile is the median
//! of the runs' percentiles, and `max` is the largest seen in any run.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use sonic_benches::{interleaved, pin_thread, tcp_pair, tokio_rt, us, HistDir, Latency, Summary};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

const MSG: usize = 64;

/// Reads one message into `$buf` with the stream's async `read`: `true` once 64 bytes are in,
/// `false` at end of stream. A macro so that sonic (futures-io) and tokio (tokio::io) share it.
macro_rules! read_msg_async {
    ($sock:ident, $buf:ident) => {{
        let mut got = 0;
        while got < MSG {
            match $sock.read(&mut $buf[got..]).await? {
                0 => break,
                n => got += n,
            }
        }
        got == MSG
    }};
}

#[derive(Clone, Copy)]
struct Opts {
    count: usize,
    warmup: usize,
    core: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Raw,
    SonicBusy,
    Sonic,
    Tokio,
}

const MODES: [Mode; 4] = [Mode::Raw, Mode::SonicBusy, Mode::Sonic, Mode::Tokio];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Raw => "raw blocking syscalls",
            Mode::SonicBusy => "sonic busy-poll",
            Mode::Sonic => "sonic default",
            Mode::Tokio => "tokio current_thread",
        }
    }

    fn run(self, opts: Opts) -> io::Result<Latency> {
        match self {
            Mode::Raw => raw(opts),
            Mode::SonicBusy => sonic(opts, true),
            Mode::Sonic => sonic(opts, false),
            Mode::Tokio => tokio(opts),
        }
    }
}

fn main() -> io::Result<()> {
    let mut opts = Opts {
        count: 100_000,
        warmup: 10_000,
        core: 0,
    };
    let mut runs = 5;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hist = HistDir::from_args(&mut args)?;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || -> usize {
            let v = args.next().and_then(|v| v.parse().ok());
            v.unwrap_or_else(|| panic!("{arg} takes a number"))
        };
        match arg.as_str() {
            "--count" => opts.count = value(),
            "--warmup" => opts.warmup = value(),
            "--runs" => runs = value(),
            "--core" => opts.core = value(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    assert!(
        opts.count > 0 && runs > 0,
        "--count and --runs must be positive"
    );
    pin_thread(opts.core)?;
    println!(
        "pingpong_local: {MSG} B over loopback TCP, {} round trips (+{} warm-up) x {runs} runs \
         per mode, interleaved, one thread pinned to CPU {}",
        opts.count, opts.warmup, opts.core
    );

    let lats = interleaved(MODES.len(), runs, |i| MODES[i].run(opts))?;
    let stats: Vec<Vec<Summary>> = lats
        .iter()
        .map(|runs| runs.iter().map(Latency::summary).collect())
        .collect();
    let summary: Vec<Summary> = stats.iter().map(|runs| Summary::median_of(runs)).collect();
    let raw = summary[0];
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8}  {:>9} {:>9}",
        "mode (µs)", "p50", "p99", "p99.9", "max", "p50/raw", "p99/raw"
    );
    for (mode, s) in MODES.iter().zip(&summary) {
        println!(
            "{:<22} {:>8.2} {:>8.2} {:>8.2} {:>8.1}  {:>8.2}x {:>8.2}x",
            mode.name(),
            us(s.p50),
            us(s.p99),
            us(s.p999),
            us(s.max),
            s.p50 as f64 / raw.p50 as f64,
            s.p99 as f64 / raw.p99 as f64,
        );
    }
    let p50s = |m: usize| {
        stats[m]
            .iter()
            .map(|s| format!("{:.2}", us(s.p50)))
            .collect::<Vec<_>>()
    };
    for (i, mode) in MODES.iter().enumerate() {
        println!("  p50 per run, {:<22} {}", mode.name(), p50s(i).join(" "));
    }
    if let Some(hist) = hist {
        let merged: Vec<Latency> = lats.iter().map(Latency::merged).collect();
        let series: Vec<(&str, &Latency)> = MODES.iter().map(|m| m.name()).zip(&merged).collect();
        let title = format!(
            "Same-thread TCP ping-pong, {MSG} B, {} round trips x {runs} runs per mode",
            opts.count
        );
        hist.write_chart("pingpong_local", &title, &series)?;
    }
    Ok(())
}

/// The floor: the same four syscalls per round trip, blocking, no runtime.
fn raw(opts: Opts) -> io::Result<Latency> {
    let (mut client, mut server) = tcp_pair()?;
    let msg = [0x5a; MSG];
    let mut buf = [0u8; 4096];
    let mut rtts = Latency::new();
    for i in 0..opts.warmup + opts.count {
        let start = Instant::now();
        client.write_all(&msg)?;
        read_msg(&mut server, &mut buf)?;
        server.write_all(&buf[..MSG])?;
        read_msg(&mut client, &mut buf)?;
        if i >= opts.warmup {
            rtts.record(start.elapsed());
        }
    }
    Ok(rtts)
}

fn read_msg(sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < MSG {
        match sock.read(&mut buf[got..])? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// sonic: a client task and an echo task on one runtime, over `Async<TcpStream>`.
fn sonic(opts: Opts, busy_poll: bool) -> io::Result<Latency> {
    use sonic_rt::io::Async;

    let rt = sonic_rt::Builder::new()
        .busy_poll(busy_poll)
        .pin_to_core(opts.core)
        .build()?;
    rt.block_on(async move {
        let (client, server) = tcp_pair()?;
        let (mut client, mut server) = (Async::new(client)?, Async::new(server)?);
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 4096];
            // Reads of a 4 KiB buffer: a short read tells the runtime the socket is drained.
            while read_msg_async!(server, buf) {
                server.write_all(&buf[..MSG]).await?;
            }
            io::Result::Ok(())
        });
        let client = sonic_rt::spawn(async move {
            let msg = [0x5a; MSG];
            let mut buf = [0u8; 4096];
            let mut rtts = Latency::new();
            for i in 0..opts.warmup + opts.count {
                let start = Instant::now();
                client.write_all(&msg).await?;
                if !read_msg_async!(client, buf) {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                if i >= opts.warmup {
                    rtts.record(start.elapsed());
                }
            }
            io::Result::Ok(rtts)
        });
        let rtts = client
            .await
            .map_err(|e| io::Error::other(e.to_string()))??;
        echo.await.map_err(|e| io::Error::other(e.to_string()))??;
        Ok(rtts)
    })
}

/// tokio: the same two tasks on a current_thread runtime, over `tokio::net::TcpStream`.
fn tokio(opts: Opts) -> io::Result<Latency> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    tokio_rt()?.block_on(async move {
        let (client, server) = tcp_pair()?;
        client.set_nonblocking(true)?;
        server.set_nonblocking(true)?;
        let (mut client, mut server) = (TcpStream::from_std(client)?, TcpStream::from_std(server)?);
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while read_msg_async!(server, buf) {
                server.write_all(&buf[..MSG]).await?;
            }
            io::Result::Ok(())
        });
        let client = tokio::spawn(async move {
            let msg = [0x5a; MSG];
            let mut buf = [0u8; 4096];
            let mut rtts = Latency::new();
            for i in 0..opts.warmup + opts.count {
                let start = Instant::now();
                client.write_all(&msg).await?;
                if !read_msg_async!(client, buf) {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                if i >= opts.warmup {
                    rtts.record(start.elapsed());
                }
            }
            io::Result::Ok(rtts)
        });
        let rtts = client
            .await
            .map_err(|e| io::Error::other(e.to_string()))??;
        echo.await.map_err(|e| io::Error::other(e.to_string()))??;
        Ok(rtts)
    })
}
