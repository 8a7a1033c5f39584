//! `sync::mpsc` (bounded and unbounded) across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use common::DropCounter;
use futures_core::Stream;
use sonic_rt::sync::mpsc::{
    self,
    error::{SendError, SendTimeoutError},
};
use sonic_rt::task::yield_now;
use sonic_rt::time::{sleep, timeout};
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

/// Yields until `done` holds (other tasks get to run in between).
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

const GUARD: Duration = Duration::from_secs(10);

fn ping_pong_between_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
        let echo = spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n + 1).await.unwrap();
            }
        });
        for n in 0..10_000 {
            ping_tx.send(n).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(n + 1));
        }
        drop(ping_tx);
        echo.await.unwrap();
        assert_eq!(pong_rx.recv().await, None);
    });
}

fn many_producers_keep_their_own_order(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<(usize, u32)>(4);
        let producers: Vec<_> = (0..8)
            .map(|id| {
                let tx = tx.clone();
                spawn(async move {
                    for seq in 0..500 {
                        tx.send((id, seq)).await.unwrap();
                        if seq % 13 == 0 {
                            yield_now().await;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0u32; 8];
        while let Some((id, seq)) = rx.recv().await {
            assert_eq!(seq, next[id], "producer {id} out of order");
            next[id] += 1;
        }
        assert_eq!(next, [500; 8]);
        for producer in producers {
            producer.await.unwrap();
        }
    });
}

fn blocked_senders_are_served_in_order(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(100).await.unwrap();
        let started = Rc::new(Cell::new(0));
        let senders: Vec<_> = (0..5)
            .map(|i| {
                let (tx, started) = (tx.clone(), Rc::clone(&started));
                spawn(async move {
                    started.set(started.get() + 1);
                    tx.send(i).await.unwrap(); // queued within the same poll
                })
            })
            .collect();
        wait_until(|| started.get() == 5).await;
        // A newcomer cannot jump the queue.
        assert!(tx.try_send(99).unwrap_err().is_full());
        drop(tx);
        let mut got = Vec::new();
        while let Some(n) = rx.recv().await {
            got.push(n);
        }
        assert_eq!(got, [100, 0, 1, 2, 3, 4]);
        for sender in senders {
            sender.await.unwrap();
        }
    });
}

fn timed_out_send_loses_no_slot(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(1).await.unwrap();
        assert!(timeout(Duration::from_micros(300), tx.send(2))
            .await
            .is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(tx.capacity(), 1);
        assert!(rx.try_recv().is_err());
        tx.send(3).await.unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
}

fn aborted_sender_passes_its_slot_on(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let started = Rc::new(Cell::new(0));
        let sender = |value| {
            let (tx, started) = (tx.clone(), Rc::clone(&started));
            spawn(async move {
                started.set(started.get() + 1);
                tx.send(value).await.unwrap();
            })
        };
        let (first, second) = (sender(1), sender(2));
        wait_until(|| started.get() == 2).await;
        assert_eq!(rx.recv().await, Some(0)); // the slot goes to `first`, which has not run yet
        first.abort();
        assert!(first.await.is_err());
        assert_eq!(timeout(GUARD, rx.recv()).await.expect("slot lost"), Some(2));
        second.await.unwrap();
    });
}

fn dropped_receiver_fails_blocked_senders(rt: &Runtime) {
    rt.block_on(async {
        let (tx, rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let senders: Vec<_> = (1..=3)
            .map(|i| {
                let tx = tx.clone();
                spawn(async move { tx.send(i).await })
            })
            .collect();
        yield_now().await;
        let closed = spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        sleep(Duration::from_micros(100)).await;
        drop(rx);
        for (i, sender) in (1..=3).zip(senders) {
            assert_eq!(sender.await.unwrap(), Err(SendError(i)));
        }
        closed.await.unwrap();
        assert!(tx.is_closed());
        assert!(tx.try_send(9).unwrap_err().is_closed());
    });
}

fn close_drains_buffered_values_and_outstanding_permits(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        let late = spawn({
            let tx = tx.clone();
            async move {
                let permit = tx.reserve().await.unwrap();
                sleep(Duration::from_micros(300)).await;
                permit.send(2); // reserved before the close: still delivered
            }
        });
        yield_now().await;
        rx.close();
        assert!(tx.send(3).await.is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(timeout(GUARD, rx.recv()).await.unwrap(), Some(2));
        assert_eq!(rx.recv().await, None);
        late.await.unwrap();
    });
}

fn unbounded_flood_does_not_starve_other_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for n in 0..100_000u32 {
            tx.send(n).unwrap();
        }
        drop(tx);
        let ticked = Rc::new(Cell::new(false));
        let ticker = spawn({
            let ticked = Rc::clone(&ticked);
            async move { ticked.set(true) }
        });
        let mut received = 0;
        let mut ticked_while_draining = false;
        while let Some(n) = rx.recv().await {
            assert_eq!(n, received);
            received += 1;
            ticked_while_draining |= ticked.get() && received < 100_000;
        }
        assert_eq!(received, 100_000);
        assert!(
            ticked_while_draining,
            "the receiver never yielded to other tasks"
        );
        ticker.await.unwrap();
    });
}

