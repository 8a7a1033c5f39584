//! Helpers for driving futures by hand in unit tests.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts how often it was woken.
#[derive(Debug, Default)]
pub(crate) struct WakeCounter {
    wakes: AtomicUsize,
}

impl WakeCounter {
    pub(crate) fn new() -> (Arc<WakeCounter>, Waker) {
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    pub(crate) fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` once with `waker`.
pub(crate) fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// A value that counts its drops in a shared counter.
#[derive(Debug)]
pub(crate) struct Tracked {
    pub(crate) id: u32,
    drops: Rc<Cell<usize>>,
}

impl Tracked {
    pub(crate) fn new(id: u32, drops: &Rc<Cell<usize>>) -> Tracked {
        Tracked {
            id,
            drops: Rc::clone(drops),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

thread_local! {
    static ON_WAKE: std::cell::RefCell<Option<Box<dyn Fn()>>> = const { std::cell::RefCell::new(None) };
}

/// A waker whose `wake` runs `hook` on this thread (to test code that re-enters a channel from
/// inside a wake). The hook is cleared when the returned guard drops.
pub(crate) fn reentrant_waker(hook: impl Fn() + 'static) -> (Waker, impl Drop) {
    struct Reenter;
    impl Wake for Reenter {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            ON_WAKE.with(|hook| {
                if let Some(hook) = hook.borrow().as_ref() {
                    hook();
                }
            });
        }
    }
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            drop(ON_WAKE.with(|hook| hook.borrow_mut().take()));
        }
    }
    ON_WAKE.with(|slot| *slot.borrow_mut() = Some(Box::new(hook)));
    (Waker::from(Arc::new(Reenter)), Clear)
}
