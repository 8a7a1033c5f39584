//! watch behaviour driven by hand (no runtime): tokio's version rules for `changed`.

use std::pin::pin;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

fn changed<T>(rx: &mut Receiver<T>, waker: &std::task::Waker) -> Poll<Result<(), RecvError>> {
    poll_once(pin!(rx.changed()), waker)
}

#[test]
fn changed_waits_for_a_new_value_and_fails_once_the_senders_are_gone() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel("one");
    // The initial value counts as seen.
    assert!(changed(&mut rx, &waker).is_pending());
    assert_eq!(*rx.borrow(), "one");
    {
        let mut wait = pin!(rx.changed());
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        tx.send("two").unwrap();
        assert_eq!(counter.count(), 1);
        assert!(matches!(
            poll_once(wait.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
    assert_eq!(*rx.borrow(), "two");
    {
        let mut wait = pin!(rx.changed());
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        drop(tx);
        assert_eq!(counter.count(), 2);
        assert!(matches!(
            poll_once(wait.as_mut(), &waker),
            Poll::Ready(Err(_))
        ));
    }
    assert_eq!(*rx.borrow(), "two");
}

#[test]
fn an_unseen_value_is_reported_even_after_the_senders_are_gone() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel("A");
    tx.send("B").unwrap();
    drop(tx);
    // has_changed fails as soon as the channel is closed; changed still reports "B".
    assert!(rx.has_changed().is_err());
    assert!(matches!(changed(&mut rx, &waker), Poll::Ready(Ok(()))));
    assert!(matches!(changed(&mut rx, &waker), Poll::Ready(Err(_))));
    assert_eq!(*rx.borrow(), "B");

    let (tx, mut rx) = channel("one");
    let mut wait = pin!(rx.changed());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    tx.send("three").unwrap();
    drop(tx);
    assert!(matches!(
        poll_once(wait.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
}

#[test]
fn borrow_and_update_marks_seen_and_borrow_does_not() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel("one");
    assert!(!rx.has_changed().unwrap());
    tx.send("two").unwrap();
    assert!(rx.has_changed().unwrap());
    let seen = rx.borrow();
    assert!(seen.has_changed());
    drop(seen);
    assert!(rx.has_changed().unwrap());
    let seen = rx.borrow_and_update();
    assert!(seen.has_changed());
    assert_eq!(*seen, "two");
    drop(seen);
    assert!(!rx.borrow().has_changed());
    assert!(changed(&mut rx, &waker).is_pending());
    assert!(!tx.borrow().has_changed());
}

#[test]
fn mark_changed_and_mark_unchanged_set_the_seen_state() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel("one");
    let mut rx2 = rx.clone();
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    assert!(!rx2.has_changed().unwrap(), "a mark is per receiver");
    assert!(matches!(changed(&mut rx, &waker), Poll::Ready(Ok(()))));
    assert!(changed(&mut rx, &waker).is_pending());
    // Repeated marks never make a value look seen (no wrap back to the current version).
    rx.mark_changed();
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    tx.send("two").unwrap();
    assert!(rx2.has_changed().unwrap());
    rx2.mark_unchanged();
    assert!(!rx2.has_changed().unwrap());
    assert!(changed(&mut rx2, &waker).is_pending());
    assert_eq!(*rx2.borrow_and_update(), "two");
}

#[test]
fn every_receiver_is_woken_by_a_send() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx1) = channel(0);
    let mut rx2 = rx1.clone();
    let mut rx3 = tx.subscribe();
    let mut a = pin!(rx1.changed());
    let mut b = pin!(rx2.changed());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!((a_count.count(), b_count.count()), (1, 1));
    assert!(poll_once(a.as_mut(), &a_waker).is_ready());
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert!(rx3.has_changed().unwrap());
    assert_eq!(*rx3.borrow_and_update(), 1);
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn a_clone_has_seen_what_its_original_has_seen() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    let unseen = rx.clone();
    assert!(unseen.has_changed().unwrap());
    rx.borrow_and_update();
    let seen = rx.clone();
    assert!(!seen.has_changed().unwrap());
    // A subscriber counts the current value as seen.
    assert!(!tx.subscribe().has_changed().unwrap());
}

#[test]
fn send_fails_without_receivers_but_send_replace_and_modify_do_not() {
    let (tx, rx) = channel(1);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2).unwrap_err().0, 2);
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(tx.send_replace(3), 1);
    tx.send_modify(|value| *value += 1);
    assert_eq!(*tx.borrow(), 4);
    let rx = tx.subscribe();
    assert!(!tx.is_closed());
    tx.send(5).unwrap();
    assert!(rx.has_changed().unwrap());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(Sender::new(7).receiver_count(), 0);
    assert_eq!(*Sender::<u8>::default().borrow(), 0);
}

