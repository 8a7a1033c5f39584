use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use super::error::{RecvError, TryRecvError};
use super::*;
use crate::sync::test_util::{poll_once, Tracked, WakeCounter};

#[test]
fn send_before_recv_completes_at_once() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    assert_eq!(tx.send(5), Ok(()));
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(5)));
    assert_eq!(counter.count(), 0);
}

#[test]
fn pending_receiver_is_woken_once_by_send() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Pending);
    // A second poll with the same waker reuses it.
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Pending);
    tx.send("v").unwrap();
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok("v")));
}

#[test]
fn only_the_latest_waker_is_woken() {
    let (first, first_waker) = WakeCounter::new();
    let (second, second_waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>();
    assert!(poll_once(Pin::new(&mut rx), &first_waker).is_pending());
    assert!(poll_once(Pin::new(&mut rx), &second_waker).is_pending());
    drop(tx);
    assert_eq!((first.count(), second.count()), (0, 1));
}

#[test]
fn dropped_sender_wakes_receiver_with_error() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>();
    assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
    drop(tx);
    assert_eq!(counter.count(), 1);
    assert_eq!(
        poll_once(Pin::new(&mut rx), &waker),
        Poll::Ready(Err(RecvError(())))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_reports_empty_then_value_then_closed() {
    let (tx, mut rx) = channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_to_dropped_receiver_gives_value_back() {
    let drops = Rc::new(Cell::new(0));
    let (tx, rx) = channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.send(Tracked::new(9, &drops)).unwrap_err();
    assert_eq!((back.id, drops.get()), (9, 0));
    drop(back);
    assert_eq!(drops.get(), 1);
}

#[test]
fn close_fails_later_send_but_keeps_earlier_value() {
    let (tx, mut rx) = channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));

    let (tx, mut rx) = channel();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn awaiting_a_closed_receiver_fails_without_waiting() {
    let (counter, waker) = WakeCounter::new();
    let (_tx, mut rx) = channel::<u8>();
    rx.close();
    assert_eq!(
        poll_once(Pin::new(&mut rx), &waker),
        Poll::Ready(Err(RecvError(())))
    );
    assert_eq!(counter.count(), 0);
}

#[test]
fn closed_future_wakes_on_receiver_drop() {
    let (counter, waker) = WakeCounter::new();
    let (mut tx, rx) = channel::<u8>();
    {
        let mut closed = pin!(tx.closed());
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        drop(rx);
        assert_eq!(counter.count(), 1);
        assert!(poll_once(closed.as_mut(), &waker).is_ready());
    }
    assert!(tx.is_closed());
}

#[test]
fn closed_future_wakes_on_close() {
    let (counter, waker) = WakeCounter::new();
    let (mut tx, mut rx) = channel::<u8>();
    let std::task::Poll::Pending = tx.poll_closed(&mut std::task::Context::from_waker(&waker))
    else {
        panic!("closed too early");
    };
    rx.close();
    rx.close(); // a second close wakes nobody again
    assert_eq!(counter.count(), 1);
    assert!(tx
        .poll_closed(&mut std::task::Context::from_waker(&waker))
        .is_ready());
}

#[test]
fn cancelled_receiver_closes_the_channel() {
    // Dropping a receiver that was polled (a cancelled `.await`) behaves like any drop.
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>();
    assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(3), Err(3));
    assert_eq!(counter.count(), 0);
}

#[test]
fn unreceived_value_is_dropped_once_with_receiver() {
    let drops = Rc::new(Cell::new(0));
    let (tx, rx) = channel();
    tx.send(Tracked::new(1, &drops)).unwrap();
    assert_eq!(drops.get(), 0);
    drop(rx);
    assert_eq!(drops.get(), 1);
}

#[test]
fn received_value_is_dropped_once_by_its_owner() {
    let drops = Rc::new(Cell::new(0));
    let (tx, mut rx) = channel();
    tx.send(Tracked::new(1, &drops)).unwrap();
    let value = rx.try_recv().unwrap();
    drop(rx);
    assert_eq!(drops.get(), 0);
    drop(value);
    assert_eq!(drops.get(), 1);
}

#[test]
fn value_holding_its_own_sender_channel_does_not_panic_on_drop() {
    // The value's destructor touches another channel's sender while the receiver drops it.
    let (inner_tx, mut inner_rx) = channel::<u8>();
    let (tx, rx) = channel();
    tx.send(inner_tx).unwrap();
    drop(rx);
    assert_eq!(inner_rx.try_recv(), Err(TryRecvError::Closed));
}

// ---- after completion (tokio's rules: terminated, and polling again panics) ----

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_receiver_again_after_it_returned_a_value_panics() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    tx.send(1).unwrap();
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(1)));
    let _ = poll_once(Pin::new(&mut rx), &waker);
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_receiver_again_after_it_returned_an_error_panics() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>();
    drop(tx);
    assert_eq!(
        poll_once(Pin::new(&mut rx), &waker),
        Poll::Ready(Err(RecvError(())))
    );
    let _ = poll_once(Pin::new(&mut rx), &waker);
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_try_recv_reported_closed_panics() {
    let (_counter, waker) = WakeCounter::new();
    let (_tx, mut rx) = channel::<u8>();
    rx.close();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let _ = poll_once(Pin::new(&mut rx), &waker);
}

#[test]
fn polling_after_try_recv_reported_empty_is_fine() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated());
    tx.send(3).unwrap();
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(3)));
}

#[test]
fn try_recv_after_completion_reports_closed_and_close_is_harmless() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    tx.send(17).unwrap();
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(17)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    rx.close();

    let (tx, mut rx) = channel();
    tx.send(18).unwrap();
    assert_eq!(rx.try_recv(), Ok(18));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    rx.close();
}

#[test]
fn receiver_is_terminated_only_once_it_produced_its_result() {
    let (_counter, waker) = WakeCounter::new();
    // By a value, polled.
    let (tx, mut rx) = channel();
    assert!(!rx.is_terminated());
    assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
    assert!(!rx.is_terminated());
    tx.send(1).unwrap();
    assert!(!rx.is_terminated());
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(1)));
    assert!(rx.is_terminated());
    // By a value, taken with try_recv.
    let (tx, mut rx) = channel();
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(rx.is_terminated());
    // By the sender's drop.
    let (tx, mut rx) = channel::<u8>();
    drop(tx);
    assert!(!rx.is_terminated());
    assert!(poll_once(Pin::new(&mut rx), &waker).is_ready());
    assert!(rx.is_terminated());
    // By close.
    let (_tx, mut rx) = channel::<u8>();
    rx.close();
    assert!(!rx.is_terminated());
    assert!(poll_once(Pin::new(&mut rx), &waker).is_ready());
    assert!(rx.is_terminated());
}

#[test]
fn receiver_is_empty_unless_a_value_waits() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel();
    assert!(rx.is_empty());
    tx.send(17).unwrap();
    assert!(!rx.is_empty());
    assert!(!rx.is_empty()); // looking does not take it
    assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(17)));
    assert!(rx.is_empty());

    let (tx, mut rx) = channel::<u8>();
    drop(tx);
    assert!(rx.is_empty());
    rx.close();
    assert!(rx.is_empty());

    // A value sent before a close is still there.
    let (tx, mut rx) = channel();
    tx.send(5).unwrap();
    rx.close();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(5));
}
