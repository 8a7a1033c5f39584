//! Loom models of the channel's cross-thread protocols (run by `.ci/extra-loom.sh`; blocks hold
//! 2 values under loom, so a few values cross block boundaries):
//!
//! - the receiver's park handshake: a value sent while the receiver is about to wait is never
//!   lost, nor is the end of the stream when the last sender goes (loom reports a deadlock if
//!   the receiver waits forever);
//! - a receiver that changes its waker while a sender is waking the old one;
//! - two producers racing for the last slot of a block and the slot after it (the block
//!   install), with the receiver recycling blocks;
//! - `close` against concurrent sends: every send that succeeded is received, once;
//! - a bounded sender that queues for room while the receiver gives slots back;
//! - `reserve_many`: a sender that takes the free slot and waits for the next one while the
//!   receiver gives it back; one that gives up while queued, whose slot must reach the
//!   single-slot sender queued behind it.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Notify;
use loom::thread;

use super::error::SendError;
use super::{channel, unbounded_channel, Receiver, UnboundedReceiver};

/// `loom::model` with at most 3 preemptions (the run takes seconds; 4 takes about 45 s and found
/// nothing more; 3 already finds the lost wake when either fence of the handshake is removed).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(3, |bound| bound.min(3)));
    builder.check(f);
}

/// A task, modelled: a wake is remembered until the task "runs" (`park` returns).
struct ModelTask(Notify);

impl Wake for ModelTask {
    fn wake(self: StdArc<Self>) {
        self.0.notify();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.notify();
    }
}

fn model_task() -> (StdArc<ModelTask>, Waker) {
    let task = StdArc::new(ModelTask(Notify::new()));
    let waker = Waker::from(StdArc::clone(&task));
    (task, waker)
}

/// Receives until the end of the stream, waiting (in the model) whenever `poll_recv` is pending.
fn recv_all<T>(rx: &mut UnboundedReceiver<T>) -> Vec<T> {
    let (task, waker) = model_task();
    let mut out = Vec::new();
    loop {
        match rx.poll_recv(&mut Context::from_waker(&waker)) {
            Poll::Ready(Some(value)) => out.push(value),
            Poll::Ready(None) => return out,
            Poll::Pending => task.0.wait(),
        }
    }
}

/// Polls `future` to completion, waiting (in the model) whenever it is pending.
fn block_on<F: Future>(future: F) -> F::Output {
    let (task, waker) = model_task();
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(out) => return out,
            Poll::Pending => task.0.wait(),
        }
    }
}

/// [`recv_all`] for a bounded receiver.
fn brecv_all<T>(rx: &mut Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(value) = block_on(rx.recv()) {
        out.push(value);
    }
    out
}

#[test]
fn loom_values_and_the_end_reach_a_waiting_receiver() {
    model(|| {
        let (tx, mut rx) = unbounded_channel();
        let producer = thread::spawn(move || {
            // The second value fills the block: its sender installs the next one, and the
            // receiver recycles the first while the producer may still be sending.
            for n in 0..2 {
                tx.send(n).unwrap();
            }
        });
        assert_eq!(recv_all(&mut rx), [0, 1]);
        producer.join().unwrap();
    });
}

#[test]
fn loom_a_new_waker_is_not_lost_while_a_sender_wakes_the_old_one() {
    model(|| {
        let (tx, mut rx) = unbounded_channel();
        let (_old, old_waker) = model_task();
        assert!(rx
            .poll_recv(&mut Context::from_waker(&old_waker))
            .is_pending());
        let producer = thread::spawn(move || tx.send(1).unwrap());
        // Polled again from another task: only the new waker may be relied on.
        assert_eq!(recv_all(&mut rx), [1]);
        producer.join().unwrap();
    });
}

