//! Senders that wait: for room in a bounded channel, or for the receiver to close. A FIFO list
//! threaded through a slab, kept under the channel's mutex.
//!
//! Rules:
//! - Each waiter is named by a [`Key`] its future owns from `push` until `poll` reports it done
//!   or `cancel` consumes it; only the owner frees its slot, so keys need no generation.
//! - `pop_front` unlinks the oldest waiter, leaves the outcome in its slot and returns its waker,
//!   which the caller wakes after it has released the lock (a waker may run arbitrary code).
//! - Vacant slots form a free list: once the slab has grown to the peak number of waiters,
//!   waiting allocates nothing.

use std::fmt;
use std::mem;
use std::task::Waker;

const NIL: usize = usize::MAX;

/// Why a waiter stopped waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A bounded sender was handed a slot.
    Granted,
    /// The receiver closed.
    Closed,
}

/// Names one waiter; owned by its future (not `Clone` on purpose).
#[derive(Debug)]
pub(super) struct Key(usize);

enum Slot {
    Vacant {
        next_free: usize,
    },
    Queued {
        waker: Waker,
        prev: usize,
        next: usize,
    },
    Done(Outcome),
}

/// A FIFO of waiting wakers.
pub(super) struct WaitQueue {
    slots: Vec<Slot>,
    head: usize,
    tail: usize,
    free: usize,
}

impl WaitQueue {
    pub(super) const fn new() -> WaitQueue {
        WaitQueue {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Queues a waiter at the back.
    pub(super) fn push(&mut self, waker: Waker) -> Key {
        let slot = Slot::Queued {
            waker,
            prev: self.tail,
            next: NIL,
        };
        let index = if self.free == NIL {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let index = self.free;
            match mem::replace(&mut self.slots[index], slot) {
                Slot::Vacant { next_free } => self.free = next_free,
                _ => unreachable!("the free list points at a used slot"),
            }
            index
        };
        match self.tail {
            NIL => self.head = index,
            tail => self.set_next(tail, index),
        }
        self.tail = index;
        Key(index)
    }

    fn set_next(&mut self, index: usize, to: usize) {
        match &mut self.slots[index] {
            Slot::Queued { next, .. } => *next = to,
            _ => unreachable!("a linked slot is not queued"),
        }
    }

    fn set_prev(&mut self, index: usize, to: usize) {
        match &mut self.slots[index] {
            Slot::Queued { prev, .. } => *prev = to,
            _ => unreachable!("a linked slot is not queued"),
        }
    }

    /// Unlinks queued slot `index`, leaving `replacement` in it; returns its waker.
    fn unlink(&mut self, index: usize, replacement: Slot) -> Waker {
        let Slot::Queued { waker, prev, next } = mem::replace(&mut self.slots[index], replacement)
        else {
            unreachable!("unlinking a slot that is not queued")
        };
        match prev {
            NIL => self.head = next,
            prev => self.set_next(prev, next),
        }
        match next {
            NIL => self.tail = prev,
            next => self.set_prev(next, prev),
        }
        waker
    }

    /// Ends the wait of the oldest waiter with `outcome`; returns its waker to wake.
    pub(super) fn pop_front(&mut self, outcome: Outcome) -> Option<Waker> {
        match self.head {
            NIL => None,
            head => Some(self.unlink(head, Slot::Done(outcome))),
        }
    }

    /// The outcome if the waiter's wait is over (its slot is then freed); otherwise stores
    /// `waker` (unless the stored one wakes the same task) and returns `None` with the waker it
    /// replaced, for the caller to drop after unlocking.
    pub(super) fn poll(&mut self, key: &Key, waker: &Waker) -> Result<Outcome, Option<Waker>> {
        match &mut self.slots[key.0] {
            &mut Slot::Done(outcome) => {
                self.free_slot(key.0);
                Ok(outcome)
            }
            Slot::Queued { waker: stored, .. } if stored.will_wake(waker) => Err(None),
            Slot::Queued { waker: stored, .. } => Err(Some(mem::replace(stored, waker.clone()))),
            Slot::Vacant { .. } => unreachable!("a waiter's key names a vacant slot"),
        }
    }

    /// Gives up waiting: the outcome if the wait was already over, and the waker of a waiter that
    /// was still queued (to drop after unlocking).
    pub(super) fn cancel(&mut self, key: Key) -> (Option<Outcome>, Option<Waker>) {
        let result = match &self.slots[key.0] {
            &Slot::Done(outcome) => (Some(outcome), None),
            Slot::Queued { .. } => {
                let vacant = Slot::Vacant { next_free: NIL };
                (None, Some(self.unlink(key.0, vacant)))
            }
            Slot::Vacant { .. } => unreachable!("a waiter's key names a vacant slot"),
        };
        self.free_slot(key.0);
        result
    }

    fn free_slot(&mut self, index: usize) {
        self.slots[index] = Slot::Vacant {
            next_free: self.free,
        };
        self.free = index;
    }

    /// The number of slots the slab has grown to (tests check that they are reused).
    #[cfg(test)]
    pub(super) fn slot_count(&self) -> usize {
        self.slots.len()
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue")
            .field("empty", &self.is_empty())
            .field("slots", &self.slots.len())
            .finish()
    }
}

/// Wakers taken under the lock, woken after it is released. A fixed array: no allocation.
pub(super) struct WakeBatch {
    wakers: [Option<Waker>; WakeBatch::CAP],
    len: usize,
}

impl WakeBatch {
    pub(super) const CAP: usize = 16;

    pub(super) const fn new() -> WakeBatch {
        WakeBatch {
            wakers: [const { None }; WakeBatch::CAP],
            len: 0,
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == WakeBatch::CAP
    }

    pub(super) fn push(&mut self, waker: Waker) {
        debug_assert!(!self.is_full());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes every waker taken (call with no lock held).
    pub(super) fn wake_all(&mut self) {
        for waker in &mut self.wakers[..self.len] {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        // Normally empty; on unwinding, still wake who was chosen.
        self.wake_all();
    }
}

impl fmt::Debug for WakeBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeBatch").field("len", &self.len).finish()
    }
}
