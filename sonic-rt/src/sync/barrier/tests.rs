//! Barrier behaviour driven by hand (no runtime).

use std::pin::pin;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

#[test]
fn zero_and_one_let_every_wait_through_as_leader() {
    let (_counter, waker) = WakeCounter::new();
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        for _ in 0..3 {
            match poll_once(pin!(barrier.wait()), &waker) {
                Poll::Ready(result) => assert!(result.is_leader()),
                Poll::Pending => panic!("a barrier of {n} never waits"),
            }
        }
    }
}

#[test]
fn the_last_arrival_leads_and_releases_the_others() {
    let (counter, waker) = WakeCounter::new();
    let barrier = Barrier::new(3);
    let mut a = pin!(barrier.wait());
    let mut b = pin!(barrier.wait());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    assert!(
        poll_once(a.as_mut(), &waker).is_pending(),
        "a re-poll is not an arrival"
    );
    match poll_once(pin!(barrier.wait()), &waker) {
        Poll::Ready(result) => assert!(result.is_leader()),
        Poll::Pending => panic!("the third arrival completes the round"),
    }
    assert_eq!(counter.count(), 2);
    for waiting in [a.as_mut(), b.as_mut()] {
        match poll_once(waiting, &waker) {
            Poll::Ready(result) => assert!(!result.is_leader()),
            Poll::Pending => panic!("released by the leader"),
        }
    }
}

#[test]
fn a_released_waiter_is_not_let_through_the_next_round() {
    let (_counter, waker) = WakeCounter::new();
    let barrier = Barrier::new(2);
    let mut first = pin!(barrier.wait());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(pin!(barrier.wait()), &waker).is_ready());
    // The next round starts before `first` looks: it still belongs to the old one.
    let mut next_round = pin!(barrier.wait());
    assert!(poll_once(next_round.as_mut(), &waker).is_pending());
    assert!(poll_once(first.as_mut(), &waker).is_ready());
    assert!(poll_once(next_round.as_mut(), &waker).is_pending());
    assert!(poll_once(pin!(barrier.wait()), &waker).is_ready());
    assert!(poll_once(next_round.as_mut(), &waker).is_ready());
}