#[test]
fn loom_two_producers_race_for_a_block_boundary() {
    model(|| {
        let (tx, mut rx) = unbounded_channel();
        // One block filled and emptied, so a recycled block waits in the spares. Then slot 0 of
        // the second block is taken, and the producers race for its last slot (whose claimer
        // installs the next block: the recycled one) and the first slot of the next block,
        // which the other must not claim before the install. (The receiver runs concurrently
        // with a producer in the first model; here it comes after, to keep the model small.)
        for n in 0..2 {
            tx.send(n).unwrap();
        }
        assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(0), Ok(1)));
        tx.send(1).unwrap();
        let producers: Vec<_> = [2, 3]
            .into_iter()
            .map(|n| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(n).unwrap())
            })
            .collect();
        drop(tx);
        for p in producers {
            p.join().unwrap();
        }
        let mut got = recv_all(&mut rx);
        assert_eq!(got[0], 1);
        got.sort_unstable();
        assert_eq!(got, [1, 2, 3]);
    });
}

#[test]
fn loom_close_against_sends_loses_no_accepted_value() {
    model(|| {
        let (tx, mut rx) = unbounded_channel();
        let producer = thread::spawn(move || {
            (0..2)
                .filter(|&n| match tx.send(n) {
                    Ok(()) => true,
                    Err(SendError(_)) => false,
                })
                .collect::<Vec<_>>()
        });
        rx.close();
        let received = recv_all(&mut rx);
        let accepted = producer.join().unwrap();
        assert_eq!(received, accepted);
    });
}

#[test]
fn loom_a_bounded_sender_waits_for_room_and_gets_it() {
    model(|| {
        let (tx, mut rx) = channel(1);
        let producer = thread::spawn(move || {
            let (task, waker) = model_task();
            for n in 0..2 {
                let mut send = std::pin::pin!(tx.send(n));
                loop {
                    match send.as_mut().poll(&mut Context::from_waker(&waker)) {
                        Poll::Ready(result) => break result.unwrap(),
                        Poll::Pending => task.0.wait(),
                    }
                }
            }
        });
        let (task, waker) = model_task();
        let mut got = Vec::new();
        loop {
            match rx.poll_recv(&mut Context::from_waker(&waker)) {
                Poll::Ready(Some(value)) => got.push(value),
                Poll::Ready(None) => break,
                Poll::Pending => task.0.wait(),
            }
        }
        assert_eq!(got, [0, 1]);
        producer.join().unwrap();
    });
}

#[test]
fn loom_reserve_many_keeps_the_free_slot_and_gets_the_next_one() {
    model(|| {
        let (tx, mut rx) = channel(2);
        tx.try_send(0).unwrap();
        let producer = thread::spawn(move || {
            // One slot is free: it is taken at once, the other comes back from the receiver
            // (before or after this sender queues for it).
            let permits = block_on(tx.reserve_many(2)).unwrap();
            for (n, permit) in permits.enumerate() {
                permit.send(n + 1);
            }
        });
        assert_eq!(brecv_all(&mut rx), [0, 1, 2]);
        producer.join().unwrap();
    });
}

#[test]
fn loom_a_cancelled_reserve_many_hands_its_slot_to_the_sender_behind_it() {
    model(|| {
        let (tx, mut rx) = channel(2);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let many = thread::spawn(move || {
            let (_task, waker) = model_task();
            let mut reserve = pin!(tx2.reserve_many(2));
            // Polled once, then given up: queued holding the free slot (ahead of `one` or
            // behind it), or done with both slots if the receive came first (its permits go
            // back unused).
            let _ = reserve.as_mut().poll(&mut Context::from_waker(&waker));
        });
        let (task, waker) = model_task();
        let mut one = pin!(tx.send(9));
        let mut sent = one.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(block_on(rx.recv()), Some(0));
        // A slot lost on the way (by the cancel, or by the hand-over racing with it) would
        // leave `one` waiting forever: loom reports the deadlock.
        while sent.is_pending() {
            task.0.wait();
            sent = one.as_mut().poll(&mut Context::from_waker(&waker));
        }
        assert!(matches!(sent, Poll::Ready(Ok(()))));
        assert_eq!(block_on(rx.recv()), Some(9));
        many.join().unwrap();
        assert_eq!(rx.capacity(), 2);
    });
}
