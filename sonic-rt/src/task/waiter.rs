//! One waiting party's waker, kept between waits so that a `JoinSet` or `LocalSet` polled again
//! and again by the same task clones its waker once, not once per wait.
//!
//! Rules:
//! - `register` arms the slot; `wake` wakes only an armed slot and disarms it, so nothing is
//!   scheduled for a party that is not waiting.
//! - A `Cell` holds the waker, never a `RefCell`: a waker's `wake` or `drop` may run arbitrary
//!   code, and nothing here is borrowed while it does.

use std::cell::Cell;
use std::task::Waker;

pub(crate) struct Waiter {
    waker: Cell<Option<Waker>>,
    armed: Cell<bool>,
}

impl Waiter {
    pub(crate) const fn new() -> Waiter {
        Waiter {
            waker: Cell::new(None),
            armed: Cell::new(false),
        }
    }

    /// The owner waits: wake it through `waker` (stored unless the stored one wakes the same
    /// task).
    pub(crate) fn register(&self, waker: &Waker) {
        self.armed.set(true);
        match self.waker.take() {
            Some(stored) if stored.will_wake(waker) => self.waker.set(Some(stored)),
            stale => {
                self.waker.set(Some(waker.clone()));
                drop(stale);
            }
        }
    }

    /// Wakes the owner if it waits.
    pub(crate) fn wake(&self) {
        if !self.armed.replace(false) {
            return;
        }
        if let Some(waker) = self.waker.take() {
            waker.wake_by_ref();
            // Keep the waker for the next wait, unless the wake registered a newer one.
            let newer = self.waker.take();
            self.waker.set(newer.or(Some(waker)));
        }
    }

    /// Forgets the waker (the owner is gone), so the task it refers to is not kept alive.
    pub(crate) fn clear(&self) {
        self.armed.set(false);
        drop(self.waker.take());
    }
}
