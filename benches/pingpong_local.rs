//! Same-thread TCP ping-pong over loopback: sonic-rt (busy-poll and default, with and without
//! read-ahead) against tokio's current_thread runtime and against the raw floor, in one run.
//!
//! `cargo bench -p sonic-benches --bench pingpong_local` (options after `--`: `--count N` round
//! trips per run, `--warmup N`, `--runs N`, `--core N`, `--size BYTES` per message (64),
//! `--read-ahead BYTES` for the read-ahead modes (4096), `--only MODE` to run one mode alone,
//! for `strace`/`perf`: see `benches/pingpong_syscalls.sh`).
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
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
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

    fn run(self, opts: Opts) -> io::Result<Vec<u64>> {
        match self {
            Mode::Raw => raw(opts),
            Mode::Sonic {
                busy,
                exact,
                read_ahead,
            } => sonic_rt_mode(opts, busy, exact, read_ahead),
            Mode::Tokio { exact } => tokio_rt(opts, exact),
        }
    }
}

/// Round-trip percentiles of one run, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

impl Stats {
    fn of(mut rtts: Vec<u64>) -> Stats {
        rtts.sort_unstable();
        // Nearest rank: the smallest sample with at least p of the samples at or below it.
        let at = |p: f64| rtts[((p * rtts.len() as f64).ceil() as usize).clamp(1, rtts.len()) - 1];
        Stats {
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: rtts[rtts.len() - 1],
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
    let mut args = std::env::args().skip(1);
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

    let mut stats = vec![Vec::new(); modes.len()];
    for run in 0..runs {
        // Rotate the order so no mode always runs first or last.
        for k in 0..modes.len() {
            let i = (run + k) % modes.len();
            // A pause lets other work on this shared machine run outside the measurement.
            std::thread::sleep(std::time::Duration::from_millis(100));
            stats[i].push(Stats::of(modes[i].run(opts)?));
        }
    }

    let summary: Vec<Stats> = stats.iter().map(|runs| summarize(runs)).collect();
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
    Ok(())
}

fn summarize(runs: &[Stats]) -> Stats {
    let median = |f: fn(&Stats) -> u64| {
        let mut v: Vec<u64> = runs.iter().map(f).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    Stats {
        p50: median(|s| s.p50),
        p99: median(|s| s.p99),
        p999: median(|s| s.p999),
        max: runs.iter().map(|s| s.max).max().unwrap_or(0),
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// A connected loopback pair (client, server), both with TCP_NODELAY, in blocking mode.
fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// Pins this thread (and so every mode) to `core`. sonic's `pin_to_core` does the same again.
fn pin_thread(core: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data and all-zero is the empty set; CPU_SET indexes within the
    // set (it ignores an index past its end); the kernel reads the set during the call only.
    let res = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if res != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The floor: the same four syscalls per round trip, blocking, no runtime.
fn raw(opts: Opts) -> io::Result<Vec<u64>> {
    let (mut client, mut server) = tcp_pair()?;
    let msg = vec![0x5a; opts.size];
    let mut buf = vec![0u8; opts.read_buf()];
    let mut rtts = Vec::with_capacity(opts.count);
    for i in 0..opts.warmup + opts.count {
        let start = Instant::now();
        client.write_all(&msg)?;
        read_msg(&mut server, &mut buf, opts.size)?;
        server.write_all(&buf[..opts.size])?;
        read_msg(&mut client, &mut buf, opts.size)?;
        if i >= opts.warmup {
            rtts.push(start.elapsed().as_nanos() as u64);
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
) -> io::Result<Vec<u64>> {
    use sonic_rt::io::Async;

    let rt = sonic_rt::Builder::new()
        .busy_poll(busy_poll)
        .pin_to_core(opts.core)
        .build()?;
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
            let mut rtts = Vec::with_capacity(opts.count);
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
                    rtts.push(start.elapsed().as_nanos() as u64);
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
fn tokio_rt(opts: Opts, exact: bool) -> io::Result<Vec<u64>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
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
            let mut rtts = Vec::with_capacity(opts.count);
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
                    rtts.push(start.elapsed().as_nanos() as u64);
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
