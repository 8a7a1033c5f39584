//! `sonic_rt::sync::remote_mpsc`: values from a pinned producer thread to a task, against
//! tokio's mpsc (its current_thread runtime) and against the do-it-yourself way on sonic (a
//! crossbeam `ArrayQueue` plus one `Handle::post` per value to wake the task); and, on one
//! thread, what the `Send` channel costs against sonic's local `!Send` mpsc.
//!
//! `cargo bench -p sonic-benches --bench remote_mpsc` (options after `--`: `--count N` values
//! per latency run, `--warmup N`, `--gap-ns N` pause between latency values, `--n N` values per
//! throughput run, `--ops N` per one-thread run, `--runs R`, `--only latency|throughput|local`,
//! `--rt-core C`, `--tx-core C`, `--hist DIR`). Every mode runs `--runs` times, interleaved.
//!
//! - latency: the producer thread stamps a value with `Instant::now()`, sends it, and spins until
//!   the task has acknowledged it (an atomic), then pauses `--gap-ns` so the task is back waiting
//!   in `recv` when the next one comes. The task records `now - stamp`: the one-way hand-off,
//!   including the wake of a waiting task. Median of the runs' percentiles, in µs.
//! - throughput: the producer sends `--n` values as fast as it can (bounded: capacity 1024,
//!   `blocking_send`); the figure is values / (last receive - first send), median [best].
//! - local: one task sends and receives `--ops` values through a channel (capacity 1024), `send`
//!   then `recv`, both awaited; ns per send+recv, median [best].
//!
//! Modes: sonic's runtime busy-polls (it never sleeps in the kernel) unless marked "parked";
//! tokio's current_thread runtime parks when idle (it has no busy-poll mode).

use std::cell::RefCell;
use std::hint::{black_box, spin_loop};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use sonic_benches::{interleaved, pin_thread, tokio_rt, us, HistDir, Latency, Summary};

const CAPACITY: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    SonicBounded,
    SonicUnbounded,
    SonicParked,
    CrossbeamPost,
    TokioBounded,
    TokioUnbounded,
}

const MODES: [Mode; 6] = [
    Mode::SonicBounded,
    Mode::SonicUnbounded,
    Mode::SonicParked,
    Mode::CrossbeamPost,
    Mode::TokioBounded,
    Mode::TokioUnbounded,
];

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::SonicBounded => "sonic remote_mpsc bounded, busy-poll",
            Mode::SonicUnbounded => "sonic remote_mpsc unbounded, busy-poll",
            Mode::SonicParked => "sonic remote_mpsc unbounded, parked",
            Mode::CrossbeamPost => "crossbeam ArrayQueue + Handle::post, busy-poll",
            Mode::TokioBounded => "tokio mpsc bounded",
            Mode::TokioUnbounded => "tokio mpsc unbounded",
        }
    }
}

/// What the producer thread does; the receiving side records into `Received`.
#[derive(Clone, Copy)]
enum Job {
    /// One value at a time: `count` measured after `warmup`, a pause of `gap` after each ack.
    Latency {
        count: u64,
        warmup: u64,
        gap: Duration,
    },
    /// `count` values as fast as possible.
    Throughput { count: u64 },
}

impl Job {
    fn total(self) -> u64 {
        match self {
            Job::Latency { count, warmup, .. } => count + warmup,
            Job::Throughput { count } => count,
        }
    }
}

/// The receiving task's record.
struct Received {
    latency: Latency,
    last: Instant,
}

/// The receiving side of one value: records it, acknowledges it.
struct Sink {
    job: Job,
    ack: Arc<AtomicU64>,
    seen: u64,
    rec: Received,
}

impl Sink {
    fn new(job: Job, ack: Arc<AtomicU64>) -> Sink {
        Sink {
            job,
            ack,
            seen: 0,
            rec: Received {
                latency: Latency::new(),
                last: Instant::now(),
            },
        }
    }

