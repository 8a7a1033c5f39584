//! Same-thread TCP ping-pong over loopback: sonic-rt (busy-poll and default, with and without
//! read-ahead) against tokio's current_thread runtime and against the raw floor, in one run.
//!
//! `cargo bench -p sonic-benches --bench pingpong_local` (options after `--`: `--count N` round
//! trips per run, `--warmup N`, `--runs N`, `--core N`, `--size BYTES` per message (64),
//! `--read-ahead BYTES` for the read-ahead modes (4096), `--only MODE` to run one mode alone,
//! for `strace`/`perf`: see `benches/pingpong_syscalls.sh`; `--hist DIR` to write each mode's
//! histogram for `latency_plots`).
//!
//! A client sends a message, the server reads it and sends it back, the client reads it: one
//! round trip, timed with `Instant`. Both ends live on one thread: two tasks on one runtime
//! for sonic and tokio, and for the raw floor the same four blocking syscalls in a plain loop
//! (client write, server read, server write, client read). TCP_NODELAY on both ends; the thread
//! is pinned to one core. Each mode runs `--runs` times, interleaved; a percentile is the median
//! of the runs' percentiles, and `max` is the largest seen in any run.
//!
//! Two ways to read a message: `read` loops `read` into a buffer of at least 4 KiB until the
//! message is in (a short read tells the runtime the socket is drained), `read_exact` asks for
//! exactly the message (a full read proves nothing, so without read-ahead the next read is an
//! `EAGAIN` call). `+RA` modes turn sonic's read-ahead on for both sockets.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use sonic_benches::{interleaved, pin_thread, tcp_pair, tokio_rt, us, HistDir, Latency, Summary};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Reads one `$len`-byte message into `$buf` with the stream's async `read`: `true` once it is
/// in, `false` at end of stream. A macro so that sonic (futures-io) and tokio (tokio::io) share
/// it.
macro_rules! read_msg_async {
    ($sock:ident, $buf:ident, $len:expr) => {{
        let len = $len;
        let mut got = 0;
        while got < len {
            match $sock.read(&mut $buf[got..]).await? {
                0 => break,
                n => got += n,
            }
        }
        got == len
    }};
}

/// Reads one `$len`-byte message with `read_exact`: `true` once it is in, `false` at end of
/// stream.
macro_rules! read_exact_async {
    ($sock:ident, $buf:ident, $len:expr) => {{
        match $sock.read_exact(&mut $buf[..$len]).await {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => false,
            Err(e) => return Err(e),
        }
    }};
}

#[derive(Clone, Copy)]
struct Opts {
    count: usize,
    warmup: usize,
    core: usize,
    /// Bytes per message.
    size: usize,
    /// Read-ahead of the `+RA` modes.
    read_ahead: usize,
}

impl Opts {
    /// The buffer the `read` modes read into: at least 4 KiB, at least a message.
    fn read_buf(&self) -> usize {
        self.size.max(4096)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Raw,
    Sonic {
        busy: bool,
        exact: bool,
        read_ahead: bool,
    },
    Tokio {
        exact: bool,
    },
}

const fn sonic(busy: bool, exact: bool, read_ahead: bool) -> Mode {
    Mode::Sonic {
        busy,
        exact,
        read_ahead,
    }
}

const MODES: [Mode; 8] = [
    Mode::Raw,
    sonic(true, false, false),
    sonic(false, false, false),
    Mode::Tokio { exact: false },
    sonic(false, true, false),
    sonic(false, true, true),
    sonic(true, true, true),
    Mode::Tokio { exact: true },
];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Raw => "raw blocking syscalls",
            Mode::Sonic {
                busy: true,
                exact: false,
                read_ahead: false,
            } => "sonic busy-poll",
            Mode::Sonic {
                busy: false,
                exact: false,
                read_ahead: false,
            } => "sonic default",
            Mode::Tokio { exact: false } => "tokio current_thread",
            Mode::Sonic {
                busy: false,
                exact: true,
                read_ahead: false,
            } => "sonic read_exact",
            Mode::Sonic {
                busy: false,
                exact: true,
                read_ahead: true,
            } => "sonic read_exact +RA",
            Mode::Sonic {
                busy: true,
                exact: true,
                read_ahead: true,
            } => "sonic busy read_exact +RA",
            Mode::Tokio { exact: true } => "tokio read_exact",
            _ => "sonic (other)",
        }
    }

    /// The name `--only` takes.
    fn key(self) -> String {
        match self {
            Mode::Raw => "raw".into(),
            Mode::Sonic {
                busy,
                exact,
                read_ahead,
            } => format!(
                "sonic{}{}{}",
                if busy { "-busy" } else { "" },
                if exact { "-exact" } else { "" },
                if read_ahead { "-ra" } else { "" }
            ),
            Mode::Tokio { exact } => format!("tokio{}", if exact { "-exact" } else { "" }),
        }
    }

    fn run(self, opts: Opts) -> io::Result<Latency> {
        match self {
            Mode::Raw => raw(opts),
            Mode::Sonic {
                busy,
                exact,
                read_ahead,
            } => sonic_rt_mode(opts, busy, exact, read_ahead),
            Mode::Tokio { exact } => tokio_mode(opts, exact),
        }
    }
}

