//! Waking the receiver from any thread, only when it waits.
//!
//! Rules (the receiver's park handshake):
//! - `state` is `IDLE` (the receiver owns the waker cell and is not waiting), `WAITING` (the
//!   receiver published its waker and waits) or `WAKING` (a sender took the right to wake it and
//!   reads the cell). Only the receiver moves `IDLE` to `WAITING`; only a sender moves `WAITING`
//!   to `WAKING`, and back to `IDLE` when its wake is done; the receiver may take `WAITING` back
//!   to `IDLE`. So the cell is written only by the receiver while no sender can read it, and read
//!   by senders only while the receiver does not write it (a read by both at once is fine).
//! - A sender makes its event visible (a value pushed, the last sender gone, a permit back),
//!   then a `SeqCst` fence, then reads `state`: a busy receiver (`IDLE`) costs it one load and no
//!   read-modify-write, and it never touches the runtime.
//! - The receiver publishes `WAITING`, then a `SeqCst` fence, then looks for events again
//!   (`register` returns, the caller re-checks). The two fences make a store-buffering pair:
//!   either the receiver's re-check sees the event, or the sender's load sees `WAITING` (or a
//!   later state, which only another sender's wake can have written). A wake is never lost.
//! - Every write to `state` is a read-modify-write, so its history is one chain and the fences
//!   alone order the two sides (what loom checks exactly; see `executor/remote.rs`).
//! - A receiver that finds `WAKING` when it wants to publish a different waker cannot touch the
//!   cell: it wakes its new waker itself and returns `Pending` (a task re-polls at once).
//!
//! Model-checked with loom in `loom_tests.rs`.

use std::fmt;
use std::task::Waker;

use super::primitives::{fence, AtomicU8, Ordering, UnsafeCell};

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const WAKING: u8 = 2;

/// The receiver's waker, published only while it waits.
pub(super) struct RxWake {
    state: AtomicU8,
    waker: UnsafeCell<Option<Waker>>,
}

/// What [`RxWake::register`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Registered {
    /// The waker is published: re-check for events, then wait (or `retract` if one came).
    Waiting,
    /// A sender is waking an older waker right now: wake the new one at once instead.
    Busy,
}

// SAFETY: the cell is reached only under the state protocol of the module doc; `Waker` is
// `Send + Sync`.
unsafe impl Send for RxWake {}
// SAFETY: as above.
unsafe impl Sync for RxWake {}

impl RxWake {
    pub(super) fn new() -> RxWake {
        RxWake {
            state: AtomicU8::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Receiver: publishes `waker` (keeping the stored one if it `will_wake` the same task).
    ///
    /// # Safety
    /// Only the one receiver calls `register`, `retract` and `clear`, never two threads at once.
    pub(super) unsafe fn register(&self, waker: &Waker) -> Registered {
        let state = self.state.load(Ordering::Acquire);
        if state == WAITING {
            let same = self.waker.with(|cell| {
                // SAFETY: in `WAITING` senders at most read the cell, and only this receiver
                // writes it (caller's contract): a shared read is sound.
                let stored = unsafe { &*cell };
                stored
                    .as_ref()
                    .is_some_and(|stored| stored.will_wake(waker))
            });
            if same {
                // Still published since the fence that followed publishing; the caller's
                // re-check comes after that fence too.
                return Registered::Waiting;
            }
            match self
                .state
                .compare_exchange(WAITING, IDLE, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) | Err(IDLE) => {}
                Err(_) => return Registered::Busy,
            }
        } else if state == WAKING {
            return Registered::Busy;
        }
        // `IDLE`: the cell is ours (the acquire above saw the last sender's release).
        self.waker.with_mut(|cell| {
            // SAFETY: no sender reads the cell in `IDLE` (module rules).
            let cell = unsafe { &mut *cell };
            match cell {
                Some(stored) if stored.will_wake(waker) => {}
                _ => *cell = Some(waker.clone()),
            }
        });
        self.state.swap(WAITING, Ordering::AcqRel);
        fence(Ordering::SeqCst);
        Registered::Waiting
    }

    /// Receiver: it found an event after publishing, so it no longer waits (spares the senders
    /// a wake). A wake already under way is harmless.
    ///
    /// # Safety
    /// As [`RxWake::register`].
    pub(super) unsafe fn retract(&self) {
        let _ = self
            .state
            .compare_exchange(WAITING, IDLE, Ordering::Acquire, Ordering::Relaxed);
    }

    /// Receiver, when it is dropped: forgets the waker unless a sender is using it (it then stays
    /// until the channel is freed), so the task it names is not kept alive by the channel.
    ///
    /// # Safety
    /// As [`RxWake::register`].
    pub(super) unsafe fn clear(&self) {
        let owned =
            match self
                .state
                .compare_exchange(WAITING, IDLE, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) | Err(IDLE) => true,
                Err(_) => false,
            };
        if owned {
            // SAFETY: `IDLE`, so the cell is the receiver's.
            let waker = self.waker.with_mut(|cell| unsafe { (*cell).take() });
            drop(waker);
        }
    }

    /// Sender: wakes the receiver if it waits. Call after making the event visible.
    #[inline]
    pub(super) fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.state.load(Ordering::Relaxed) != WAITING {
            return;
        }
        self.wake_slow();
    }

    #[cold]
    fn wake_slow(&self) {
        if self
            .state
            .compare_exchange(WAITING, WAKING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Another sender wakes it, or it stopped waiting.
            return;
        }
        // Back to `IDLE` even if the waker panics, or the receiver could never publish again.
        struct Done<'a>(&'a RxWake);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.state.swap(IDLE, Ordering::Release);
            }
        }
        let _done = Done(self);
        self.waker.with(|cell| {
            // SAFETY: `WAKING` is ours: the receiver does not write the cell until we leave it.
            if let Some(waker) = unsafe { &*cell } {
                waker.wake_by_ref();
            }
        });
    }
}

impl fmt::Debug for RxWake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Relaxed) {
            IDLE => "idle",
            WAITING => "waiting",
            _ => "waking",
        };
        f.debug_struct("RxWake").field("state", &state).finish()
    }
}
