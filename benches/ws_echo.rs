//! WebSocket echo over loopback TCP, side by side in one run: sonic-ws on sonic-rt/sonic-net
//! against tokio-tungstenite and fastwebsockets on tokio's current_thread runtime, with 64 B,
//! 1 KiB and 64 KiB binary messages.
//!
//! `cargo bench -p sonic-benches --bench ws_echo` (options after `--`: `--runs N`,
//! `--scale F` (multiplies every message count), `--client-core N`, `--server-core N`,
//! `--only sonic|sonic-busy|sonic-spin|tungstenite|fastwebsockets`, `--size 64|1024|65536`,
//! `--variant pingpong|burst`, `--hist DIR` to write each library's ping-pong histogram for
//! `latency_plots`).
//!
//! Each measurement uses one connection. The server runs on its own thread, pinned to
//! `--server-core`, with its own runtime; the client runs on the main thread, pinned to
//! `--client-core`, with a fresh runtime. Both ends use the same library, so a client masks
//! and a server unmasks exactly as in production. TCP_NODELAY on both ends.
//!
//! - `pingpong`: one message in flight; the client sends, waits for the echo, and times every
//!   round trip (p50/p99) and the whole run (messages/s).
//! - `burst`: the client writes a window of messages with one flush where the library allows it,
//!   then reads the window's echoes; messages/s over the run. The window holds at most
//!   128 KiB (64 messages of 64 B or 1 KiB, 2 of 64 KiB) so that neither end can block on a
//!   full socket buffer while the other waits for it.
//!
//! How each library is driven (its ordinary API, the cheapest way it offers):
//! - sonic-ws: client `send_binary` (ping-pong) or `feed` + `flush` (burst) and `recv_ref`;
//!   server `recv_ref` + `echo`: small echoes are queued and `recv` flushes them before it waits
//!   for the socket (one write per read); a large echo is written from the receive buffer next
//!   to its header. Three runtime modes: parked (the default: sleep in epoll when idle),
//!   busy-poll (never sleep, spin reads on the socket) and spin-park (poll for 200 µs after the
//!   last event, then sleep).
//! - tokio-tungstenite: `Sink::send` / `feed` + `flush` and `Stream::next`; the server forwards
//!   like `StreamExt::forward` (feed while messages are ready, flush when the stream is pending)
//!   without splitting the socket.
//! - fastwebsockets: `read_frame` / `write_frame` (each `write_frame` is one write; the burst
//!   client writes through a `tokio::io::BufWriter` and flushes once per window). There is no
//!   HTTP handshake in fastwebsockets without hyper, so both ends start with `after_handshake`.
//!
//! A run of 30 s or more aborts the process (a deadlock would otherwise hang the bench).

use futures_util::{SinkExt as _, StreamExt as _};
use sonic_benches::{interleaved, pin_thread, tokio_rt, us, HistDir, Latency};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [64, 1024, 64 << 10];
/// Most bytes in flight in one burst window.
const WINDOW_BYTES: usize = 128 << 10;
/// Most messages in one burst window.
const WINDOW_MAX: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    Sonic,
    /// sonic-ws on a busy-poll sonic-rt runtime with spin reads on the socket (both ends).
    SonicBusy,
    /// sonic-ws on runtimes that poll for `sonic::SPIN` after the last event before sleeping.
    SonicSpin,
    Tungstenite,
    Fast,
}

