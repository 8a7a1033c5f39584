//! Mutex behaviour driven by hand (no runtime), so Miri checks the guards' `unsafe`.

use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

#[test]
fn lock_is_ready_when_free_and_changes_stick() {
    let (_counter, waker) = WakeCounter::new();
    let mutex = Mutex::new(100);
    for expected in [100, 99, 98] {
        let mut guard = match poll_once(pin!(mutex.lock()), &waker) {
            Poll::Ready(guard) => guard,
            Poll::Pending => panic!("an unlocked mutex locks at once"),
        };
        assert_eq!(*guard, expected);
        *guard -= 1;
    }
    assert_eq!(mutex.into_inner(), 97);
}

#[test]
fn lock_waits_for_the_guard_and_is_woken_by_its_drop() {
    let (counter, waker) = WakeCounter::new();
    let mutex = Mutex::new(0);
    let guard = mutex.try_lock().unwrap();
    let mut waiting = pin!(mutex.lock());
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    assert!(mutex.try_lock().is_err());
    drop(guard);
    assert_eq!(counter.count(), 1);
    // Handed to the waiter: nobody else can take it meanwhile.
    assert!(mutex.try_lock().is_err());
    assert!(poll_once(waiting.as_mut(), &waker).is_ready());
}

#[test]
fn waiters_get_the_lock_in_fifo_order() {
    let (_counter, waker) = WakeCounter::new();
    let mutex = Mutex::new(Vec::new());
    let guard = mutex.try_lock().unwrap();
    let mut a = pin!(async { mutex.lock().await.push('a') });
    let mut b = pin!(async { mutex.lock().await.push('b') });
    let mut c = pin!(async { mutex.lock().await.push('c') });
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    assert!(poll_once(c.as_mut(), &waker).is_pending());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    drop(guard);
    // Polled in a different order than they queued: only the head gets in each time.
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(c.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_ready());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(c.as_mut(), &waker).is_ready());
    assert!(poll_once(a.as_mut(), &waker).is_ready());
    assert_eq!(*mutex.try_lock().unwrap(), ['b', 'c', 'a']);
}

#[test]
fn dropped_waiter_that_was_handed_the_lock_passes_it_on() {
    let (_counter, waker) = WakeCounter::new();
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut second = pin!(mutex.lock());
    {
        let mut first = pin!(mutex.lock());
        assert!(poll_once(first.as_mut(), &waker).is_pending());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
        drop(guard); // handed to `first`, which never looks
    }
    assert!(poll_once(second.as_mut(), &waker).is_ready());
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn mapped_guards_reach_the_part_and_keep_the_lock() {
    let mutex = Mutex::new((1, vec![1, 2, 3]));
    let mut items = MutexGuard::map(mutex.try_lock().unwrap(), |(_, items)| items);
    items.push(4);
    assert!(mutex.try_lock().is_err());
    let mut last = MappedMutexGuard::map(items, |items| items.last_mut().unwrap());
    *last = 40;
    let last = match MappedMutexGuard::try_map(last, |_| None::<&mut u8>) {
        Err(last) => last,
        Ok(_) => panic!("the closure declined"),
    };
    assert_eq!(*last, 40);
    assert_eq!(format!("{last:?} {last}"), "40 40");
    drop(last);
    let guard = mutex.try_lock().unwrap();
    assert_eq!(*guard, (1, vec![1, 2, 3, 40]));
    let guard = match MutexGuard::try_map(guard, |_| None::<&mut u8>) {
        Err(guard) => guard,
        Ok(_) => panic!("the closure declined"),
    };
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    let first = MutexGuard::try_map(guard, |(first, _)| Some(first)).unwrap();
    assert_eq!(*first, 1);
}

#[test]
fn owned_guards_own_the_mutex_and_map() {
    let (_counter, waker) = WakeCounter::new();
    let mutex = Rc::new(Mutex::new((String::from("a"), 0)));
    let mut guard = match poll_once(pin!(Rc::clone(&mutex).lock_owned()), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("an unlocked mutex locks at once"),
    };
    guard.0.push('b');
    assert!(Rc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
    assert!(Rc::clone(&mutex).try_lock_owned().is_err());
    let guard = OwnedMutexGuard::try_map(guard, |_| None::<&mut u8>).unwrap_err();
    let mut text = OwnedMutexGuard::map(guard, |(text, _)| text);
    text.push('c');
    let mut text = OwnedMappedMutexGuard::map(text, |text| text.as_mut_str());
    text.make_ascii_uppercase();
    let text = OwnedMappedMutexGuard::try_map(text, |_| None::<&mut u8>).unwrap_err();
    assert!(Rc::ptr_eq(OwnedMappedMutexGuard::mutex(&text), &mutex));
    assert!(mutex.try_lock().is_err());
    drop(text);
    let mut guard = Rc::clone(&mutex).try_lock_owned().unwrap();
    let number = OwnedMutexGuard::try_map(guard, |(_, n)| Some(n)).unwrap();
    guard = match OwnedMappedMutexGuard::try_map(number, |_| None::<&mut u8>) {
        Err(number) => {
            drop(number);
            Rc::clone(&mutex).try_lock_owned().unwrap()
        }
        Ok(_) => panic!("the closure declined"),
    };
    assert_eq!(guard.0, "ABC");
    drop(guard);
    assert_eq!(Rc::strong_count(&mutex), 1);
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(Mutex::from(5).into_inner(), 5);
    assert_eq!(Mutex::<u8>::default().into_inner(), 0);
    assert_eq!(mutex.into_inner(), [1, 2]);
}

#[test]
fn debug_shows_the_value_or_locked() {
    let mutex = Mutex::new("data".to_string());
    assert_eq!(format!("{mutex:?}"), r#"Mutex { data: "data" }"#);
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{guard:?}"), r#""data""#);
    assert_eq!(guard.to_string(), "data");
    assert_eq!(TryLockError(()).to_string(), "operation would block");
}

#[test]
fn a_panic_while_locked_unlocks_without_poisoning() {
    let mutex = Mutex::new(1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut guard = mutex.try_lock().unwrap();
        *guard = 2;
        panic!("while holding the lock");
    }));
    assert!(result.is_err());
    assert_eq!(*mutex.try_lock().unwrap(), 2);
}

#[test]
fn unsized_values_lock_too() {
    let mutex: Rc<Mutex<[u8]>> = Rc::new(Mutex::new([1, 2, 3]));
    mutex.try_lock().unwrap()[0] = 9;
    let guard = Rc::clone(&mutex).try_lock_owned().unwrap();
    assert_eq!(&*guard, [9, 2, 3]);
}
