//! Server CPU time per echo with many TCP connections over loopback (issue 16, part 2): sonic-net
//! on sonic-rt's default (parked) loop against tokio's current_thread runtime, monoio with its
//! io_uring driver and with its legacy (epoll) driver, a raw epoll echo server (the syscall floor
//! of the readiness model) and a raw io_uring echo server written directly on the `io-uring`
//! crate in the shape issue 16 proposes for sonic (the upper bound of what that path could give).
//!
//! `cargo bench -p sonic-benches --bench echo_cpu` (options after `--`: `--conns 100,1000`,
//! `--runs 5`, `--secs 2` measured per run, `--warmup 0.5` seconds, `--window 1` messages in
//! flight per connection, `--only a,b` to run some
//! contenders (sonic, tokio, monoio-uring, monoio-epoll, raw-epoll, raw-ring), `--server-core 0`,
//! `--client-core 1`; the raw ring's variants, for the experiments in BENCHMARKS.md:
//! `--ring-setup defer|coop|plain`, `--ring-fixed-files`, `--ring-reg-fd`, `--ring-bufs N`,
//! `--ring-batch N` completions waited for per enter).
//!
//! Each run: a fresh server thread pinned to `--server-core` accepts `--conns` connections and
//! echoes. The load generator is this process's main thread, pinned to `--client-core`: a raw
//! level-triggered epoll loop, closed loop with ONE 64 B message outstanding per connection (it
//! sends the next message on a connection as soon as the previous one is back), so up to `conns`
//! messages are in flight (`--window W`: W messages per connection, sent back to back at the
//! start; a server read may then return several). After `--warmup` seconds the client flips a phase flag; the server
//! notices it at its next echo and reads `getrusage(RUSAGE_THREAD)` (user + sys of the server
//! thread, sum exact, split tick-sampled); after `--secs` more it flips it again, and the server
//! reads it again and acknowledges. CPU per echo is the difference over the echoes done in
//! between (an echo is 64 bytes written back). `getrusage(RUSAGE_SELF)` minus the server's and
//! the client's threads gives the CPU of other threads in the window (io_uring's io-wq workers
//! would show there). Every server counts its echoes the same way (a thread-local counter and
//! one relaxed atomic load per echo). Contenders run `--runs` times each, interleaved in a
//! rotating order; figures are medians, with the min-max spread.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use sonic_benches::{interleaved, pin_thread, CpuTime};
use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const MSG: usize = 64;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Server {
    Sonic,
    Tokio,
    MonoioUring,
    MonoioEpoll,
    RawEpoll,
    RawRing,
}

const SERVERS: [Server; 6] = [
    Server::Tokio,
    Server::Sonic,
    Server::MonoioEpoll,
    Server::MonoioUring,
    Server::RawEpoll,
    Server::RawRing,
];

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Sonic => "sonic default (parked)",
            Server::Tokio => "tokio current_thread",
            Server::MonoioUring => "monoio io_uring",
            Server::MonoioEpoll => "monoio legacy (epoll)",
            Server::RawEpoll => "raw epoll (floor)",
            Server::RawRing => "raw io_uring (ceiling)",
        }
    }

    fn arg(self) -> &'static str {
        match self {
            Server::Sonic => "sonic",
            Server::Tokio => "tokio",
            Server::MonoioUring => "monoio-uring",
            Server::MonoioEpoll => "monoio-epoll",
            Server::RawEpoll => "raw-epoll",
            Server::RawRing => "raw-ring",
        }
    }

    fn parse(s: &str) -> Option<Server> {
        SERVERS.into_iter().find(|m| m.arg() == s)
    }
}

#[derive(Clone, Debug)]
struct Opts {
    conns: Vec<usize>,
    runs: usize,
    secs: f64,
    warmup: f64,
    servers: Vec<Server>,
    window: usize,
    server_core: usize,
    client_core: usize,
    ring: ring::Opts,
}

fn bad_arg(msg: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("echo_cpu: bad arguments: {msg}"),
    )
}

