//! Spawn and timer throughput: sonic-rt against tokio's current_thread runtime, in one run.
//!
//! `cargo bench -p sonic-benches --bench spawn_timers` (options after `--`: `--n 100000`,
//! `--runs 3`, `--filter fire` for the cases whose name contains `fire`, `--only sonic` or
//! `--only tokio` to run one side, for a profiler). Every case runs `--runs` times per runtime,
//! interleaved; the figure is the median ns per operation, with the best run in brackets.
//!
//! Each body runs inside one spawned task on a fresh runtime, so wakes are task wakes for both
//! runtimes (a wake of tokio's `block_on` future writes to an eventfd; a task wake does not).
//! tokio is `new_current_thread().enable_all()`, its tasks spawned with `tokio::spawn`; the
//! spawn cases also run tokio's `LocalSet` + `spawn_local`, and the ratio uses the faster tokio.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Timers in the fire case start firing this long after the first one is created (1 µs per timer,
/// at least 50 ms), so that all of them are registered before any is due; the idle wait until the
/// first deadline is subtracted from the measurement.
fn fire_lead(n: usize) -> Duration {
    Duration::from_micros(n as u64).max(Duration::from_millis(50))
}
/// The fire case spreads its deadlines evenly over this span.
const FIRE_SPAN: Duration = Duration::from_millis(5);
/// How far in the future the cancel and reset cases put their deadlines.
const FAR: Duration = Duration::from_secs(1);

/// One benchmark body: takes the operation count, returns the time it measured.
type Body = fn(usize) -> Duration;

struct Case {
    name: &'static str,
    sonic: Body,
    tokio: &'static [(&'static str, Body)],
}

