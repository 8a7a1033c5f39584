//! broadcast behaviour driven by hand (no runtime): tokio's lag, close and drop rules.

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, reentrant_waker, Tracked, WakeCounter};

#[test]
fn every_receiver_gets_every_value() {
    let (tx, mut rx1) = channel(16);
    let mut rx2 = tx.subscribe();
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.send("hello").unwrap(), 2);
    assert_eq!(rx1.try_recv(), Ok("hello"));
    assert_eq!(rx2.try_recv(), Ok("hello"));
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn recv_waits_and_every_waiting_receiver_is_woken() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx1) = channel(16);
    let mut rx2 = tx.subscribe();
    {
        let mut a = pin!(rx1.recv());
        let mut b = pin!(rx2.recv());
        assert!(poll_once(a.as_mut(), &a_waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
        tx.send("hello").unwrap();
        assert_eq!((a_count.count(), b_count.count()), (1, 1));
        assert_eq!(poll_once(a.as_mut(), &a_waker), Poll::Ready(Ok("hello")));
        assert_eq!(poll_once(b.as_mut(), &b_waker), Poll::Ready(Ok("hello")));
    }
    // Only a receiver that waits is woken.
    let mut a = pin!(rx1.recv());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    tx.send("world").unwrap();
    assert_eq!((a_count.count(), b_count.count()), (2, 1));
    assert_eq!(poll_once(a.as_mut(), &a_waker), Poll::Ready(Ok("world")));
    assert_eq!(rx2.try_recv(), Ok("world"));
}

#[test]
fn recv_polled_by_another_task_wakes_that_task() {
    let (first_count, first) = WakeCounter::new();
    let (second_count, second) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut(), &first).is_pending());
    assert!(poll_once(recv.as_mut(), &second).is_pending());
    tx.send(1).unwrap();
    assert_eq!((first_count.count(), second_count.count()), (0, 1));
}

#[test]
fn a_slow_receiver_reads_values_sent_while_it_waited_in_order() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx1) = channel(16);
    let mut rx2 = tx.subscribe();
    {
        let mut slow = pin!(rx2.recv());
        assert!(poll_once(slow.as_mut(), &waker).is_pending());
        for value in ["one", "two", "three"] {
            tx.send(value).unwrap();
        }
        assert_eq!(rx1.try_recv(), Ok("one"));
        assert_eq!(poll_once(slow.as_mut(), &waker), Poll::Ready(Ok("one")));
    }
    assert_eq!(rx2.try_recv(), Ok("two"));
    assert_eq!(rx2.try_recv(), Ok("three"));
    assert_eq!(rx1.try_recv(), Ok("two"));
}

#[test]
fn a_receiver_that_fell_behind_is_told_how_much_it_missed_then_resumes_at_the_oldest() {
    let (tx, mut rx1) = channel(2);
    let mut rx2 = tx.subscribe();
    tx.send("one").unwrap();
    tx.send("two").unwrap();
    assert_eq!(rx1.try_recv(), Ok("one"));
    tx.send("three").unwrap();
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx2.try_recv(), Ok("two"));
    assert_eq!(rx1.try_recv(), Ok("two"));
    assert_eq!(rx1.try_recv(), Ok("three"));
    tx.send("four").unwrap();
    tx.send("five").unwrap();
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(1)));
    tx.send("six").unwrap();
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx2.try_recv(), Ok("five"));
    assert_eq!(rx2.try_recv(), Ok("six"));
}

#[test]
fn lag_counts_every_overwritten_value_and_uses_the_rounded_capacity() {
    // Capacity 3 is rounded up to 4.
    let (tx, mut rx) = channel(3);
    for n in 1..=4 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.len(), 4);
    assert_eq!(rx.try_recv(), Ok(1));
    tx.send(5).unwrap();
    assert_eq!(rx.len(), 4);
    tx.send(6).unwrap();
    assert_eq!(rx.len(), 5, "a receiver's len counts what it lagged behind");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    for n in 3..=6 {
        assert_eq!(rx.try_recv(), Ok(n));
    }
    // Lag again before reading what was kept: the count covers the new gap.
    let (tx, mut rx) = channel(2);
    for n in 1..=3 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    for n in 4..=6 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn recv_reports_lag_like_try_recv() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    for n in [10, 20, 30] {
        tx.send(n).unwrap();
    }
    assert_eq!(
        poll_once(pin!(rx.recv()), &waker),
        Poll::Ready(Err(RecvError::Lagged(1)))
    );
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(20)));
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Ok(30)));
}

