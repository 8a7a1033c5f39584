//! The loop itself: wake batches that survive a panicking waker, `yield_now` ordering, the
//! cooperative budget against `timeout`, and the wait policy of the hand-driven calls.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::io::Async;
use sonic_rt::task::{consume_budget, yield_now};
use sonic_rt::time::{sleep_until, timeout, Instant};
use sonic_rt::{spawn, JoinHandle, Runtime};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

/// A waker that panics when woken.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics");
    }
}

fn panicking_waker() -> Waker {
    Waker::from(Arc::new(PanickingWaker))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs the first `block_on`, which must end with the waker's panic, then checks that every
/// task of the batch still runs and the runtime keeps working.
fn expect_waker_panic_then_all_run(
    rt: &Runtime,
    handles: &Rc<RefCell<Vec<JoinHandle<()>>>>,
    first: impl Future<Output = ()>,
) {
    let err = catch_unwind(AssertUnwindSafe(|| rt.block_on(first)))
        .expect_err("the waker's panic must surface from block_on");
    assert_eq!(panic_text(&*err), "this waker panics");
    let handles = std::mem::take(&mut *handles.borrow_mut());
    let n = handles.len();
    let done = Cell::new(0);
    rt.block_on(async {
        // A lost wake-up would leave its task pending forever: bound the wait.
        let all = async {
            for h in handles {
                h.await.unwrap();
                done.set(done.get() + 1);
            }
        };
        let _ = timeout(Duration::from_secs(10), all).await;
    });
    let finished = done.get();
    assert_eq!(finished, n, "tasks of the batch were never woken");
    assert_eq!(rt.block_on(async { 7 }), 7, "the runtime stays usable");
}

fn panicking_waker_in_a_timer_batch_loses_no_wake(rt: &Runtime) {
    let ran = Rc::new(Cell::new(0));
    let handles = Rc::new(RefCell::new(Vec::new()));
    let (r, hs) = (ran.clone(), handles.clone());
    expect_waker_panic_then_all_run(rt, &handles, async move {
        let deadline = Instant::now() + Duration::from_millis(20);
        let mk = |hs: &Rc<RefCell<Vec<_>>>| {
            for _ in 0..100 {
                let r = r.clone();
                hs.borrow_mut().push(spawn(async move {
                    sleep_until(deadline).await;
                    r.set(r.get() + 1);
                }));
            }
        };
        mk(&hs);
        // One timer on the same deadline whose waker panics, between the two groups.
        let mut bad = sleep_until(deadline);
        let waker = panicking_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut bad).poll(&mut cx).is_pending());
        mk(&hs);
        let _keep = bad;
        std::future::pending::<()>().await
    });
    assert_eq!(ran.get(), 200);
}

fn panicking_waker_in_a_readiness_batch_loses_no_wake(rt: &Runtime) {
    let ran = Rc::new(Cell::new(0));
    let handles = Rc::new(RefCell::new(Vec::new()));
    let (r, hs) = (ran.clone(), handles.clone());
    expect_waker_panic_then_all_run(rt, &handles, async move {
        let mut peers = Vec::new();
        let started = Rc::new(Cell::new(0));
        let mk = |peers: &mut Vec<UnixStream>| {
            for _ in 0..50 {
                let (a, b) = UnixStream::pair().unwrap();
                let a = Async::new(a).unwrap();
                let (r, started) = (r.clone(), started.clone());
                hs.borrow_mut().push(spawn(async move {
                    started.set(started.get() + 1);
                    let mut byte = [0u8; 1];
                    let n = a.read_with(|mut s| s.read(&mut byte)).await.unwrap();
                    assert_eq!(n, 1);
                    r.set(r.get() + 1);
                }));
                peers.push(b);
            }
        };
        mk(&mut peers);
        // One more socket whose read waker panics.
        let (bad, mut bad_peer) = UnixStream::pair().unwrap();
        let bad = Async::new(bad).unwrap();
        bad.clear_readable();
        let waker = panicking_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(bad.poll_readable(&mut cx).is_pending());
        mk(&mut peers);
        // Let every reader reach its first WouldBlock, then make all 101 readable at once.
        while started.get() < 100 {
            yield_now().await;
        }
        bad_peer.write_all(b"x").unwrap();
        for p in peers.iter_mut() {
            p.write_all(b"x").unwrap();
        }
        let _keep = (bad, bad_peer, peers);
        std::future::pending::<()>().await
    });
    assert_eq!(ran.get(), 100);
}

