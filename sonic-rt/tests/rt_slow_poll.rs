//! The stall detector (`Builder::on_slow_poll`): a poll longer than the threshold is reported
//! with the task's id and spawn location, whichever spawn function made the task; fast polls are
//! not. Both loop modes.

use sonic_rt::task::{self, Id, JoinSet, LocalSet};
use sonic_rt::{spawn, Builder, Handle, Runtime, SlowPoll};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const THRESHOLD: Duration = Duration::from_millis(10);
const BLOCK: Duration = Duration::from_millis(50);

/// Blocks the loop for `BLOCK` in one poll.
async fn stall() {
    let start = Instant::now();
    while start.elapsed() < BLOCK {
        std::hint::spin_loop();
    }
}

type Reports = Arc<Mutex<Vec<SlowPoll>>>;

fn detecting_rt(busy_poll: bool) -> (Runtime, Reports) {
    let reports = Reports::default();
    let r = reports.clone();
    let rt = Builder::new()
        .busy_poll(busy_poll)
        .on_slow_poll(THRESHOLD, move |slow| r.lock().unwrap().push(*slow))
        .build()
        .unwrap();
    (rt, reports)
}

/// The one report there is: for `id`, at `file:line`, at least `BLOCK` long.
fn assert_reported(reports: &Reports, id: Id, line: u32) {
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let slow = reports[0];
    assert_eq!(slow.id, id);
    assert_eq!(slow.location.file(), file!());
    assert_eq!(slow.location.line(), line);
    assert!(slow.duration >= BLOCK, "{slow:?}");
}

fn each_mode(test: fn(bool)) {
    test(true);
    test(false);
}

#[test]
fn slow_task_is_reported_with_its_id_and_spawn_location_and_a_fast_one_is_not() {
    each_mode(|busy_poll| {
        let (rt, reports) = detecting_rt(busy_poll);
        rt.block_on(async {
            let fast = spawn(async {});
            let (slow, line) = (spawn(stall()), line!());
            let fast_id = fast.id();
            let slow_id = slow.id();
            fast.await.unwrap();
            slow.await.unwrap();
            assert_reported(&reports, slow_id, line);
            assert_ne!(reports.lock().unwrap()[0].id, fast_id);
        });
        let m = rt.metrics();
        assert_eq!(m.slow_poll_count(), 1);
        // The detector times every poll, so the histogram is filled too.
        assert!(m.poll_time_histogram_enabled());
    });
}

#[test]
fn only_the_slow_poll_of_a_task_is_reported() {
    each_mode(|busy_poll| {
        let (rt, reports) = detecting_rt(busy_poll);
        rt.block_on(async {
            let (h, line) = (
                spawn(async {
                    task::yield_now().await;
                    stall().await;
                    task::yield_now().await;
                }),
                line!() - 5,
            );
            let id = h.id();
            h.await.unwrap();
            assert_reported(&reports, id, line);
        });
        assert_eq!(rt.metrics().poll_count(), 3);
    });
}

#[test]
fn spawn_location_is_the_callers_for_every_spawn_function() {
    each_mode(|busy_poll| {
        let (rt, reports) = detecting_rt(busy_poll);
        let take = |reports: &Reports| reports.lock().unwrap().drain(..).collect::<Vec<_>>();

        let (h, line) = (rt.spawn(stall()), line!());
        let id = h.id();
        rt.block_on(h).unwrap();
        assert_reported(&reports, id, line);
        take(&reports);

        rt.block_on(async {
            let (h, line) = (task::spawn_local(stall()), line!());
            let id = h.id();
            h.await.unwrap();
            assert_reported(&reports, id, line);
        });
        take(&reports);

        rt.block_on(async {
            let mut set = JoinSet::new();
            let (abort, line) = (set.spawn(stall()), line!());
            let id = abort.id();
            set.join_next().await.unwrap().unwrap();
            assert_reported(&reports, id, line);
        });
        take(&reports);

        // A LocalSet task spawned before the set is driven (an unbound task).
        let local = LocalSet::new();
        let (h, line) = (local.spawn_local(stall()), line!());
        let id = h.id();
        rt.block_on(local.run_until(h)).unwrap();
        assert_reported(&reports, id, line);
        take(&reports);

        // Handle::spawn from another thread: the location is the other thread's call site.
        let handle = rt.handle();
        let (h, line) = std::thread::spawn(move || (handle.spawn(stall()), line!()))
            .join()
            .unwrap();
        let id = h.id();
        rt.block_on(h).unwrap();
        assert_reported(&reports, id, line);
        take(&reports);

        // Handle::spawn_with: the future is made on the runtime's thread, the location is
        // still the caller's.
        let handle = rt.handle();
        let (tx, rx) = std::sync::mpsc::channel();
        let line = line!() + 1;
        Handle::spawn_with(&handle, move || async move {
            stall().await;
            tx.send(task::id()).unwrap();
        })
        .unwrap();
        let id = rt.block_on(async {
            loop {
                if let Ok(id) = rx.try_recv() {
                    return id;
                }
                task::yield_now().await;
            }
        });
        assert_reported(&reports, id, line);
    });
}

#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    each_mode(|busy_poll| {
        let rt = Builder::new()
            .busy_poll(busy_poll)
            .on_slow_poll(THRESHOLD, |_| panic!("callback fails"))
            .build()
            .unwrap();
        let out = rt.block_on(async {
            spawn(stall()).await.unwrap();
            spawn(async { 7 }).await.unwrap()
        });
        assert_eq!(out, 7);
        assert_eq!(rt.metrics().slow_poll_count(), 1);
    });
}

/// Blocks the thread (a synchronous call in a task) for 5 ms.
async fn block_5ms() {
    std::thread::sleep(Duration::from_millis(5));
}

/// The case: a task that blocks the loop for 5 ms (a synchronous call, here a sleep of
/// the thread) is reported with its spawn location under a 2 ms threshold.
#[test]
fn a_task_blocking_the_loop_for_5_ms_is_reported_with_its_spawn_location() {
    each_mode(|busy_poll| {
        let reports = Reports::default();
        let r = reports.clone();
        let rt = Builder::new()
            .busy_poll(busy_poll)
            .on_slow_poll(Duration::from_millis(2), move |slow| {
                r.lock().unwrap().push(*slow)
            })
            .build()
            .unwrap();
        rt.block_on(async {
            let (blocker, line) = (spawn(block_5ms()), line!());
            let id = blocker.id();
            blocker.await.unwrap();
            let reports = reports.lock().unwrap();
            // Other polls may be slow too on a loaded machine; the blocker's must be there.
            let slow = reports
                .iter()
                .find(|s| s.id == id)
                .unwrap_or_else(|| panic!("the 5 ms poll was not reported: {reports:?}"));
            assert_eq!(slow.location.file(), file!());
            assert_eq!(slow.location.line(), line);
            assert!(slow.duration >= Duration::from_millis(5), "{slow:?}");
        });
    });
}
