//! The blocking pool: `spawn_blocking` results, panics, the thread bound, keep-alive, shutdown
//! and abort semantics, and that pool threads are not pinned to the runtime's core.

use sonic_rt::time::timeout;
use sonic_rt::{spawn_blocking, Builder, Runtime};
use sonic_test_support::each_mode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

each_mode!(
    result_comes_back_to_the_awaiting_task,
    result_wakes_a_parked_loop_with_no_timer,
    panicking_job_gives_a_join_error_with_its_payload,
    jobs_run_off_the_runtime_thread,
);

fn result_comes_back_to_the_awaiting_task(rt: &Runtime) {
    let v = rt.block_on(async {
        let h = spawn_blocking(|| (1..=10u64).product::<u64>());
        timeout(LIMIT, h).await.unwrap().unwrap()
    });
    assert_eq!(v, 3_628_800);
}

/// With no timer and no I/O the parked loop sleeps in epoll_wait with no timeout: the result
/// can only arrive through the remote wake path (a poll would never come).
fn result_wakes_a_parked_loop_with_no_timer(rt: &Runtime) {
    let (tx, rx) = mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        // Fails the test (instead of hanging it) if the wake never comes.
        if rx.recv_timeout(LIMIT).is_err() {
            eprintln!("the blocking job's result never woke the runtime");
            std::process::exit(1);
        }
    });
    let v = rt.block_on(async {
        spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(30));
            7
        })
        .await
        .unwrap()
    });
    tx.send(()).unwrap();
    guard.join().unwrap();
    assert_eq!(v, 7);
}

fn panicking_job_gives_a_join_error_with_its_payload(rt: &Runtime) {
    rt.block_on(async {
        let err = spawn_blocking(|| -> u8 { std::panic::panic_any(42u32) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
        // The pool and the runtime go on working.
        assert_eq!(spawn_blocking(|| 1).await.unwrap(), 1);
    });
}

fn jobs_run_off_the_runtime_thread(rt: &Runtime) {
    let here = std::thread::current().id();
    let there = rt.block_on(async {
        spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap()
    });
    assert_ne!(here, there);
}

#[test]
fn max_blocking_threads_bounds_the_jobs_running_at_once() {
    let rt = Builder::new().max_blocking_threads(2).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i);
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn an_idle_thread_is_reused_within_keep_alive() {
    let rt = Builder::new()
        .thread_keep_alive(Duration::from_secs(30))
        .build()
        .unwrap();
    rt.block_on(async {
        let a = spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap();
        let b = spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap();
        assert_eq!(a, b);
    });
}

#[test]
fn an_idle_thread_exits_after_keep_alive() {
    let rt = Builder::new()
        .thread_keep_alive(Duration::from_millis(10))
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    rt.block_on(async {
        spawn_blocking(move || {
            // Tells the test when this thread is gone (its TLS destructors ran).
            struct Exit(mpsc::Sender<()>);
            impl Drop for Exit {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            thread_local!(static EXIT: std::cell::RefCell<Option<Exit>> = const { std::cell::RefCell::new(None) });
            EXIT.with(|e| *e.borrow_mut() = Some(Exit(tx)));
        })
        .await
        .unwrap();
    });
    // The runtime is alive and idle: only keep-alive can end the thread.
    rx.recv_timeout(LIMIT)
        .expect("the idle pool thread never exited");
    drop(rt);
}

#[test]
fn runtime_drop_waits_for_a_running_job_and_drops_queued_ones() {
    let rt = Builder::new().max_blocking_threads(1).build().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let queued_ran = Arc::new(AtomicBool::new(false));
    let queued_capture = Arc::new(());
    rt.block_on(async {
        let f = finished.clone();
        drop(spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            f.store(true, Ordering::SeqCst);
        }));
        let (q, cap) = (queued_ran.clone(), queued_capture.clone());
        drop(spawn_blocking(move || {
            let _cap = cap;
            q.store(true, Ordering::SeqCst);
        }));
    });
    // The first job runs on the pool's only thread; the second waits in the queue.
    started_rx.recv().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        release_tx.send(()).unwrap();
    });
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "drop returned before the running job finished"
    );
    assert!(
        !queued_ran.load(Ordering::SeqCst),
        "a queued job ran after shutdown"
    );
    assert_eq!(
        Arc::strong_count(&queued_capture),
        1,
        "the queued job was not dropped"
    );
    releaser.join().unwrap();
}

/// `shutdown_timeout` waits for a running job at most its duration; `shutdown_background` not
/// at all. The job is left to finish on its thread (checked after release).
#[test]
fn bounded_shutdowns_do_not_wait_for_a_stuck_job() {
    for background in [false, true] {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        rt.block_on(async {
            drop(spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                done_tx.send(()).unwrap();
            }));
        });
        started_rx.recv().unwrap();
        let start = std::time::Instant::now();
        if background {
            rt.shutdown_background();
        } else {
            rt.shutdown_timeout(Duration::from_millis(100));
        }
        let waited = start.elapsed();
        // Generous bound: the job would block forever without the release below.
        assert!(
            waited < Duration::from_secs(5),
            "shutdown waited {waited:?} (background: {background})"
        );
        if !background {
            assert!(
                waited >= Duration::from_millis(100),
                "shutdown_timeout returned before its duration: {waited:?}"
            );
        }
        assert!(done_rx.try_recv().is_err(), "the job cannot have finished");
        release_tx.send(()).unwrap();
        done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the job finishes on its own thread after the shutdown");
    }
}

#[test]
fn abort_before_start_keeps_the_job_from_running() {
    let rt = Builder::new().max_blocking_threads(1).build().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let busy = spawn_blocking(move || release_rx.recv().unwrap());
        let r = ran.clone();
        let h = spawn_blocking(move || r.store(true, Ordering::SeqCst));
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        release_tx.send(()).unwrap();
        busy.await.unwrap();
        // The pool's one thread is free again and the queue was worked through.
        spawn_blocking(|| ()).await.unwrap();
    });
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
#[should_panic(expected = "must be called from inside a sonic runtime")]
fn spawn_blocking_outside_a_runtime_panics() {
    drop(spawn_blocking(|| ()));
}

/// Pool threads are started from the runtime's thread, which `pin_to_core` pinned; they must
/// get the CPU set the thread had before, not the pin.
#[cfg(target_os = "linux")]
#[test]
fn pool_threads_are_not_pinned_to_the_runtime_core() {
    fn cpus() -> Vec<usize> {
        // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for this thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&i| libc::CPU_ISSET(i, &set))
                .collect()
        }
    }
    // Its own thread: pinning changes the calling thread for good.
    std::thread::spawn(|| {
        let before = cpus();
        let rt = Builder::new().pin_to_core(before[0]).build().unwrap();
        assert_eq!(cpus(), vec![before[0]]);
        let pool = rt.block_on(async { spawn_blocking(cpus).await.unwrap() });
        assert_eq!(pool, before);
    })
    .join()
    .unwrap();
}
