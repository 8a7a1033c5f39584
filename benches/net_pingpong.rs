//! Two-process ping-pong over loopback, TCP and UDP, 64 B: sonic-net (busy-poll and default)
//! against tokio's current_thread runtime and two raw floors (blocking syscalls, and a
//! non-blocking busy-spin read loop), in one run.
//!
//! `cargo bench -p sonic-benches --bench net_pingpong` (options after `--`: `--count N` round
//! trips per run, `--warmup N`, `--runs N`, `--client-core N`, `--server-core N`,
//! `--proto tcp|udp|both`, `--only MODE` to run one mode alone for profiling, MODE one of
//! raw-spin, raw-blocking, sonic-busy, sonic, tokio).
//!
//! The bench binary re-executes itself as the echo server (`--serve MODE PROTO CORE`), pinned to
//! its own core; the client runs in this process, pinned to another. Both ends of a measurement
//! use the same mode. The client sends 64 bytes and waits for all 64 back: one round trip, timed
//! with `Instant`. TCP_NODELAY on both ends. Each mode runs `--runs` times, interleaved in a
//! rotating order, each time with a fresh server process; a percentile is the median of the
//! runs' percentiles, `max` the largest seen.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MSG: usize = 64;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    RawSpin,
    RawBlocking,
    SonicBusy,
    SonicSpin,
    Sonic,
    Tokio,
}

const MODES: [Mode; 6] = [
    Mode::RawSpin,
    Mode::RawBlocking,
    Mode::SonicBusy,
    Mode::SonicSpin,
    Mode::Sonic,
    Mode::Tokio,
];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::RawSpin => "raw busy-spin (floor)",
            Mode::RawBlocking => "raw blocking syscalls",
            Mode::SonicBusy => "sonic busy-poll",
            Mode::SonicSpin => "sonic busy + spin_reads",
            Mode::Sonic => "sonic default",
            Mode::Tokio => "tokio current_thread",
        }
    }

    fn arg(self) -> &'static str {
        match self {
            Mode::RawSpin => "raw-spin",
            Mode::RawBlocking => "raw-blocking",
            Mode::SonicBusy => "sonic-busy",
            Mode::SonicSpin => "sonic-spin",
            Mode::Sonic => "sonic",
            Mode::Tokio => "tokio",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        MODES.into_iter().find(|m| m.arg() == s)
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    fn arg(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

#[derive(Clone, Copy)]
struct Opts {
    count: usize,
    warmup: usize,
    client_core: usize,
    server_core: usize,
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let get = |k: usize| args.get(i + k).map(String::as_str).unwrap_or("");
        let mode = Mode::parse(get(1)).ok_or_else(|| bad_arg("--serve MODE"))?;
        let proto = match get(2) {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(bad_arg("--serve MODE PROTO")),
        };
        let core: usize = get(3)
            .parse()
            .map_err(|_| bad_arg("--serve MODE PROTO CORE"))?;
        return serve(mode, proto, core);
    }

    let mut opts = Opts {
        count: 50_000,
        warmup: 5_000,
        client_core: 0,
        server_core: 1,
    };
    let mut runs = 3;
    let mut only = None;
    let mut protos = vec![Proto::Tcp, Proto::Udp];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut num = || -> io::Result<usize> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad_arg(&format!("{arg} takes a number")))
        };
        match arg.as_str() {
            "--count" => opts.count = num()?,
            "--warmup" => opts.warmup = num()?,
            "--runs" => runs = num()?,
            "--client-core" => opts.client_core = num()?,
            "--server-core" => opts.server_core = num()?,
            "--only" => {
                only = Some(
                    it.next()
                        .and_then(|m| Mode::parse(m))
                        .ok_or_else(|| bad_arg("--only MODE"))?,
                )
            }
            "--proto" => {
                protos = match it.next().map(String::as_str) {
                    Some("tcp") => vec![Proto::Tcp],
                    Some("udp") => vec![Proto::Udp],
                    Some("both") => vec![Proto::Tcp, Proto::Udp],
                    _ => return Err(bad_arg("--proto tcp|udp|both")),
                }
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    if opts.count == 0 || runs == 0 {
        return Err(bad_arg("--count and --runs must be positive"));
    }
    pin_thread(opts.client_core)?;
    println!(
        "net_pingpong: {MSG} B ping-pong over loopback, client on CPU {} and server process on \
         CPU {}, {} round trips (+{} warm-up) x {runs} runs per mode, interleaved",
        opts.client_core, opts.server_core, opts.count, opts.warmup
    );
    for proto in protos {
        match only {
            Some(mode) => {
                let s = Stats::of(run_mode(mode, proto, opts)?);
                println!(
                    "{} {}: p50 {:.2} p99 {:.2} p99.9 {:.2} p99.99 {:.2} max {:.1} µs",
                    proto.arg(),
                    mode.name(),
                    us(s.p50),
                    us(s.p99),
                    us(s.p999),
                    us(s.p9999),
                    us(s.max)
                );
            }
            None => bench_proto(proto, opts, runs)?,
        }
    }
    Ok(())
}

fn bad_arg(msg: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("net_pingpong: bad arguments: {msg}"),
    )
}