fn parse_opts() -> io::Result<Opts> {
    let mut o = Opts {
        conns: vec![100, 1000],
        runs: 5,
        secs: 2.0,
        warmup: 0.5,
        servers: SERVERS.to_vec(),
        window: 1,
        server_core: 0,
        client_core: 1,
        ring: ring::Opts::default(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| bad_arg(&format!("{arg} takes a value")))
        };
        let num = |v: String| -> io::Result<f64> {
            v.parse()
                .map_err(|_| bad_arg(&format!("{arg}: {v} is not a number")))
        };
        match arg.as_str() {
            "--conns" => {
                o.conns = val()?
                    .split(',')
                    .map(|c| c.parse().map_err(|_| bad_arg("--conns N[,N...]")))
                    .collect::<io::Result<_>>()?
            }
            "--runs" => o.runs = num(val()?)? as usize,
            "--secs" => o.secs = num(val()?)?,
            "--warmup" => o.warmup = num(val()?)?,
            "--window" => o.window = num(val()?)? as usize,
            "--server-core" => o.server_core = num(val()?)? as usize,
            "--client-core" => o.client_core = num(val()?)? as usize,
            "--only" => {
                o.servers = val()?
                    .split(',')
                    .map(|s| Server::parse(s).ok_or_else(|| bad_arg(&format!("--only {s}"))))
                    .collect::<io::Result<_>>()?
            }
            "--ring-setup" => {
                o.ring.setup = match val()?.as_str() {
                    "defer" => ring::Setup::Defer,
                    "coop" => ring::Setup::Coop,
                    "plain" => ring::Setup::Plain,
                    _ => return Err(bad_arg("--ring-setup defer|coop|plain")),
                }
            }
            "--ring-fixed-files" => o.ring.fixed_files = true,
            "--ring-reg-fd" => o.ring.register_ring_fd = true,
            "--ring-bufs" => o.ring.bufs = num(val()?)? as u16,
            "--ring-batch" => o.ring.batch = num(val()?)? as usize,
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    if o.runs == 0 || o.conns.is_empty() || o.secs <= 0.0 || o.window == 0 {
        return Err(bad_arg(
            "--runs, --conns, --secs and --window must be positive",
        ));
    }
    if !o.ring.bufs.is_power_of_two() {
        return Err(bad_arg("--ring-bufs must be a power of two"));
    }
    Ok(o)
}

// ----- the measurement window, seen from the server thread -----

const WARMUP: u32 = 0;
const MEASURE: u32 = 1;
const STOP: u32 = 2;
const REPORTED: u32 = 3;

/// Set by the client, read by the server at each echo (runs are sequential).
static PHASE: AtomicU32 = AtomicU32::new(WARMUP);

#[derive(Clone, Copy)]
struct Mark {
    thread: CpuTime,
    process: CpuTime,
    bytes: u64,
    turns: u64,
    at: Instant,
}

impl Mark {
    fn now(m: &Meter) -> Mark {
        Mark {
            thread: CpuTime::thread(),
            process: CpuTime::process(),
            bytes: m.bytes.get(),
            turns: m.turns.get(),
            at: Instant::now(),
        }
    }
}

/// What the server measured over the window.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// The server thread's CPU time.
    cpu: CpuTime,
    /// The whole process's CPU time (the client's thread is subtracted later).
    process: CpuTime,
    echoes: u64,
    /// Loop turns (raw servers only: epoll_wait or io_uring_enter calls).
    turns: u64,
    wall: Duration,
}

struct Meter {
    bytes: Cell<u64>,
    turns: Cell<u64>,
    seen: Cell<u32>,
    start: Cell<Option<Mark>>,
    sample: Cell<Option<Sample>>,
}

thread_local! {
    static METER: Meter = const {
        Meter {
            bytes: Cell::new(0),
            turns: Cell::new(0),
            seen: Cell::new(WARMUP),
            start: Cell::new(None),
            sample: Cell::new(None),
        }
    };
}