fn panicking_waker_in_the_yield_list_loses_no_wake(rt: &Runtime) {
    let ran = Rc::new(Cell::new(0));
    let handles = Rc::new(RefCell::new(Vec::new()));
    let (r, hs) = (ran.clone(), handles.clone());
    expect_waker_panic_then_all_run(rt, &handles, async move {
        let mk = |hs: &Rc<RefCell<Vec<_>>>| {
            for _ in 0..50 {
                let r = r.clone();
                hs.borrow_mut().push(spawn(async move {
                    yield_now().await;
                    r.set(r.get() + 1);
                }));
            }
        };
        mk(&hs);
        // A yield whose waker panics, queued with the others.
        hs.borrow_mut().push(spawn(async {
            let mut y = pin!(yield_now());
            let waker = panicking_waker();
            assert!(y
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
        }));
        mk(&hs);
        std::future::pending::<()>().await
    });
    assert_eq!(ran.get(), 100);
}

/// The runtime also wakes a join waker when a task completes: one that panics surfaces the same
/// way, after the finished task was released, and the tasks queued behind it still run.
fn panicking_join_waker_loses_no_task(rt: &Runtime) {
    let ran = Rc::new(Cell::new(0));
    let handles = Rc::new(RefCell::new(Vec::new()));
    let (r, hs) = (ran.clone(), handles.clone());
    expect_waker_panic_then_all_run(rt, &handles, async move {
        let mut watched = spawn(async { yield_now().await });
        let waker = panicking_waker();
        assert!(pin!(&mut watched)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        for _ in 0..50 {
            let r = r.clone();
            hs.borrow_mut().push(spawn(async move {
                yield_now().await;
                r.set(r.get() + 1);
            }));
        }
        // Kept (JOIN_INTEREST) until the panic unwinds this future, so the task's completion
        // wakes the panicking waker.
        let _keep = watched;
        std::future::pending::<()>().await
    });
    assert_eq!(ran.get(), 50);
    assert_eq!(
        rt.live_tasks(),
        0,
        "the task whose join waker panicked was released"
    );
}

/// The same holds when the loop is driven by hand: the panic surfaces from `poll_once`.
#[test]
fn panicking_waker_surfaces_from_poll_once() {
    let rt = common::rt(false);
    let ran = Rc::new(Cell::new(0));
    let _g = rt.enter();
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let r = ran.clone();
            spawn(async move {
                if i == 5 {
                    let mut y = pin!(yield_now());
                    let waker = panicking_waker();
                    assert!(y
                        .as_mut()
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending());
                    return;
                }
                yield_now().await;
                r.set(r.get() + 1);
            })
        })
        .collect();
    drop(_g);
    let err = catch_unwind(AssertUnwindSafe(|| rt.run_pending())).expect_err("a waker panicked");
    assert_eq!(panic_text(&*err), "this waker panics");
    rt.run_pending().unwrap();
    assert_eq!(ran.get(), 9);
    assert!(handles.iter().all(|h| h.is_finished()));
}

/// tokio's `yield_now` defers the task until after the driver was polled, so a task that yields
/// runs again only after every other task that was ready, including tasks woken meanwhile.
fn yield_now_runs_after_the_other_ready_tasks(rt: &Runtime) {
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let (tx, rx) = sonic_rt::sync::oneshot::channel::<()>();
        let l = log.clone();
        let woken = spawn(async move {
            rx.await.unwrap();
            l.borrow_mut().push("woken");
        });
        yield_now().await; // `woken` waits on its channel now
        let l = log.clone();
        let yielder = spawn(async move {
            l.borrow_mut().push("yielder 1");
            yield_now().await;
            l.borrow_mut().push("yielder 2");
        });
        let l = log.clone();
        let sender = spawn(async move {
            l.borrow_mut().push("sender");
            tx.send(()).unwrap();
        });
        let l = log.clone();
        let other = spawn(async move { l.borrow_mut().push("other") });
        for h in [yielder, sender, other, woken] {
            h.await.unwrap();
        }
    });
    assert_eq!(
        *log.borrow(),
        ["yielder 1", "sender", "other", "woken", "yielder 2"]
    );
}

/// Aborts the test binary if `f` does not finish in time: the failure these tests guard
/// against is a poll that never returns, which no assertion inside could report.
fn within<R>(limit: Duration, what: &str, f: impl FnOnce() -> R) -> R {
    let (done, wait) = mpsc::channel::<()>();
    let what = what.to_string();
    let dog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("{what}: still running after {limit:?}");
            std::process::abort();
        }
    });
    let out = f();
    drop(done);
    dog.join().unwrap();
    out
}

