//! Runtime metrics (`Runtime::metrics`, `Handle::metrics`) checked against known workloads, in
//! both loop modes.

mod common;

use common::{fire, WaitForWake};
use sonic_rt::io::Async;
use sonic_rt::task::yield_now;
use sonic_rt::time::sleep;
use sonic_rt::{spawn, Builder, Runtime};
use sonic_test_support::each_mode;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn busy_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn spawned_tasks_are_counted_when_spawned_polled_and_completed(rt: &Runtime) {
    let m = rt.metrics();
    assert_eq!(m.spawned_tasks_count(), 0);
    assert_eq!(m.poll_count(), 0);
    rt.block_on(async {
        let handles: Vec<_> = (0..5).map(|_| spawn(async {})).collect();
        let m = sonic_rt::Handle::current().metrics();
        assert_eq!(m.spawned_tasks_count(), 5);
        assert_eq!(m.completed_tasks_count(), 0);
        assert_eq!(m.num_alive_tasks(), 5);
        for h in handles {
            h.await.unwrap();
        }
    });
    let m = rt.metrics();
    assert_eq!(m.spawned_tasks_count(), 5);
    assert_eq!(m.completed_tasks_count(), 5);
    assert_eq!(m.num_alive_tasks(), 0);
    // Each task finished in its first poll; the block_on future's polls are not counted.
    assert_eq!(m.poll_count(), 5);
}