/// Round-trip percentiles of one run, in nanoseconds.
#[derive(Clone, Copy, Default)]
struct Stats {
    p50: u64,
    p99: u64,
    p999: u64,
    p9999: u64,
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
            p9999: at(0.9999),
            max: rtts[rtts.len() - 1],
        }
    }

    fn median_of(runs: &[Stats]) -> Stats {
        let median = |f: fn(&Stats) -> u64| {
            let mut v: Vec<u64> = runs.iter().map(f).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        Stats {
            p50: median(|s| s.p50),
            p99: median(|s| s.p99),
            p999: median(|s| s.p999),
            p9999: median(|s| s.p9999),
            max: runs.iter().map(|s| s.max).max().unwrap_or(0),
        }
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn bench_proto(proto: Proto, opts: Opts, runs: usize) -> io::Result<()> {
    let mut stats = [const { Vec::new() }; MODES.len()];
    for run in 0..runs {
        for k in 0..MODES.len() {
            let i = (run + k) % MODES.len();
            // A pause lets other work on this shared machine run outside the measurement.
            std::thread::sleep(Duration::from_millis(100));
            stats[i].push(Stats::of(run_mode(MODES[i], proto, opts)?));
        }
    }
    let summary: Vec<Stats> = stats.iter().map(|r| Stats::median_of(r)).collect();
    let floor = summary[0];
    let tokio = summary[MODES.len() - 1];
    println!();
    println!(
        "{} (µs; ratios against the raw busy-spin floor)",
        proto.arg().to_uppercase()
    );
    println!(
        "{:<24} {:>8} {:>8} {:>8} {:>8} {:>9}  {:>8} {:>8} {:>8} {:>10}",
        "mode",
        "p50",
        "p99",
        "p99.9",
        "p99.99",
        "max",
        "p50/fl",
        "p99/fl",
        "p99.9/fl",
        "tokio/this"
    );
    for (mode, s) in MODES.iter().zip(&summary) {
        println!(
            "{:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.1}  {:>7.2}x {:>7.2}x {:>7.2}x {:>9.1}x",
            mode.name(),
            us(s.p50),
            us(s.p99),
            us(s.p999),
            us(s.p9999),
            us(s.max),
            s.p50 as f64 / floor.p50 as f64,
            s.p99 as f64 / floor.p99 as f64,
            s.p999 as f64 / floor.p999 as f64,
            tokio.p50 as f64 / s.p50 as f64,
        );
    }
    for (i, mode) in MODES.iter().enumerate() {
        let p50s: Vec<String> = stats[i]
            .iter()
            .map(|s| format!("{:.2}", us(s.p50)))
            .collect();
        println!("  p50 per run, {:<24} {}", mode.name(), p50s.join(" "));
    }
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    // Plain busy-poll, and busy-poll with spin reads on the hot socket (the mode meant for it).
    for (row, label) in [(2, "sonic busy-poll"), (3, "sonic busy-poll + spin_reads")] {
        let busy = summary[row];
        let (r50, r999) = (
            busy.p50 as f64 / floor.p50 as f64,
            busy.p999 as f64 / floor.p999 as f64,
        );
        let vs_tokio = tokio.p50 as f64 / busy.p50 as f64;
        println!(
            "  targets, {label}: p50 {r50:.2}x floor (<= 1.10x: {}), p99.9 {r999:.2}x \
             (<= 1.25x: {}), tokio p50 / this p50 {vs_tokio:.1}x (>= 10x: {})",
            verdict(r50 <= 1.10),
            verdict(r999 <= 1.25),
            verdict(vs_tokio >= 10.0)
        );
    }
    Ok(())
}

/// Starts the echo server process for `mode`, runs the client against it, returns the RTTs.
fn run_mode(mode: Mode, proto: Proto, opts: Opts) -> io::Result<Vec<u64>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--serve",
            mode.arg(),
            proto.arg(),
            &opts.server_core.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let res = (|| {
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line)?;
        let addr: SocketAddr = line
            .trim()
            .parse()
            .map_err(|_| io::Error::other(format!("server printed {line:?}, not an address")))?;
        match mode {
            Mode::RawSpin | Mode::RawBlocking => {
                raw_client(proto, addr, opts, mode == Mode::RawSpin)
            }
            Mode::SonicBusy | Mode::Sonic | Mode::SonicSpin => {
                sonic_client(proto, addr, opts, mode)
            }
            Mode::Tokio => tokio_client(proto, addr, opts),
        }
    })();
    finish(&mut child, res.is_err())?;
    res
}