fn unbounded_senders_across_tasks(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producers: Vec<_> = (0..4u64)
            .map(|id| {
                let tx = tx.clone();
                spawn(async move {
                    for n in 0..1000 {
                        tx.send(id * 1000 + n).unwrap();
                        if n % 100 == 0 {
                            sleep(Duration::from_micros(10)).await;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut buf = Vec::new();
        let mut total = 0u64;
        loop {
            buf.clear();
            match rx.recv_many(&mut buf, 64).await {
                0 => break,
                n => total += buf[..n].iter().sum::<u64>(),
            }
        }
        assert_eq!(total, (0..4000).sum());
        for producer in producers {
            producer.await.unwrap();
        }
    });
}

fn receiver_as_a_stream(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = spawn(async move {
            for n in 0..10 {
                tx.send(n).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(n) = poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await {
            sum += n;
        }
        assert_eq!(sum, 45);
        producer.await.unwrap();
    });
}

/// A sender task waiting in `reserve` is handed the slot a receive frees, but the receiver closes
/// before that task runs: as in tokio, the reservation fails (no permit on a closed channel), the
/// slot goes back and the receiver sees the end of the stream.
fn reserve_handed_a_slot_fails_if_the_receiver_closes_first(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.send(0).await.unwrap();
        let reserver = spawn({
            let tx = tx.clone();
            async move { tx.reserve().await.is_ok() }
        });
        let sender = spawn({
            let tx = tx.clone();
            async move { tx.send(2).await }
        });
        yield_now().await; // both queue behind the full buffer
        assert_eq!(rx.recv().await, Some(0)); // the slot goes to the reserver...
        rx.close(); // ...which has not run yet
        assert!(
            !reserver.await.unwrap(),
            "reserve succeeded on a closed channel"
        );
        assert_eq!(sender.await.unwrap(), Err(SendError(2)));
        assert_eq!(tx.capacity(), 1);
        assert_eq!(timeout(GUARD, rx.recv()).await.unwrap(), None);
    });
}

fn send_timeout_gives_the_value_back_when_no_slot_frees_in_time(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send_timeout(1, GUARD).await.unwrap();
        match tx.send_timeout(2, Duration::from_micros(300)).await {
            Err(SendTimeoutError::Timeout(2)) => {}
            other => panic!("expected a timeout with the value, got {other:?}"),
        }
        // The timed-out send kept no slot: the next one goes through once there is room.
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(tx.capacity(), 1);
        tx.send_timeout(3, GUARD).await.unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
}

fn send_timeout_waits_for_a_slot_freed_in_time(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let consumer = spawn(async move {
            yield_now().await;
            let first = rx.recv().await;
            (first, rx.recv().await)
        });
        tx.send_timeout(1, GUARD).await.unwrap();
        assert_eq!(consumer.await.unwrap(), (Some(0), Some(1)));
        // The receiver is gone: the error says closed and holds the value.
        let error = tx.send_timeout(2, GUARD).await.unwrap_err();
        assert!(matches!(error, SendTimeoutError::Closed(2)));
        assert_eq!(error.to_string(), "channel closed");
        assert_eq!(error.into_inner(), 2);
    });
}

each_mode!(
    send_timeout_gives_the_value_back_when_no_slot_frees_in_time,
    send_timeout_waits_for_a_slot_freed_in_time,
    reserve_handed_a_slot_fails_if_the_receiver_closes_first,
    ping_pong_between_tasks,
    many_producers_keep_their_own_order,
    blocked_senders_are_served_in_order,
    timed_out_send_loses_no_slot,
    aborted_sender_passes_its_slot_on,
    dropped_receiver_fails_blocked_senders,
    close_drains_buffered_values_and_outstanding_permits,
    unbounded_flood_does_not_starve_other_tasks,
    unbounded_senders_across_tasks,
    receiver_as_a_stream,
);

/// Dropping the runtime drops tasks blocked on a channel, and with them every value exactly once:
/// the buffered ones, and the one held by a blocked send.
#[test]
fn runtime_drop_drops_every_value_once() {
    for busy_poll in [true, false] {
        let drops = DropCounter::default();
        let rt = common::rt(busy_poll);
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            tx.send(drops.token()).await.unwrap();
            tx.send(drops.token()).await.unwrap();
            let token = drops.token();
            let blocked = spawn(async move { tx.send(token).await.is_ok() });
            let parked = spawn(async move {
                std::future::pending::<()>().await;
                let _ = rx.recv().await;
            });
            yield_now().await;
            drop((blocked, parked)); // detached, still pending
        });
        assert_eq!(drops.get(), 0);
        drop(rt);
        assert_eq!(drops.get(), 3, "busy_poll={busy_poll}");
    }
}