/// tokio's `Timeout` polls its timer even when the inner future used up the budget. sonic's
/// timer does not spend budget, so a future that is always ready but spends it (as every sonic
/// I/O call and channel receive does) still yields, and the timeout fires.
fn timeout_fires_around_a_future_that_spends_the_budget(rt: &Runtime) {
    within(
        Duration::from_secs(20),
        "timeout around a budget loop",
        || {
            let spin = || async {
                loop {
                    consume_budget().await;
                }
            };
            // As the block_on future, and as a task.
            let res = rt.block_on(timeout(Duration::from_millis(5), spin()));
            assert!(res.is_err());
            let res = rt.block_on(async {
                spawn(timeout(Duration::from_millis(5), spin()))
                    .await
                    .unwrap()
            });
            assert!(res.is_err());
            // A socket that always has data: every read succeeds, none would block.
            rt.block_on(async {
                let (a, mut b) = UnixStream::pair().unwrap();
                b.set_nonblocking(true).unwrap();
                while b.write(&[1u8; 4096]).is_ok() {}
                let a = Async::new(a).unwrap();
                let reads = Cell::new(0u64);
                let res = timeout(Duration::from_millis(5), async {
                    let mut byte = [0u8; 1];
                    loop {
                        a.read_with(|mut s| s.read(&mut byte)).await.unwrap();
                        reads.set(reads.get() + 1);
                        if reads.get() % 10_000 == 0 {
                            // Keep the socket full, so the loop never sees WouldBlock.
                            while b.write(&[1u8; 4096]).is_ok() {}
                        }
                    }
                })
                .await;
                assert!(res.is_err());
                assert!(reads.get() > 0);
            });
        },
    );
}

each_mode!(
    panicking_waker_in_a_timer_batch_loses_no_wake,
    #[cfg_attr(miri, ignore = "needs FIONBIO on a socket")]
    panicking_waker_in_a_readiness_batch_loses_no_wake,
    panicking_waker_in_the_yield_list_loses_no_wake,
    panicking_join_waker_loses_no_task,
    yield_now_runs_after_the_other_ready_tasks,
    #[cfg_attr(miri, ignore = "needs FIONBIO on a socket")]
    timeout_fires_around_a_future_that_spends_the_budget,
);

/// Voluntary context switches of this thread: each sleep in the kernel (a blocking
/// `epoll_wait`) counts one; spinning counts none.
#[cfg(target_os = "linux")]
fn voluntary_switches() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap()
}

/// Drives `rt` by hand with `call` while another thread makes a socket readable after 20 ms,
/// and returns how often this thread slept in the kernel meanwhile.
#[cfg(target_os = "linux")]
fn switches_while_waiting(rt: &Runtime, call: impl Fn(&Runtime) -> usize) -> u64 {
    let (a, mut b) = UnixStream::pair().unwrap();
    let _g = rt.enter();
    let a = Async::new(a).unwrap();
    let reader = spawn(async move {
        let mut byte = [0u8; 1];
        a.read_with(|mut s| s.read(&mut byte)).await.unwrap()
    });
    drop(_g);
    // The reader runs once and waits for the event (this is work: spin windows start here).
    while rt.poll_once().unwrap() > 0 {}
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        b.write_all(b"x").unwrap();
        b
    });
    let before = voluntary_switches();
    while call(rt) == 0 {}
    let after = voluntary_switches();
    while !reader.is_finished() {
        rt.poll_once().unwrap();
    }
    drop(writer.join().unwrap());
    after - before
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "reads /proc")]
fn run_one_never_sleeps_in_busy_poll_mode() {
    let rt = common::rt(true);
    assert_eq!(
        switches_while_waiting(&rt, |rt| rt.run_one().unwrap()),
        0,
        "run_one slept in the kernel on a busy-poll runtime"
    );
    assert_eq!(
        switches_while_waiting(&rt, |rt| rt.run_one_for(Duration::from_secs(10)).unwrap()),
        0,
        "run_one_for slept in the kernel on a busy-poll runtime"
    );
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "reads /proc")]
fn run_one_spins_before_park() {
    let rt = sonic_rt::Builder::new()
        .spin_before_park(Duration::from_secs(10))
        .build()
        .unwrap();
    assert_eq!(
        switches_while_waiting(&rt, |rt| rt.run_one().unwrap()),
        0,
        "run_one slept in the kernel inside the spin_before_park window"
    );
}

#[test]
fn run_one_for_in_busy_poll_mode_returns_after_its_timeout() {
    let rt = common::rt(true);
    let start = std::time::Instant::now();
    assert_eq!(rt.run_one_for(Duration::from_millis(5)).unwrap(), 0);
    assert!(start.elapsed() >= Duration::from_millis(5));
    assert_eq!(rt.poll_once().unwrap(), 0);
}
