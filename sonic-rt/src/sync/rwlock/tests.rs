//! RwLock behaviour driven by hand (no runtime), so Miri checks the guards' `unsafe`.

use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

#[test]
fn many_readers_share_the_lock() {
    let (_counter, waker) = WakeCounter::new();
    let lock = RwLock::new(100);
    let first = match poll_once(pin!(lock.read()), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("read of a free lock"),
    };
    let second = lock.try_read().unwrap();
    assert_eq!(*first + *second, 200);
}

#[test]
fn readers_keep_writers_out_and_the_last_one_lets_the_writer_in() {
    let (counter, waker) = WakeCounter::new();
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    let mut write = pin!(lock.write());
    assert!(poll_once(write.as_mut(), &waker).is_pending());
    assert!(lock.try_write().is_err());
    drop(r1);
    assert_eq!(counter.count(), 0);
    drop(r2);
    assert_eq!(counter.count(), 1);
    match poll_once(write.as_mut(), &waker) {
        Poll::Ready(mut guard) => *guard = 1,
        Poll::Pending => panic!("the readers are gone"),
    }
    assert_eq!(*lock.try_read().unwrap(), 1);
}

#[test]
fn a_writer_keeps_readers_and_writers_out() {
    let (_counter, waker) = WakeCounter::new();
    let lock = RwLock::new(0);
    let writer = lock.try_write().unwrap();
    assert!(poll_once(pin!(lock.read()), &waker).is_pending());
    assert!(poll_once(pin!(lock.write()), &waker).is_pending());
    assert!(lock.try_read().is_err());
    drop(writer);
    assert!(lock.try_read().is_ok());
}

#[test]
fn a_waiting_writer_makes_later_readers_wait() {
    let (counter, waker) = WakeCounter::new();
    let lock = RwLock::new(0);
    let reader = lock.try_read().unwrap();
    let mut write = pin!(lock.write());
    assert!(poll_once(write.as_mut(), &waker).is_pending());
    // The writer has gathered every free slot: a later reader waits behind it.
    let mut read = pin!(lock.read());
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    assert!(lock.try_read().is_err());
    drop(reader);
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    let writer = match poll_once(write.as_mut(), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("the reader is gone"),
    };
    let wakes = counter.count();
    drop(writer);
    assert_eq!(counter.count(), wakes + 1);
    assert!(poll_once(read.as_mut(), &waker).is_ready());
}

#[test]
fn dropping_a_waiting_writer_lets_the_readers_behind_it_in() {
    let (counter, waker) = WakeCounter::new();
    let lock = RwLock::new(0);
    let _reader = lock.try_read().unwrap();
    let mut read = pin!(lock.read());
    {
        let mut write = pin!(lock.write());
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        assert!(poll_once(read.as_mut(), &waker).is_pending());
    }
    assert_eq!(counter.count(), 1);
    assert!(poll_once(read.as_mut(), &waker).is_ready());
}

#[test]
fn max_readers_bounds_concurrent_readers() {
    let (counter, waker) = WakeCounter::new();
    let lock = RwLock::with_max_readers((), 3);
    let mut readers: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    let mut fourth = pin!(lock.read());
    assert!(poll_once(fourth.as_mut(), &waker).is_pending());
    readers.pop();
    assert_eq!(counter.count(), 1);
    assert!(poll_once(fourth.as_mut(), &waker).is_ready());
}

#[test]
#[should_panic(expected = "a RwLock may not be created with 0 readers")]
fn zero_max_readers_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

#[test]
fn writers_are_served_in_the_order_they_queued() {
    let (_counter, waker) = WakeCounter::new();
    let lock = RwLock::new(Vec::new());
    let reader = lock.try_read().unwrap();
    let mut two = pin!(async { lock.write().await.push(2) });
    let mut one = pin!(async { lock.write().await.push(1) });
    assert!(poll_once(one.as_mut(), &waker).is_pending());
    assert!(poll_once(two.as_mut(), &waker).is_pending());
    drop(reader);
    assert!(poll_once(two.as_mut(), &waker).is_pending());
    assert!(poll_once(one.as_mut(), &waker).is_ready());
    assert!(poll_once(two.as_mut(), &waker).is_ready());
    assert_eq!(*lock.try_read().unwrap(), [1, 2]);
}

#[test]
fn downgrade_map_lets_readers_in_only_after_the_map_ran() {
    let (_counter, waker) = WakeCounter::new();
    let lock = RwLock::new((0, 5));
    let writer = lock.try_write().unwrap();
    let mut read = pin!(lock.read());
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    let second = RwLockWriteGuard::downgrade_map(writer, |pair| {
        assert!(
            lock.try_read().is_err(),
            "still write-locked inside the map"
        );
        &pair.1
    });
    let reader = match poll_once(read.as_mut(), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("downgraded: readers may enter"),
    };
    assert!(std::ptr::eq(&*second, &reader.1));
    assert!(lock.try_write().is_err());
}

#[test]
fn try_downgrade_map_keeps_the_write_lock_when_declined() {
    let (_counter, waker) = WakeCounter::new();
    let lock = RwLock::new(0);
    let mut read = pin!(lock.read());
    let writer = lock.try_write().unwrap();
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    let writer = RwLockWriteGuard::try_downgrade_map(writer, |_| None::<&u8>).unwrap_err();
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    let reader = RwLockWriteGuard::try_downgrade_map(writer, |v| Some(v)).unwrap();
    assert!(poll_once(read.as_mut(), &waker).is_ready());
    assert_eq!(*reader, 0);
}