fn finish(child: &mut Child, kill: bool) -> io::Result<()> {
    if kill {
        let _ = child.kill();
    }
    let status = child.wait()?;
    if !kill && !status.success() {
        return Err(io::Error::other(format!("server exited with {status}")));
    }
    Ok(())
}

// ----- servers (child process) -----

fn serve(mode: Mode, proto: Proto, core: usize) -> io::Result<()> {
    pin_thread(core)?;
    match proto {
        Proto::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            announce(listener.local_addr()?)?;
            match mode {
                Mode::RawSpin | Mode::RawBlocking => {
                    let (mut s, _) = listener.accept()?;
                    s.set_nodelay(true)?;
                    s.set_nonblocking(mode == Mode::RawSpin)?;
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = spin(|| s.read(&mut buf))?;
                        if n == 0 {
                            return Ok(());
                        }
                        write_all_spin(&mut s, &buf[..n])?;
                    }
                }
                Mode::SonicBusy | Mode::Sonic | Mode::SonicSpin => sonic_rt(mode != Mode::Sonic)?
                    .block_on(async {
                        let listener = sonic_net::TcpListener::from_std(listener)?;
                        let (mut s, _) = listener.accept().await?;
                        s.set_nodelay(true)?;
                        s.set_spin_reads(mode == Mode::SonicSpin);
                        let mut buf = [0u8; 4096];
                        loop {
                            let n = s.read(&mut buf).await?;
                            if n == 0 {
                                return Ok(());
                            }
                            s.write_all(&buf[..n]).await?;
                        }
                    }),
                Mode::Tokio => tokio_rt()?.block_on(async {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    listener.set_nonblocking(true)?;
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let (mut s, _) = listener.accept().await?;
                    s.set_nodelay(true)?;
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = s.read(&mut buf).await?;
                        if n == 0 {
                            return Ok(());
                        }
                        s.write_all(&buf[..n]).await?;
                    }
                }),
            }
        }
        Proto::Udp => {
            let sock = UdpSocket::bind("127.0.0.1:0")?;
            announce(sock.local_addr()?)?;
            // An empty datagram from the client ends the run.
            match mode {
                Mode::RawSpin | Mode::RawBlocking => {
                    sock.set_nonblocking(mode == Mode::RawSpin)?;
                    let mut buf = [0u8; 2048];
                    loop {
                        let (n, from) = spin(|| sock.recv_from(&mut buf))?;
                        if n == 0 {
                            return Ok(());
                        }
                        spin(|| sock.send_to(&buf[..n], from))?;
                    }
                }
                Mode::SonicBusy | Mode::Sonic | Mode::SonicSpin => sonic_rt(mode != Mode::Sonic)?
                    .block_on(async {
                        let sock = sonic_net::UdpSocket::from_std(sock)?;
                        sock.set_spin_reads(mode == Mode::SonicSpin);
                        let mut buf = [0u8; 2048];
                        loop {
                            let (n, from) = sock.recv_from(&mut buf).await?;
                            if n == 0 {
                                return Ok(());
                            }
                            sock.send_to(&buf[..n], from).await?;
                        }
                    }),
                Mode::Tokio => tokio_rt()?.block_on(async {
                    sock.set_nonblocking(true)?;
                    let sock = tokio::net::UdpSocket::from_std(sock)?;
                    let mut buf = [0u8; 2048];
                    loop {
                        let (n, from) = sock.recv_from(&mut buf).await?;
                        if n == 0 {
                            return Ok(());
                        }
                        sock.send_to(&buf[..n], from).await?;
                    }
                }),
            }
        }
    }
}

fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{addr}")?;
    out.flush()
}

// ----- clients (this process) -----