const LIBS: [Lib; 5] = [
    Lib::Sonic,
    Lib::SonicBusy,
    Lib::SonicSpin,
    Lib::Tungstenite,
    Lib::Fast,
];

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Lib::Sonic => "sonic-ws",
            Lib::SonicBusy => "sonic-ws busy-poll",
            Lib::SonicSpin => "sonic-ws spin-park",
            Lib::Tungstenite => "tokio-tungstenite",
            Lib::Fast => "fastwebsockets",
        }
    }

    fn parse(s: &str) -> Option<Lib> {
        match s {
            "sonic" | "sonic-ws" => Some(Lib::Sonic),
            "sonic-busy" => Some(Lib::SonicBusy),
            "sonic-spin" => Some(Lib::SonicSpin),
            "tungstenite" | "tokio-tungstenite" => Some(Lib::Tungstenite),
            "fast" | "fastwebsockets" => Some(Lib::Fast),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    PingPong,
    Burst,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::PingPong => "ping-pong",
            Variant::Burst => "burst",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Job {
    size: usize,
    variant: Variant,
    warmup: usize,
    count: usize,
    window: usize,
}

impl Job {
    fn new(size: usize, variant: Variant, scale: f64) -> Job {
        let (warmup, count) = match (variant, size) {
            (Variant::PingPong, s) if s <= 1024 => (2_000, 20_000),
            (Variant::PingPong, _) => (500, 4_000),
            (Variant::Burst, s) if s <= 64 => (20_000, 400_000),
            (Variant::Burst, s) if s <= 1024 => (10_000, 200_000),
            (Variant::Burst, _) => (500, 8_000),
        };
        let window = match variant {
            Variant::PingPong => 1,
            Variant::Burst => (WINDOW_BYTES / size).clamp(1, WINDOW_MAX),
        };
        let round =
            |n: usize| (((n as f64 * scale) as usize).div_ceil(window) * window).max(window);
        Job {
            size,
            variant,
            warmup: round(warmup),
            count: round(count),
            window,
        }
    }
}

/// What one client run measured.
struct Sample {
    msgs_per_s: f64,
    /// Round trips (ping-pong only).
    rtts: Latency,
}

impl Sample {
    /// The round trip at quantile `q`, in µs.
    fn pct(&self, q: f64) -> f64 {
        if self.rtts.is_empty() {
            return f64::NAN;
        }
        us(self.rtts.value_at(q))
    }
}

fn main() -> io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hist = HistDir::from_args(&mut args)?;
    let mut runs = 3usize;
    let mut scale = 1.0f64;
    let mut client_core = 0usize;
    let mut server_core = 1usize;
    let mut libs = LIBS.to_vec();
    let mut sizes = SIZES.to_vec();
    let mut variants = vec![Variant::PingPong, Variant::Burst];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| bad_arg(&format!("{a} takes a value")))
        };
        match a.as_str() {
            "--runs" => runs = val()?.parse().map_err(|_| bad_arg("--runs N"))?,
            "--scale" => scale = val()?.parse().map_err(|_| bad_arg("--scale F"))?,
            "--client-core" => {
                client_core = val()?.parse().map_err(|_| bad_arg("--client-core N"))?
            }
            "--server-core" => {
                server_core = val()?.parse().map_err(|_| bad_arg("--server-core N"))?
            }
            "--only" => libs = vec![Lib::parse(&val()?).ok_or_else(|| bad_arg("--only LIB"))?],
            "--size" => sizes = vec![val()?.parse().map_err(|_| bad_arg("--size BYTES"))?],
            "--variant" => {
                variants = match val()?.as_str() {
                    "pingpong" => vec![Variant::PingPong],
                    "burst" => vec![Variant::Burst],
                    _ => return Err(bad_arg("--variant pingpong|burst")),
                }
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    if runs == 0 || scale <= 0.0 {
        return Err(bad_arg("--runs and --scale must be positive"));
    }
    pin_or_warn(client_core);
    println!(
        "ws_echo: binary messages over loopback TCP, client on CPU {client_core}, server thread \
         on CPU {server_core}; {runs} runs per library, interleaved; median [best]"
    );
    for &variant in &variants {
        for &size in &sizes {
            let job = Job::new(size, variant, scale);
            let runs = interleaved(libs.len(), runs, |i| run_one(libs[i], job, server_core))?;
            let samples: Vec<(Lib, Vec<Sample>)> = libs.iter().copied().zip(runs).collect();
            report(job, &samples);
            if let (Some(hist), Variant::PingPong) = (&hist, variant) {
                let merged: Vec<Latency> = samples
                    .iter()
                    .map(|(_, s)| Latency::merged(s.iter().map(|x| &x.rtts)))
                    .collect();
                let series: Vec<(&str, &Latency)> =
                    samples.iter().map(|(l, _)| l.name()).zip(&merged).collect();
                let title = format!(
                    "WebSocket echo ping-pong, {size} B binary messages, {} round trips x {} runs",
                    job.count,
                    samples[0].1.len()
                );
                hist.write_chart(&format!("ws_echo-pingpong-{size}"), &title, &series)?;
            }
        }
    }
    Ok(())
}

fn report(job: Job, samples: &[(Lib, Vec<Sample>)]) {
    println!(
        "\n{} {} B: {} messages (+{} warm-up){}",
        job.variant.name(),
        job.size,
        job.count,
        job.warmup,
        if job.variant == Variant::Burst {
            format!(", window {}", job.window)
        } else {
            String::new()
        }
    );
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut rates = Vec::new();
    for (lib, s) in samples {
        let mut r: Vec<f64> = s.iter().map(|x| x.msgs_per_s).collect();
        let best = r.iter().cloned().fold(0.0, f64::max);
        let rate = med(&mut r);
        rates.push((*lib, rate));
        let lat = if job.variant == Variant::PingPong {
            let mut p50: Vec<f64> = s.iter().map(|x| x.pct(0.50)).collect();
            let mut p99: Vec<f64> = s.iter().map(|x| x.pct(0.99)).collect();
            format!(
                "  p50 {:7.2} µs  p99 {:7.2} µs",
                med(&mut p50),
                med(&mut p99)
            )
        } else {
            String::new()
        };
        println!(
            "  {:<18} {:>10.0} msg/s [{:>10.0}] {:>8.1} MB/s{lat}",
            lib.name(),
            rate,
            best,
            rate * job.size as f64 / 1e6
        );
    }
    for ours in [Lib::Sonic, Lib::SonicBusy, Lib::SonicSpin] {
        if let Some(&(_, sonic)) = rates.iter().find(|(l, _)| *l == ours) {
            for &(lib, rate) in &rates {
                if matches!(lib, Lib::Tungstenite | Lib::Fast) {
                    println!(
                        "  {} / {:<18} {:.2}x",
                        ours.name(),
                        lib.name(),
                        sonic / rate
                    );
                }
            }
        }
    }
}

fn run_one(lib: Lib, job: Job, server_core: usize) -> io::Result<Sample> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || {
        pin_or_warn(server_core);
        match lib {
            Lib::Sonic => sonic::server(listener, sonic::Mode::Parked),
            Lib::SonicBusy => sonic::server(listener, sonic::Mode::Busy),
            Lib::SonicSpin => sonic::server(listener, sonic::Mode::Spin),
            Lib::Tungstenite => tung::server(listener),
            Lib::Fast => fast::server(listener),
        }
    });
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if t.elapsed() > Duration::from_secs(30) {
                    eprintln!("ws_echo: {} {:?} stuck for 30 s; aborting", lib.name(), job);
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let res = match lib {
        Lib::Sonic => sonic::client(addr, job, sonic::Mode::Parked),
        Lib::SonicBusy => sonic::client(addr, job, sonic::Mode::Busy),
        Lib::SonicSpin => sonic::client(addr, job, sonic::Mode::Spin),
        Lib::Tungstenite => tung::client(addr, job),
        Lib::Fast => fast::client(addr, job),
    };
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    let served = server
        .join()
        .map_err(|_| io::Error::other("server thread panicked"))?;
    let sample = res?;
    served?;
    Ok(sample)
}

