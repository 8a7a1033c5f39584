//! Sharing one write-readiness slot between the two halves of a split connection.
//!
//! A stream keeps one waker per direction, so when the sender and the receiver (which writes
//! pongs and Close echoes) both wait for writability, the second registration would silently
//! replace the first. Each half records its waker in its own slot here, and the stream gets a
//! waker that wakes every waiting half. Spurious wake-ups are harmless; lost ones are not.

use std::sync::Arc;
use std::task::{Wake, Waker};

/// Which half waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The receiving side (auto-pong, Close echo).
    Reader = 0,
    /// The sending side.
    Writer = 1,
}

struct Both(Waker, Waker);

impl Wake for Both {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.wake_by_ref();
        self.1.wake_by_ref();
    }
}

/// Write waiters of both halves.
#[derive(Debug, Default)]
pub(crate) struct WriteWaiters {
    slots: [Option<Waker>; 2],
}

impl WriteWaiters {
    /// Records `w` for `slot` and returns the waker to hand to the stream.
    pub(crate) fn register(&mut self, slot: Slot, w: &Waker) -> Waker {
        let i = slot as usize;
        match &self.slots[i] {
            Some(old) if old.will_wake(w) => {}
            _ => self.slots[i] = Some(w.clone()),
        }
        match &self.slots[1 - i] {
            Some(other) if !other.will_wake(w) => {
                Waker::from(Arc::new(Both(w.clone(), other.clone())))
            }
            _ => w.clone(),
        }
    }

    /// `slot` is no longer waiting for writability.
    pub(crate) fn clear(&mut self, slot: Slot) {
        self.slots[slot as usize] = None;
    }
}
