//! Two-process ping-pong over loopback, TCP and UDP, 64 B: sonic-net (busy-poll and default)
//! against tokio's current_thread runtime and two raw floors (blocking syscalls, and a
//! non-blocking busy-spin read loop), in one run.
//!
//! `cargo bench -p sonic-benches --bench net_pingpong` (options after `--`: `--count N` round
//! trips per run, `--warmup N`, `--runs N`, `--client-core N`, `--server-core N`,
//! `--proto tcp|udp|both`, `--only MODE` to run one mode alone for profiling, MODE one of
//! raw-spin, raw-blocking, sonic-busy, sonic, tokio; `--hist DIR` to write each mode's histogram
//! for `latency_plots`).
//!
//! The bench binary re-executes itself as the echo server (`--serve MODE PROTO CORE`), pinned to
//! its own core; the client runs in this process, pinned to another. Both ends of a measurement
//! use the same mode. The client sends 64 bytes and waits for all 64 back: one round trip, timed
//! with `Instant`. TCP_NODELAY on both ends. Each mode runs `--runs` times, interleaved in a
//! rotating order, each time with a fresh server process; a percentile is the median of the
//! runs' percentiles, `max` the largest seen.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use sonic_benches::{
    interleaved, pin_thread, spin, tokio_rt, us, write_all_spin, HistDir, Latency, Summary,
};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

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
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hist = HistDir::from_args(&mut args)?;
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
                let s = run_mode(mode, proto, opts)?.summary();
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
            None => bench_proto(proto, opts, runs, hist.as_ref())?,
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

fn bench_proto(proto: Proto, opts: Opts, runs: usize, hist: Option<&HistDir>) -> io::Result<()> {
    let lats = interleaved(MODES.len(), runs, |i| run_mode(MODES[i], proto, opts))?;
    let stats: Vec<Vec<Summary>> = lats
        .iter()
        .map(|runs| runs.iter().map(Latency::summary).collect())
        .collect();
    let summary: Vec<Summary> = stats.iter().map(|r| Summary::median_of(r)).collect();
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
    if let Some(hist) = hist {
        let merged: Vec<Latency> = lats.iter().map(Latency::merged).collect();
        let series: Vec<(&str, &Latency)> = MODES.iter().map(|m| m.name()).zip(&merged).collect();
        let title = format!(
            "Two-process {} ping-pong, {MSG} B, {} round trips x {runs} runs per mode",
            proto.arg().to_uppercase(),
            opts.count
        );
        hist.write_chart(&format!("net_pingpong-{}", proto.arg()), &title, &series)?;
    }
    Ok(())
}

/// Starts the echo server process for `mode`, runs the client against it, returns the RTTs.
fn run_mode(mode: Mode, proto: Proto, opts: Opts) -> io::Result<Latency> {
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
) -> io::Result<Latency> {
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Latency::new();
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
                    rtts.record(t.elapsed());
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
                    rtts.record(t.elapsed());
                }
            }
            s.set_nonblocking(false)?;
            s.send(&[])?;
        }
    }
    Ok(rtts)
}

fn sonic_client(proto: Proto, addr: SocketAddr, opts: Opts, mode: Mode) -> io::Result<Latency> {
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Latency::new();
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
                        rtts.record(t.elapsed());
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
                        rtts.record(t.elapsed());
                    }
                }
                s.send(&[]).await?;
            }
        }
        io::Result::Ok(())
    })?;
    Ok(rtts)
}

fn tokio_client(proto: Proto, addr: SocketAddr, opts: Opts) -> io::Result<Latency> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut rtts = Latency::new();
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
                        rtts.record(t.elapsed());
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
                        rtts.record(t.elapsed());
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