/// The client's measurement loop: `warmup` then `count` messages, in windows of
/// `job.window`; `$round` (with `$w` bound to the window) sends a window and receives its
/// echoes. A macro, so that the round can borrow the connection mutably across awaits.
macro_rules! measure {
    ($job:expr, $w:ident => $round:block) => {{
        let job: Job = $job;
        let $w = job.window;
        for _ in 0..job.warmup / job.window {
            $round
        }
        let mut rtts = Latency::new();
        let start = Instant::now();
        for _ in 0..job.count / job.window {
            let t = Instant::now();
            $round
            if job.window == 1 {
                rtts.record(t.elapsed());
            }
        }
        let secs = start.elapsed().as_secs_f64();
        Sample {
            msgs_per_s: job.count as f64 / secs,
            rtts,
        }
    }};
}

fn check_len(got: usize, want: usize) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "echo of {got} bytes, expected {want}"
        )))
    }
}

mod sonic {
    use super::*;

    use sonic_ws::{Error, MessageRef, OpCode};

    fn io_err(e: Error) -> io::Error {
        match e {
            Error::Io(e) => e,
            e => io::Error::other(e.to_string()),
        }
    }

    /// How long a spin-park runtime keeps polling after its last event before it sleeps.
    pub const SPIN: Duration = Duration::from_micros(200);

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        /// The default: sleep in the kernel as soon as there is nothing to do.
        Parked,
        /// Never sleep; spin reads on the socket.
        Busy,
        /// Poll for `SPIN` after the last event, then sleep.
        Spin,
    }

    fn runtime(mode: Mode) -> io::Result<sonic_rt::Runtime> {
        let mut b = sonic_rt::Builder::new();
        match mode {
            Mode::Parked => {}
            Mode::Busy => {
                b.busy_poll(true);
            }
            Mode::Spin => {
                b.spin_before_park(SPIN);
            }
        }
        b.build()
    }

    pub fn server(listener: TcpListener, mode: Mode) -> io::Result<()> {
        runtime(mode)?.block_on(async move {
            let listener = sonic_net::TcpListener::from_std(listener)?;
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            s.set_spin_reads(mode == Mode::Busy);
            let mut ws = sonic_ws::accept(s).await.map_err(io_err)?;
            loop {
                match ws.recv_ref().await {
                    // `echo` queues small messages (they go out together when the input runs
                    // dry) and writes a large one from the receive buffer next to its header.
                    Ok(MessageRef::Binary(_)) => ws.echo().await.map_err(io_err)?,
                    Ok(MessageRef::Close(_)) | Err(Error::Closed) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(io_err(e)),
                }
            }
        })
    }

    pub fn client(addr: SocketAddr, job: Job, mode: Mode) -> io::Result<Sample> {
        runtime(mode)?.block_on(async move {
            let s = sonic_net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            s.set_spin_reads(mode == Mode::Busy);
            let ws = sonic_ws::client(s, "ws://127.0.0.1/")
                .await
                .map_err(io_err)?;
            let mut ws = ws;
            let payload = &vec![0x5a; job.size][..];
            let sample = measure!(job, w => {
            if w == 1 {
                ws.send_binary(payload).await.map_err(io_err)?;
            } else {
                for _ in 0..w {
                    ws.feed(OpCode::Binary, payload).await.map_err(io_err)?;
                }
                ws.flush().await.map_err(io_err)?;
            }
            for _ in 0..w {
                match ws.recv_ref().await.map_err(io_err)? {
                    MessageRef::Binary(b) => check_len(b.len(), payload.len())?,
                    _ => return Err(io::Error::other("unexpected message")),
                }
            }
            });
            ws.close(sonic_ws::CloseCode::NORMAL, "")
                .await
                .map_err(io_err)?;
            Ok(sample)
        })
    }
}