#[test]
fn send_if_modified_notifies_only_when_the_closure_says_so() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(0);
    let mut wait = pin!(rx.changed());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!(counter.count(), 0);
    assert!(tx.send_if_modified(|value| {
        *value = 1;
        true
    }));
    assert_eq!(counter.count(), 1);
    assert!(poll_once(wait.as_mut(), &waker).is_ready());
}

#[test]
fn a_panicking_send_modify_keeps_the_change_but_notifies_nobody() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel("one");
    tx.send_modify(|old| *old = "two");
    assert_eq!(*rx.borrow_and_update(), "two");
    let mut rx2 = rx.clone();
    let mut wait = pin!(rx2.changed());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|old| {
            *old = "panicked";
            panic!("in send_modify");
        })
    }));
    assert!(result.is_err());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert_eq!(*rx.borrow(), "panicked");
    tx.send_modify(|old| *old = "three");
    assert!(poll_once(wait.as_mut(), &waker).is_ready());
    assert_eq!(*rx.borrow_and_update(), "three");
}

#[test]
fn changed_of_two_senders_fails_only_when_both_are_gone() {
    let (counter, waker) = WakeCounter::new();
    let (tx1, mut rx) = channel(0);
    let tx2 = tx1.clone();
    assert_eq!(tx1.sender_count(), 2);
    assert!(tx1.same_channel(&tx2));
    let mut wait = pin!(rx.changed());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    drop(tx1);
    assert_eq!(counter.count(), 0);
    drop(tx2);
    assert_eq!(counter.count(), 1);
    assert!(matches!(
        poll_once(wait.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn closed_completes_when_the_last_receiver_leaves() {
    let (counter, waker) = WakeCounter::new();
    let (tx, rx) = channel(0);
    let rx2 = rx.clone();
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(counter.count(), 0);
    drop(rx2);
    assert_eq!(counter.count(), 1);
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
    assert!(tx.send(1).is_err());
}

#[test]
fn wait_for_checks_the_current_value_first_then_each_change() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(0);
    match poll_once(pin!(rx.wait_for(|n| *n == 0)), &waker) {
        Poll::Ready(Ok(value)) => assert!(*value == 0 && !value.has_changed()),
        other => panic!(
            "the current value matches, got {:?}",
            other.map(|r| r.is_ok())
        ),
    }
    {
        let mut wait = pin!(rx.wait_for(|n| *n == 2));
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        tx.send(2).unwrap();
        match poll_once(wait.as_mut(), &waker) {
            // As in tokio: the wait marked the value seen before `f` looked at it.
            Poll::Ready(Ok(value)) => assert!(*value == 2 && !value.has_changed()),
            other => panic!("2 matches, got {:?}", other.map(|r| r.is_ok())),
        }
    }
    assert!(!rx.has_changed().unwrap(), "wait_for marks the value seen");
    tx.send(3).unwrap();
    drop(tx);
    // Closed, but the unseen 3 is still checked.
    match poll_once(pin!(rx.wait_for(|n| *n == 3)), &waker) {
        Poll::Ready(Ok(value)) => assert!(value.has_changed()),
        other => panic!("3 matches, got {:?}", other.map(|r| r.is_ok())),
    }
    assert!(matches!(
        poll_once(pin!(rx.wait_for(|n| *n == 4)), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn a_ref_held_while_sending_panics_instead_of_deadlocking() {
    let (tx, rx) = channel(0);
    let held = rx.borrow();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.send(1)));
    assert!(result.is_err());
    drop(held);
    tx.send(2).unwrap();
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn changed_leaves_no_waiter_behind_when_dropped() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(0);
    for n in 1..100 {
        {
            let mut wait = pin!(rx.changed());
            assert!(poll_once(wait.as_mut(), &waker).is_pending());
        }
        tx.send(n).unwrap();
        rx.borrow_and_update();
    }
    assert_eq!(counter.count(), 0);
    assert!(rx.same_channel(&tx.subscribe()));
}