    /// Takes one value; returns false once all have come.
    fn take(&mut self, stamp: Instant) -> bool {
        if let Job::Latency { warmup, .. } = self.job {
            let now = Instant::now();
            if self.seen >= warmup {
                self.rec.latency.record(now - stamp);
            }
            self.seen += 1;
            self.ack.store(self.seen, Ordering::Release);
        } else {
            self.seen += 1;
        }
        if self.seen == self.job.total() {
            self.rec.last = Instant::now();
            return false;
        }
        true
    }
}

/// The producer thread: pinned to `core`, it sends through `send` and returns when it first sent.
fn producer(
    core: usize,
    job: Job,
    ack: Arc<AtomicU64>,
    mut send: impl FnMut(Instant) + Send + 'static,
) -> thread::JoinHandle<Instant> {
    thread::spawn(move || {
        pin_thread(core).expect("pin the producer");
        match job {
            Job::Latency { gap, .. } => {
                let start = Instant::now();
                for i in 1..=job.total() {
                    send(Instant::now());
                    while ack.load(Ordering::Acquire) < i {
                        spin_loop();
                    }
                    let until = Instant::now() + gap;
                    while Instant::now() < until {
                        spin_loop();
                    }
                }
                start
            }
            Job::Throughput { count } => {
                let start = Instant::now();
                for _ in 0..count {
                    send(start);
                }
                start
            }
        }
    })
}

thread_local! {
    // The crossbeam mode's wake-up: the posted closure notifies the receiving task through it.
    static WAKE: RefCell<Option<Rc<sonic_rt::sync::Notify>>> = const { RefCell::new(None) };
}

fn post_wake() {
    WAKE.with(|wake| {
        if let Some(notify) = wake.borrow().as_ref() {
            notify.notify_one();
        }
    });
}

/// One run of `job` in `mode`; returns the task's record and when the producer started.
fn run(mode: Mode, job: Job, tx_core: usize) -> (Received, Instant) {
    let ack = Arc::new(AtomicU64::new(0));
    let sink = Sink::new(job, ack.clone());
    match mode {
        Mode::SonicBounded | Mode::SonicUnbounded | Mode::SonicParked => {
            let rt = sonic_rt::Builder::new()
                .busy_poll(mode != Mode::SonicParked)
                .build()
                .expect("sonic runtime");
            if mode == Mode::SonicBounded {
                let (tx, mut rx) = sonic_rt::sync::remote_mpsc::channel::<Instant>(CAPACITY);
                let p = producer(tx_core, job, ack, move |v| tx.blocking_send(v).unwrap());
                let rec = rt.block_on(async move {
                    let mut sink = sink;
                    while let Some(v) = rx.recv().await {
                        if !sink.take(v) {
                            break;
                        }
                    }
                    sink.rec
                });
                (rec, p.join().unwrap())
            } else {
                let (tx, mut rx) = sonic_rt::sync::remote_mpsc::unbounded_channel::<Instant>();
                let p = producer(tx_core, job, ack, move |v| tx.send(v).unwrap());
                let rec = rt.block_on(async move {
                    let mut sink = sink;
                    while let Some(v) = rx.recv().await {
                        if !sink.take(v) {
                            break;
                        }
                    }
                    sink.rec
                });
                (rec, p.join().unwrap())
            }
        }
        Mode::CrossbeamPost => {
            let rt = sonic_rt::Builder::new()
                .busy_poll(true)
                .build()
                .expect("sonic runtime");
            let queue = Arc::new(ArrayQueue::<Instant>::new(CAPACITY));
            let handle = rt.handle();
            let p = {
                let queue = queue.clone();
                producer(tx_core, job, ack, move |mut v| {
                    while let Err(back) = queue.push(v) {
                        v = back;
                        spin_loop();
                    }
                    handle.post(post_wake).unwrap();
                })
            };
            let rec = rt.block_on(async move {
                let notify = Rc::new(sonic_rt::sync::Notify::new());
                WAKE.with(|wake| *wake.borrow_mut() = Some(notify.clone()));
                let mut sink = sink;
                'outer: loop {
                    while let Some(v) = queue.pop() {
                        if !sink.take(v) {
                            break 'outer;
                        }
                    }
                    notify.notified().await;
                }
                WAKE.with(|wake| wake.borrow_mut().take());
                sink.rec
            });
            (rec, p.join().unwrap())
        }
        Mode::TokioBounded | Mode::TokioUnbounded => {
            let rt = tokio_rt().expect("tokio runtime");
            if mode == Mode::TokioBounded {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<Instant>(CAPACITY);
                let p = producer(tx_core, job, ack, move |v| tx.blocking_send(v).unwrap());
                let rec = rt.block_on(async move {
                    let mut sink = sink;
                    while let Some(v) = rx.recv().await {
                        if !sink.take(v) {
                            break;
                        }
                    }
                    sink.rec
                });
                (rec, p.join().unwrap())
            } else {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
                let p = producer(tx_core, job, ack, move |v| tx.send(v).unwrap());
                let rec = rt.block_on(async move {
                    let mut sink = sink;
                    while let Some(v) = rx.recv().await {
                        if !sink.take(v) {
                            break;
                        }
                    }
                    sink.rec
                });
                (rec, p.join().unwrap())
            }
        }
    }
}