/// Called by every server after it has written `n` bytes back.
#[inline]
fn echoed(n: usize) {
    METER.with(|m| {
        m.bytes.set(m.bytes.get() + n as u64);
        let phase = PHASE.load(Ordering::Relaxed);
        if phase != m.seen.get() {
            transition(m, phase);
        }
    });
}

/// Called by the raw servers once per loop turn (one epoll_wait or io_uring_enter).
#[inline]
fn turn() {
    METER.with(|m| m.turns.set(m.turns.get() + 1));
}

#[cold]
fn transition(m: &Meter, phase: u32) {
    m.seen.set(phase);
    match phase {
        MEASURE => m.start.set(Some(Mark::now(m))),
        STOP => {
            let end = Mark::now(m);
            if let Some(start) = m.start.get() {
                m.sample.set(Some(Sample {
                    cpu: end.thread - start.thread,
                    process: end.process - start.process,
                    echoes: (end.bytes - start.bytes) / MSG as u64,
                    turns: end.turns - start.turns,
                    wall: end.at - start.at,
                }));
            }
            PHASE.store(REPORTED, Ordering::Release);
        }
        _ => {}
    }
}

// ----- one run -----

#[derive(Clone, Copy, Debug)]
struct RunResult {
    server: Sample,
    /// The client thread's CPU over its view of the window.
    client: CpuTime,
}

impl RunResult {
    fn cpu_per_echo_us(&self) -> f64 {
        self.server.cpu.total().as_secs_f64() * 1e6 / self.server.echoes.max(1) as f64
    }
    fn user_per_echo_us(&self) -> f64 {
        self.server.cpu.user.as_secs_f64() * 1e6 / self.server.echoes.max(1) as f64
    }
    fn sys_per_echo_us(&self) -> f64 {
        self.server.cpu.sys.as_secs_f64() * 1e6 / self.server.echoes.max(1) as f64
    }
    fn echoes_per_s(&self) -> f64 {
        self.server.echoes as f64 / self.server.wall.as_secs_f64()
    }
    /// Server thread CPU over wall time: under 100% the server waited for the client.
    fn busy(&self) -> f64 {
        self.server.cpu.total().as_secs_f64() / self.server.wall.as_secs_f64()
    }
    /// CPU of threads other than the server and the client, per echo.
    fn other_per_echo_us(&self) -> f64 {
        let other = self
            .server
            .process
            .total()
            .saturating_sub(self.server.cpu.total())
            .saturating_sub(self.client.total());
        other.as_secs_f64() * 1e6 / self.server.echoes.max(1) as f64
    }
    /// Client thread CPU over wall time: near 100% the load generator was the bottleneck.
    fn client_busy(&self) -> f64 {
        self.client.total().as_secs_f64() / self.server.wall.as_secs_f64()
    }
    fn turns_per_echo(&self) -> f64 {
        self.server.turns as f64 / self.server.echoes.max(1) as f64
    }
}

/// A listening socket with a backlog large enough for every connection of a run.
fn listener() -> io::Result<TcpListener> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    // SAFETY: listen on a live socket fd owned by `l`; raises the backlog std chose (128).
    if unsafe { libc::listen(l.as_raw_fd(), 4096) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(l)
}

fn run(server: Server, conns: usize, o: &Opts) -> io::Result<RunResult> {
    PHASE.store(WARMUP, Ordering::Release);
    let l = listener()?;
    let addr = l.local_addr()?;
    let (core, ring_opts) = (o.server_core, o.ring.clone());
    let handle = std::thread::Builder::new()
        .name("echo-server".into())
        .spawn(move || -> io::Result<Option<Sample>> {
            pin_thread(core)?;
            serve(server, l, conns, &ring_opts)?;
            Ok(METER.with(|m| m.sample.get()))
        })?;
    let client = load(addr, conns, o, &handle);
    let server_res = handle
        .join()
        .map_err(|_| io::Error::other("server thread panicked"))?;
    let client = client?;
    let sample = server_res?.ok_or_else(|| io::Error::other("server reported nothing"))?;
    Ok(RunResult {
        server: sample,
        client,
    })
}