#[test]
fn closed_is_reported_only_after_every_value_was_read() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    for n in 1..=3 {
        tx.send(n).unwrap();
    }
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = channel::<()>(16);
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(counter.count(), 1);
    assert_eq!(
        poll_once(recv.as_mut(), &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn send_fails_without_receivers_and_a_subscriber_reopens_the_channel() {
    let (tx, rx) = channel(16);
    drop(rx);
    assert_eq!(tx.send("hello").unwrap_err().0, "hello");
    let mut rx = tx.subscribe();
    assert_eq!(tx.send("world").unwrap(), 1);
    assert_eq!(rx.try_recv(), Ok("world"));
    assert_eq!(Sender::<u8>::new(4).receiver_count(), 0);
}

#[test]
fn values_are_dropped_once_every_receiver_read_them_or_left() {
    let drops = Rc::new(Cell::new(0));
    let (tx, mut rx1) = channel(16);
    let mut rx2 = tx.subscribe();
    tx.send(Rc::new(Tracked::new(1, &drops))).unwrap();
    tx.send(Rc::new(Tracked::new(2, &drops))).unwrap();
    let first = rx1.try_recv().unwrap();
    assert_eq!((first.id, drops.get()), (1, 0));
    drop(first);
    assert_eq!(drops.get(), 0, "rx2 has not read it");
    assert_eq!(rx2.try_recv().unwrap().id, 1);
    assert_eq!(drops.get(), 1);
    // rx2 leaves: it was the last reader of value 2 besides rx1.
    drop(rx2);
    assert_eq!(drops.get(), 1);
    drop(rx1);
    assert_eq!(drops.get(), 2);
    assert!(tx.is_empty());
}

#[test]
fn a_panicking_clone_skips_the_value() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Fragile {
            assert_ne!(self.0, 0, "cannot clone zero");
            Fragile(self.0)
        }
    }
    let (tx, mut rx) = channel(16);
    tx.send(Fragile(0)).unwrap();
    tx.send(Fragile(1)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.try_recv()));
    assert!(result.is_err());
    assert_eq!(rx.try_recv(), Ok(Fragile(1)));
    assert!(tx.is_empty());
}

#[test]
fn resubscribe_starts_at_the_tail() {
    let (tx, mut rx) = channel(3);
    tx.send(1).unwrap();
    let mut late = rx.resubscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(late.same_channel(&rx));

    let (tx, rx) = channel::<u32>(2);
    drop(tx);
    let mut late = rx.resubscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn sender_len_counts_values_some_receiver_has_not_read() {
    let (tx, mut rx1) = channel(4);
    let mut rx2 = tx.subscribe();
    assert_eq!((tx.len(), tx.is_empty()), (0, true));
    for n in 1..=3 {
        tx.send(n).unwrap();
    }
    assert_eq!(tx.len(), 3);
    rx1.try_recv().unwrap();
    rx1.try_recv().unwrap();
    assert_eq!(tx.len(), 3);
    rx2.try_recv().unwrap();
    assert_eq!((tx.len(), tx.is_empty()), (2, false));
    for n in 4..=6 {
        tx.send(n).unwrap();
    }
    assert_eq!(tx.len(), 4);
    // A pseudo-random walk keeps len equal to the furthest-behind receiver's backlog.
    let mut seed = 0x2545_f491_u32;
    for _ in 0..1000 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        match seed % 4 {
            0 => drop(rx1.try_recv()),
            1 => drop(rx2.try_recv()),
            _ => drop(tx.send(0).unwrap()),
        }
        assert_eq!(tx.len(), rx1.len().max(rx2.len()).min(4));
    }
}

#[test]
fn closed_completes_when_the_last_receiver_leaves_and_waits_again_after_subscribe() {
    let (counter, waker) = WakeCounter::new();
    let (tx, rx) = channel::<()>(1);
    let rx2 = tx.subscribe();
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(counter.count(), 0);
    drop(rx2);
    assert_eq!(counter.count(), 1);
    let rx3 = tx.subscribe();
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    drop(rx3);
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
    assert!(poll_once(pin!(Sender::<()>::new(1).closed()), &waker).is_ready());
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    let (tx, mut rx) = channel::<u8>(4);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    let tx2 = weak.upgrade().unwrap();
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 2));
    assert!(tx.same_channel(&tx2));
    drop((tx, tx2));
    assert!(weak2.upgrade().is_none());
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn wakers_that_send_when_dropped_or_woken_do_not_panic() {
    let (tx, mut rx) = channel(16);
    let (reentrant, _hook) = {
        let tx = tx.clone();
        reentrant_waker(move || drop(tx.send(99)))
    };
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut(), &reentrant).is_pending());
        tx.send(1).unwrap(); // wakes the waker, which sends again from inside the wake
        let (_counter, waker) = WakeCounter::new();
        assert_eq!(poll_once(recv.as_mut(), &waker), Poll::Ready(Ok(1)));
    }
    assert_eq!(rx.try_recv(), Ok(99));
}

#[test]
fn a_dropped_recv_leaves_the_wait_list() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(4);
    for n in 0..100 {
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut(), &waker).is_pending());
        }
        tx.send(n).unwrap();
        assert_eq!(rx.try_recv(), Ok(n));
    }
    assert_eq!(counter.count(), 0);
    assert_eq!(tx.shared.waiters.slot_count(), 1);
}

#[test]
#[should_panic(expected = "capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = channel::<()>(0);
}

#[test]
#[should_panic(expected = "exceeded")]
fn too_large_capacity_panics() {
    let _ = channel::<()>(1 + (usize::MAX >> 1));
}