/// The one-thread cost of a channel: one task, `send` then `recv`, `ops` times.
mod local {
    use super::*;

    async fn sonic_body(ops: u64, kind: &str) -> Duration {
        let start = Instant::now();
        match kind {
            "local bounded" => {
                let (tx, mut rx) = sonic_rt::sync::mpsc::channel::<u64>(CAPACITY);
                for i in 0..ops {
                    tx.send(i).await.unwrap();
                    black_box(rx.recv().await);
                }
            }
            "local unbounded" => {
                let (tx, mut rx) = sonic_rt::sync::mpsc::unbounded_channel::<u64>();
                for i in 0..ops {
                    tx.send(i).unwrap();
                    black_box(rx.recv().await);
                }
            }
            "remote bounded" => {
                let (tx, mut rx) = sonic_rt::sync::remote_mpsc::channel::<u64>(CAPACITY);
                for i in 0..ops {
                    tx.send(i).await.unwrap();
                    black_box(rx.recv().await);
                }
            }
            "remote unbounded" => {
                let (tx, mut rx) = sonic_rt::sync::remote_mpsc::unbounded_channel::<u64>();
                for i in 0..ops {
                    tx.send(i).unwrap();
                    black_box(rx.recv().await);
                }
            }
            _ => unreachable!(),
        }
        start.elapsed()
    }

    async fn tokio_body(ops: u64, bounded: bool) -> Duration {
        let start = Instant::now();
        if bounded {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
            for i in 0..ops {
                tx.send(i).await.unwrap();
                black_box(rx.recv().await);
            }
        } else {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            for i in 0..ops {
                tx.send(i).unwrap();
                black_box(rx.recv().await);
            }
        }
        start.elapsed()
    }

    pub(super) const KINDS: [&str; 6] = [
        "sonic local mpsc bounded",
        "sonic remote_mpsc bounded",
        "tokio mpsc bounded",
        "sonic local mpsc unbounded",
        "sonic remote_mpsc unbounded",
        "tokio mpsc unbounded",
    ];

    /// ns per send+recv of kind `k` (an index into `KINDS`).
    pub(super) fn run(k: usize, ops: u64) -> f64 {
        let elapsed = match k {
            0 | 1 | 3 | 4 => {
                let kind = [
                    "local bounded",
                    "remote bounded",
                    "",
                    "local unbounded",
                    "remote unbounded",
                ][k];
                let rt = sonic_rt::Runtime::new().expect("sonic runtime");
                rt.block_on(async move { sonic_rt::spawn(sonic_body(ops, kind)).await.unwrap() })
            }
            2 | 5 => {
                let rt = tokio_rt().expect("tokio runtime");
                rt.block_on(async move { tokio::spawn(tokio_body(ops, k == 2)).await.unwrap() })
            }
            _ => unreachable!(),
        };
        elapsed.as_nanos() as f64 / ops as f64
    }
}

