//! `sync::watch` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::watch;
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{select, spawn, Runtime};
use std::rc::Rc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

/// More rounds than a task's budget (128) allows without yielding.
const ROUNDS: usize = 100_000;

fn every_receiver_ends_on_the_last_value(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = watch::channel(0u32);
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let mut rx = rx.clone();
                spawn(async move {
                    let mut seen = vec![*rx.borrow_and_update()];
                    while rx.changed().await.is_ok() {
                        seen.push(*rx.borrow_and_update());
                    }
                    seen
                })
            })
            .collect();
        drop(rx);
        for n in 1..=100 {
            tx.send(n).unwrap();
            if n % 7 == 0 {
                yield_now().await;
            }
        }
        drop(tx);
        for reader in readers {
            let seen = reader.await.unwrap();
            assert_eq!(seen.last(), Some(&100));
            assert!(
                seen.windows(2).all(|w| w[0] < w[1]),
                "versions only go forward"
            );
        }
    });
}

fn wait_for_sees_the_value_it_waits_for(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(0);
        let counter = spawn(async move {
            for n in 1..=10 {
                tx.send(n).unwrap();
                yield_now().await;
            }
        });
        assert_eq!(*rx.wait_for(|n| *n == 5).await.unwrap(), 5);
        counter.await.unwrap();
        assert!(rx.wait_for(|n| *n == 11).await.is_err());
        assert_eq!(*rx.borrow(), 10);
    });
}

fn closed_completes_when_every_receiver_is_gone(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = watch::channel(());
        let tx = Rc::new(tx);
        let waiter = {
            let tx = Rc::clone(&tx);
            spawn(async move { tx.closed().await })
        };
        let holders: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                spawn(async move {
                    yield_now().await;
                    drop(rx);
                })
            })
            .collect();
        drop(rx);
        for holder in holders {
            holder.await.unwrap();
        }
        timeout(GUARD, waiter).await.expect("closed").unwrap();
        assert!(tx.is_closed());
    });
}

fn changed_spends_budget_on_a_closed_channel(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(());
        drop(tx);
        select! {
            biased;
            _ = async {
                for _ in 0..ROUNDS {
                    assert!(rx.changed().await.is_err());
                }
                panic!("{ROUNDS} rounds without yielding: no budget was spent");
            } => {}
            _ = yield_now() => {}
        }
    });
}

fn changed_spends_budget_when_always_changed(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(());
        select! {
            biased;
            _ = async {
                for _ in 0..ROUNDS {
                    tx.send(()).unwrap();
                    assert!(rx.changed().await.is_ok());
                }
                panic!("{ROUNDS} rounds without yielding: no budget was spent");
            } => {}
            _ = yield_now() => {}
        }
    });
}

fn wait_for_and_closed_spend_budget(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(1);
        select! {
            biased;
            _ = async {
                for _ in 0..ROUNDS {
                    assert!(rx.wait_for(|n| *n == 1).await.is_ok());
                }
                panic!("{ROUNDS} rounds without yielding: no budget was spent");
            } => {}
            _ = yield_now() => {}
        }
        drop(rx);
        select! {
            biased;
            _ = async {
                for _ in 0..ROUNDS {
                    tx.closed().await;
                }
                panic!("{ROUNDS} rounds without yielding: no budget was spent");
            } => {}
            _ = yield_now() => {}
        }
    });
}

fn two_senders_feed_one_receiver(rt: &Runtime) {
    rt.block_on(async {
        let (tx1, mut rx) = watch::channel(0);
        let tx2 = tx1.clone();
        let reader = spawn(async move {
            rx.changed().await.unwrap();
            let first = *rx.borrow_and_update();
            rx.changed().await.unwrap();
            let second = *rx.borrow_and_update();
            assert!(rx.changed().await.is_err());
            (first, second)
        });
        yield_now().await;
        tx1.send(1).unwrap();
        yield_now().await;
        tx2.send(2).unwrap();
        yield_now().await;
        drop(tx1);
        drop(tx2);
        assert_eq!(reader.await.unwrap(), (1, 2));
    });
}

each_mode!(
    every_receiver_ends_on_the_last_value,
    wait_for_sees_the_value_it_waits_for,
    closed_completes_when_every_receiver_is_gone,
    changed_spends_budget_on_a_closed_channel,
    changed_spends_budget_when_always_changed,
    wait_for_and_closed_spend_budget,
    two_senders_feed_one_receiver,
);