// ----- the load generator (this thread) -----

/// Connects `conns` times, keeps `--window` messages in flight on each, drives the phases, then closes
/// every connection. Returns the client thread's CPU time over the measured window.
fn load(
    addr: SocketAddr,
    conns: usize,
    o: &Opts,
    server: &std::thread::JoinHandle<io::Result<Option<Sample>>>,
) -> io::Result<CpuTime> {
    let mut socks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        socks.push(s);
    }
    let ep = Epoll::new()?;
    for (i, s) in socks.iter().enumerate() {
        ep.add(s.as_raw_fd(), i as u64)?;
    }
    let msg = [0x5au8; MSG];
    for s in &socks {
        for _ in 0..o.window {
            send_all(s.as_raw_fd(), &msg)?;
        }
    }
    let mut pending = vec![0usize; conns];
    let mut buf = [0u8; 4096];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let t0 = Instant::now();
    let warm_end = t0 + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.secs);
    let mut state = WARMUP;
    let mut cpu0 = CpuTime::default();
    loop {
        let n = ep.wait(&mut events, 10)?;
        for ev in &events[..n] {
            let i = ev.u64 as usize;
            let fd = socks[i].as_raw_fd();
            // SAFETY: reads into a live local buffer of the given length from an open socket.
            let r = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    continue;
                }
                return Err(e);
            }
            if r == 0 {
                return Err(io::Error::other("server closed a connection"));
            }
            pending[i] += r as usize;
            while pending[i] >= MSG {
                pending[i] -= MSG;
                send_all(fd, &msg)?;
            }
        }
        let now = Instant::now();
        match state {
            WARMUP if now >= warm_end => {
                cpu0 = CpuTime::thread();
                PHASE.store(MEASURE, Ordering::Release);
                state = MEASURE;
            }
            MEASURE if now >= end => {
                PHASE.store(STOP, Ordering::Release);
                state = STOP;
            }
            STOP if PHASE.load(Ordering::Acquire) == REPORTED => {
                let cpu = CpuTime::thread() - cpu0;
                drop(socks); // EOF on every connection: the server ends
                return Ok(cpu);
            }
            STOP if server.is_finished() || now >= end + Duration::from_secs(10) => {
                return Err(io::Error::other("the server did not report"));
            }
            _ => {}
        }
    }
}

fn send_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: writes from a live buffer of the given length to an open socket.
        let r = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                std::hint::spin_loop();
                continue;
            }
            return Err(e);
        }
        buf = &buf[r as usize..];
    }
    Ok(())
}

/// A level-triggered epoll instance (client and raw epoll server).
struct Epoll {
    fd: std::os::fd::OwnedFd,
}

impl Epoll {
    fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes flags and returns a new fd or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh fd that nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { fd })
    }

    fn add(&self, fd: RawFd, data: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: data,
        };
        // SAFETY: a live epoll fd, an open fd and a live event the kernel copies.
        if unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn del(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: a live epoll fd; DEL ignores the event pointer.
        let r = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits up to `timeout_ms` (-1: forever); returns how many of `events` were filled.
    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        // SAFETY: the kernel writes at most `events.len()` entries into the live slice.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout_ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e);
        }
        Ok(n as usize)
    }
}

// ----- the servers (server thread) -----