fn median_min(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0])
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hist = HistDir::from_args(&mut args)?;
    let mut count = 20_000u64;
    let mut warmup = 2_000u64;
    let mut gap_ns = 2_000u64;
    let mut n = 1_000_000u64;
    let mut ops = 2_000_000u64;
    let mut runs = 5usize;
    let mut only = String::new();
    let (mut rt_core, mut tx_core) = (0usize, 1usize);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut num = |what: &str| -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} takes a number"))
        };
        match arg.as_str() {
            "--count" => count = num("--count"),
            "--warmup" => warmup = num("--warmup"),
            "--gap-ns" => gap_ns = num("--gap-ns"),
            "--n" => n = num("--n"),
            "--ops" => ops = num("--ops"),
            "--runs" => runs = num("--runs") as usize,
            "--rt-core" => rt_core = num("--rt-core") as usize,
            "--tx-core" => tx_core = num("--tx-core") as usize,
            "--only" => {
                only = it
                    .next()
                    .expect("--only takes latency, throughput or local")
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    assert!(
        count > 0 && n > 0 && ops > 0 && runs > 0,
        "counts must be positive"
    );
    // The runtimes run on this thread.
    pin_thread(rt_core)?;
    let wants = |what: &str| only.is_empty() || only == what;

    if wants("latency") {
        let job = Job::Latency {
            count,
            warmup,
            gap: Duration::from_nanos(gap_ns),
        };
        println!(
            "remote_mpsc latency: producer thread on CPU {tx_core} -> task on CPU {rt_core}, \
             {count} values per run after {warmup} warm-up, {gap_ns} ns apart, {runs} runs \
             (interleaved); median of the runs' percentiles, µs"
        );
        let results = interleaved(MODES.len(), runs, |m| {
            Ok(run(MODES[m], job, tx_core).0.latency)
        })?;
        println!(
            "{:<48} {:>8} {:>8} {:>8} {:>8} {:>9}",
            "mode", "p50", "p90", "p99", "p99.9", "max"
        );
        for (m, lats) in results.iter().enumerate() {
            let s = Summary::median_of(&lats.iter().map(Latency::summary).collect::<Vec<_>>());
            println!(
                "{:<48} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2}",
                MODES[m].label(),
                us(s.p50),
                us(s.p90),
                us(s.p99),
                us(s.p999),
                us(s.max)
            );
        }
        if let Some(hist) = &hist {
            let merged: Vec<Latency> = results.iter().map(Latency::merged).collect();
            let series: Vec<(&str, &Latency)> =
                MODES.iter().map(|m| m.label()).zip(merged.iter()).collect();
            hist.write_chart(
                "remote_mpsc-latency",
                "remote_mpsc: one-way hand-off, thread -> task",
                &series,
            )?;
        }
    }

    if wants("throughput") {
        let job = Job::Throughput { count: n };
        println!(
            "\nremote_mpsc throughput: {n} values per run from a thread on CPU {tx_core} to a task \
             on CPU {rt_core}, {runs} runs (interleaved); millions of values/s, median [best]"
        );
        let results = interleaved(MODES.len(), runs, |m| {
            let (rec, start) = run(MODES[m], job, tx_core);
            Ok(n as f64 / (rec.last - start).as_secs_f64() / 1e6)
        })?;
        let sonic = {
            let mut r = results[0].clone();
            median_min(&mut r).0
        };
        println!("{:<48} {:>16} {:>12}", "mode", "Mvalues/s", "vs sonic bnd");
        for (m, r) in results.iter().enumerate() {
            let mut r = r.clone();
            let (med, best) = median_min(&mut r);
            let best = r.last().copied().unwrap_or(best);
            println!(
                "{:<48} {:>7.2} [{:>6.2}] {:>11.2}x",
                MODES[m].label(),
                med,
                best,
                med / sonic
            );
        }
    }

    if wants("local") {
        println!(
            "\none thread: a task sends and receives {ops} values (send, then recv, both \
             awaited), {runs} runs (interleaved); ns per send+recv, median [best]"
        );
        let results = interleaved(local::KINDS.len(), runs, |k| Ok(local::run(k, ops)))?;
        println!("{:<48} {:>16}", "channel", "ns/op");
        for (k, r) in results.iter().enumerate() {
            let mut r = r.clone();
            let (med, best) = median_min(&mut r);
            println!("{:<48} {:>7.1} [{:>6.1}]", local::KINDS[k], med, best);
        }
    }
    Ok(())
}
