//! Local sync primitives: sonic-rt's `Mutex`, `Semaphore`, `watch` and `broadcast` against
//! tokio's on its current_thread runtime, in one run.
//!
//! `cargo bench -p sonic-benches --bench sync_local` (options after `--`: `--n 1000000`,
//! `--runs 5`, `--filter watch` for the cases whose name contains `watch`, `--only sonic` or
//! `--only tokio`). Every case runs `--runs` times per runtime, interleaved; the figure is the
//! median ns per operation, with the best run in brackets.
//!
//! Each body runs inside one spawned task on a fresh runtime. tokio runs each case twice, with
//! `tokio::spawn` and with `LocalSet` + `spawn_local`, and the ratio uses the faster. The cases:
//! - mutex: lock, add one, unlock; no other task wants the lock.
//! - semaphore: acquire one permit, drop it; plenty of permits.
//! - watch, same task: `send`, then `changed` (ready at once) and `borrow_and_update`.
//! - watch, ping-pong: two tasks and two watch channels; one op = one value there and back
//!   (two sends, two wakes, two `changed`).
//! - broadcast to 16: 16 receiver tasks; the sender sends a batch of 32 values (the capacity is
//!   64, so nobody lags) and yields until all 16 have received the batch; one op = one value sent
//!   and received (cloned) by all 16 receivers.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One benchmark body: takes the operation count, returns the time it measured.
type Body = fn(usize) -> Duration;

struct Case {
    name: &'static str,
    /// Operations per run, as a fraction of `--n` (the broadcast case does 16 receives per op).
    scale: usize,
    sonic: Body,
    tokio: Body,
    tokio_local: Body,
}

const CASES: &[Case] = &[
    Case {
        name: "Mutex lock+unlock, uncontended",
        scale: 1,
        sonic: sonic::mutex,
        tokio: |n| tokio_rt::run(false, tokio_rt::mutex(n)),
        tokio_local: |n| tokio_rt::run(true, tokio_rt::mutex(n)),
    },
    Case {
        name: "Semaphore acquire+release",
        scale: 1,
        sonic: sonic::semaphore,
        tokio: |n| tokio_rt::run(false, tokio_rt::semaphore(n)),
        tokio_local: |n| tokio_rt::run(true, tokio_rt::semaphore(n)),
    },
    Case {
        name: "watch send+changed, same task",
        scale: 1,
        sonic: sonic::watch_same_task,
        tokio: |n| tokio_rt::run(false, tokio_rt::watch_same_task(n)),
        tokio_local: |n| tokio_rt::run(true, tokio_rt::watch_same_task(n)),
    },
    Case {
        name: "watch send+changed, ping-pong",
        scale: 4,
        sonic: sonic::watch_ping_pong,
        tokio: |n| tokio_rt::run(false, tokio_rt::watch_ping_pong(n, false)),
        tokio_local: |n| tokio_rt::run(true, tokio_rt::watch_ping_pong(n, true)),
    },
    Case {
        name: "broadcast to 16 receivers",
        scale: 10,
        sonic: sonic::broadcast16,
        tokio: |n| tokio_rt::run(false, tokio_rt::broadcast16(n, false)),
        tokio_local: |n| tokio_rt::run(true, tokio_rt::broadcast16(n, true)),
    },
];

const RECEIVERS: usize = 16;
const BATCH: usize = 32;
const CAPACITY: usize = 64;

