//! One parked waker that is kept between waits, so a task that waits again and again on the same
//! handle clones its waker once, not once per wait.
//!
//! Rules:
//! - `register` arms the slot; `wake` wakes only an armed slot and disarms it. A party that is not
//!   waiting is never woken, so a busy producer does not schedule an idle consumer for nothing.
//! - The waker stays stored after a wake and is reused when the next `register` passes a waker
//!   that `will_wake` the same task.
//! - A `Cell` holds the waker, never a `RefCell`: a waker's `wake` or `drop` may run arbitrary code,
//!   and nothing here is borrowed while it does.

use std::cell::Cell;
use std::fmt;
use std::task::Waker;

/// A single reusable waker for the one party that can wait on a handle (a receiver, a oneshot
/// sender waiting for `closed`).
pub(crate) struct WakerSlot {
    waker: Cell<Option<Waker>>,
    armed: Cell<bool>,
}

impl WakerSlot {
    pub(crate) const fn new() -> WakerSlot {
        WakerSlot {
            waker: Cell::new(None),
            armed: Cell::new(false),
        }
    }

    /// Records that the owner waits and should be woken through `waker`.
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

    /// Wakes the owner if it is waiting.
    pub(crate) fn wake(&self) {
        if !self.armed.replace(false) {
            return;
        }
        if let Some(waker) = self.waker.take() {
            waker.wake_by_ref();
            // Keep the waker for reuse, unless the wake itself registered a newer one.
            let newer = self.waker.take();
            self.waker.set(newer.or(Some(waker)));
        }
    }

    /// Forgets the stored waker (its owner is gone), so the task it refers to is not kept alive.
    pub(crate) fn clear(&self) {
        self.armed.set(false);
        drop(self.waker.take());
    }
}

impl fmt::Debug for WakerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakerSlot")
            .field("armed", &self.armed.get())
            .finish_non_exhaustive()
    }
}