fn serve(server: Server, l: TcpListener, conns: usize, ring: &ring::Opts) -> io::Result<()> {
    match server {
        Server::Sonic => sonic_rt::Builder::new().build()?.block_on(async move {
            let l = sonic_net::TcpListener::from_std(l)?;
            let mut tasks = Vec::with_capacity(conns);
            for _ in 0..conns {
                let (s, _) = l.accept().await?;
                s.set_nodelay(true)?;
                tasks.push(sonic_rt::spawn(echo_futures_io(s)));
            }
            for t in tasks {
                // A connection reset by the closing client is not an error of the bench.
                let _ = t.await;
            }
            Ok(())
        }),
        Server::Tokio => sonic_benches::tokio_rt()?.block_on(async move {
            l.set_nonblocking(true)?;
            let l = tokio::net::TcpListener::from_std(l)?;
            let mut tasks = Vec::with_capacity(conns);
            for _ in 0..conns {
                let (s, _) = l.accept().await?;
                s.set_nodelay(true)?;
                tasks.push(tokio::spawn(echo_tokio(s)));
            }
            for t in tasks {
                let _ = t.await;
            }
            Ok(())
        }),
        // monoio's defaults (1024 ring entries; the legacy driver wants non-blocking sockets).
        Server::MonoioUring => monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .build()?
            .block_on(monoio_server(l, conns)),
        Server::MonoioEpoll => {
            l.set_nonblocking(true)?;
            monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .build()?
                .block_on(monoio_server(l, conns))
        }
        Server::RawEpoll => raw_epoll(l, conns),
        Server::RawRing => ring::serve(l, conns, ring),
    }
}

async fn echo_futures_io(
    mut s: impl futures_util::AsyncRead + futures_util::AsyncWrite + Unpin,
) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
        echoed(n);
    }
}

async fn echo_tokio(mut s: tokio::net::TcpStream) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
        echoed(n);
    }
}

async fn monoio_server(l: TcpListener, conns: usize) -> io::Result<()> {
    let l = monoio::net::TcpListener::from_std(l)?;
    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        tasks.push(monoio::spawn(echo_monoio(s)));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

async fn echo_monoio(mut s: monoio::net::TcpStream) -> io::Result<()> {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    // monoio's I/O takes buffers by value (completion model) and hands them back.
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (res, b) = s.read(buf).await;
        let n = res?;
        if n == 0 {
            return Ok(());
        }
        let (res, mut b) = s.write_all(b).await;
        res?;
        echoed(n);
        b.clear();
        buf = b;
    }
}

/// Level-triggered epoll, one `recv` per readiness event and one `send`: the fewest syscalls a
/// readiness-model server makes per echo (a short read proves the socket drained).
fn raw_epoll(l: TcpListener, conns: usize) -> io::Result<()> {
    let mut socks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (s, _) = l.accept()?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        socks.push(Some(s));
    }
    let ep = Epoll::new()?;
    for (i, s) in socks.iter().enumerate() {
        ep.add(s.as_ref().expect("open").as_raw_fd(), i as u64)?;
    }
    let mut live = conns;
    let mut buf = [0u8; 4096];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    while live > 0 {
        let n = ep.wait(&mut events, -1)?;
        turn();
        for ev in &events[..n] {
            let i = ev.u64 as usize;
            let Some(s) = &socks[i] else { continue };
            let fd = s.as_raw_fd();
            // SAFETY: reads into a live local buffer of the given length from an open socket.
            let r = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if r > 0 {
                send_all(fd, &buf[..r as usize])?;
                echoed(r as usize);
                continue;
            }
            if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock {
                continue;
            }
            // EOF or reset: the client is done with this connection.
            ep.del(fd)?;
            socks[i] = None;
            live -= 1;
        }
    }
    Ok(())
}