fn main() {
    let mut n = 1_000_000;
    let mut runs = 5;
    let mut filter = String::new();
    let mut only = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--n" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--n takes a number")
            }
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--runs takes a number")
            }
            "--filter" => {
                filter = args
                    .next()
                    .expect("--filter takes a substring of a case name")
            }
            "--only" => only = args.next().expect("--only takes sonic or tokio"),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    assert!(n > 0 && runs > 0, "--n and --runs must be positive");
    let (run_sonic, run_tokio) = match only.as_str() {
        "" => (true, true),
        "sonic" => (true, false),
        "tokio" => (false, true),
        other => panic!("--only takes sonic or tokio, not {other}"),
    };
    println!("sync_local: N = {n}, {runs} runs per runtime (interleaved); median ns/op [best]");
    println!(
        "{:<34} {:>15} {:>15} {:>11}  tokio variant",
        "case", "sonic", "tokio", "tokio/sonic"
    );
    for case in CASES.iter().filter(|c| c.name.contains(filter.as_str())) {
        let ops = (n / case.scale).max(BATCH);
        let (mut sonic, mut spawned, mut local) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            if run_sonic {
                sonic.push(per_op(case.sonic, ops));
            }
            if run_tokio {
                spawned.push(per_op(case.tokio, ops));
                local.push(per_op(case.tokio_local, ops));
            }
        }
        let (s_med, s_min) = median_min(&mut sonic);
        let (sp_med, sp_min) = median_min(&mut spawned);
        let (lo_med, lo_min) = median_min(&mut local);
        let ((label, t_med, t_min), (other, o_med)) = if lo_med < sp_med {
            (("LocalSet", lo_med, lo_min), ("spawn", sp_med))
        } else {
            (("spawn", sp_med, sp_min), ("LocalSet", lo_med))
        };
        println!(
            "{:<34} {:>15} {:>15} {:>10.2}x  {label} (slower: {other} {o_med:.1})",
            case.name,
            format!("{s_med:.1} [{s_min:.1}]"),
            format!("{t_med:.1} [{t_min:.1}]"),
            t_med / s_med,
        );
    }
}

fn per_op(body: Body, n: usize) -> f64 {
    // A pause between measurements keeps a run under `chrt -f` below the kernel's real-time
    // throttling (950 ms of every second), which would otherwise stall a measurement for 50 ms.
    std::thread::sleep(Duration::from_millis(100));
    body(n).as_nanos() as f64 / n as f64
}

/// The median and the best of `samples` (NaN for a side that `--only` skipped).
fn median_min(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    match samples.first() {
        Some(&min) => (samples[samples.len() / 2], min),
        None => (f64::NAN, f64::NAN),
    }
}

mod sonic {
    use super::*;
    use sonic_rt::sync::{broadcast, watch, Mutex, Semaphore};
    use sonic_rt::task::yield_now;
    use std::cell::Cell;
    use std::rc::Rc;

    fn run<T: 'static>(body: impl Future<Output = T> + 'static) -> T {
        let rt = sonic_rt::Builder::new()
            .busy_poll(false)
            .build()
            .expect("sonic runtime");
        rt.block_on(async move { sonic_rt::spawn(body).await.expect("bench task") })
    }

    pub(super) fn mutex(n: usize) -> Duration {
        run(async move {
            let mutex = Mutex::new(0u64);
            let start = Instant::now();
            for _ in 0..n {
                *mutex.lock().await += 1;
            }
            let elapsed = start.elapsed();
            assert_eq!(mutex.into_inner(), n as u64);
            elapsed
        })
    }

    pub(super) fn semaphore(n: usize) -> Duration {
        run(async move {
            let semaphore = Semaphore::new(16);
            let start = Instant::now();
            for _ in 0..n {
                drop(black_box(semaphore.acquire().await.unwrap()));
            }
            start.elapsed()
        })
    }

    pub(super) fn watch_same_task(n: usize) -> Duration {
        run(async move {
            let (tx, mut rx) = watch::channel(0u64);
            let start = Instant::now();
            for i in 0..n as u64 {
                tx.send(i).unwrap();
                rx.changed().await.unwrap();
                black_box(*rx.borrow_and_update());
            }
            start.elapsed()
        })
    }

    pub(super) fn watch_ping_pong(n: usize) -> Duration {
        run(async move {
            let (ping_tx, mut ping_rx) = watch::channel(0u64);
            let (pong_tx, mut pong_rx) = watch::channel(0u64);
            let echo = sonic_rt::spawn(async move {
                while ping_rx.changed().await.is_ok() {
                    let value = *ping_rx.borrow_and_update();
                    pong_tx.send(value).unwrap();
                }
            });
            let start = Instant::now();
            for i in 1..=n as u64 {
                ping_tx.send(i).unwrap();
                pong_rx.changed().await.unwrap();
                assert_eq!(*pong_rx.borrow_and_update(), i);
            }
            let elapsed = start.elapsed();
            drop(ping_tx);
            echo.await.unwrap();
            elapsed
        })
    }

    pub(super) fn broadcast16(n: usize) -> Duration {
        run(async move {
            let (tx, rx) = broadcast::channel::<u64>(CAPACITY);
            let received = Rc::new(Cell::new(0usize));
            let receivers: Vec<_> = (0..RECEIVERS)
                .map(|_| {
                    let (mut rx, received) = (rx.resubscribe(), Rc::clone(&received));
                    sonic_rt::spawn(async move {
                        let mut sum = 0u64;
                        while let Ok(value) = rx.recv().await {
                            sum = sum.wrapping_add(value);
                            received.set(received.get() + 1);
                        }
                        black_box(sum);
                    })
                })
                .collect();
            drop(rx);
            yield_now().await;
            let start = Instant::now();
            let mut sent = 0;
            while sent < n {
                for _ in 0..BATCH {
                    tx.send(sent as u64).unwrap();
                    sent += 1;
                }
                while received.get() < sent * RECEIVERS {
                    yield_now().await;
                }
            }
            let elapsed = start.elapsed();
            drop(tx);
            for receiver in receivers {
                receiver.await.unwrap();
            }
            elapsed * n as u32 / sent as u32
        })
    }
}

