//! `sync::broadcast` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use common::DropCounter;
use sonic_rt::sync::broadcast::{self, error::RecvError};
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{select, spawn, Runtime};
use std::rc::Rc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

/// More rounds than a task's budget (128) allows without yielding.
const ROUNDS: usize = 100_000;

fn sixteen_receivers_get_every_value_in_order(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = broadcast::channel(8);
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let mut rx = rx.resubscribe();
                spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match rx.recv().await {
                            Ok(n) => got.push(n),
                            Err(RecvError::Closed) => return got,
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                })
            })
            .collect();
        drop(rx);
        yield_now().await;
        for n in 0..1000u32 {
            assert_eq!(tx.send(n).unwrap(), 16);
            // Give the readers a turn before the ring wraps.
            if n % 4 == 3 {
                yield_now().await;
            }
        }
        drop(tx);
        for reader in readers {
            assert_eq!(reader.await.unwrap(), (0..1000).collect::<Vec<_>>());
        }
    });
}

fn a_slow_receiver_lags_and_recovers(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut fast) = broadcast::channel(4);
        let mut slow = tx.subscribe();
        let fast = spawn(async move {
            for n in 0..10 {
                assert_eq!(fast.recv().await, Ok(n));
            }
            assert_eq!(fast.recv().await, Err(RecvError::Closed));
        });
        let producer = spawn(async move {
            for n in 0..10u32 {
                tx.send(n).unwrap();
                yield_now().await; // the fast reader keeps up, the slow one does not read
            }
        });
        producer.await.unwrap();
        fast.await.unwrap();
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
        for n in 6..10 {
            assert_eq!(slow.recv().await, Ok(n));
        }
        assert_eq!(slow.recv().await, Err(RecvError::Closed));
    });
}

fn recv_spends_budget(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = broadcast::channel(8);
        select! {
            biased;
            _ = async {
                for _ in 0..ROUNDS {
                    tx.send(()).unwrap();
                    assert!(rx.recv().await.is_ok());
                }
                panic!("{ROUNDS} rounds without yielding: no budget was spent");
            } => {}
            _ = yield_now() => {}
        }
    });
}

fn sender_closed_completes_when_the_receivers_leave(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = broadcast::channel::<u8>(2);
        let tx = Rc::new(tx);
        let waiter = {
            let tx = Rc::clone(&tx);
            spawn(async move { tx.closed().await })
        };
        let leaver = spawn(async move {
            yield_now().await;
            drop(rx);
        });
        leaver.await.unwrap();
        timeout(GUARD, waiter).await.expect("closed").unwrap();
        assert!(tx.send(1).is_err());
    });
}

fn values_are_dropped_when_read_by_all_or_when_the_readers_leave(rt: &Runtime) {
    rt.block_on(async {
        let drops = DropCounter::default();
        let (tx, mut rx1) = broadcast::channel(4);
        let rx2 = tx.subscribe();
        for _ in 0..3 {
            assert!(tx.send(Rc::new(drops.token())).is_ok());
        }
        let reader = spawn(async move {
            for _ in 0..3 {
                drop(rx1.recv().await.unwrap());
            }
        });
        reader.await.unwrap();
        assert_eq!(drops.get(), 0, "rx2 has read nothing yet");
        drop(rx2);
        assert_eq!(drops.get(), 3);
    });
}

each_mode!(
    sixteen_receivers_get_every_value_in_order,
    a_slow_receiver_lags_and_recovers,
    recv_spends_budget,
    sender_closed_completes_when_the_receivers_leave,
    values_are_dropped_when_read_by_all_or_when_the_readers_leave,
);
