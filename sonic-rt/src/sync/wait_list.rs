//! A FIFO queue of parked waiters with O(1) removal, for futures that may be dropped while they
//! wait (bounded senders waiting for room, `Notified`).
//!
//! Rules:
//! - The queue is a doubly linked list threaded through a slab (`Vec`) of slots. Vacant slots form
//!   a free list, so once the slab has grown to the peak number of waiters, parking and unparking
//!   allocate nothing.
//! - A waiter is named by a [`WaiterKey`] that its future owns from `park` until `poll` returns
//!   `Ok` or `cancel` consumes it. Only the owner frees the slot, so a key cannot outlive its slot
//!   and needs no generation.
//! - `wake_one` / `wake_all` unlink waiters and leave an outcome in their slots. The slot stays
//!   allocated until its owner reads the outcome (`poll`) or gives it back (`cancel`): a future
//!   dropped after it was chosen hands its outcome back to the caller, who passes it on.
//! - No `RefCell` borrow is held while a `Waker` is cloned, woken or dropped: a waker may run
//!   arbitrary code, including code that touches this queue again.

use std::cell::RefCell;
use std::fmt;
use std::mem;
use std::task::Waker;

const NIL: usize = usize::MAX;

/// Names one parked waiter; owned by the waiting future (not `Clone` on purpose).
#[derive(Debug)]
pub(crate) struct WaiterKey(usize);

enum Slot<O> {
    Vacant {
        next_free: usize,
    },
    Queued {
        waker: Waker,
        prev: usize,
        next: usize,
    },
    Done(O),
}

struct List<O> {
    slots: Vec<Slot<O>>,
    head: usize,
    tail: usize,
    free: usize,
    queued: usize,
    /// Reused by `wake_all` to move wakers out of the borrow before waking them.
    spare: Vec<Waker>,
}

impl<O: Copy> List<O> {
    fn push_back(&mut self, waker: Waker) -> WaiterKey {
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
                _ => unreachable!("free list points at an occupied slot"),
            }
            index
        };
        if self.tail == NIL {
            self.head = index;
        } else {
            *self.next_of(self.tail) = index;
        }
        self.tail = index;
        self.queued += 1;
        WaiterKey(index)
    }

    fn next_of(&mut self, index: usize) -> &mut usize {
        match &mut self.slots[index] {
            Slot::Queued { next, .. } => next,
            _ => unreachable!("linked slot is not queued"),
        }
    }

    fn prev_of(&mut self, index: usize) -> &mut usize {
        match &mut self.slots[index] {
            Slot::Queued { prev, .. } => prev,
            _ => unreachable!("linked slot is not queued"),
        }
    }

    /// Unlinks the queued slot `index`, puts `replacement` in its place and returns its waker.
    fn unlink(&mut self, index: usize, replacement: Slot<O>) -> Waker {
        let (waker, prev, next) = match mem::replace(&mut self.slots[index], replacement) {
            Slot::Queued { waker, prev, next } => (waker, prev, next),
            _ => unreachable!("unlinking a slot that is not queued"),
        };
        if prev == NIL {
            self.head = next;
        } else {
            *self.next_of(prev) = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            *self.prev_of(next) = prev;
        }
        self.queued -= 1;
        waker
    }

    fn pop_front(&mut self, outcome: O) -> Option<Waker> {
        (self.head != NIL).then(|| self.unlink(self.head, Slot::Done(outcome)))
    }

    /// Frees the slot of `key`; returns what it held (for dropping outside the borrow).
    fn remove(&mut self, key: WaiterKey) -> Result<O, Waker> {
        let index = key.0;
        let vacant = Slot::Vacant {
            next_free: self.free,
        };
        let result = match &self.slots[index] {
            Slot::Done(outcome) => {
                let outcome = *outcome;
                self.slots[index] = vacant;
                Ok(outcome)
            }
            Slot::Queued { .. } => Err(self.unlink(index, vacant)),
            Slot::Vacant { .. } => unreachable!("waiter key names a vacant slot"),
        };
        self.free = index;
        result
    }
}