fn each_poll_of_a_yielding_task_is_counted(rt: &Runtime) {
    rt.block_on(async {
        spawn(async {
            for _ in 0..3 {
                yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    assert_eq!(rt.metrics().poll_count(), 4);
}

fn aborted_task_counts_as_completed(rt: &Runtime) {
    rt.block_on(async {
        let h = spawn(std::future::pending::<()>());
        yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    let m = rt.metrics();
    assert_eq!(m.spawned_tasks_count(), 1);
    assert_eq!(m.completed_tasks_count(), 1);
}

fn a_sleep_fires_one_timer(rt: &Runtime) {
    rt.block_on(sleep(Duration::from_millis(20)));
    let m = rt.metrics();
    assert_eq!(m.timers_fired_count(), 1);
    assert_eq!(m.pending_timers(), 0);
    assert!(m.reactor_turn_count() >= 1);
}

fn sleep_parks_the_parked_runtime() {
    let rt = timed(false);
    rt.block_on(sleep(Duration::from_millis(20)));
    let m = rt.metrics();
    assert!(m.park_count() >= 1, "{m:?}");
    // The sleep was spent asleep in the kernel.
    assert!(
        m.total_park_duration() >= Duration::from_millis(10),
        "{m:?}"
    );
}

fn sleep_never_parks_the_busy_polling_runtime() {
    let rt = timed(true);
    rt.block_on(sleep(Duration::from_millis(20)));
    let m = rt.metrics();
    assert_eq!(m.park_count(), 0, "{m:?}");
    assert_eq!(m.unpark_count(), 0, "{m:?}");
    assert_eq!(m.total_park_duration(), Duration::ZERO);
    // Spinning for the timer is busy time.
    assert!(
        m.total_busy_duration() >= Duration::from_millis(20),
        "{m:?}"
    );
    assert!(m.reactor_turn_count() > 1, "{m:?}");
}

#[test]
fn parks_are_counted_in_parked_mode_only() {
    sleep_parks_the_parked_runtime();
    sleep_never_parks_the_busy_polling_runtime();
}

#[test]
fn an_untimed_runtime_counts_parks_but_measures_no_durations() {
    let rt = sonic_test_support::rt(false);
    rt.block_on(async {
        sleep(Duration::from_millis(5)).await;
        busy_for(Duration::from_millis(2));
    });
    let m = rt.metrics();
    assert!(m.park_count() >= 1, "{m:?}");
    assert_eq!(m.total_park_duration(), Duration::ZERO);
    assert_eq!(m.total_busy_duration(), Duration::ZERO);
}

#[test]
fn busy_work_in_block_on_is_busy_time() {
    for busy_poll in [true, false] {
        let rt = timed(busy_poll);
        rt.block_on(async { busy_for(Duration::from_millis(5)) });
        let m = rt.metrics();
        assert!(m.total_busy_duration() >= Duration::from_millis(5), "{m:?}");
    }
}

#[test]
fn busy_time_of_the_run_in_progress_is_included() {
    for busy_poll in [true, false] {
        let rt = timed(busy_poll);
        rt.block_on(async {
            busy_for(Duration::from_millis(5));
            let m = sonic_rt::Handle::current().metrics();
            assert!(m.total_busy_duration() >= Duration::from_millis(5), "{m:?}");
        });
    }
}

#[test]
fn a_parked_runtime_is_not_busy_while_asleep() {
    let rt = timed(false);
    rt.block_on(sleep(Duration::from_millis(50)));
    let m = rt.metrics();
    assert!(
        m.total_park_duration() >= Duration::from_millis(25),
        "{m:?}"
    );
    // block_on lasted at least 50 ms: what was not parked was busy, so the two cover it.
    let driven = m.total_busy_duration() + m.total_park_duration();
    assert!(driven >= Duration::from_millis(50), "{m:?}");
}

fn a_wake_from_another_thread_is_a_remote_schedule(rt: &Runtime) {
    let slot = Arc::new(Mutex::new((false, None)));
    let s = slot.clone();
    let t = std::thread::spawn(move || {
        // Deterministic: wake only once the task has parked its waker.
        while s.lock().unwrap().1.is_none() {
            std::thread::yield_now();
        }
        assert!(fire(&s));
    });
    rt.block_on(async {
        spawn(WaitForWake { slot: slot.clone() }).await.unwrap();
    });
    t.join().unwrap();
    let m = rt.metrics();
    assert_eq!(m.remote_schedule_count(), 1, "{m:?}");
    assert_eq!(m.remote_post_count(), 0, "{m:?}");
    assert!(m.unpark_count() <= m.park_count(), "{m:?}");
}

/// A wake of the `block_on` future from another thread queues a marker so the loop cannot miss
/// it; the marker is neither a task schedule nor a post, nor part of the queue depth.
fn a_wake_of_the_block_on_future_from_another_thread_is_neither_schedule_nor_post(rt: &Runtime) {
    let slot = Arc::new(Mutex::new((false, None)));
    let s = slot.clone();
    let t = std::thread::spawn(move || {
        while s.lock().unwrap().1.is_none() {
            std::thread::yield_now();
        }
        assert!(fire(&s));
    });
    rt.block_on(WaitForWake { slot });
    t.join().unwrap();
    let m = rt.metrics();
    assert_eq!(m.remote_queue_depth(), 0, "{m:?}");
    rt.run_pending().unwrap();
    let m = rt.metrics();
    assert_eq!(m.remote_schedule_count(), 0, "{m:?}");
    assert_eq!(m.remote_post_count(), 0, "{m:?}");
    assert_eq!(m.remote_queue_depth(), 0, "{m:?}");
}

fn posts_are_queued_then_counted_when_run(rt: &Runtime) {
    let handle = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for i in 0..3 {
            let tx = tx.clone();
            handle.post(move || tx.send(i).unwrap()).unwrap();
        }
    })
    .join()
    .unwrap();
    let m = rt.metrics();
    assert_eq!(m.remote_queue_depth(), 3, "{m:?}");
    assert_eq!(m.remote_post_count(), 0, "{m:?}");
    rt.block_on(async {
        while rx.try_recv().is_err() {
            yield_now().await;
        }
    });
    rt.run_pending().unwrap();
    let m = rt.metrics();
    assert_eq!(m.remote_queue_depth(), 0, "{m:?}");
    assert_eq!(m.remote_post_count(), 3, "{m:?}");
    assert_eq!(m.remote_schedule_count(), 0, "{m:?}");
}

fn handle_on_another_thread_sees_what_block_on_published(rt: &Runtime) {
    let handle = rt.handle();
    rt.block_on(async {
        for _ in 0..3 {
            spawn(async {}).await.unwrap();
        }
    });
    let here = rt.metrics();
    let there = std::thread::spawn(move || handle.metrics()).join().unwrap();
    assert_eq!(there.spawned_tasks_count(), 3);
    assert_eq!(there.completed_tasks_count(), 3);
    assert_eq!(there.poll_count(), here.poll_count());
    assert_eq!(there.reactor_turn_count(), here.reactor_turn_count());
}

fn readiness_events_are_counted_per_turn(rt: &Runtime) {
    let (a, mut b) = UnixStream::pair().unwrap();
    rt.block_on(async {
        let a = Async::new(a).unwrap();
        assert_eq!(sonic_rt::Handle::current().metrics().io_sources(), 1);
        let before = sonic_rt::Handle::current()
            .metrics()
            .io_driver_ready_count();
        let reader = spawn(async move {
            // The first try finds nothing (EAGAIN), so the byte comes through an event.
            let mut buf = [0u8; 1];
            let n = a.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
            assert_eq!(n, 1);
        });
        yield_now().await;
        b.write_all(b"x").unwrap();
        reader.await.unwrap();
        let m = sonic_rt::Handle::current().metrics();
        assert!(m.io_driver_ready_count() > before, "{m:?}");
        assert!(m.reactor_turn_count() >= 1, "{m:?}");
    });
    assert_eq!(rt.metrics().io_sources(), 0);
}

each_mode!(
    spawned_tasks_are_counted_when_spawned_polled_and_completed,
    each_poll_of_a_yielding_task_is_counted,
    aborted_task_counts_as_completed,
    a_sleep_fires_one_timer,
    a_wake_from_another_thread_is_a_remote_schedule,
    a_wake_of_the_block_on_future_from_another_thread_is_neither_schedule_nor_post,
    posts_are_queued_then_counted_when_run,
    handle_on_another_thread_sees_what_block_on_published,
    readiness_events_are_counted_per_turn,
);

fn timed(busy_poll: bool) -> Runtime {
    Builder::new()
        .busy_poll(busy_poll)
        .enable_metrics_poll_time_histogram()
        .build()
        .unwrap()
}

#[test]
fn poll_time_histogram_counts_every_poll_in_its_bucket() {
    for busy_poll in [true, false] {
        let rt = timed(busy_poll);
        rt.block_on(async {
            spawn(async { busy_for(Duration::from_millis(3)) })
                .await
                .unwrap();
            for _ in 0..4 {
                spawn(async {}).await.unwrap();
            }
        });
        let m = rt.metrics();
        assert!(m.poll_time_histogram_enabled());
        let n = m.poll_time_histogram_num_buckets();
        let total: u64 = (0..n).map(|b| m.poll_time_histogram_bucket_count(b)).sum();
        assert_eq!(total, 5, "busy_poll={busy_poll}: {m:?}");
        // The 3 ms poll is in a bucket that reaches past 3 ms, and only one such poll exists.
        let slow: u64 = (0..n)
            .filter(|&b| m.poll_time_histogram_bucket_range(b).end > Duration::from_millis(3))
            .map(|b| m.poll_time_histogram_bucket_count(b))
            .sum();
        assert!(slow >= 1, "busy_poll={busy_poll}: {m:?}");
        assert!(m.total_poll_duration() >= Duration::from_millis(3));
    }
}

#[test]
fn poll_time_histogram_is_empty_when_not_enabled() {
    for busy_poll in [true, false] {
        let rt = sonic_test_support::rt(busy_poll);
        rt.block_on(async {
            spawn(async { busy_for(Duration::from_millis(1)) })
                .await
                .unwrap();
        });
        let m = rt.metrics();
        assert!(!m.poll_time_histogram_enabled());
        assert_eq!(m.poll_count(), 1);
        let n = m.poll_time_histogram_num_buckets();
        assert!((0..n).all(|b| m.poll_time_histogram_bucket_count(b) == 0));
        assert_eq!(m.total_poll_duration(), Duration::ZERO);
    }
}
