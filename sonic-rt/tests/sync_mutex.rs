//! `sync::Mutex` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::{Mutex, MutexGuard};
use sonic_rt::task::yield_now;
use sonic_rt::time::{interval, timeout};
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

/// Yields until `done` holds (other tasks get to run in between).
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

fn a_guard_held_across_await_keeps_other_tasks_out(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new(0u64));
        let inside = Rc::new(Cell::new(false));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (mutex, inside) = (Rc::clone(&mutex), Rc::clone(&inside));
                spawn(async move {
                    for _ in 0..20 {
                        let mut guard = mutex.lock().await;
                        assert!(!inside.replace(true), "two tasks inside the lock");
                        let before = *guard;
                        yield_now().await;
                        *guard = before + 1;
                        inside.set(false);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*mutex.lock().await, 1000);
    });
}

fn tasks_get_the_lock_in_the_order_they_asked(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let guard = mutex.lock().await;
        let started = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (mutex, started) = (Rc::clone(&mutex), Rc::clone(&started));
                spawn(async move {
                    started.set(started.get() + 1);
                    mutex.lock().await.push(i);
                })
            })
            .collect();
        wait_until(|| started.get() == 8).await;
        drop(guard);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*mutex.lock().await, [0, 1, 2, 3, 4, 5, 6, 7]);
    });
}

fn a_cancelled_holder_unlocks(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new(0));
        let holder = {
            let mutex = Rc::clone(&mutex);
            async move {
                let mut ticks = interval(Duration::from_secs(1000));
                let _guard = mutex.lock().await;
                ticks.tick().await;
                ticks.tick().await;
            }
        };
        assert!(timeout(Duration::from_millis(1), holder).await.is_err());
        drop(timeout(GUARD, mutex.lock()).await.expect("still locked"));
    });
}

fn a_cancelled_waiter_does_not_keep_the_lock(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new(0));
        {
            let _guard = mutex.lock().await;
            assert!(timeout(Duration::from_millis(1), mutex.lock())
                .await
                .is_err());
        }
        drop(timeout(GUARD, mutex.lock()).await.expect("still locked"));
    });
}

fn an_aborted_task_that_was_handed_the_lock_passes_it_on(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let guard = mutex.lock().await;
        let started = Rc::new(Cell::new(0));
        let locker = |id| {
            let (mutex, started) = (Rc::clone(&mutex), Rc::clone(&started));
            spawn(async move {
                started.set(started.get() + 1);
                mutex.lock().await.push(id);
            })
        };
        let (first, second) = (locker(1), locker(2));
        wait_until(|| started.get() == 2).await;
        drop(guard); // handed to `first`, which has not run since
        first.abort();
        assert!(first.await.is_err());
        timeout(GUARD, second).await.expect("lock lost").unwrap();
        assert_eq!(*mutex.lock().await, [2]);
    });
}

fn owned_and_mapped_guards_across_tasks(rt: &Runtime) {
    rt.block_on(async {
        let mutex = Rc::new(Mutex::new((0u32, String::new())));
        let guard = Rc::clone(&mutex).lock_owned().await;
        let writer = spawn(async move {
            let mut guard = guard;
            yield_now().await;
            guard.0 += 1;
            guard.1.push_str("owned");
        });
        let reader = {
            let mutex = Rc::clone(&mutex);
            spawn(async move {
                let text = MutexGuard::map(mutex.lock().await, |pair| &mut pair.1);
                text.clone()
            })
        };
        writer.await.unwrap();
        assert_eq!(reader.await.unwrap(), "owned");
        assert_eq!(mutex.lock().await.0, 1);
    });
}

fn a_lock_loop_that_never_waits_still_yields(rt: &Runtime) {
    rt.block_on(async {
        let other_ran = Rc::new(Cell::new(false));
        let other = spawn({
            let other_ran = Rc::clone(&other_ran);
            async move { other_ran.set(true) }
        });
        let mutex = Mutex::new(0);
        let mut rounds = 0;
        while !other_ran.get() {
            *mutex.lock().await += 1;
            rounds += 1;
            assert!(rounds < 100_000, "lock never spent its budget");
        }
        other.await.unwrap();
    });
}

each_mode!(
    a_guard_held_across_await_keeps_other_tasks_out,
    tasks_get_the_lock_in_the_order_they_asked,
    a_cancelled_holder_unlocks,
    a_cancelled_waiter_does_not_keep_the_lock,
    an_aborted_task_that_was_handed_the_lock_passes_it_on,
    owned_and_mapped_guards_across_tasks,
    a_lock_loop_that_never_waits_still_yields,
);