mod tung {
    use super::*;
    use tokio_tungstenite::tungstenite::{Bytes, Message};

    fn io_err(e: tokio_tungstenite::tungstenite::Error) -> io::Error {
        io::Error::other(e.to_string())
    }

    pub fn server(listener: TcpListener) -> io::Result<()> {
        tokio_rt()?.block_on(async move {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            let mut ws = tokio_tungstenite::accept_async(s).await.map_err(io_err)?;
            // `StreamExt::forward` without the split: feed echoes while messages are ready,
            // flush when the stream has nothing more.
            let mut unflushed = false;
            std::future::poll_fn(|cx: &mut Context<'_>| loop {
                match ws.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(m @ Message::Binary(_)))) => {
                        if let Err(e) =
                            ready(ws.poll_ready_unpin(cx)).and_then(|()| ws.start_send_unpin(m))
                        {
                            return Poll::Ready(Err(io_err(e)));
                        }
                        unflushed = true;
                    }
                    Poll::Ready(Some(Ok(Message::Close(_)))) | Poll::Ready(None) => {
                        return Poll::Ready(Ok(()))
                    }
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_err(e))),
                    Poll::Pending => {
                        if unflushed {
                            match ws.poll_flush_unpin(cx) {
                                Poll::Ready(Ok(())) => unflushed = false,
                                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_err(e))),
                                Poll::Pending => {}
                            }
                        }
                        return Poll::Pending;
                    }
                }
            })
            .await
        })
    }

    /// `poll_ready` of tokio-tungstenite's sink is always ready; treat Pending as a bug.
    fn ready<T>(p: Poll<T>) -> T {
        match p {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("tokio-tungstenite poll_ready was pending"),
        }
    }

    pub fn client(addr: SocketAddr, job: Job) -> io::Result<Sample> {
        tokio_rt()?.block_on(async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let (ws, _) = tokio_tungstenite::client_async("ws://127.0.0.1/", s)
                .await
                .map_err(io_err)?;
            let mut ws = ws;
            let payload = &Bytes::from(vec![0x5a; job.size]);
            let sample = measure!(job, w => {
            if w == 1 {
                ws.send(Message::Binary(payload.clone()))
                    .await
                    .map_err(io_err)?;
            } else {
                for _ in 0..w {
                    ws.feed(Message::Binary(payload.clone()))
                        .await
                        .map_err(io_err)?;
                }
                ws.flush().await.map_err(io_err)?;
            }
            for _ in 0..w {
                match ws.next().await {
                    Some(Ok(Message::Binary(b))) => check_len(b.len(), payload.len())?,
                    other => return Err(io::Error::other(format!("unexpected {other:?}"))),
                }
            }
            });
            ws.close(None).await.map_err(io_err)?;
            // Wait for the server's Close.
            while let Some(Ok(_)) = ws.next().await {}
            Ok(sample)
        })
    }
}