/// A FIFO queue of parked wakers, each with an outcome of type `O` once it is woken.
pub(crate) struct WaitList<O> {
    list: RefCell<List<O>>,
}

impl<O: Copy> WaitList<O> {
    pub(crate) const fn new() -> WaitList<O> {
        WaitList {
            list: RefCell::new(List {
                slots: Vec::new(),
                head: NIL,
                tail: NIL,
                free: NIL,
                queued: 0,
                spare: Vec::new(),
            }),
        }
    }

    /// The number of slots the slab has grown to (tests check that slots are reused).
    #[cfg(test)]
    pub(crate) fn slot_count(&self) -> usize {
        self.list.borrow().slots.len()
    }

    /// Queues a waiter at the back, to be woken through `waker`.
    pub(crate) fn park(&self, waker: &Waker) -> WaiterKey {
        let waker = waker.clone();
        self.list.borrow_mut().push_back(waker)
    }

    /// Returns the waiter's outcome and frees its slot if it has been woken; otherwise updates its
    /// waker (reusing the stored one if it `will_wake` the same task) and gives the key back.
    pub(crate) fn poll(&self, key: WaiterKey, waker: &Waker) -> Result<O, WaiterKey> {
        {
            let mut list = self.list.borrow_mut();
            match &list.slots[key.0] {
                Slot::Done(_) => {
                    return match list.remove(key) {
                        Ok(outcome) => Ok(outcome),
                        Err(_) => unreachable!("slot was done"),
                    };
                }
                Slot::Queued { waker: stored, .. } if stored.will_wake(waker) => return Err(key),
                Slot::Queued { .. } => {}
                Slot::Vacant { .. } => unreachable!("waiter key names a vacant slot"),
            }
        }
        // A different task polls now: store its waker, cloned outside the borrow.
        let fresh = waker.clone();
        let stale = match &mut self.list.borrow_mut().slots[key.0] {
            Slot::Queued { waker: stored, .. } => Some(mem::replace(stored, fresh)),
            // Woken while we cloned: the next poll sees the outcome.
            _ => None,
        };
        drop(stale);
        Err(key)
    }

    /// Gives up waiting. Returns the outcome if the waiter had already been woken, so the caller
    /// can pass it on to someone else.
    pub(crate) fn cancel(&self, key: WaiterKey) -> Option<O> {
        let removed = self.list.borrow_mut().remove(key);
        // A still-queued waiter's waker is dropped here, after the borrow ended.
        removed.ok()
    }

    /// Wakes the oldest queued waiter with `outcome`. Returns false if nobody was queued.
    pub(crate) fn wake_one(&self, outcome: O) -> bool {
        let waker = self.list.borrow_mut().pop_front(outcome);
        match waker {
            Some(waker) => {
                waker.wake();
                true
            }
            None => false,
        }
    }

    /// Wakes every waiter queued now with `outcome`. Waiters queued by the wakes themselves stay
    /// queued.
    pub(crate) fn wake_all(&self, outcome: O) {
        let mut wakers = {
            let mut list = self.list.borrow_mut();
            let mut wakers = mem::take(&mut list.spare);
            while let Some(waker) = list.pop_front(outcome) {
                wakers.push(waker);
            }
            wakers
        };
        for waker in wakers.drain(..) {
            waker.wake();
        }
        let mut list = self.list.borrow_mut();
        if wakers.capacity() > list.spare.capacity() {
            list.spare = wakers;
        }
    }
}

impl<O> fmt::Debug for WaitList<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.list.try_borrow() {
            Ok(list) => f
                .debug_struct("WaitList")
                .field("queued", &list.queued)
                .field("slots", &list.slots.len())
                .finish(),
            Err(_) => f.debug_struct("WaitList").finish_non_exhaustive(),
        }
    }
}