fn main() -> io::Result<()> {
    let mut opts = Opts {
        count: 100_000,
        warmup: 10_000,
        core: 0,
        size: 64,
        read_ahead: 4096,
    };
    let mut runs = 5;
    let mut only: Option<String> = None;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hist = HistDir::from_args(&mut args)?;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--only" {
            only = Some(args.next().expect("--only takes a mode"));
            continue;
        }
        let mut value = || -> usize {
            let v = args.next().and_then(|v| v.parse().ok());
            v.unwrap_or_else(|| panic!("{arg} takes a number"))
        };
        match arg.as_str() {
            "--count" => opts.count = value(),
            "--warmup" => opts.warmup = value(),
            "--runs" => runs = value(),
            "--core" => opts.core = value(),
            "--size" => opts.size = value(),
            "--read-ahead" => opts.read_ahead = value(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    assert!(
        opts.count > 0 && runs > 0 && opts.size > 0,
        "--count, --runs and --size must be positive"
    );
    let modes: Vec<Mode> = match &only {
        None => MODES.to_vec(),
        Some(key) => {
            let mode = MODES.iter().find(|m| m.key() == *key).unwrap_or_else(|| {
                let keys: Vec<String> = MODES.iter().map(|m| m.key()).collect();
                panic!("--only {key}: no such mode (one of {})", keys.join(" "))
            });
            vec![*mode]
        }
    };
    pin_thread(opts.core)?;
    println!(
        "pingpong_local: {} B over loopback TCP, {} round trips (+{} warm-up) x {runs} runs \
         per mode, interleaved, one thread pinned to CPU {}; +RA: read-ahead {} B",
        opts.size, opts.count, opts.warmup, opts.core, opts.read_ahead
    );

    let lats = interleaved(modes.len(), runs, |i| modes[i].run(opts))?;
    let stats: Vec<Vec<Summary>> = lats
        .iter()
        .map(|runs| runs.iter().map(Latency::summary).collect())
        .collect();
    let summary: Vec<Summary> = stats.iter().map(|runs| Summary::median_of(runs)).collect();
    let raw = summary[0];
    println!(
        "{:<26} {:>8} {:>8} {:>8} {:>8}  {:>9} {:>9}",
        "mode (µs)", "p50", "p99", "p99.9", "max", "p50/raw", "p99/raw"
    );
    for (mode, s) in modes.iter().zip(&summary) {
        println!(
            "{:<26} {:>8.2} {:>8.2} {:>8.2} {:>8.1}  {:>8.2}x {:>8.2}x",
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
    for (i, mode) in modes.iter().enumerate() {
        println!("  p50 per run, {:<26} {}", mode.name(), p50s(i).join(" "));
    }
    if let Some(hist) = hist {
        let merged: Vec<Latency> = lats.iter().map(Latency::merged).collect();
        let series: Vec<(&str, &Latency)> = modes.iter().map(|m| m.name()).zip(&merged).collect();
        let title = format!(
            "Same-thread TCP ping-pong, {} B, {} round trips x {runs} runs per mode",
            opts.size, opts.count
        );
        hist.write_chart("pingpong_local", &title, &series)?;
    }
    Ok(())
}

/// The floor: the same four syscalls per round trip, blocking, no runtime.
fn raw(opts: Opts) -> io::Result<Latency> {
    let (mut client, mut server) = tcp_pair()?;
    let msg = vec![0x5a; opts.size];
    let mut buf = vec![0u8; opts.read_buf()];
    let mut rtts = Latency::new();
    for i in 0..opts.warmup + opts.count {
        let start = Instant::now();
        client.write_all(&msg)?;
        read_msg(&mut server, &mut buf, opts.size)?;
        server.write_all(&buf[..opts.size])?;
        read_msg(&mut client, &mut buf, opts.size)?;
        if i >= opts.warmup {
            rtts.record(start.elapsed());
        }
    }
    Ok(rtts)
}

fn read_msg(sock: &mut TcpStream, buf: &mut [u8], len: usize) -> io::Result<()> {
    let mut got = 0;
    while got < len {
        match sock.read(&mut buf[got..])? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// sonic: a client task and an echo task on one runtime, over `Async<TcpStream>`.
fn sonic_rt_mode(
    opts: Opts,
    busy_poll: bool,
    exact: bool,
    read_ahead: bool,
) -> io::Result<Latency> {
    use sonic_rt::io::Async;

    let mut builder = sonic_rt::Builder::new();
    builder.busy_poll(busy_poll).pin_to_core(opts.core);
    if sonic_benches::poll_timing() {
        builder.enable_metrics_poll_time_histogram();
    }
    let rt = builder.build()?;
    rt.block_on(async move {
        let (client, server) = tcp_pair()?;
        let (mut client, mut server) = (Async::new(client)?, Async::new(server)?);
        if read_ahead {
            client.set_read_ahead(opts.read_ahead);
            server.set_read_ahead(opts.read_ahead);
        }
        let size = opts.size;
        let echo = sonic_rt::spawn(async move {
            let mut buf = vec![0u8; opts.read_buf()];
            loop {
                let more = if exact {
                    read_exact_async!(server, buf, size)
                } else {
                    read_msg_async!(server, buf, size)
                };
                if !more {
                    return io::Result::Ok(());
                }
                server.write_all(&buf[..size]).await?;
            }
        });
        let client = sonic_rt::spawn(async move {
            let msg = vec![0x5a; size];
            let mut buf = vec![0u8; opts.read_buf()];
            let mut rtts = Latency::new();
            for i in 0..opts.warmup + opts.count {
                let start = Instant::now();
                client.write_all(&msg).await?;
                let got = if exact {
                    read_exact_async!(client, buf, size)
                } else {
                    read_msg_async!(client, buf, size)
                };
                if !got {
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
fn tokio_mode(opts: Opts, exact: bool) -> io::Result<Latency> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    tokio_rt()?.block_on(async move {
        let (client, server) = tcp_pair()?;
        client.set_nonblocking(true)?;
        server.set_nonblocking(true)?;
        let (mut client, mut server) = (TcpStream::from_std(client)?, TcpStream::from_std(server)?);
        let size = opts.size;
        let echo = tokio::spawn(async move {
            let mut buf = vec![0u8; opts.read_buf()];
            loop {
                let more = if exact {
                    read_exact_async!(server, buf, size)
                } else {
                    read_msg_async!(server, buf, size)
                };
                if !more {
                    return io::Result::Ok(());
                }
                server.write_all(&buf[..size]).await?;
            }
        });
        let client = tokio::spawn(async move {
            let msg = vec![0x5a; size];
            let mut buf = vec![0u8; opts.read_buf()];
            let mut rtts = Latency::new();
            for i in 0..opts.warmup + opts.count {
                let start = Instant::now();
                client.write_all(&msg).await?;
                let got = if exact {
                    read_exact_async!(client, buf, size)
                } else {
                    read_msg_async!(client, buf, size)
                };
                if !got {
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