mod fast {
    use super::*;
    use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket, WebSocketError};
    use tokio::io::BufWriter;

    fn io_err(e: WebSocketError) -> io::Error {
        io::Error::other(e.to_string())
    }

    pub fn server(listener: TcpListener) -> io::Result<()> {
        tokio_rt()?.block_on(async move {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            let mut ws = WebSocket::after_handshake(s, Role::Server);
            loop {
                let frame = ws.read_frame().await.map_err(io_err)?;
                match frame.opcode {
                    OpCode::Binary => ws.write_frame(frame).await.map_err(io_err)?,
                    // auto_close already echoed it.
                    OpCode::Close => return Ok(()),
                    _ => {}
                }
            }
        })
    }

    pub fn client(addr: SocketAddr, job: Job) -> io::Result<Sample> {
        tokio_rt()?.block_on(async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let s = BufWriter::with_capacity(WINDOW_BYTES + 1024, s);
            let mut ws = WebSocket::after_handshake(s, Role::Client);
            let payload = &vec![0x5a; job.size][..];
            let sample = measure!(job, w => {
            for _ in 0..w {
                let f = Frame::binary(Payload::Borrowed(payload));
                ws.write_frame(f).await.map_err(io_err)?;
            }
            ws.flush().await.map_err(io_err)?;
            for _ in 0..w {
                let f = ws.read_frame().await.map_err(io_err)?;
                if f.opcode != OpCode::Binary {
                    return Err(io::Error::other("unexpected frame"));
                }
                check_len(f.payload.len(), payload.len())?;
            }
            });
            ws.write_frame(Frame::close(1000, b""))
                .await
                .map_err(io_err)?;
            ws.flush().await.map_err(io_err)?;
            // Wait for the server's Close.
            loop {
                match ws.read_frame().await {
                    Ok(f) if f.opcode == OpCode::Close => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Ok(sample)
        })
    }
}

fn bad_arg(msg: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("ws_echo: bad arguments: {msg}"),
    )
}

/// Pins this thread to `core`; a failure (e.g. fewer cores) only warns.
fn pin_or_warn(core: usize) {
    if let Err(e) = pin_thread(core) {
        eprintln!("ws_echo: {e}");
    }
}
