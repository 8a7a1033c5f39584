//! Wakes from other threads, the Send handle, fairness, and driving the loop by hand.

mod common;

use sonic_test_support::each_mode;

use common::{fire, WaitForWake};
use sonic_rt::io::Async;
use sonic_rt::task::yield_now;
use sonic_rt::time::sleep;
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

fn thread_wakes_a_task_of_a_blocked_runtime(rt: &Runtime) {
    let slot = Arc::new(Mutex::new((false, None)));
    let s = slot.clone();
    let t = std::thread::spawn(move || {
        // Wait until the task has parked its waker, then wake it from this thread.
        loop {
            if s.lock().unwrap().1.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20)); // the runtime is asleep in the kernel now
        assert!(fire(&s));
    });
    rt.block_on(async {
        let task = spawn(WaitForWake { slot: slot.clone() });
        task.await.unwrap();
    });
    t.join().unwrap();
}

fn thread_wakes_the_block_on_future(rt: &Runtime) {
    let slot = Arc::new(Mutex::new((false, None)));
    let s = slot.clone();
    let t = std::thread::spawn(move || {
        while s.lock().unwrap().1.is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10));
        fire(&s);
    });
    rt.block_on(WaitForWake { slot });
    t.join().unwrap();
}

/// The rounds of `remote_wakes_land_at_every_moment_of_the_loop`: the owner's future for round
/// `n` waits until the thread says `done >= n`.
#[derive(Default)]
struct Rounds {
    /// (the last round the thread finished, the waker of the round being waited for)
    state: Mutex<(u64, Option<std::task::Waker>)>,
    /// The last round the owner saw complete.
    seen: AtomicU64,
}

struct Round<'a> {
    rounds: &'a Rounds,
    n: u64,
}

impl Future for Round<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.rounds.state.lock().unwrap();
        if st.0 >= self.n {
            return Poll::Ready(());
        }
        st.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A wake from another thread may land at any instant of the owner's loop, including between
/// its decision to sleep and its look at the remote queue; none may be lost, whether it wakes
/// the `block_on` future itself or a spawned task. Thousands of quick rounds, each woken after
/// a varying spin, spread the wakes over the whole loop. A lost wake is detected (the owner
/// does not see its round within seconds), counted, and repaired by waking again, so the test
/// fails instead of hanging.
fn remote_wakes_land_at_every_moment_of_the_loop(rt: &Runtime) {
    const ROUNDS: u64 = if cfg!(miri) { 20 } else { 20_000 };
    for in_task in [false, true] {
        let rounds = Arc::new(Rounds::default());
        let r = rounds.clone();
        let waker_thread = std::thread::spawn(move || {
            let mut lost = Vec::new();
            let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
            for n in 1..=ROUNDS {
                // Wait for round n's waker, then wake after 0..~2 µs of spinning.
                let waker = loop {
                    let mut st = r.state.lock().unwrap();
                    if r.seen.load(Ordering::Acquire) == n - 1 {
                        if let Some(w) = st.1.take() {
                            st.0 = n;
                            break w;
                        }
                    }
                    drop(st);
                    std::hint::spin_loop();
                };
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                for _ in 0..seed % 512 {
                    std::hint::spin_loop();
                }
                waker.wake_by_ref();
                let deadline = Instant::now() + Duration::from_secs(5);
                while r.seen.load(Ordering::Acquire) < n {
                    if Instant::now() > deadline {
                        // Lost: finish every round at once and wake again, so the owner ends.
                        lost.push(n);
                        r.state.lock().unwrap().0 = u64::MAX;
                        waker.wake_by_ref();
                        return lost;
                    }
                    std::thread::yield_now();
                }
            }
            lost
        });
        let rounds_ref = rounds.clone();
        let owner = async move {
            for n in 1..=ROUNDS {
                Round {
                    rounds: &rounds_ref,
                    n,
                }
                .await;
                rounds_ref.seen.store(n, Ordering::Release);
            }
        };
        if in_task {
            rt.block_on(async { spawn(owner).await.unwrap() });
        } else {
            rt.block_on(owner);
        }
        let lost = waker_thread.join().unwrap();
        let what = if in_task {
            "a spawned task"
        } else {
            "the block_on future"
        };
        assert!(
            lost.is_empty(),
            "wakes of {what} from another thread were lost (round {lost:?} of {ROUNDS})"
        );
    }
}

fn waker_dropped_and_cloned_on_other_threads(rt: &Runtime) {
    // Clone a task waker to many threads, which wake and drop it concurrently.
    rt.block_on(async {
        let slot = Arc::new(Mutex::new((false, None)));
        let s = slot.clone();
        let task = spawn(WaitForWake { slot: slot.clone() });
        while s.lock().unwrap().1.is_none() {
            yield_now().await;
        }
        let waker = s.lock().unwrap().1.clone().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let w = waker.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        w.wake_by_ref();
                        drop(w.clone());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(waker);
        fire(&slot);
        task.await.unwrap();
    });
}

fn handle_posts_closures_and_futures(rt: &Runtime) {
    let handle = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel::<u32>();
    let t = std::thread::spawn(move || {
        for i in 0..10 {
            let tx = tx.clone();
            handle.post(move || tx.send(i).unwrap()).unwrap();
        }
        let tx2 = tx.clone();
        handle
            .spawn_with(move || async move {
                sleep(Duration::from_micros(100)).await;
                tx2.send(100).unwrap();
            })
            .unwrap();
        handle.spawn(async move { tx.send(200).unwrap() });
    });
    let got = rt.block_on(async {
        let mut got = Vec::new();
        while got.len() < 12 {
            match rx.try_recv() {
                Ok(v) => got.push(v),
                Err(_) => sleep(Duration::from_micros(50)).await,
            }
        }
        got
    });
    t.join().unwrap();
    // Posts run in order; the spawned futures finish after them (the sleeper last).
    assert_eq!(got, (0..10).chain([200, 100]).collect::<Vec<_>>());
}