fn raw_client(
    proto: Proto,
    addr: SocketAddr,
    opts: Opts,
    nonblocking: bool,
) -> io::Result<Vec<u64>> {
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Vec::with_capacity(opts.count);
    match proto {
        Proto::Tcp => {
            let mut s = TcpStream::connect(addr)?;
            s.set_nodelay(true)?;
            s.set_nonblocking(nonblocking)?;
            for i in 0..opts.warmup + opts.count {
                let t = Instant::now();
                write_all_spin(&mut s, &msg)?;
                let mut got = 0;
                while got < MSG {
                    match spin(|| s.read(&mut buf[got..]))? {
                        0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                        n => got += n,
                    }
                }
                if i >= opts.warmup {
                    rtts.push(t.elapsed().as_nanos() as u64);
                }
            }
        }
        Proto::Udp => {
            let s = UdpSocket::bind("127.0.0.1:0")?;
            s.connect(addr)?;
            s.set_nonblocking(nonblocking)?;
            for i in 0..opts.warmup + opts.count {
                let t = Instant::now();
                spin(|| s.send(&msg))?;
                let n = spin(|| s.recv(&mut buf))?;
                assert_eq!(n, MSG);
                if i >= opts.warmup {
                    rtts.push(t.elapsed().as_nanos() as u64);
                }
            }
            s.set_nonblocking(false)?;
            s.send(&[])?;
        }
    }
    Ok(rtts)
}

fn sonic_client(proto: Proto, addr: SocketAddr, opts: Opts, mode: Mode) -> io::Result<Vec<u64>> {
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Vec::with_capacity(opts.count);
    let spin = mode == Mode::SonicSpin;
    sonic_rt(mode != Mode::Sonic)?.block_on(async {
        match proto {
            Proto::Tcp => {
                let mut s = sonic_net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                s.set_spin_reads(spin);
                for i in 0..opts.warmup + opts.count {
                    let t = Instant::now();
                    s.write_all(&msg).await?;
                    s.read_exact(&mut buf).await?;
                    if i >= opts.warmup {
                        rtts.push(t.elapsed().as_nanos() as u64);
                    }
                }
            }
            Proto::Udp => {
                let s = sonic_net::UdpSocket::bind("127.0.0.1:0").await?;
                s.connect(addr).await?;
                s.set_spin_reads(spin);
                for i in 0..opts.warmup + opts.count {
                    let t = Instant::now();
                    s.send(&msg).await?;
                    let n = s.recv(&mut buf).await?;
                    assert_eq!(n, MSG);
                    if i >= opts.warmup {
                        rtts.push(t.elapsed().as_nanos() as u64);
                    }
                }
                s.send(&[]).await?;
            }
        }
        io::Result::Ok(())
    })?;
    Ok(rtts)
}

fn tokio_client(proto: Proto, addr: SocketAddr, opts: Opts) -> io::Result<Vec<u64>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Vec::with_capacity(opts.count);
    tokio_rt()?.block_on(async {
        match proto {
            Proto::Tcp => {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                for i in 0..opts.warmup + opts.count {
                    let t = Instant::now();
                    s.write_all(&msg).await?;
                    s.read_exact(&mut buf).await?;
                    if i >= opts.warmup {
                        rtts.push(t.elapsed().as_nanos() as u64);
                    }
                }
            }
            Proto::Udp => {
                let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
                s.connect(addr).await?;
                for i in 0..opts.warmup + opts.count {
                    let t = Instant::now();
                    s.send(&msg).await?;
                    let n = s.recv(&mut buf).await?;
                    assert_eq!(n, MSG);
                    if i >= opts.warmup {
                        rtts.push(t.elapsed().as_nanos() as u64);
                    }
                }
                s.send(&[]).await?;
            }
        }
        io::Result::Ok(())
    })?;
    Ok(rtts)
}

// ----- helpers -----

fn sonic_rt(busy: bool) -> io::Result<sonic_rt::Runtime> {
    // The thread is pinned already (client by `main`, server by `serve`).
    sonic_rt::Builder::new().busy_poll(busy).build()
}

fn tokio_rt() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Retries `op` while it would block: a busy-spin on a non-blocking socket, a single call on a
/// blocking one.
fn spin<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            res => return res,
        }
    }
}

fn write_all_spin(s: &mut TcpStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = spin(|| s.write(buf))?;
        buf = &buf[n..];
    }
    Ok(())
}

/// Pins this thread to `core` (`sched_setaffinity`).
fn pin_thread(core: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data and all-zero is the empty set; CPU_SET indexes within the
    // set (it ignores an index past its end); the kernel reads the set during the call only.
    let res = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if res != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("pinning to CPU {core}: {e}"),
        ));
    }
    Ok(())
}
