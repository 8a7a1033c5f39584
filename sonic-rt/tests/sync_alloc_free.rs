//! Proves the no-allocation claims of `sync` with a counting global allocator: once warmed up,
//! sending and receiving on bounded and unbounded channels (including senders that wait for
//! room) and `Notify` round trips allocate nothing.

mod common;

use sonic_rt::spawn;
use sonic_rt::sync::{mpsc, Notify};
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