/// The raw io_uring echo server: the batched socket path issue 16 proposes, without a runtime.
mod ring {
    use super::{echoed, turn};
    use io_uring::{cqueue, opcode, squeue, types, IoUring};
    use std::io;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicU16, Ordering};

    /// Ring setup flags.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Setup {
        /// `SINGLE_ISSUER | DEFER_TASKRUN`: completions are produced only inside our
        /// `io_uring_enter` (no task-work interrupts of the thread).
        Defer,
        /// `COOP_TASKRUN | TASKRUN_FLAG`.
        Coop,
        /// No flags.
        Plain,
    }

    #[derive(Clone, Debug)]
    pub struct Opts {
        pub setup: Setup,
        pub fixed_files: bool,
        pub register_ring_fd: bool,
        /// Provided buffers in the ring (a power of two).
        pub bufs: u16,
        /// Completions each `io_uring_enter` waits for (at least 1; more makes bigger batches,
        /// safe only in this closed loop, where every connection's message comes back).
        pub batch: usize,
    }

    impl Default for Opts {
        fn default() -> Opts {
            Opts {
                setup: Setup::Defer,
                fixed_files: false,
                register_ring_fd: false,
                bufs: 4096,
                batch: 1,
            }
        }
    }

    const BUF_SIZE: usize = 2048;
    const BGID: u16 = 0;
    const RECV: u64 = 0;
    const SEND: u64 = 1;

    struct Conn {
        fd: i32,
        /// What is being sent (copied out of the provided buffer, as sonic would copy into the
        /// user's buffer), and how much of it went.
        out: Vec<u8>,
        sent: usize,
        sending: bool,
        /// Received while a send was in flight.
        pending: Vec<u8>,
        open: bool,
    }

    /// The provided-buffer ring: `entries` descriptors in page-aligned memory shared with the
    /// kernel, and the buffers they point to.
    struct BufRing {
        ring: *mut types::BufRingEntry,
        ring_len: usize,
        bufs: Vec<u8>,
        mask: u16,
        tail: u16,
    }

    impl BufRing {
        fn new(entries: u16) -> io::Result<BufRing> {
            let ring_len = entries as usize * std::mem::size_of::<types::BufRingEntry>();
            // SAFETY: an anonymous private mapping; the kernel picks the (page-aligned) address.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    ring_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let mut br = BufRing {
                ring: ptr.cast(),
                ring_len,
                bufs: vec![0u8; entries as usize * BUF_SIZE],
                mask: entries - 1,
                tail: 0,
            };
            for bid in 0..entries {
                br.put(bid);
            }
            br.publish();
            Ok(br)
        }

        /// Queues buffer `bid` for the kernel again (visible after [`BufRing::publish`]).
        fn put(&mut self, bid: u16) {
            let slot = (self.tail & self.mask) as usize;
            // SAFETY: `slot` < entries, inside the mapping; the kernel reads only slots between
            // its head and the published tail, and this one is past the published tail.
            let e = unsafe { &mut *self.ring.add(slot) };
            e.set_addr(self.bufs.as_ptr() as u64 + bid as u64 * BUF_SIZE as u64);
            e.set_len(BUF_SIZE as u32);
            e.set_bid(bid);
            self.tail = self.tail.wrapping_add(1);
        }

        /// Publishes the tail: the kernel may use every buffer put so far.
        fn publish(&self) {
            // SAFETY: the tail is the u16 `resv` field of the first entry, in the live mapping,
            // and only ever accessed atomically once the ring is registered.
            let tail = unsafe { &*(types::BufRingEntry::tail(self.ring).cast::<AtomicU16>()) };
            tail.store(self.tail, Ordering::Release);
        }

        fn buf(&self, bid: u16, len: usize) -> &[u8] {
            let at = bid as usize * BUF_SIZE;
            &self.bufs[at..at + len]
        }
    }

    impl Drop for BufRing {
        fn drop(&mut self) {
            // SAFETY: unmaps the mapping made in `new`, after the ring using it is gone.
            unsafe { libc::munmap(self.ring.cast(), self.ring_len) };
        }
    }

    fn recv_sqe(c: &Conn, i: usize, fixed: bool) -> squeue::Entry {
        let e = if fixed {
            opcode::RecvMulti::new(types::Fixed(i as u32), BGID).build()
        } else {
            opcode::RecvMulti::new(types::Fd(c.fd), BGID).build()
        };
        e.user_data(((i as u64) << 1) | RECV)
    }

    fn send_sqe(c: &Conn, i: usize, fixed: bool) -> squeue::Entry {
        let (ptr, len) = (c.out[c.sent..].as_ptr(), (c.out.len() - c.sent) as u32);
        let e = if fixed {
            opcode::Send::new(types::Fixed(i as u32), ptr, len)
                .flags(libc::MSG_NOSIGNAL)
                .build()
        } else {
            opcode::Send::new(types::Fd(c.fd), ptr, len)
                .flags(libc::MSG_NOSIGNAL)
                .build()
        };
        e.user_data(((i as u64) << 1) | SEND)
    }

    pub fn serve(l: TcpListener, conns: usize, o: &Opts) -> io::Result<()> {
        let mut socks = Vec::with_capacity(conns);
        for _ in 0..conns {
            let (s, _) = l.accept()?;
            s.set_nodelay(true)?;
            socks.push(s);
        }
        let sq_entries = (2 * conns).next_power_of_two().max(256) as u32;
        let mut b = IoUring::builder();
        match o.setup {
            Setup::Defer => {
                b.setup_single_issuer().setup_defer_taskrun();
            }
            Setup::Coop => {
                b.setup_coop_taskrun().setup_taskrun_flag();
            }
            Setup::Plain => {}
        }
        b.setup_cqsize(4 * sq_entries);
        let mut ring: IoUring = b.build(sq_entries)?;
        let fds: Vec<i32> = socks.iter().map(|s| s.as_raw_fd()).collect();
        if o.fixed_files {
            ring.submitter().register_files(&fds)?;
        }
        let mut br = BufRing::new(o.bufs)?;
        // SAFETY: the descriptor ring stays mapped (and `br.bufs` allocated) until after `ring`
        // is dropped at the end of this function (declared after `br`, dropped first).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(br.ring as u64, o.bufs, BGID, 0)?;
        }
        let mut c: Vec<Conn> = fds
            .iter()
            .map(|&fd| Conn {
                fd,
                out: Vec::with_capacity(4096),
                sent: 0,
                sending: false,
                pending: Vec::with_capacity(4096),
                open: true,
            })
            .collect();
        let fixed = o.fixed_files;
        let (mut submitter, mut sq, mut cq) = ring.split();
        if o.register_ring_fd {
            submitter.register_ring_fd()?;
        }
        let queue = |sq: &mut squeue::SubmissionQueue<'_>, e: squeue::Entry| {
            // SAFETY: every buffer an entry points to (a connection's `out`) stays untouched
            // and alive until its completion: a connection's `out` is rewritten only once
            // `sending` is false, and `c` outlives the ring.
            while unsafe { sq.push(&e) }.is_err() {
                sq.sync();
                submitter.submit()?;
                sq.sync();
            }
            io::Result::Ok(())
        };
        for (i, conn) in c.iter().enumerate() {
            queue(&mut sq, recv_sqe(conn, i, fixed))?;
        }
        let mut live = conns;
        while live > 0 {
            sq.sync();
            match submitter.submit_and_wait(o.batch.clamp(1, live)) {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
                Err(e) => return Err(e),
            }
            turn();
            cq.sync();
            let mut returned = false;
            for cqe in &mut cq {
                let (i, kind) = ((cqe.user_data() >> 1) as usize, cqe.user_data() & 1);
                let (res, flags) = (cqe.result(), cqe.flags());
                let conn = &mut c[i];
                if kind == RECV {
                    if let Some(bid) = cqueue::buffer_select(flags) {
                        if res > 0 && conn.open {
                            let data = br.buf(bid, res as usize);
                            if conn.sending {
                                conn.pending.extend_from_slice(data);
                            } else {
                                conn.out.clear();
                                conn.out.extend_from_slice(data);
                                conn.sent = 0;
                                conn.sending = true;
                                queue(&mut sq, send_sqe(conn, i, fixed))?;
                            }
                        }
                        br.put(bid);
                        returned = true;
                    }
                    if res == 0 || (res < 0 && res != -libc::ENOBUFS) {
                        // EOF or an error (reset): the client is done with this connection.
                        if conn.open {
                            conn.open = false;
                            live -= 1;
                        }
                    } else if !cqueue::more(flags) && conn.open {
                        // The multishot receive ended (e.g. the buffer ring ran dry): re-arm.
                        queue(&mut sq, recv_sqe(conn, i, fixed))?;
                    }
                } else {
                    if res < 0 {
                        conn.sending = false;
                        if conn.open {
                            conn.open = false;
                            live -= 1;
                        }
                        continue;
                    }
                    conn.sent += res as usize;
                    echoed(res as usize);
                    if conn.sent < conn.out.len() {
                        queue(&mut sq, send_sqe(conn, i, fixed))?;
                    } else if !conn.pending.is_empty() && conn.open {
                        std::mem::swap(&mut conn.out, &mut conn.pending);
                        conn.pending.clear();
                        conn.sent = 0;
                        queue(&mut sq, send_sqe(conn, i, fixed))?;
                    } else {
                        conn.sending = false;
                    }
                }
            }
            if returned {
                br.publish();
            }
        }
        // In-flight sends on closed connections may still point into `c`: tear the ring down
        // (cancels and waits for everything) before the buffers go.
        drop((submitter, sq, cq));
        drop(ring);
        drop(c);
        drop(br);
        drop(socks);
        Ok(())
    }
}

