//! Proves the no-allocation claims of `sync` with a counting global allocator: once warmed up,
//! sending and receiving on bounded and unbounded channels (including senders that wait for
//! room), `Notify` round trips, lock/unlock of `Mutex` and `RwLock`, acquire/release of
//! `Semaphore` (with and without waiting), watch send + changed and broadcast send + recv
//! allocate nothing.

mod common;

use sonic_rt::spawn;
use sonic_rt::sync::{broadcast, mpsc, watch, Mutex, Notify, RwLock, Semaphore};
use sonic_rt::task::yield_now;
use std::cell::Cell;
use std::rc::Rc;

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::assert_steady_state_alloc_free;

#[test]
fn bounded_round_trips_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
            let echo = spawn(async move {
                while let Some(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            assert_steady_state_alloc_free!("bounded ping-pong", {
                ping_tx.send(7).await.unwrap();
                assert_eq!(pong_rx.recv().await, Some(7));
            });
            drop(ping_tx);
            echo.await.unwrap();
        });
    }
}

#[test]
fn senders_waiting_for_room_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (tx, mut rx) = mpsc::channel::<u64>(1);
            // Three producers that are nearly always blocked on a full channel: every round parks
            // and unparks waiters in the wait list.
            let producers: Vec<_> = (0..3)
                .map(|_| {
                    let tx = tx.clone();
                    spawn(async move { while tx.send(1).await.is_ok() {} })
                })
                .collect();
            drop(tx);
            assert_steady_state_alloc_free!("blocked senders", {
                assert_eq!(rx.recv().await, Some(1));
            });
            rx.close();
            for producer in producers {
                producer.await.unwrap();
            }
        });
    }
}

#[test]
fn unbounded_round_trips_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (ping_tx, mut ping_rx) = mpsc::unbounded_channel::<[u64; 4]>();
            let (pong_tx, mut pong_rx) = mpsc::unbounded_channel::<[u64; 4]>();
            let echo = spawn(async move {
                while let Some(batch) = ping_rx.recv().await {
                    pong_tx.send(batch).unwrap();
                }
            });
            assert_steady_state_alloc_free!("unbounded ping-pong", {
                for i in 0..8 {
                    ping_tx.send([i; 4]).unwrap();
                }
                for i in 0..8 {
                    assert_eq!(pong_rx.recv().await, Some([i; 4]));
                }
            });
            drop(ping_tx);
            echo.await.unwrap();
        });
    }
}

#[test]
fn notify_round_trips_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (ping, pong) = (Rc::new(Notify::new()), Rc::new(Notify::new()));
            let stop = Rc::new(Cell::new(false));
            let echo = spawn({
                let (ping, pong, stop) = (Rc::clone(&ping), Rc::clone(&pong), Rc::clone(&stop));
                async move {
                    loop {
                        ping.notified().await;
                        if stop.get() {
                            return;
                        }
                        pong.notify_one();
                    }
                }
            });
            assert_steady_state_alloc_free!("notify ping-pong", {
                ping.notify_one();
                pong.notified().await;
            });
            stop.set(true);
            ping.notify_one();
            echo.await.unwrap();
        });
    }
}

#[test]
fn mutex_lock_unlock_allocates_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let mutex = Rc::new(Mutex::new(0u64));
            assert_steady_state_alloc_free!("uncontended lock", {
                *mutex.lock().await += 1;
            });
            // Contended: another task holds the lock across a yield, so every lock here waits
            // in the queue and is handed the lock on unlock.
            let stop = Rc::new(Cell::new(false));
            let holder = spawn({
                let (mutex, stop) = (Rc::clone(&mutex), Rc::clone(&stop));
                async move {
                    while !stop.get() {
                        let _guard = mutex.lock().await;
                        yield_now().await;
                    }
                }
            });
            yield_now().await;
            assert_steady_state_alloc_free!("contended lock", {
                *mutex.lock().await += 1;
                yield_now().await;
            });
            stop.set(true);
            holder.await.unwrap();
        });
    }
}

#[test]
fn rwlock_read_and_write_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let lock = RwLock::new(0u64);
            assert_steady_state_alloc_free!("read + write", {
                let value = *lock.read().await;
                *lock.write().await = value + 1;
            });
        });
    }
}

#[test]
fn semaphore_acquire_release_allocates_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let semaphore = Rc::new(Semaphore::new(2));
            assert_steady_state_alloc_free!("uncontended acquire", {
                let _permit = semaphore.acquire_many(2).await.unwrap();
            });
            // Three tasks for two permits: someone always waits.
            let stop = Rc::new(Cell::new(false));
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let (semaphore, stop) = (Rc::clone(&semaphore), Rc::clone(&stop));
                    spawn(async move {
                        while !stop.get() {
                            let _permit = semaphore.acquire().await.unwrap();
                            yield_now().await;
                        }
                    })
                })
                .collect();
            yield_now().await;
            assert_steady_state_alloc_free!("contended acquire", {
                let _permit = semaphore.acquire().await.unwrap();
                yield_now().await;
            });
            stop.set(true);
            for worker in workers {
                worker.await.unwrap();
            }
        });
    }
}

#[test]
fn watch_send_and_changed_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (ping_tx, mut ping_rx) = watch::channel(0u64);
            let (pong_tx, mut pong_rx) = watch::channel(0u64);
            let echo = spawn(async move {
                while ping_rx.changed().await.is_ok() {
                    let n = *ping_rx.borrow_and_update();
                    pong_tx.send(n).unwrap();
                }
            });
            let mut n = 0;
            assert_steady_state_alloc_free!("watch ping-pong", {
                n += 1;
                ping_tx.send(n).unwrap();
                pong_rx.changed().await.unwrap();
                assert_eq!(*pong_rx.borrow_and_update(), n);
            });
            drop(ping_tx);
            echo.await.unwrap();
        });
    }
}

#[test]
fn broadcast_send_and_recv_allocate_nothing() {
    for busy_poll in [false, true] {
        common::rt(busy_poll).block_on(async {
            let (tx, rx) = broadcast::channel::<u64>(4);
            let received = Rc::new(Cell::new(0u64));
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    let (mut rx, received) = (rx.resubscribe(), Rc::clone(&received));
                    spawn(async move {
                        while let Ok(n) = rx.recv().await {
                            received.set(received.get() + n);
                        }
                    })
                })
                .collect();
            drop(rx);
            yield_now().await;
            let mut expected = 0;
            assert_steady_state_alloc_free!("broadcast to 4", {
                tx.send(1).unwrap();
                expected += 4;
                while received.get() != expected {
                    yield_now().await;
                }
            });
            drop(tx);
            for reader in readers {
                reader.await.unwrap();
            }
        });
    }
}