mod tokio_rt {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::sync::{broadcast, watch, Mutex, Semaphore};
    use tokio::task::{yield_now, JoinHandle};

    /// Runs `body` in a task on a fresh current_thread runtime: spawned with `tokio::spawn`, or
    /// in a `LocalSet` with `spawn_local` if `local`.
    pub(super) fn run(
        local: bool,
        body: impl Future<Output = Duration> + Send + 'static,
    ) -> Duration {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        if local {
            let set = tokio::task::LocalSet::new();
            set.block_on(&runtime, async move {
                tokio::task::spawn_local(body).await.expect("bench task")
            })
        } else {
            runtime.block_on(async move { tokio::spawn(body).await.expect("bench task") })
        }
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(local: bool, future: F) -> JoinHandle<()> {
        if local {
            tokio::task::spawn_local(future)
        } else {
            tokio::spawn(future)
        }
    }

    pub(super) async fn mutex(n: usize) -> Duration {
        let mutex = Mutex::new(0u64);
        let start = Instant::now();
        for _ in 0..n {
            *mutex.lock().await += 1;
        }
        let elapsed = start.elapsed();
        assert_eq!(mutex.into_inner(), n as u64);
        elapsed
    }

    pub(super) async fn semaphore(n: usize) -> Duration {
        let semaphore = Semaphore::new(16);
        let start = Instant::now();
        for _ in 0..n {
            drop(black_box(semaphore.acquire().await.unwrap()));
        }
        start.elapsed()
    }

    pub(super) async fn watch_same_task(n: usize) -> Duration {
        let (tx, mut rx) = watch::channel(0u64);
        let start = Instant::now();
        for i in 0..n as u64 {
            tx.send(i).unwrap();
            rx.changed().await.unwrap();
            black_box(*rx.borrow_and_update());
        }
        start.elapsed()
    }

    pub(super) async fn watch_ping_pong(n: usize, local: bool) -> Duration {
        let (ping_tx, mut ping_rx) = watch::channel(0u64);
        let (pong_tx, mut pong_rx) = watch::channel(0u64);
        let echo = spawn(local, async move {
            while ping_rx.changed().await.is_ok() {
                let value = *ping_rx.borrow_and_update();
                pong_tx.send(value).unwrap();
            }
        });
        let start = Instant::now();
        for i in 1..=n as u64 {
            ping_tx.send(i).unwrap();
            pong_rx.changed().await.unwrap();
            assert_eq!(*pong_rx.borrow_and_update(), i);
        }
        let elapsed = start.elapsed();
        drop(ping_tx);
        echo.await.unwrap();
        elapsed
    }

    pub(super) async fn broadcast16(n: usize, local: bool) -> Duration {
        let (tx, rx) = broadcast::channel::<u64>(CAPACITY);
        let received = Arc::new(AtomicUsize::new(0));
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|_| {
                let (mut rx, received) = (rx.resubscribe(), Arc::clone(&received));
                spawn(local, async move {
                    let mut sum = 0u64;
                    while let Ok(value) = rx.recv().await {
                        sum = sum.wrapping_add(value);
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    black_box(sum);
                })
            })
            .collect();
        drop(rx);
        yield_now().await;
        let start = Instant::now();
        let mut sent = 0;
        while sent < n {
            for _ in 0..BATCH {
                tx.send(sent as u64).unwrap();
                sent += 1;
            }
            while received.load(Ordering::Relaxed) < sent * RECEIVERS {
                yield_now().await;
            }
        }
        let elapsed = start.elapsed();
        drop(tx);
        for receiver in receivers {
            receiver.await.unwrap();
        }
        elapsed * n as u32 / sent as u32
    }
}
