//! OnceCell behaviour driven by hand (no runtime), so Miri checks the cell's `unsafe`.

use std::future::ready;
use std::pin::pin;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

#[test]
fn get_or_init_runs_the_first_initialiser_and_the_others_wait_for_it() {
    let (counter, waker) = WakeCounter::new();
    let cell = OnceCell::new();
    let gate = crate::sync::Notify::new();
    let mut first = pin!(cell.get_or_init(|| async {
        gate.notified().await;
        1
    }));
    let mut second = pin!(cell.get_or_init(|| async { panic!("the first initialiser runs") }));
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    assert!(!cell.initialized());
    assert!(cell.set(9).unwrap_err().is_initializing_err());
    gate.notify_one();
    assert_eq!(poll_once(first.as_mut(), &waker), Poll::Ready(&1));
    assert!(counter.count() >= 1);
    assert_eq!(poll_once(second.as_mut(), &waker), Poll::Ready(&1));
    assert_eq!(cell.get(), Some(&1));
    assert!(cell.set(2).unwrap_err().is_already_init_err());
}

#[test]
fn a_cancelled_initialiser_lets_the_next_waiter_initialise() {
    let (_counter, waker) = WakeCounter::new();
    let cell = OnceCell::new();
    let mut second = pin!(cell.get_or_init(|| ready(2)));
    {
        let mut first = pin!(cell.get_or_init(std::future::pending::<u32>));
        assert!(poll_once(first.as_mut(), &waker).is_pending());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
    }
    assert_eq!(poll_once(second.as_mut(), &waker), Poll::Ready(&2));
}

#[test]
fn a_failed_try_init_leaves_the_cell_empty_for_the_next_one() {
    let (_counter, waker) = WakeCounter::new();
    let cell = OnceCell::new();
    assert_eq!(
        poll_once(
            pin!(cell.get_or_try_init(|| ready(Err::<u8, _>("no")))),
            &waker
        ),
        Poll::Ready(Err("no"))
    );
    assert!(!cell.initialized());
    assert_eq!(
        poll_once(pin!(cell.get_or_try_init(|| ready(Ok::<_, ()>(3)))), &waker),
        Poll::Ready(Ok(&3))
    );
    assert_eq!(
        poll_once(
            pin!(cell.get_or_try_init(|| ready(Err::<u8, _>(())))),
            &waker
        ),
        Poll::Ready(Ok(&3))
    );
}

#[test]
fn a_panicking_initialiser_lets_the_next_one_run() {
    let (_counter, waker) = WakeCounter::new();
    let cell = OnceCell::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = poll_once(
            pin!(cell.get_or_init(|| async { panic!("initialiser fails") })),
            &waker,
        );
    }));
    assert!(result.is_err());
    assert_eq!(
        poll_once(pin!(cell.get_or_init(|| ready(5))), &waker),
        Poll::Ready(&5)
    );
}

#[test]
fn constructors_take_and_into_inner() {
    let mut cell = OnceCell::new_with(Some(String::from("a")));
    assert!(cell.initialized());
    cell.get_mut().unwrap().push('b');
    assert_eq!(cell.take().as_deref(), Some("ab"));
    assert!(!cell.initialized());
    cell.set(String::from("c")).unwrap();
    assert_eq!(cell.clone(), OnceCell::from(String::from("c")));
    assert_eq!(format!("{cell:?}"), r#"OnceCell { value: Some("c") }"#);
    assert_eq!(cell.into_inner().as_deref(), Some("c"));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
    assert_eq!(OnceCell::<u8>::default().get(), None);
    thread_local! {
        static FULL: OnceCell<u8> = const { OnceCell::const_new_with(4) };
    }
    FULL.with(|full| {
        assert_eq!(full.get(), Some(&4));
        assert!(full.set(5).unwrap_err().is_already_init_err());
    });
    assert_eq!(
        SetError::InitializingError(()).to_string(),
        "InitializingError"
    );
}
