//! `Handle::try_current`, `Handle::spawn` from any thread (an awaitable `RemoteJoinHandle`), and
//! `Runtime::shutdown_timeout` / `shutdown_background`.

mod common;

use common::DropCounter;
use sonic_rt::task::{self, RemoteJoinHandle};
use sonic_rt::{Handle, Runtime};
use sonic_test_support::each_mode;
use std::future::{pending, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<RemoteJoinHandle<u32>>();
    send_sync::<Handle>();
};

/// Runs `fut` to completion on the calling thread, parking it between polls. A future that is
/// never woken fails the test after a minute instead of hanging it.
fn park_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "park_on: the future was never woken");
        thread::park_timeout(left);
    }
}

/// Counts drops, from any thread.
#[derive(Clone, Default)]
struct SendDrops(Arc<AtomicUsize>);

struct SendToken(Arc<AtomicUsize>);

impl SendDrops {
    fn token(&self) -> SendToken {
        SendToken(self.0.clone())
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for SendToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn try_current_finds_the_runtime_inside_it(rt: &Runtime) {
    let err = Handle::try_current().unwrap_err();
    assert!(err.is_missing_context());
    assert!(!err.is_thread_local_destroyed());
    rt.block_on(async {
        let handle = Handle::try_current().unwrap();
        let in_task = task::spawn(async { Handle::try_current().is_ok() })
            .await
            .unwrap();
        assert!(in_task);
        // It is this runtime's handle: work posted through it runs here.
        let (tx, rx) = std::sync::mpsc::channel();
        handle.post(move || tx.send(()).unwrap()).unwrap();
        while rx.try_recv().is_err() {
            task::yield_now().await;
        }
    });
    assert!(Handle::try_current().is_err());
}

fn spawn_from_another_thread_is_awaited_on_the_runtime(rt: &Runtime) {
    let handle = rt.handle();
    let from_thread = thread::spawn(move || handle.spawn(async { task::id() }))
        .join()
        .unwrap();
    let id = from_thread.id();
    assert_eq!(
        rt.block_on(from_thread).unwrap(),
        id,
        "the task runs with the handle's id"
    );
}

fn spawn_from_another_thread_is_awaited_there(rt: &Runtime) {
    let handle = rt.handle();
    let (started_tx, started_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let task = handle.spawn(async { 7 * 6 });
        started_tx.send(()).unwrap();
        park_on(task)
    });
    started_rx.recv().unwrap();
    rt.block_on(async {
        while !waiter.is_finished() {
            task::yield_now().await;
        }
    });
    assert_eq!(waiter.join().unwrap().unwrap(), 42);
}

fn spawn_on_the_runtime_thread_starts_at_once(rt: &Runtime) {
    rt.block_on(async {
        let remote = Handle::current().spawn(async { task::id() });
        // Spawned directly (no trip through the remote queue): it is an ordinary task.
        assert_eq!(rt.live_tasks(), 1);
        let id = remote.id();
        assert_eq!(remote.await.unwrap(), id);
    });
}

fn abort_from_another_thread_drops_the_future(rt: &Runtime) {
    let drops = SendDrops::default();
    let token = drops.token();
    let (polled_tx, polled_rx) = mpsc::channel();
    let task = rt.handle().spawn(async move {
        let _token = token;
        polled_tx.send(()).unwrap();
        pending::<()>().await
    });
    rt.block_on(async {
        while polled_rx.try_recv().is_err() {
            task::yield_now().await;
        }
    });
    assert!(!task.is_finished());
    let task = thread::spawn(move || {
        task.abort();
        task
    })
    .join()
    .unwrap();
    let err = rt.block_on(task).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.get(), 1);
}

fn abort_before_the_runtime_runs_means_never_polled(rt: &Runtime) {
    let polled = Arc::new(AtomicBool::new(false));
    let p = polled.clone();
    let handle = rt.handle();
    let task = thread::spawn(move || {
        let task = handle.spawn(async move { p.store(true, Ordering::SeqCst) });
        task.abort();
        task
    })
    .join()
    .unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    assert!(!polled.load(Ordering::SeqCst));
}

fn panic_in_a_remote_task_is_a_join_error(rt: &Runtime) {
    let task = rt.handle().spawn(async { panic!("remote boom") });
    let err = rt.block_on(task).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        err.to_string(),
        format!("task {} panicked with message \"remote boom\"", err.id())
    );
}

fn is_finished_follows_the_task(rt: &Runtime) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let task = rt.handle().spawn(async move { drop(tx) });
    assert!(!task.is_finished());
    rt.block_on(async {
        // The sender is dropped when the task finishes.
        while rx.try_recv() != Err(std::sync::mpsc::TryRecvError::Disconnected) {
            task::yield_now().await;
        }
    });
    assert!(task.is_finished());
    rt.block_on(task).unwrap();
}

each_mode!(
    try_current_finds_the_runtime_inside_it,
    spawn_from_another_thread_is_awaited_on_the_runtime,
    spawn_from_another_thread_is_awaited_there,
    spawn_on_the_runtime_thread_starts_at_once,
    abort_from_another_thread_drops_the_future,
    abort_before_the_runtime_runs_means_never_polled,
    panic_in_a_remote_task_is_a_join_error,
    is_finished_follows_the_task,
);

#[test]
fn spawn_after_the_runtime_is_gone_gives_a_cancelled_error() {
    let rt = common::rt(false);
    let handle = rt.handle();
    drop(rt);
    let drops = SendDrops::default();
    let token = drops.token();
    let task = handle.spawn(async move {
        let _token = token;
    });
    assert_eq!(
        drops.get(),
        1,
        "the future was dropped on the calling thread"
    );
    assert!(park_on(task).unwrap_err().is_cancelled());
}

#[test]
fn a_runtime_dropped_before_the_spawn_ran_cancels_it() {
    let rt = common::rt(false);
    let handle = rt.handle();
    let task = thread::spawn(move || handle.spawn(async { 1 }))
        .join()
        .unwrap();
    // Queued for the runtime's next turn, which never comes.
    drop(rt);
    assert!(task.is_finished());
    assert!(park_on(task).unwrap_err().is_cancelled());
}

#[test]
fn a_runtime_dropped_while_the_task_waits_cancels_it() {
    let rt = common::rt(true);
    let task = rt.handle().spawn(pending::<()>());
    rt.block_on(task::yield_now());
    rt.block_on(task::yield_now());
    assert!(!task.is_finished());
    drop(rt);
    assert!(park_on(task).unwrap_err().is_cancelled());
}

#[test]
fn shutdown_timeout_drops_every_task_and_returns_at_once() {
    for busy in [false, true] {
        let rt = common::rt(busy);
        let drops = DropCounter::default();
        rt.block_on(async {
            for _ in 0..3 {
                let token = drops.token();
                task::spawn(async move {
                    let _token = token;
                    pending::<()>().await
                });
            }
            task::yield_now().await;
        });
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_secs(3600));
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "nothing to wait for"
        );
        assert_eq!(drops.get(), 3);
    }
}

#[test]
fn shutdown_background_drops_every_task() {
    let rt = common::rt(false);
    let drops = DropCounter::default();
    let token = drops.token();
    rt.block_on(async move {
        task::spawn(async move {
            let _token = token;
            pending::<()>().await
        });
        task::yield_now().await;
    });
    let handle = rt.handle();
    rt.shutdown_background();
    assert_eq!(drops.get(), 1);
    assert!(handle.is_closed());
}
