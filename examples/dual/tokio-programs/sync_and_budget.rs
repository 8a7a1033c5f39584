//! tokio idioms that lean on tokio's `Send`/`Sync` sync types and on its cooperative budget,
//! written for tokio. The same file is a test of both builds (`on-tokio`, `on-sonic-tokio`), so
//! each assertion holds on tokio and, unchanged, on sonic through the facade.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, Notify, OnceCell, Semaphore, SetOnce};

static CONFIG: OnceCell<u32> = OnceCell::const_new();
static CONFIG_INITS: AtomicUsize = AtomicUsize::new(0);

#[tokio::test]
async fn a_static_once_cell_is_initialised_once_for_all_tasks() {
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async {
                let value = CONFIG
                    .get_or_init(|| async {
                        CONFIG_INITS.fetch_add(1, SeqCst);
                        tokio::task::yield_now().await;
                        42
                    })
                    .await;
                *value
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 42);
    }
    assert_eq!(CONFIG_INITS.load(SeqCst), 1);
}

static COUNTER: Mutex<u32> = Mutex::const_new(0);

#[tokio::test]
async fn a_static_mutex_is_shared_by_tasks() {
    let tasks: Vec<_> = (0..10)
        .map(|_| tokio::spawn(async { *COUNTER.lock().await += 1 }))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*COUNTER.lock().await, 10);
}

#[tokio::test]
async fn owned_permits_of_an_arc_semaphore_bound_concurrency() {
    let limit = Arc::new(Semaphore::new(2));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (running, peak) = (running.clone(), peak.clone());
        tasks.push(tokio::spawn(async move {
            let now = running.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(now, SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            running.fetch_sub(1, SeqCst);
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(peak.load(SeqCst), 2);
    assert_eq!(limit.available_permits(), 2);
}

#[tokio::test]
async fn a_mutex_is_shared_with_a_thread_and_with_blocking_code() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let for_thread = log.clone();
    std::thread::spawn(move || for_thread.blocking_lock().push("thread"))
        .join()
        .unwrap();
    let for_blocking = log.clone();
    tokio::task::spawn_blocking(move || for_blocking.blocking_lock().push("blocking"))
        .await
        .unwrap();
    log.lock().await.push("task");
    assert_eq!(*log.lock().await, ["thread", "blocking", "task"]);
}

#[tokio::test]
async fn a_thread_wakes_a_task_through_notify_and_set_once() {
    let notify = Arc::new(Notify::new());
    let ready = Arc::new(SetOnce::new());
    let (n, r) = (notify.clone(), ready.clone());
    let thread = std::thread::spawn(move || {
        r.set(7u32).unwrap();
        n.notify_one();
    });
    notify.notified().await;
    assert_eq!(*ready.wait().await, 7);
    thread.join().unwrap();
}

#[tokio::test]
async fn a_timeout_fires_around_a_loop_over_an_always_ready_reader() {
    // Each read of `empty()` is ready at once; only the cooperative budget makes the loop yield
    // so the timer can fire. Bounded, so a missing budget fails the test instead of hanging it.
    let looped = tokio::time::timeout(Duration::from_millis(1), async {
        let mut byte = [0u8; 1];
        for _ in 0..20_000_000u32 {
            let _ = tokio::io::empty().read(&mut byte).await;
        }
    })
    .await;
    assert!(looped.is_err(), "the loop ran to its end: it never yielded");
}

#[tokio::test]
async fn writes_to_a_sink_and_reads_of_repeat_let_other_tasks_run() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            counter.fetch_add(1, SeqCst);
            tokio::task::yield_now().await;
        }
    });
    let mut sink = tokio::io::sink();
    let mut repeat = tokio::io::repeat(9);
    let mut byte = [0u8; 1];
    for _ in 0..1024 {
        sink.write_all(b"x").await.unwrap();
        repeat.read_exact(&mut byte).await.unwrap();
    }
    assert_eq!(byte, [9]);
    // 2048 budgeted operations: the budget of 128 per poll ran out again and again.
    assert!(ticks.load(SeqCst) >= 8, "ticks: {}", ticks.load(SeqCst));
    ticker.abort();
}
