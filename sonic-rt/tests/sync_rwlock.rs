//! `sync::RwLock` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::RwLock;
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, Runtime};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

/// Yields until `done` holds (other tasks get to run in between).
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

fn readers_share_and_writers_exclude(rt: &Runtime) {
    rt.block_on(async {
        let lock = Rc::new(RwLock::new(0u32));
        let readers_inside = Rc::new(Cell::new(0));
        let writer_inside = Rc::new(Cell::new(false));
        let most_readers = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let (lock, readers, writer, most) = (
                    Rc::clone(&lock),
                    Rc::clone(&readers_inside),
                    Rc::clone(&writer_inside),
                    Rc::clone(&most_readers),
                );
                spawn(async move {
                    for _ in 0..10 {
                        if i % 4 == 0 {
                            let mut guard = lock.write().await;
                            assert!(readers.get() == 0 && !writer.replace(true));
                            yield_now().await;
                            *guard += 1;
                            writer.set(false);
                        } else {
                            let _guard = lock.read().await;
                            assert!(!writer.get());
                            readers.set(readers.get() + 1);
                            most.set(most.get().max(readers.get()));
                            yield_now().await;
                            readers.set(readers.get() - 1);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*lock.read().await, 100);
        assert!(most_readers.get() > 1, "readers overlapped");
    });
}

fn a_writer_is_not_starved_by_a_stream_of_readers(rt: &Runtime) {
    rt.block_on(async {
        let lock = Rc::new(RwLock::new(0));
        let written = Rc::new(Cell::new(false));
        let reads_after_write = Rc::new(Cell::new(0));
        // Readers that overlap each other, so the lock is never free of readers on its own.
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (lock, written, after) = (
                    Rc::clone(&lock),
                    Rc::clone(&written),
                    Rc::clone(&reads_after_write),
                );
                spawn(async move {
                    for _ in 0..100 {
                        let guard = lock.read().await;
                        if written.get() {
                            assert_eq!(*guard, 1);
                            after.set(after.get() + 1);
                        }
                        yield_now().await;
                    }
                })
            })
            .collect();
        yield_now().await;
        let writer = {
            let (lock, written) = (Rc::clone(&lock), Rc::clone(&written));
            spawn(async move {
                *lock.write().await = 1;
                written.set(true);
            })
        };
        timeout(GUARD, writer)
            .await
            .expect("writer starved")
            .unwrap();
        for reader in readers {
            reader.await.unwrap();
        }
        assert!(reads_after_write.get() > 0);
    });
}

fn readers_queued_behind_a_writer_get_in_after_it(rt: &Runtime) {
    rt.block_on(async {
        let lock = Rc::new(RwLock::new(Vec::new()));
        let reader = lock.read().await;
        let started = Rc::new(Cell::new(0));
        let order = Rc::new(RefCell::new(Vec::new()));
        let writer = {
            let (lock, started, order) = (Rc::clone(&lock), Rc::clone(&started), Rc::clone(&order));
            spawn(async move {
                started.set(started.get() + 1);
                lock.write().await.push(1);
                order.borrow_mut().push("writer");
            })
        };
        wait_until(|| started.get() == 1).await;
        let late_reader = {
            let (lock, started, order) = (Rc::clone(&lock), Rc::clone(&started), Rc::clone(&order));
            spawn(async move {
                started.set(started.get() + 1);
                let guard = lock.read().await;
                order.borrow_mut().push("reader");
                guard.len()
            })
        };
        wait_until(|| started.get() == 2).await;
        assert!(
            lock.try_read().is_err(),
            "a writer waits: readers queue behind it"
        );
        drop(reader);
        assert_eq!(late_reader.await.unwrap(), 1);
        writer.await.unwrap();
        assert_eq!(*order.borrow(), ["writer", "reader"]);
    });
}

fn downgrade_lets_waiting_readers_in_and_keeps_writers_out(rt: &Runtime) {
    rt.block_on(async {
        let lock = Rc::new(RwLock::new(0));
        let mut writer = Rc::clone(&lock).write_owned().await;
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let lock = Rc::clone(&lock);
                spawn(async move { *lock.read().await })
            })
            .collect();
        yield_now().await;
        *writer = 7;
        let reader = writer.downgrade();
        for task in readers {
            assert_eq!(timeout(GUARD, task).await.unwrap().unwrap(), 7);
        }
        assert!(lock.try_write().is_err());
        drop(reader);
        assert!(lock.try_write().is_ok());
    });
}

each_mode!(
    readers_share_and_writers_exclude,
    a_writer_is_not_starved_by_a_stream_of_readers,
    readers_queued_behind_a_writer_get_in_after_it,
    downgrade_lets_waiting_readers_in_and_keeps_writers_out,
);
