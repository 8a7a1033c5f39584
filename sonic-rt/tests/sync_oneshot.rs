//! `sync::oneshot` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use common::DropCounter;
use sonic_rt::sync::oneshot::{self, error::TryRecvError};
use sonic_rt::task::yield_now;
use sonic_rt::time::sleep;
use sonic_rt::{spawn, Runtime};
use std::time::Duration;

fn value_crosses_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let sender = spawn(async move {
            yield_now().await;
            tx.send(String::from("hello")).unwrap();
        });
        assert_eq!(rx.await.unwrap(), "hello");
        sender.await.unwrap();
    });
}

fn value_sent_after_a_timer(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let sender = spawn(async move {
            sleep(Duration::from_micros(200)).await;
            tx.send(42u32).unwrap();
        });
        assert_eq!(rx.await, Ok(42));
        sender.await.unwrap();
    });
}

fn dropped_sender_fails_the_receiver(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u8>();
        let sender = spawn(async move {
            yield_now().await;
            drop(tx);
        });
        assert!(rx.await.is_err());
        sender.await.unwrap();
    });
}

fn many_request_reply_pairs(rt: &Runtime) {
    rt.block_on(async {
        let replies: Vec<_> = (0..1000u64)
            .map(|i| {
                let (tx, rx) = oneshot::channel();
                let worker = spawn(async move {
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    tx.send(i * i).unwrap();
                });
                (rx, worker)
            })
            .collect();
        for (i, (rx, worker)) in replies.into_iter().enumerate() {
            assert_eq!(rx.await, Ok((i * i) as u64));
            worker.await.unwrap();
        }
    });
}

fn sender_sees_receiver_task_go_away(rt: &Runtime) {
    rt.block_on(async {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let receiver = spawn(async move {
            let _ = rx.await;
        });
        yield_now().await; // the receiver task now waits
        assert!(!tx.is_closed());
        receiver.abort();
        tx.closed().await;
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        assert!(receiver.await.is_err());
    });
}

fn close_then_try_recv_takes_earlier_value(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = oneshot::channel();
        let sender = spawn(async move { tx.send(5).unwrap() });
        sender.await.unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(5));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

fn runtime_drop_drops_unreceived_value_once(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        tx.send(drops.token())
            .unwrap_or_else(|_| panic!("receiver is alive"));
        // The receiver lives in a task that never finishes; the runtime drops it at shutdown.
        let parked = spawn(async move {
            std::future::pending::<()>().await;
            drop(rx);
        });
        yield_now().await;
        parked.abort();
        yield_now().await;
    });
    assert_eq!(drops.get(), 1);
}

/// As in tokio: a receiver awaited by reference is terminated once it returned, and awaiting it
/// again panics (the task fails with a panic `JoinError`) instead of returning a second result.
fn awaiting_a_completed_receiver_again_panics_the_task(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = oneshot::channel();
        let sender = spawn(async move {
            yield_now().await;
            tx.send(5u8).unwrap();
        });
        let receiver = spawn(async move {
            assert_eq!((&mut rx).await, Ok(5));
            assert!(rx.is_terminated());
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
            let _ = (&mut rx).await;
        });
        sender.await.unwrap();
        assert!(receiver.await.unwrap_err().is_panic());
    });
}

each_mode!(
    awaiting_a_completed_receiver_again_panics_the_task,
    value_crosses_tasks,
    value_sent_after_a_timer,
    dropped_sender_fails_the_receiver,
    many_request_reply_pairs,
    sender_sees_receiver_task_go_away,
    close_then_try_recv_takes_earlier_value,
    runtime_drop_drops_unreceived_value_once,
);
