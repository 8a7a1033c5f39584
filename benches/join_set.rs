//! `JoinSet` spawn + `join_next`: sonic-rt against tokio's current_thread runtime, in one run.
//!
//! `cargo bench -p sonic-benches --bench join_set` (options after `--`: `--n 100000`,
//! `--runs 3`, `--filter idle` for the cases whose name contains `idle` (`--filter =NAME` for
//! the case named exactly so), `--only sonic` or
//! `--only tokio`). Every case runs `--runs` times per runtime, interleaved; the figure is the
//! median ns per task (spawned and joined), with the best run in brackets.
//!
//! Each body runs inside one spawned task on a fresh runtime, as in `spawn_timers`. tokio's set
//! is driven both from a `tokio::spawn` task (`JoinSet::spawn`) and from a `LocalSet` task
//! (`JoinSet::spawn_local`); the ratio uses the faster tokio.
//!
//! - reference: no set, `spawn` and await the `JoinHandle`, N times (what a set adds on top);
//! - one at a time: spawn a task into the set, `join_next` it, N times (the set stays warm);
//! - batches of 64: spawn 64 tasks, join the 64, N/64 times;
//! - one at a time, 10k idle: as the first, with 10,000 pending tasks in the same set all along
//!   (a join that scanned the set would show it).

use std::future::{pending, Future};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One benchmark body: takes the task count, returns the time it measured.
type Body = fn(usize) -> Duration;

struct Case {
    name: &'static str,
    sonic: Body,
    tokio: &'static [(&'static str, Body)],
}

const BATCH: usize = 64;
const IDLE: usize = 10_000;

const CASES: &[Case] = &[
    Case {
        name: "reference: spawn + await JoinHandle",
        sonic: sonic::reference,
        tokio: &[
            ("spawn", tokio_rt::reference),
            ("LocalSet", tokio_rt::reference_local),
        ],
    },
    Case {
        name: "spawn+join_next, one at a time",
        sonic: sonic::one_at_a_time,
        tokio: &[
            ("spawn", tokio_rt::one_at_a_time),
            ("LocalSet", tokio_rt::one_at_a_time_local),
        ],
    },
    Case {
        name: "spawn+join_next, batches of 64",
        sonic: sonic::batches,
        tokio: &[
            ("spawn", tokio_rt::batches),
            ("LocalSet", tokio_rt::batches_local),
        ],
    },
    Case {
        name: "spawn+join_next, one at a time, 10k idle",
        sonic: sonic::with_idle,
        tokio: &[
            ("spawn", tokio_rt::with_idle),
            ("LocalSet", tokio_rt::with_idle_local),
        ],
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
            "--filter" => filter = args.next().expect("--filter takes a substring"),
            "--only" => only = args.next().expect("--only takes sonic or tokio"),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    assert!(
        n >= BATCH && runs > 0,
        "--n must be at least {BATCH}, --runs positive"
    );
    let (run_sonic, run_tokio) = match only.as_str() {
        "" => (true, true),
        "sonic" => (true, false),
        "tokio" => (false, true),
        other => panic!("--only takes sonic or tokio, not {other}"),
    };
    println!("join_set: N = {n}, {runs} runs per runtime (interleaved); median ns/task [best]");
    println!(
        "{:<42} {:>15} {:>15} {:>11}  tokio variant",
        "case", "sonic", "tokio", "tokio/sonic"
    );
    let selected = |name: &str| match filter.strip_prefix('=') {
        Some(exact) => name == exact,
        None => name.contains(filter.as_str()),
    };
    for case in CASES.iter().filter(|c| selected(c.name)) {
        let mut sonic = Vec::new();
        let mut tokio = vec![Vec::new(); case.tokio.len()];
        for _ in 0..runs {
            if run_sonic {
                sonic.push(per_task(case.sonic, n));
            }
            for (samples, (_, body)) in tokio.iter_mut().zip(case.tokio).filter(|_| run_tokio) {
                samples.push(per_task(*body, n));
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
        println!(
            "{:<42} {:>15} {:>15} {:>10.2}x  {label}{}",
            case.name,
            format!("{s_med:.1} [{s_min:.1}]"),
            format!("{t_med:.1} [{t_min:.1}]"),
            t_med / s_med,
            if others.is_empty() {
                String::new()
            } else {
                format!(" (slower: {})", others.join(", "))
            },
        );
    }
}

fn per_task(body: Body, n: usize) -> f64 {
    // Keeps a run under `chrt -f` below the kernel's real-time throttling (see spawn_timers).
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

/// The three bodies, written once over a runtime's `JoinSet` and its spawn method.
macro_rules! bodies {
    ($set:ty, $spawn:ident, $spawn_fn:path, $run:path) => {
        pub(crate) fn reference(n: usize) -> Duration {
            $run(async move {
                let start = Instant::now();
                let mut sum = 0usize;
                for i in 0..n {
                    sum = sum.wrapping_add($spawn_fn(async move { black_box(i) }).await.unwrap());
                }
                black_box(sum);
                start.elapsed()
            })
        }

        pub(crate) fn one_at_a_time(n: usize) -> Duration {
            $run(async move {
                let mut set = <$set>::new();
                let start = Instant::now();
                let mut sum = 0usize;
                for i in 0..n {
                    set.$spawn(async move { black_box(i) });
                    sum = sum.wrapping_add(set.join_next().await.unwrap().unwrap());
                }
                black_box(sum);
                start.elapsed()
            })
        }

        pub(crate) fn batches(n: usize) -> Duration {
            $run(async move {
                let mut set = <$set>::new();
                let start = Instant::now();
                let mut sum = 0usize;
                for b in 0..n / BATCH {
                    for i in 0..BATCH {
                        set.$spawn(async move { black_box(b * BATCH + i) });
                    }
                    while let Some(res) = set.join_next().await {
                        sum = sum.wrapping_add(res.unwrap());
                    }
                }
                black_box(sum);
                // Per task of the whole batches only.
                start.elapsed() * n as u32 / (n / BATCH * BATCH) as u32
            })
        }

        pub(crate) fn with_idle(n: usize) -> Duration {
            $run(async move {
                let mut set = <$set>::new();
                for _ in 0..IDLE {
                    set.$spawn(async { pending::<usize>().await });
                }
                let start = Instant::now();
                let mut sum = 0usize;
                for i in 0..n {
                    set.$spawn(async move { black_box(i) });
                    sum = sum.wrapping_add(set.join_next().await.unwrap().unwrap());
                }
                let elapsed = start.elapsed();
                black_box(sum);
                assert_eq!(set.len(), IDLE);
                elapsed
            })
        }
    };
}

mod sonic {
    use super::*;

    fn run<T: 'static>(body: impl Future<Output = T> + 'static) -> T {
        let rt = sonic_rt::Builder::new()
            .busy_poll(false)
            .build()
            .expect("sonic runtime");
        rt.block_on(async move { sonic_rt::spawn(body).await.expect("bench task") })
    }

    bodies!(sonic_rt::task::JoinSet<usize>, spawn, sonic_rt::spawn, run);
}

mod tokio_rt {
    use super::*;

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

    bodies!(tokio::task::JoinSet<usize>, spawn, tokio::spawn, run);

    mod local {
        use super::*;
        bodies!(
            tokio::task::JoinSet<usize>,
            spawn_local,
            tokio::task::spawn_local,
            run_local
        );
    }

    pub(crate) use local::{
        batches as batches_local, one_at_a_time as one_at_a_time_local,
        reference as reference_local, with_idle as with_idle_local,
    };
}
