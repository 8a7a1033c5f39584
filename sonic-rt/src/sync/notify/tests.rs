use std::pin::pin;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

#[test]
fn notify_one_without_waiter_stores_one_permit() {
    let (counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // permits do not add up
    assert_eq!(poll_once(pin!(notify.notified()), &waker), Poll::Ready(()));
    let mut second = pin!(notify.notified());
    assert_eq!(poll_once(second.as_mut(), &waker), Poll::Pending);
    assert_eq!(counter.count(), 0);
}

#[test]
fn notify_one_wakes_waiters_in_fifo_order() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    // Order is the order of the first poll, not of creation.
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());

    notify.notify_one();
    assert_eq!((a_count.count(), b_count.count()), (0, 1));
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());

    notify.notify_one();
    assert_eq!((a_count.count(), b_count.count()), (1, 1));
    assert!(poll_once(a.as_mut(), &a_waker).is_ready());
    assert!(!notify.permit.get());
}

#[test]
fn notify_waiters_wakes_all_current_and_stores_nothing() {
    let (counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    let mut never_polled = pin!(notify.notified());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());

    notify.notify_waiters();
    assert_eq!(counter.count(), 2);
    assert!(poll_once(a.as_mut(), &waker).is_ready());
    assert!(poll_once(b.as_mut(), &waker).is_ready());
    // Created before the call: completed by it even though it was never polled.
    assert!(poll_once(never_polled.as_mut(), &waker).is_ready());
    // Created after: not completed, and no permit was stored.
    assert!(poll_once(pin!(notify.notified()), &waker).is_pending());
}