const CASES: &[Case] = &[
    Case {
        name: "spawn+join, spawn all then await all",
        sonic: sonic::spawn_all,
        tokio: &[
            ("spawn", tokio_rt::spawn_all),
            ("LocalSet", tokio_rt::spawn_all_local),
        ],
    },
    Case {
        name: "spawn+join, one at a time (chained)",
        sonic: sonic::spawn_chained,
        tokio: &[
            ("spawn", tokio_rt::spawn_chained),
            ("LocalSet", tokio_rt::spawn_chained_local),
        ],
    },
    Case {
        name: "timer create+cancel, one live",
        sonic: sonic::cancel_one,
        tokio: &[("spawn", tokio_rt::cancel_one)],
    },
    Case {
        name: "timer create+cancel, all N live",
        sonic: sonic::cancel_all,
        tokio: &[("spawn", tokio_rt::cancel_all)],
    },
    Case {
        name: "timer create+fire, N over 5 ms",
        sonic: sonic::fire,
        tokio: &[("spawn", tokio_rt::fire)],
    },
    Case {
        name: "timer reset, always later",
        sonic: sonic::reset_later,
        tokio: &[("spawn", tokio_rt::reset_later)],
    },
    Case {
        name: "timer reset, earlier/later",
        sonic: sonic::reset_alternating,
        tokio: &[("spawn", tokio_rt::reset_alternating)],
    },
];

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
    println!("spawn_timers: N = {n}, {runs} runs per runtime (interleaved); median ns/op [best]");
    println!(
        "{:<38} {:>17} {:>17} {:>11}  tokio variant",
        "case", "sonic", "tokio", "tokio/sonic"
    );
    let (run_sonic, run_tokio) = match only.as_str() {
        "" => (true, true),
        "sonic" => (true, false),
        "tokio" => (false, true),
        other => panic!("--only takes sonic or tokio, not {other}"),
    };
    for case in CASES.iter().filter(|c| c.name.contains(filter.as_str())) {
        let mut sonic = Vec::new();
        let mut tokio = vec![Vec::new(); case.tokio.len()];
        for _ in 0..runs {
            if run_sonic {
                sonic.push(per_op(case.sonic, n));
            }
            for (samples, (_, body)) in tokio.iter_mut().zip(case.tokio).filter(|_| run_tokio) {
                samples.push(per_op(*body, n));
            }
        }
        let (s_med, s_min) = median_min(&mut sonic);
        let mut tokio: Vec<(&str, f64, f64)> = tokio
            .iter_mut()
            .zip(case.tokio)
            .map(|(samples, (label, _))| {
                let (med, min) = median_min(samples);
                (*label, med, min)
            })
            .collect();
        tokio.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (label, t_med, t_min) = tokio[0];
        let others: Vec<String> = tokio[1..]
            .iter()
            .map(|(l, med, _)| format!("{l} {med:.1}"))
            .collect();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" (slower: {})", others.join(", "))
        };
        println!(
            "{:<38} {:>17} {:>17} {:>10.2}x  {label}{others}",
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

/// Deadline offsets for the fire case: spread evenly over `FIRE_SPAN`, in creation order.
fn fire_offset(i: usize, n: usize) -> Duration {
    fire_lead(n) + Duration::from_nanos((FIRE_SPAN.as_nanos() as u64 * i as u64) / n as u64)
}

/// Time spent in the fire case, less the idle wait between the end of registration and the
/// first deadline.
fn fire_elapsed(
    start: Instant,
    registered: Instant,
    first_deadline: Instant,
    done: Instant,
) -> Duration {
    assert!(
        registered < first_deadline,
        "registering took longer than the lead time before the first deadline; lower --n"
    );
    (done - start) - (first_deadline - registered)
}

/// The deadline for reset number `i` in the alternating case: early, late, early...
fn alternating(i: usize) -> Duration {
    match i % 2 {
        0 => FAR,
        _ => FAR * 2,
    }
}

mod sonic {
    use super::*;
    use sonic_rt::time::{sleep, sleep_until, Sleep};

    fn run<T: 'static>(body: impl Future<Output = T> + 'static) -> T {
        let mut builder = sonic_rt::Builder::new();
        builder.busy_poll(false);
        if sonic_benches::poll_timing() {
            builder.enable_metrics_poll_time_histogram();
        }
        let rt = builder.build().expect("sonic runtime");
        rt.block_on(async move { sonic_rt::spawn(body).await.expect("bench task") })
    }

    pub(super) fn spawn_all(n: usize) -> Duration {
        run(async move {
            let mut handles = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                handles.push(sonic_rt::spawn(async move { black_box(i) }));
            }
            let mut sum = 0usize;
            for h in handles.drain(..) {
                sum = sum.wrapping_add(h.await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn spawn_chained(n: usize) -> Duration {
        run(async move {
            let start = Instant::now();
            let mut sum = 0usize;
            for i in 0..n {
                sum = sum.wrapping_add(sonic_rt::spawn(async move { black_box(i) }).await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn cancel_one(n: usize) -> Duration {
        run(async move {
            let start = Instant::now();
            poll_fn(|cx| {
                for _ in 0..n {
                    let mut s = pin!(sleep(FAR));
                    assert!(s.as_mut().poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            start.elapsed()
        })
    }

    pub(super) fn cancel_all(n: usize) -> Duration {
        run(async move {
            let mut sleeps: Vec<Sleep> = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                // Scattered deadlines, so the timer structure is not fed in order.
                sleeps.push(sleep(
                    FAR + Duration::from_micros((i as u64 * 7919) % 1_000_000),
                ));
            }
            poll_fn(|cx| {
                for s in sleeps.iter_mut() {
                    assert!(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            drop(sleeps);
            start.elapsed()
        })
    }

    pub(super) fn fire(n: usize) -> Duration {
        run(async move {
            let mut sleeps: Vec<Sleep> = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                sleeps.push(sleep_until((start + fire_offset(i, n)).into()));
            }
            poll_fn(|cx| {
                for s in sleeps.iter_mut() {
                    assert!(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let registered = Instant::now();
            for s in sleeps.iter_mut() {
                s.await;
            }
            drop(sleeps);
            fire_elapsed(start, registered, start + fire_offset(0, n), Instant::now())
        })
    }

    fn reset(n: usize, deadline: fn(usize) -> Duration) -> Duration {
        run(async move {
            let base = sonic_rt::time::Instant::now();
            let mut s = sleep_until(base + FAR);
            poll_fn(|cx| {
                assert!(Pin::new(&mut s).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            let start = Instant::now();
            for i in 0..n {
                Pin::new(&mut s).reset(base + deadline(i));
            }
            black_box(&mut s);
            start.elapsed()
        })
    }

    pub(super) fn reset_later(n: usize) -> Duration {
        reset(n, |i| FAR + Duration::from_micros(i as u64))
    }

    pub(super) fn reset_alternating(n: usize) -> Duration {
        reset(n, alternating)
    }
}

mod tokio_rt {
    use super::*;
    use tokio::time::{sleep, sleep_until, Sleep};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    }

    fn run<T: Send + 'static>(body: impl Future<Output = T> + Send + 'static) -> T {
        runtime().block_on(async move { tokio::spawn(body).await.expect("bench task") })
    }

    fn run_local<T: 'static>(body: impl Future<Output = T> + 'static) -> T {
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime(), async move {
            tokio::task::spawn_local(body).await.expect("bench task")
        })
    }

    /// Pins every element of `sleeps` in place (tokio's `Sleep` is `!Unpin`): boxing each one
    /// would add an allocation per timer that sonic does not pay.
    fn pinned(sleeps: &mut [Sleep]) -> impl Iterator<Item = Pin<&mut Sleep>> {
        // SAFETY: the elements live in a Vec that is neither grown nor moved out of from here on
        // (callers only iterate it and finally drop it, which drops each element in place).
        sleeps.iter_mut().map(|s| unsafe { Pin::new_unchecked(s) })
    }

    pub(super) fn spawn_all(n: usize) -> Duration {
        run(async move {
            let mut handles = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                handles.push(tokio::spawn(async move { black_box(i) }));
            }
            let mut sum = 0usize;
            for h in handles.drain(..) {
                sum = sum.wrapping_add(h.await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn spawn_all_local(n: usize) -> Duration {
        run_local(async move {
            let mut handles = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                handles.push(tokio::task::spawn_local(async move { black_box(i) }));
            }
            let mut sum = 0usize;
            for h in handles.drain(..) {
                sum = sum.wrapping_add(h.await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn spawn_chained(n: usize) -> Duration {
        run(async move {
            let start = Instant::now();
            let mut sum = 0usize;
            for i in 0..n {
                sum = sum.wrapping_add(tokio::spawn(async move { black_box(i) }).await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn spawn_chained_local(n: usize) -> Duration {
        run_local(async move {
            let start = Instant::now();
            let mut sum = 0usize;
            for i in 0..n {
                let h = tokio::task::spawn_local(async move { black_box(i) });
                sum = sum.wrapping_add(h.await.unwrap());
            }
            black_box(sum);
            start.elapsed()
        })
    }

    pub(super) fn cancel_one(n: usize) -> Duration {
        run(async move {
            let start = Instant::now();
            poll_fn(|cx| {
                for _ in 0..n {
                    let mut s = pin!(sleep(FAR));
                    assert!(s.as_mut().poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            start.elapsed()
        })
    }

    pub(super) fn cancel_all(n: usize) -> Duration {
        run(async move {
            let mut sleeps: Vec<Sleep> = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                sleeps.push(sleep(
                    FAR + Duration::from_micros((i as u64 * 7919) % 1_000_000),
                ));
            }
            poll_fn(|cx| {
                for s in pinned(&mut sleeps) {
                    assert!(s.poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            drop(sleeps);
            start.elapsed()
        })
    }

    pub(super) fn fire(n: usize) -> Duration {
        run(async move {
            let mut sleeps: Vec<Sleep> = Vec::with_capacity(n);
            let start = Instant::now();
            for i in 0..n {
                sleeps.push(sleep_until((start + fire_offset(i, n)).into()));
            }
            poll_fn(|cx| {
                for s in pinned(&mut sleeps) {
                    assert!(s.poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let registered = Instant::now();
            for s in pinned(&mut sleeps) {
                s.await;
            }
            drop(sleeps);
            fire_elapsed(start, registered, start + fire_offset(0, n), Instant::now())
        })
    }

    fn reset(n: usize, deadline: fn(usize) -> Duration) -> Duration {
        run(async move {
            let base = tokio::time::Instant::now();
            let mut s = pin!(sleep_until(base + FAR));
            poll_fn(|cx| {
                assert!(s.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            let start = Instant::now();
            for i in 0..n {
                s.as_mut().reset(base + deadline(i));
            }
            black_box(&mut s);
            start.elapsed()
        })
    }

    pub(super) fn reset_later(n: usize) -> Duration {
        reset(n, |i| FAR + Duration::from_micros(i as u64))
    }

    pub(super) fn reset_alternating(n: usize) -> Duration {
        reset(n, alternating)
    }
}
