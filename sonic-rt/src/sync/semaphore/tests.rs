//! Semaphore behaviour driven by hand (no runtime), so Miri runs it: tokio's rules for fairness,
//! closing and cancellation.

use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, reentrant_waker, WakeCounter};

#[test]
fn acquire_takes_free_permits_at_once() {
    let (counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(10);
    let one = match poll_once(pin!(semaphore.acquire()), &waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected a permit, got {other:?}"),
    };
    assert_eq!(semaphore.available_permits(), 9);
    let many = semaphore.try_acquire_many(5).unwrap();
    assert_eq!((one.num_permits(), many.num_permits()), (1, 5));
    assert_eq!(semaphore.available_permits(), 4);
    drop((one, many));
    assert_eq!(semaphore.available_permits(), 10);
    assert_eq!(counter.count(), 0);
}

#[test]
fn try_acquire_fails_without_enough_permits_and_succeeds_after_release() {
    let semaphore = Semaphore::new(1);
    let first = semaphore.try_acquire().unwrap();
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    assert_eq!(
        semaphore.try_acquire_many(2).unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(first);
    assert!(semaphore.try_acquire().is_ok());
}

#[test]
fn zero_permits_are_always_available_unless_closed() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(0);
    assert_eq!(semaphore.try_acquire_many(0).unwrap().num_permits(), 0);
    let mut blocked = pin!(semaphore.acquire());
    assert!(poll_once(blocked.as_mut(), &waker).is_pending());
    // Even with a waiter queued, asking for nothing succeeds (tokio: no permits needed).
    assert!(matches!(
        poll_once(pin!(semaphore.acquire_many(0)), &waker),
        Poll::Ready(Ok(_))
    ));
    semaphore.close();
    assert_eq!(
        semaphore.try_acquire_many(0).unwrap_err(),
        TryAcquireError::Closed
    );
    assert!(matches!(
        poll_once(pin!(semaphore.acquire_many(0)), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn released_permit_goes_to_the_waiter_not_to_the_free_count() {
    let (counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut waiting = pin!(semaphore.acquire());
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    drop(held);
    assert_eq!(counter.count(), 1);
    assert_eq!(semaphore.available_permits(), 0);
    assert!(semaphore.try_acquire().is_err());
    let permit = match poll_once(waiting.as_mut(), &waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected a permit, got {other:?}"),
    };
    drop(permit);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn large_request_at_the_head_blocks_later_small_ones() {
    let (big_count, big_waker) = WakeCounter::new();
    let (small_count, small_waker) = WakeCounter::new();
    let semaphore = Semaphore::new(5);
    let one = semaphore.try_acquire().unwrap();
    // Wants 5, 4 are free: it takes them and waits for one more.
    let mut big = pin!(semaphore.acquire_many(5));
    assert!(poll_once(big.as_mut(), &big_waker).is_pending());
    assert_eq!(semaphore.available_permits(), 0);
    // Later small requests wait behind it, and try_acquire cannot jump the queue.
    let mut small = pin!(semaphore.acquire_many(3));
    assert!(poll_once(small.as_mut(), &small_waker).is_pending());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );

    drop(one);
    assert_eq!((big_count.count(), small_count.count()), (1, 0));
    let big_permit = match poll_once(big.as_mut(), &big_waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected 5 permits, got {other:?}"),
    };
    assert_eq!(big_permit.num_permits(), 5);

    // Permits come back one at a time: the small waiter collects them and wakes at 3.
    let mut big_permit = big_permit;
    let a = big_permit.split(1).unwrap();
    let b = big_permit.split(1).unwrap();
    drop(a);
    assert_eq!(small_count.count(), 0);
    drop(b);
    assert_eq!(small_count.count(), 0);
    drop(big_permit); // 3 more: one completes the small waiter, two become free
    assert_eq!(small_count.count(), 1);
    assert_eq!(semaphore.available_permits(), 2);
    assert!(matches!(
        poll_once(small.as_mut(), &small_waker),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn waiters_are_served_in_the_order_of_their_first_poll() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(0);
    let mut created_first = pin!(semaphore.acquire());
    let mut created_second = pin!(semaphore.acquire());
    assert!(poll_once(created_second.as_mut(), &waker).is_pending());
    assert!(poll_once(created_first.as_mut(), &waker).is_pending());
    semaphore.add_permits(1);
    assert!(poll_once(created_first.as_mut(), &waker).is_pending());
    assert!(matches!(
        poll_once(created_second.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn dropped_waiter_gives_back_what_it_had_gathered() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(10);
    let held = semaphore.try_acquire_many(4).unwrap();
    {
        let mut acquire = pin!(semaphore.acquire_many(8));
        assert!(poll_once(acquire.as_mut(), &waker).is_pending());
        assert_eq!(semaphore.available_permits(), 0);
    }
    assert_eq!(semaphore.available_permits(), 6);
    drop(held);
    assert_eq!(semaphore.available_permits(), 10);
}

#[test]
fn dropped_waiter_that_was_handed_its_permits_passes_them_on() {
    let (first_count, first_waker) = WakeCounter::new();
    let (second_count, second_waker) = WakeCounter::new();
    let semaphore = Semaphore::new(0);
    let mut second = pin!(semaphore.acquire_many(2));
    {
        let mut first = pin!(semaphore.acquire_many(2));
        assert!(poll_once(first.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second.as_mut(), &second_waker).is_pending());
        semaphore.add_permits(2);
        assert_eq!((first_count.count(), second_count.count()), (1, 0));
        // `first` never looks at its permits.
    }
    assert_eq!(second_count.count(), 1);
    let permit = match poll_once(second.as_mut(), &second_waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected 2 permits, got {other:?}"),
    };
    assert_eq!(
        (permit.num_permits(), semaphore.available_permits()),
        (2, 0)
    );
}

#[test]
fn close_fails_waiters_and_later_acquires_but_keeps_counting_permits() {
    let (counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(2);
    let a = semaphore.try_acquire().unwrap();
    let b = semaphore.try_acquire().unwrap();
    let mut c = pin!(semaphore.acquire());
    let mut d = pin!(semaphore.acquire_many(2));
    assert!(poll_once(c.as_mut(), &waker).is_pending());
    assert!(poll_once(d.as_mut(), &waker).is_pending());

    semaphore.close();
    assert!(semaphore.is_closed());
    assert_eq!(counter.count(), 2);
    assert!(matches!(poll_once(c.as_mut(), &waker), Poll::Ready(Err(_))));
    assert!(matches!(poll_once(d.as_mut(), &waker), Poll::Ready(Err(_))));
    drop(a);
    assert_eq!(semaphore.available_permits(), 1);
    // Free permits, but closed: every acquire fails.
    assert!(matches!(
        poll_once(pin!(semaphore.acquire()), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    drop(b);
    semaphore.add_permits(3);
    assert_eq!(semaphore.available_permits(), 5);
}

#[test]
fn close_after_permits_were_handed_over_fails_the_acquire_and_returns_them() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut waiting = pin!(semaphore.acquire());
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    drop(held); // handed to `waiting`
    semaphore.close();
    assert!(matches!(
        poll_once(waiting.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn waiter_closed_with_some_permits_gathered_gives_them_back() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(3);
    let mut waiting = pin!(semaphore.acquire_many(5));
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    semaphore.add_permits(1);
    assert_eq!(semaphore.available_permits(), 0);
    semaphore.close();
    assert!(matches!(
        poll_once(waiting.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(semaphore.available_permits(), 4);
}

#[test]
fn forget_and_forget_permits_shrink_the_semaphore() {
    let semaphore = Semaphore::new(10);
    semaphore.try_acquire_many(2).unwrap().forget();
    assert_eq!(semaphore.available_permits(), 8);
    assert_eq!(semaphore.forget_permits(3), 3);
    assert_eq!(semaphore.forget_permits(100), 5);
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(semaphore.forget_permits(0), 0);
    semaphore.close();
    semaphore.add_permits(2);
    assert_eq!(semaphore.forget_permits(1), 1);
    assert!(semaphore.is_closed());
}

#[test]
fn acquire_larger_than_free_permits_completes_once_enough_are_added() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(5);
    let mut acquire = pin!(semaphore.acquire_many(7));
    assert!(poll_once(acquire.as_mut(), &waker).is_pending());
    semaphore.add_permits(5);
    let permit = match poll_once(acquire.as_mut(), &waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected 7 permits, got {other:?}"),
    };
    assert_eq!(semaphore.available_permits(), 3);
    assert_eq!(semaphore.forget_permits(3), 3);
    drop(permit);
    assert_eq!(semaphore.available_permits(), 7);
}

#[test]
fn merge_and_split_move_permits_between_permits() {
    let semaphore = Semaphore::new(5);
    let mut p = semaphore.try_acquire_many(3).unwrap();
    let q = semaphore.try_acquire().unwrap();
    p.merge(q);
    assert_eq!((p.num_permits(), semaphore.available_permits()), (4, 1));
    let r = p.split(0).unwrap();
    assert_eq!(r.num_permits(), 0);
    assert!(p.split(5).is_none());
    assert!(p.split(usize::MAX).is_none());
    let s = p.split(4).unwrap();
    drop(p);
    assert_eq!(semaphore.available_permits(), 1);
    drop(s);
    assert_eq!(semaphore.available_permits(), 5);
}

#[test]
#[should_panic(expected = "merging permits from different semaphore instances")]
fn merging_permits_of_different_semaphores_panics() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut p = a.try_acquire().unwrap();
    p.merge(b.try_acquire().unwrap());
}

#[test]
fn owned_permits_keep_the_semaphore_and_give_back_on_drop() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Rc::new(Semaphore::new(3));
    let mut owned = Rc::clone(&semaphore).try_acquire_many_owned(2).unwrap();
    assert!(Rc::ptr_eq(owned.semaphore(), &semaphore));
    let other = match poll_once(pin!(Rc::clone(&semaphore).acquire_owned()), &waker) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected a permit, got {other:?}"),
    };
    owned.merge(other);
    let split = owned.split(1).unwrap();
    assert_eq!((owned.num_permits(), split.num_permits()), (2, 1));
    assert!(Rc::clone(&semaphore).try_acquire_owned().is_err());
    drop(split);
    owned.forget();
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(Rc::strong_count(&semaphore), 1);
    semaphore.close();
    assert!(matches!(
        poll_once(pin!(Rc::clone(&semaphore).acquire_many_owned(1)), &waker),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn max_permits_is_tokios_and_is_enforced() {
    assert_eq!(Semaphore::MAX_PERMITS, usize::MAX >> 3);
    let semaphore = Semaphore::new(Semaphore::MAX_PERMITS - 1);
    semaphore.add_permits(1);
    assert_eq!(semaphore.available_permits(), Semaphore::MAX_PERMITS);
    let overflow =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| semaphore.add_permits(1)));
    assert!(overflow.is_err());
    assert!(std::panic::catch_unwind(|| Semaphore::new(Semaphore::MAX_PERMITS + 1)).is_err());
}

#[test]
fn a_waker_that_uses_the_semaphore_when_woken_does_not_panic() {
    let semaphore = Rc::new(Semaphore::new(0));
    // Woken by a release, this waker's task takes a look and adds a permit of its own: the
    // wait list must not be borrowed while a waker runs.
    let (reentrant, _hook) = {
        let semaphore = Rc::clone(&semaphore);
        reentrant_waker(move || {
            assert!(
                semaphore.try_acquire().is_err(),
                "the second waiter comes first"
            );
            semaphore.add_permits(1);
        })
    };
    let (counter, waker) = WakeCounter::new();
    let mut first = pin!(semaphore.acquire());
    let mut second = pin!(semaphore.acquire());
    assert!(poll_once(first.as_mut(), &reentrant).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    semaphore.add_permits(1);
    assert_eq!(counter.count(), 1);
    assert!(matches!(
        poll_once(first.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
    assert!(matches!(
        poll_once(second.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn wait_slots_are_reused_in_steady_state() {
    let (_counter, waker) = WakeCounter::new();
    let semaphore = Semaphore::new(0);
    for _ in 0..100 {
        let mut acquire = pin!(semaphore.acquire());
        assert!(poll_once(acquire.as_mut(), &waker).is_pending());
        semaphore.add_permits(1);
        match poll_once(acquire.as_mut(), &waker) {
            Poll::Ready(Ok(permit)) => permit.forget(),
            other => panic!("expected a permit, got {other:?}"),
        }
    }
    assert_eq!(semaphore.wait_slots(), 1);
}

#[test]
fn error_messages_match_tokio() {
    assert_eq!(TryAcquireError::Closed.to_string(), "semaphore closed");
    assert_eq!(
        TryAcquireError::NoPermits.to_string(),
        "no permits available"
    );
    assert_eq!(AcquireError(()).to_string(), "semaphore closed");
}