#[test]
fn notify_waiters_keeps_a_stored_permit() {
    let (_counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    assert!(poll_once(pin!(notify.notified()), &waker).is_ready());
    assert!(poll_once(pin!(notify.notified()), &waker).is_pending());
}

#[test]
fn waker_is_updated_and_reused() {
    let (first, first_waker) = WakeCounter::new();
    let (second, second_waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut waiter = pin!(notify.notified());
    assert!(poll_once(waiter.as_mut(), &first_waker).is_pending());
    assert!(poll_once(waiter.as_mut(), &first_waker).is_pending());
    assert!(poll_once(waiter.as_mut(), &second_waker).is_pending());
    notify.notify_one();
    assert_eq!((first.count(), second.count()), (0, 1));
}

#[test]
fn dropped_queued_waiter_leaves_the_queue() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut b = pin!(notify.notified());
    {
        let mut a = pin!(notify.notified());
        assert!(poll_once(a.as_mut(), &a_waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    }
    notify.notify_one();
    assert_eq!((a_count.count(), b_count.count()), (0, 1));
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
}

#[test]
fn dropped_notified_waiter_passes_notification_to_next() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut b = pin!(notify.notified());
    {
        let mut a = pin!(notify.notified());
        assert!(poll_once(a.as_mut(), &a_waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
        notify.notify_one();
        assert_eq!(a_count.count(), 1);
        // `a` is dropped without looking.
    }
    assert_eq!(b_count.count(), 1);
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
}

#[test]
fn dropped_notified_waiter_without_successor_stores_permit() {
    let (_counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    {
        let mut a = pin!(notify.notified());
        assert!(poll_once(a.as_mut(), &waker).is_pending());
        notify.notify_one();
    }
    assert!(notify.permit.get());
    assert!(poll_once(pin!(notify.notified()), &waker).is_ready());
}

#[test]
fn dropped_waiter_woken_by_notify_waiters_passes_nothing() {
    let (_counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    {
        let mut a = pin!(notify.notified());
        assert!(poll_once(a.as_mut(), &waker).is_pending());
        notify.notify_waiters();
    }
    assert!(!notify.permit.get());
}

#[test]
fn waiter_slots_are_reused() {
    let (_counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    for _ in 0..100 {
        let mut a = pin!(notify.notified());
        let mut b = pin!(notify.notified());
        assert!(poll_once(a.as_mut(), &waker).is_pending());
        assert!(poll_once(b.as_mut(), &waker).is_pending());
        notify.notify_one();
        assert!(poll_once(a.as_mut(), &waker).is_ready());
    }
    assert_eq!(notify.waiters.slot_count(), 2);
}

#[test]
fn completed_notified_stays_ready() {
    let (_counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    notify.notify_one();
    let mut a = pin!(notify.notified());
    assert!(poll_once(a.as_mut(), &waker).is_ready());
    assert!(poll_once(a.as_mut(), &waker).is_ready());
}

#[test]
fn wakes_may_reenter_the_notify() {
    use crate::sync::test_util::reentrant_waker;
    use std::rc::Rc;

    let notify = Rc::new(Notify::new());
    let (counter, plain) = WakeCounter::new();
    let (waker, _guard) = reentrant_waker({
        let notify = Rc::clone(&notify);
        move || {
            // Queue a new waiter and notify it, from inside a wake; dropping it unseen then
            // passes the notification on, into the permit.
            let (_count, waker) = WakeCounter::new();
            let mut late = Box::pin(notify.notified());
            assert!(poll_once(late.as_mut(), &waker).is_pending());
            notify.notify_one();
        }
    });
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &plain).is_pending());
    notify.notify_waiters();
    assert!(poll_once(a.as_mut(), &waker).is_ready());
    assert!(poll_once(b.as_mut(), &plain).is_ready());
    assert_eq!(counter.count(), 1);
    assert!(notify.permit.get());
}

#[test]
fn notify_last_wakes_the_newest_waiter_or_stores_a_permit() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    notify.notify_last();
    assert_eq!((a_count.count(), b_count.count()), (0, 1));
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    notify.notify_last();
    assert!(poll_once(a.as_mut(), &a_waker).is_ready());

    notify.notify_last();
    notify.notify_last(); // one permit, as with notify_one
    assert!(poll_once(pin!(notify.notified()), &a_waker).is_ready());
    assert!(poll_once(pin!(notify.notified()), &a_waker).is_pending());
}

#[test]
fn dropped_waiter_chosen_by_notify_last_passes_it_to_the_newest() {
    let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| WakeCounter::new()).unzip();
    let notify = Notify::new();
    let mut first = pin!(notify.notified());
    let mut second = pin!(notify.notified());
    assert!(poll_once(first.as_mut(), &wakers[0]).is_pending());
    assert!(poll_once(second.as_mut(), &wakers[1]).is_pending());
    {
        let mut third = pin!(notify.notified());
        assert!(poll_once(third.as_mut(), &wakers[2]).is_pending());
        notify.notify_last();
        assert_eq!(counts[2].count(), 1);
    }
    // Passed on LIFO: the newest remaining waiter gets it, not the oldest.
    assert_eq!((counts[0].count(), counts[1].count()), (0, 1));
    assert!(poll_once(second.as_mut(), &wakers[1]).is_ready());
    assert!(poll_once(first.as_mut(), &wakers[0]).is_pending());
}

#[test]
fn enable_queues_the_waiter_so_notify_one_picks_it_instead_of_storing_a_permit() {
    let (counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(!a.as_mut().enable());
    assert!(!b.as_mut().enable());
    notify.notify_one();
    notify.notify_one();
    assert!(
        !notify.permit.get(),
        "both notifications went to the enabled waiters"
    );
    assert!(a.as_mut().enable());
    assert!(b.as_mut().enable());
    assert_eq!(poll_once(a.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(poll_once(b.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(counter.count(), 0, "no waker was registered");
}

#[test]
fn enable_takes_a_stored_permit_or_a_later_notify_waiters() {
    let notify = Notify::new();
    notify.notify_one();
    assert!(pin!(notify.notified()).as_mut().enable());
    assert!(!notify.permit.get());
    let mut created = pin!(notify.notified());
    notify.notify_waiters();
    assert!(created.as_mut().enable());
    let mut later = pin!(notify.notified());
    assert!(!later.as_mut().enable());
    assert!(!later.as_mut().enable(), "enabling twice changes nothing");
    notify.notify_waiters();
    assert!(later.as_mut().enable());
}

#[test]
fn an_enabled_waiter_keeps_its_place_and_gets_the_waker_of_its_first_poll() {
    let (counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut first = pin!(notify.notified());
    let mut second = pin!(notify.notified());
    assert!(!first.as_mut().enable());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    notify.notify_one();
    assert_eq!(counter.count(), 1);
    assert!(poll_once(first.as_mut(), &waker).is_ready());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
}

#[test]
fn a_dropped_enabled_waiter_passes_its_notification_on() {
    let (counter, waker) = WakeCounter::new();
    let notify = Notify::new();
    let mut second = pin!(notify.notified());
    {
        let mut first = pin!(notify.notified());
        assert!(!first.as_mut().enable());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
        notify.notify_one();
    }
    assert_eq!(counter.count(), 1);
    assert!(poll_once(second.as_mut(), &waker).is_ready());
}