fn always_ready_socket_cannot_starve_timers_or_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        // Fill the socket buffer: the reader is then ready for that many one-byte reads in a
        // row, never seeing WouldBlock, so only the budget can make it yield.
        b.set_nonblocking(true).unwrap();
        let mut queued = 0u64;
        while let Ok(n) = b.write(&[7u8; 4096]) {
            queued += n as u64;
        }
        assert!(
            queued > 10_000,
            "socket buffer too small for the test: {queued}"
        );
        let a = Async::new(a).unwrap();
        let stop = Rc::new(Cell::new(false));
        let other_ran = Rc::new(Cell::new(0u32));
        let (s, o) = (stop.clone(), other_ran.clone());
        let timer = spawn(async move {
            sleep(Duration::from_millis(1)).await;
            s.set(true);
        });
        let other = spawn(async move {
            for _ in 0..5 {
                o.set(o.get() + 1);
                yield_now().await;
            }
        });
        let mut reads = 0u64;
        let mut byte = [0u8; 1];
        while !stop.get() {
            let n = a.read_with(|mut s| s.read(&mut byte)).await.unwrap();
            assert_eq!(n, 1);
            reads += 1;
            assert!(reads < queued, "the reader was never made to yield");
        }
        timer.await.unwrap();
        other.await.unwrap();
        assert_eq!(other_ran.get(), 5);
        drop((a, b));
    });
}

fn yield_loop_does_not_starve_io_or_timers(rt: &Runtime) {
    rt.block_on(async {
        let stop = Rc::new(Cell::new(false));
        let s = stop.clone();
        let spinner = spawn(async move {
            let mut n = 0u64;
            while !s.get() {
                n += 1;
                yield_now().await;
            }
            n
        });
        sleep(Duration::from_millis(2)).await;
        stop.set(true);
        assert!(spinner.await.unwrap() > 0);
    });
}

each_mode!(
    thread_wakes_a_task_of_a_blocked_runtime,
    thread_wakes_the_block_on_future,
    remote_wakes_land_at_every_moment_of_the_loop,
    waker_dropped_and_cloned_on_other_threads,
    handle_posts_closures_and_futures,
    #[cfg_attr(miri, ignore = "needs FIONBIO on a socket")]
    always_ready_socket_cannot_starve_timers_or_tasks,
    yield_loop_does_not_starve_io_or_timers,
);

#[test]
fn post_after_runtime_drop_is_an_error() {
    let rt = common::rt(false);
    let handle = rt.handle();
    assert!(!handle.is_closed());
    drop(rt);
    assert!(handle.is_closed());
    assert!(handle.post(|| unreachable!()).is_err());
}

#[test]
fn waker_outliving_runtime_is_harmless() {
    let slot = Arc::new(Mutex::new((false, None)));
    let rt = common::rt(false);
    let s = slot.clone();
    drop(rt.spawn(WaitForWake { slot: s }));
    rt.run_pending().unwrap();
    drop(rt);
    // The task is gone; waking its waker from another thread must be sound and do nothing.
    let t = std::thread::spawn(move || fire(&slot));
    assert!(t.join().unwrap());
}

#[test]
fn driving_the_loop_by_hand() {
    let rt = common::rt(false);
    let counter = Rc::new(Cell::new(0));
    let c = counter.clone();
    let h = rt.spawn(async move {
        for _ in 0..3 {
            c.set(c.get() + 1);
            yield_now().await;
        }
    });
    assert!(rt.poll_once().unwrap() > 0);
    assert_eq!(counter.get(), 1);
    rt.run_pending().unwrap();
    assert_eq!(counter.get(), 3);
    assert!(h.is_finished());
    assert_eq!(rt.poll_once().unwrap(), 0, "nothing left to do");
    // run_one_for returns after the timeout when nothing happens.
    let start = std::time::Instant::now();
    assert_eq!(rt.run_one_for(Duration::from_millis(5)).unwrap(), 0);
    assert!(start.elapsed() >= Duration::from_millis(5));
    // run_one blocks until a timer fires.
    let _g = rt.enter();
    let t = spawn(sleep(Duration::from_millis(2)));
    drop(_g);
    while !t.is_finished() {
        rt.run_one().unwrap();
    }
}

#[test]
fn spin_before_park_mode_runs_timers() {
    let rt = sonic_rt::Builder::new()
        .spin_before_park(Duration::from_micros(200))
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            let start = std::time::Instant::now();
            sleep(Duration::from_millis(1)).await;
            assert!(start.elapsed() >= Duration::from_millis(1));
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "sched_setaffinity")]
fn pin_to_core_reports_bad_cores() {
    let err = sonic_rt::Builder::new()
        .pin_to_core(100_000)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("pin_to_core(100000)"), "{err}");
    let t = std::thread::spawn(|| {
        let rt = sonic_rt::Builder::new().pin_to_core(0).build().unwrap();
        rt.block_on(async { 1 })
    });
    assert_eq!(t.join().unwrap(), 1);
}
