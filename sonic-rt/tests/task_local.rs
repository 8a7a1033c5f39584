//! `task_local!`: the value is swapped in around every poll of its scoped future (and its drop),
//! so interleaved tasks each see their own, nested scopes shadow, and it is gone outside.

mod common;

use sonic_rt::sync::oneshot;
use sonic_rt::task::{self, AccessError, TaskLocalFuture};
use sonic_rt::Runtime;
use sonic_test_support::each_mode;
use std::cell::RefCell;
use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

sonic_rt::task_local! {
    static REQ_ID: u32;
    /// A public key, with a doc comment passed through.
    pub static NAME: String;
}

sonic_rt::task_local! {
    /// Declared alone, without a trailing semicolon.
    static LAST: u8
}

fn interleaved_tasks_each_see_their_own_value(rt: &Runtime) {
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = (1..=3)
            .map(|id| {
                let log = log.clone();
                task::spawn(REQ_ID.scope(id, async move {
                    for _ in 0..3 {
                        log.borrow_mut().push((id, REQ_ID.get()));
                        task::yield_now().await;
                    }
                }))
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // The block_on future is outside every scope.
        assert!(REQ_ID.try_get().is_err());
    });
    let log = log.borrow();
    assert_eq!(log.len(), 9);
    assert!(log.iter().all(|(id, seen)| id == seen));
    // They did interleave.
    assert_ne!(log[0].0, log[1].0);
}

fn nested_scopes_shadow_and_restore(rt: &Runtime) {
    rt.block_on(REQ_ID.scope(1, async {
        assert_eq!(REQ_ID.get(), 1);
        REQ_ID
            .scope(2, async {
                assert_eq!(REQ_ID.get(), 2);
                task::yield_now().await;
                assert_eq!(REQ_ID.get(), 2);
                assert_eq!(REQ_ID.sync_scope(3, || REQ_ID.get()), 3);
                assert_eq!(REQ_ID.get(), 2);
            })
            .await;
        assert_eq!(REQ_ID.get(), 1);
    }));
}

fn a_spawned_task_does_not_inherit_the_value(rt: &Runtime) {
    rt.block_on(REQ_ID.scope(5, async {
        let inner = task::spawn(async { REQ_ID.try_get() }).await.unwrap();
        let _: AccessError = inner.unwrap_err();
        assert_eq!(REQ_ID.get(), 5);
    }));
}

fn value_is_available_when_an_aborted_task_drops(rt: &Runtime) {
    struct ReadOnDrop(Option<oneshot::Sender<u32>>);
    impl Future for ReadOnDrop {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }
    impl Drop for ReadOnDrop {
        fn drop(&mut self) {
            let _ = self.0.take().unwrap().send(REQ_ID.get());
        }
    }
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let h = task::spawn(REQ_ID.scope(42, ReadOnDrop(Some(tx))));
        task::yield_now().await;
        h.abort();
        assert_eq!(rx.await.unwrap(), 42);
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

fn value_is_available_when_a_completed_future_drops(rt: &Runtime) {
    struct ReadOnDrop(Option<oneshot::Sender<u32>>);
    impl Future for ReadOnDrop {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
    impl Drop for ReadOnDrop {
        fn drop(&mut self) {
            let _ = self.0.take().unwrap().send(REQ_ID.get());
        }
    }
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        task::spawn(REQ_ID.scope(7, ReadOnDrop(Some(tx))))
            .await
            .unwrap();
        assert_eq!(rx.await.unwrap(), 7);
    });
}

fn take_value_leaves_the_future_without_one(rt: &Runtime) {
    rt.block_on(async {
        let mut fut = pin!(REQ_ID.scope(1, async {
            assert!(REQ_ID.try_with(|_| ()).is_err());
        }));
        assert_eq!(fut.as_mut().take_value(), Some(1));
        assert_eq!(fut.as_mut().take_value(), None);
        fut.await;
        // An outer scope is hidden too: the future runs with no value at all.
        let mut fut = pin!(REQ_ID.scope(2, async { REQ_ID.try_get() }));
        fut.as_mut().take_value();
        assert!(REQ_ID.scope(9, fut).await.is_err());
    });
}

fn the_value_is_restored_after_a_panic_in_sync_scope(rt: &Runtime) {
    rt.block_on(NAME.scope("outer".to_string(), async {
        let res = catch_unwind(AssertUnwindSafe(|| {
            NAME.sync_scope("inner".to_string(), || panic!("in the scope"))
        }));
        assert!(res.is_err());
        assert_eq!(NAME.get(), "outer");
    }));
    assert!(NAME.try_with(|_| ()).is_err());
}

fn drop_of_a_never_polled_scope_drops_its_value(rt: &Runtime) {
    let rc = Rc::new(());
    rt.block_on(async {
        let fut: TaskLocalFuture<u32, _> = REQ_ID.scope(3, {
            let rc = rc.clone();
            async move {
                let _rc = rc;
                pending::<()>().await
            }
        });
        drop(fut);
    });
    assert_eq!(Rc::strong_count(&rc), 1);
}

each_mode!(
    interleaved_tasks_each_see_their_own_value,
    nested_scopes_shadow_and_restore,
    a_spawned_task_does_not_inherit_the_value,
    value_is_available_when_an_aborted_task_drops,
    value_is_available_when_a_completed_future_drops,
    take_value_leaves_the_future_without_one,
    the_value_is_restored_after_a_panic_in_sync_scope,
    drop_of_a_never_polled_scope_drops_its_value,
);

#[test]
fn with_outside_a_scope_panics_and_try_with_errs() {
    assert!(REQ_ID.try_with(|v| *v).is_err());
    assert_eq!(
        REQ_ID.try_get().unwrap_err().to_string(),
        "task-local value not set"
    );
    let err = catch_unwind(|| REQ_ID.with(|v| *v)).unwrap_err();
    assert_eq!(
        *err.downcast::<&str>().unwrap(),
        "cannot access a task-local storage value without setting it first"
    );
}

#[test]
fn sync_scope_inside_with_of_the_same_key_panics() {
    let err = catch_unwind(|| {
        LAST.sync_scope(1, || LAST.with(|_| LAST.sync_scope(2, || ())));
    })
    .unwrap_err();
    assert_eq!(
        *err.downcast::<&str>().unwrap(),
        "cannot enter a task-local scope while the task-local storage is borrowed"
    );
    // The outer scope was left cleanly.
    assert!(LAST.try_get().is_err());
}

#[test]
#[should_panic(expected = "`TaskLocalFuture` polled after completion")]
fn polling_after_completion_panics() {
    let mut fut = Box::pin(LAST.scope(1, async {}));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    let _ = fut.as_mut().poll(&mut cx);
}