// ----- main -----

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() -> io::Result<()> {
    let o = parse_opts()?;
    pin_thread(o.client_core)?;
    println!(
        "echo_cpu: {MSG} B echoes over loopback, server thread on CPU {}, epoll load generator on \
         CPU {} (closed loop, {} message(s) in flight per connection), {} s measured after {} s \
         warm-up, {} runs per server, interleaved; raw ring: {:?}; load average {}",
        o.server_core,
        o.client_core,
        o.window,
        o.secs,
        o.warmup,
        o.runs,
        o.ring,
        loadavg()
    );
    let mut verdict = Vec::new();
    for &conns in &o.conns {
        let results = interleaved(o.servers.len(), o.runs, |i| run(o.servers[i], conns, &o))?;
        println!();
        println!(
            "{conns} connections (µs of server thread CPU per echo; medians over runs, [min-max])"
        );
        println!(
            "{:<24} {:>7} {:>15} {:>6} {:>6} {:>9} {:>6} {:>6} {:>7} {:>7} {:>9}",
            "server",
            "CPU/echo",
            "[min-max]",
            "user",
            "sys",
            "echoes/s",
            "busy",
            "client",
            "other",
            "turns/e",
            "vs tokio"
        );
        let tokio = o
            .servers
            .iter()
            .position(|&s| s == Server::Tokio)
            .map(|t| median(results[t].iter().map(RunResult::cpu_per_echo_us).collect()));
        for (s, runs) in o.servers.iter().zip(&results) {
            let per: Vec<f64> = runs.iter().map(RunResult::cpu_per_echo_us).collect();
            let (lo, hi) = (
                per.iter().copied().fold(f64::MAX, f64::min),
                per.iter().copied().fold(0.0, f64::max),
            );
            let med = median(per.clone());
            let m = |f: fn(&RunResult) -> f64| median(runs.iter().map(f).collect());
            let ratio = tokio.map(|t| med / t);
            println!(
                "{:<24} {:>7.3} {:>15} {:>6.3} {:>6.3} {:>9.0} {:>5.0}% {:>5.0}% {:>7.3} {:>7.3} {:>9}",
                s.name(),
                med,
                format!("[{lo:.3}-{hi:.3}]"),
                m(RunResult::user_per_echo_us),
                m(RunResult::sys_per_echo_us),
                m(RunResult::echoes_per_s),
                m(RunResult::busy) * 100.0,
                m(RunResult::client_busy) * 100.0,
                m(RunResult::other_per_echo_us),
                m(RunResult::turns_per_echo),
                ratio.map_or("-".into(), |r| format!("{r:.2}x")),
            );
            if *s == Server::RawRing {
                if let Some(r) = ratio {
                    verdict.push((conns, r));
                }
            }
        }
        println!("load average now {}", loadavg());
    }
    for (conns, r) in verdict {
        println!(
            "goal (issue 16): raw io_uring CPU per echo at {conns} connections {r:.2}x tokio's \
             (<= 0.70x: {})",
            if r <= 0.70 { "met" } else { "NOT met" }
        );
    }
    Ok(())
}