#[test]
fn downgrade_keeps_one_reader_slot() {
    let lock = RwLock::with_max_readers(1, 2);
    let mut writer = lock.try_write().unwrap();
    *writer = 2;
    let reader = writer.downgrade();
    let other = lock.try_read().unwrap();
    assert!(lock.try_read().is_err(), "two readers: the bound");
    assert_eq!(*reader + *other, 4);
    drop((reader, other));
    assert!(lock.try_write().is_ok());
}

#[test]
fn mapped_write_guards_reach_the_part_and_keep_the_lock() {
    let lock = RwLock::new((1, [0u8; 4]));
    let mut bytes = RwLockWriteGuard::map(lock.try_write().unwrap(), |(_, bytes)| bytes);
    bytes[0] = 7;
    let mut last = RwLockMappedWriteGuard::map(bytes, |bytes| &mut bytes[3]);
    *last = 9;
    let last = RwLockMappedWriteGuard::try_map(last, |_| None::<&mut u8>).unwrap_err();
    let last = RwLockMappedWriteGuard::try_map(last, |v| Some(v)).unwrap();
    assert_eq!(format!("{last:?} {last}"), "9 9");
    assert!(lock.try_read().is_err());
    drop(last);
    let whole = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    assert_eq!(*whole, (1, [7, 0, 0, 9]));
    drop(whole);
    let writer =
        RwLockWriteGuard::try_map(lock.try_write().unwrap(), |_| None::<&mut u8>).unwrap_err();
    let first = RwLockWriteGuard::try_map(writer, |(first, _)| Some(first)).unwrap();
    assert_eq!(*first, 1);
}

#[test]
fn read_guards_map() {
    let lock = RwLock::new((1, "one"));
    let name = RwLockReadGuard::map(lock.try_read().unwrap(), |pair| &pair.1);
    let number = RwLockReadGuard::try_map(lock.try_read().unwrap(), |pair| Some(&pair.0)).unwrap();
    let declined = RwLockReadGuard::try_map(lock.try_read().unwrap(), |_| None::<&u8>);
    assert!(declined.is_err());
    assert_eq!((*name, *number), ("one", 1));
    assert_eq!(format!("{name:?} {number}"), r#""one" 1"#);
}

#[test]
fn owned_guards_own_the_lock() {
    let (_counter, waker) = WakeCounter::new();
    let lock = Rc::new(RwLock::new((String::from("a"), 1)));
    let reader = match poll_once(pin!(Rc::clone(&lock).read_owned()), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("read of a free lock"),
    };
    assert!(Rc::ptr_eq(OwnedRwLockReadGuard::rwlock(&reader), &lock));
    let text = OwnedRwLockReadGuard::map(reader, |pair| &pair.0);
    let text = OwnedRwLockReadGuard::try_map(text, |_| None::<&u8>).unwrap_err();
    let text = OwnedRwLockReadGuard::try_map(text, |text| Some(text.as_str())).unwrap();
    assert_eq!(&*text, "a");
    drop(text);
    assert!(Rc::clone(&lock).try_write_owned().is_ok());

    let mut writer = match poll_once(pin!(Rc::clone(&lock).write_owned()), &waker) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("write of a free lock"),
    };
    writer.1 = 2;
    assert!(Rc::clone(&lock).try_read_owned().is_err());
    let writer = OwnedRwLockWriteGuard::try_map(writer, |_| None::<&mut u8>).unwrap_err();
    let mut text = OwnedRwLockWriteGuard::map(writer, |pair| &mut pair.0);
    text.push('b');
    let mut text = OwnedRwLockMappedWriteGuard::map(text, |text| text.as_mut_str());
    text.make_ascii_uppercase();
    let text = OwnedRwLockMappedWriteGuard::try_map(text, |_| None::<&mut u8>).unwrap_err();
    assert!(Rc::ptr_eq(
        OwnedRwLockMappedWriteGuard::rwlock(&text),
        &lock
    ));
    drop(text);

    let writer = Rc::clone(&lock).try_write_owned().unwrap();
    assert!(Rc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&writer), &lock));
    let writer = OwnedRwLockWriteGuard::try_downgrade_map(writer, |_| None::<&u8>).unwrap_err();
    let number = OwnedRwLockWriteGuard::downgrade_map(writer, |pair| &pair.1);
    let other = Rc::clone(&lock).try_read_owned().unwrap();
    assert_eq!((*number, other.0.as_str()), (2, "AB"));
    drop((number, other));
    let whole = OwnedRwLockWriteGuard::into_mapped(Rc::clone(&lock).try_write_owned().unwrap());
    let whole = OwnedRwLockMappedWriteGuard::try_map(whole, |pair| Some(&mut pair.1)).unwrap();
    drop(whole);
    let reader = Rc::clone(&lock).try_write_owned().unwrap().downgrade();
    assert_eq!(reader.0, "AB");
    drop(reader);
    let writer = Rc::clone(&lock).try_write_owned().unwrap();
    let reader = OwnedRwLockWriteGuard::try_downgrade_map(writer, |pair| Some(&pair.0)).unwrap();
    assert_eq!(&*reader, "AB");
    drop(reader);
    assert_eq!(Rc::strong_count(&lock), 1);
}

#[test]
fn get_mut_into_inner_and_debug() {
    let mut lock = RwLock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(format!("{lock:?}"), "RwLock { data: [1, 2] }");
    let writer = lock.try_write().unwrap();
    assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
    drop(writer);
    assert_eq!(RwLock::from(3).into_inner(), 3);
    assert_eq!(RwLock::<u8>::default().into_inner(), 0);
    assert_eq!(lock.into_inner(), [1, 2]);
}
