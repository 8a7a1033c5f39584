//! Senders that wait: for room in a bounded channel, or for the receiver to close. A FIFO list
//! threaded through a slab, kept under the channel's mutex.
//!
//! Rules:
//! - Each waiter is named by a [`Key`] its future owns from `push` until `poll` reports it done
//!   or `cancel` consumes it; only the owner frees its slot, so keys need no generation.
//! - `pop_front` unlinks the oldest waiter, leaves the outcome in its slot and returns its waker,
//!   which the caller wakes after it has released the lock (a waker may run arbitrary code).
//! - A waiter may wait for several slots (`reserve_many`): it records how many it still needs.
//!   `grant_front` hands slots to the oldest waiter only; one that still needs more keeps what it
//!   was handed and stays at the head, so the waiters behind it (asking for one slot or more)
//!   wait their turn, first come, first served. The slots a waiter was handed belong to its
//!   future, which gives them back if it fails or is dropped (`unfilled` says how many).
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

/// How a wait ended, or why it did not: what [`WaitQueue::poll`] and [`WaitQueue::cancel`]
/// report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Done {
    pub(super) outcome: Outcome,
    /// Slots the waiter still needed when it stopped waiting (0 once `Granted`): its future
    /// holds the rest of what it asked for.
    pub(super) unfilled: usize,
}

/// What [`WaitQueue::cancel`] found.
#[derive(Debug)]
pub(super) struct Cancelled {
    /// Slots the waiter still needed (all it asked for less what it was handed; 0 if it was
    /// granted them all, whether it looked or not).
    pub(super) unfilled: usize,
    /// The waker of a waiter that was still queued, to drop after unlocking.
    pub(super) waker: Option<Waker>,
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
        /// Slots still needed (0 for a waiter that waits for no slot: `closed()`).
        need: usize,
    },
    Done(Done),
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

    /// Queues a waiter at the back that needs `need` slots (0 for one that waits for no slot).
    pub(super) fn push(&mut self, waker: Waker, need: usize) -> Key {
        let slot = Slot::Queued {
            waker,
            prev: self.tail,
            next: NIL,
            need,
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

    /// Unlinks queued slot `index`, leaving `replacement` in it; returns its waker and the
    /// slots it still needed.
    fn unlink(&mut self, index: usize, replacement: Slot) -> (Waker, usize) {
        let Slot::Queued {
            waker,
            prev,
            next,
            need,
        } = mem::replace(&mut self.slots[index], replacement)
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
        (waker, need)
    }

    /// Ends the wait of the oldest waiter with `outcome`; returns its waker to wake.
    pub(super) fn pop_front(&mut self, outcome: Outcome) -> Option<Waker> {
        let head = self.head;
        if head == NIL {
            return None;
        }
        let (waker, need) = self.unlink(head, Slot::Vacant { next_free: NIL });
        let unfilled = if outcome == Outcome::Granted { 0 } else { need };
        self.slots[head] = Slot::Done(Done { outcome, unfilled });
        Some(waker)
    }

    /// Hands up to `*slots` slots to the oldest waiter, taking them from `*slots`. If that meets
    /// its need, its wait ends (`Granted`) and its waker is returned to wake; otherwise it keeps
    /// what it was handed and stays at the head (`*slots` is then 0). `None` if nobody waits or
    /// nothing was handed over.
    pub(super) fn grant_front(&mut self, slots: &mut usize) -> Option<Waker> {
        let head = self.head;
        if head == NIL || *slots == 0 {
            return None;
        }
        let Slot::Queued { need, .. } = &mut self.slots[head] else {
            unreachable!("the head slot is not queued")
        };
        if *need > *slots {
            *need -= mem::take(slots);
            return None;
        }
        *slots -= *need;
        self.pop_front(Outcome::Granted)
    }

    /// How the wait ended, if it is over (its slot is then freed); otherwise stores `waker`
    /// (unless the stored one wakes the same task) and returns the waker it replaced, for the
    /// caller to drop after unlocking.
    pub(super) fn poll(&mut self, key: &Key, waker: &Waker) -> Result<Done, Option<Waker>> {
        match &mut self.slots[key.0] {
            &mut Slot::Done(done) => {
                self.free_slot(key.0);
                Ok(done)
            }
            Slot::Queued { waker: stored, .. } if stored.will_wake(waker) => Err(None),
            Slot::Queued { waker: stored, .. } => Err(Some(mem::replace(stored, waker.clone()))),
            Slot::Vacant { .. } => unreachable!("a waiter's key names a vacant slot"),
        }
    }

    /// Gives up waiting (see [`Cancelled`]).
    pub(super) fn cancel(&mut self, key: Key) -> Cancelled {
        let result = match &self.slots[key.0] {
            &Slot::Done(Done { unfilled, .. }) => Cancelled {
                unfilled,
                waker: None,
            },
            Slot::Queued { .. } => {
                let (waker, need) = self.unlink(key.0, Slot::Vacant { next_free: NIL });
                Cancelled {
                    unfilled: need,
                    waker: Some(waker),
                }
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
