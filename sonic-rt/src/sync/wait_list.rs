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
//! - A waiter may wait for several units (a sender reserving several slots). `assign` hands units
//!   to the head of the queue and wakes a waiter only once it has all it asked for; a later waiter
//!   never gets a unit while an earlier one still lacks some. What a waiter still lacks when it is
//!   woken otherwise (`wake_all`) or cancelled is reported as `unfilled`, so its owner can give
//!   back the units it did get.
//! - No `RefCell` borrow is held while a `Waker` is cloned, woken or dropped: a waker may run
//!   arbitrary code, including code that touches this queue again.
//! - The number of queued waiters is mirrored in a `Cell` outside the borrow, so the hot paths of
//!   the primitives built on this list (a release with nobody waiting) ask `is_empty` for free.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem;
use std::task::Waker;

const NIL: usize = usize::MAX;

/// Names one parked waiter; owned by the waiting future (not `Clone` on purpose).
#[derive(Debug)]
pub(crate) struct WaiterKey(usize);

/// What a waiter learns when it stops waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Woken<O> {
    /// The outcome it was woken with; `None` if it was still queued when it gave up.
    pub(crate) outcome: Option<O>,
    /// How many of the units it waited for it had not been assigned (0 after `assign` woke it).
    pub(crate) unfilled: usize,
}

enum Slot<O> {
    Vacant {
        next_free: usize,
    },
    Queued {
        waker: Waker,
        prev: usize,
        next: usize,
        /// Units still needed before `assign` wakes this waiter (at least 1).
        need: usize,
    },
    Done {
        outcome: O,
        unfilled: usize,
    },
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
    fn push_back(&mut self, waker: Waker, need: usize) -> WaiterKey {
        debug_assert!(need > 0, "a waiter waits for at least one unit");
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

    /// Unlinks the queued slot `index`, puts `replacement` in its place and returns its waker and
    /// the units it still needed.
    fn unlink(&mut self, index: usize, replacement: Slot<O>) -> (Waker, usize) {
        let (waker, prev, next, need) = match mem::replace(&mut self.slots[index], replacement) {
            Slot::Queued {
                waker,
                prev,
                next,
                need,
            } => (waker, prev, next, need),
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
        (waker, need)
    }

    /// Unlinks the slot `index` (queued) and records `outcome` in it, with the units it still
    /// needed as `unfilled`.
    fn complete(&mut self, index: usize, outcome: O) -> Waker {
        let need = match &self.slots[index] {
            Slot::Queued { need, .. } => *need,
            _ => unreachable!("completing a slot that is not queued"),
        };
        let done = Slot::Done {
            outcome,
            unfilled: need,
        };
        self.unlink(index, done).0
    }

    fn pop_front(&mut self, outcome: O) -> Option<Waker> {
        (self.head != NIL).then(|| self.complete(self.head, outcome))
    }

    fn pop_back(&mut self, outcome: O) -> Option<Waker> {
        (self.tail != NIL).then(|| self.complete(self.tail, outcome))
    }

    /// Frees the slot of `key`; returns what its owner learns, and the waker of a waiter that was
    /// still queued (for dropping outside the borrow).
    fn remove(&mut self, key: WaiterKey) -> (Woken<O>, Option<Waker>) {
        let index = key.0;
        let vacant = Slot::Vacant {
            next_free: self.free,
        };
        let result = match &self.slots[index] {
            &Slot::Done { outcome, unfilled } => {
                self.slots[index] = vacant;
                let woken = Woken {
                    outcome: Some(outcome),
                    unfilled,
                };
                (woken, None)
            }
            Slot::Queued { .. } => {
                let (waker, need) = self.unlink(index, vacant);
                let woken = Woken {
                    outcome: None,
                    unfilled: need,
                };
                (woken, Some(waker))
            }
            Slot::Vacant { .. } => unreachable!("waiter key names a vacant slot"),
        };
        self.free = index;
        result
    }
}

/// A FIFO queue of parked wakers, each with an outcome of type `O` once it is woken.
pub(crate) struct WaitList<O> {
    list: RefCell<List<O>>,
    /// `list.queued`, readable without a borrow; updated before every borrow that changes it ends.
    queued: Cell<usize>,
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
            queued: Cell::new(0),
        }
    }

    /// True if no waiter is queued (woken waiters that have not looked yet do not count).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queued.get() == 0
    }

    /// The number of slots the slab has grown to (tests check that slots are reused).
    #[cfg(test)]
    pub(crate) fn slot_count(&self) -> usize {
        self.list.borrow().slots.len()
    }

    /// Queues a waiter at the back, to be woken through `waker`.
    pub(crate) fn park(&self, waker: &Waker) -> WaiterKey {
        self.park_for(waker, 1)
    }

    /// Queues a waiter at the back that `assign` wakes only once it was handed `need` units
    /// (`need > 0`).
    pub(crate) fn park_for(&self, waker: &Waker, need: usize) -> WaiterKey {
        let waker = waker.clone();
        let mut list = self.list.borrow_mut();
        let key = list.push_back(waker, need);
        self.queued.set(list.queued);
        key
    }

    /// Returns the waiter's outcome and frees its slot if it has been woken; otherwise gives the
    /// key back and leaves its waker alone (for a waiter that checks without a context).
    pub(crate) fn try_take(&self, key: WaiterKey) -> Result<Woken<O>, WaiterKey> {
        let mut list = self.list.borrow_mut();
        match &list.slots[key.0] {
            Slot::Done { .. } => Ok(list.remove(key).0),
            Slot::Queued { .. } => Err(key),
            Slot::Vacant { .. } => unreachable!("waiter key names a vacant slot"),
        }
    }

    /// Returns the waiter's outcome and frees its slot if it has been woken; otherwise updates its
    /// waker (reusing the stored one if it `will_wake` the same task) and gives the key back.
    pub(crate) fn poll(&self, key: WaiterKey, waker: &Waker) -> Result<Woken<O>, WaiterKey> {
        {
            let mut list = self.list.borrow_mut();
            match &list.slots[key.0] {
                Slot::Done { .. } => return Ok(list.remove(key).0),
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
    /// can pass it on to someone else, and the units it had not been assigned.
    pub(crate) fn cancel(&self, key: WaiterKey) -> Woken<O> {
        let (woken, waker) = {
            let mut list = self.list.borrow_mut();
            let removed = list.remove(key);
            self.queued.set(list.queued);
            removed
        };
        // A still-queued waiter's waker is dropped here, after the borrow ended.
        drop(waker);
        woken
    }

    /// Wakes the oldest queued waiter with `outcome`. Returns false if nobody was queued.
    pub(crate) fn wake_one(&self, outcome: O) -> bool {
        let waker = {
            let mut list = self.list.borrow_mut();
            let waker = list.pop_front(outcome);
            self.queued.set(list.queued);
            waker
        };
        waker.map(Waker::wake).is_some()
    }

    /// Wakes the most recently queued waiter with `outcome`. Returns false if nobody was queued.
    pub(crate) fn wake_last(&self, outcome: O) -> bool {
        let waker = {
            let mut list = self.list.borrow_mut();
            let waker = list.pop_back(outcome);
            self.queued.set(list.queued);
            waker
        };
        waker.map(Waker::wake).is_some()
    }

    /// Hands `units` to the queued waiters in order: each waiter that gets all it needs is woken
    /// with `outcome`; the first that cannot be satisfied keeps what it got and the rest wait.
    /// Returns the units left over, which is nonzero only if nobody is queued any more.
    pub(crate) fn assign(&self, mut units: usize, outcome: O) -> usize {
        while units > 0 {
            let waker = {
                let mut list = self.list.borrow_mut();
                let head = list.head;
                if head == NIL {
                    break;
                }
                match &mut list.slots[head] {
                    Slot::Queued { need, .. } if *need > units => {
                        *need -= units;
                        return 0;
                    }
                    Slot::Queued { need, .. } => {
                        units -= *need;
                        *need = 0;
                    }
                    _ => unreachable!("queue head is not queued"),
                }
                let waker = list.complete(head, outcome);
                self.queued.set(list.queued);
                waker
            };
            // Woken outside the borrow: the wake may touch this list again.
            waker.wake();
        }
        units
    }

    /// Wakes every waiter queued now with `outcome`. Waiters queued by the wakes themselves stay
    /// queued.
    pub(crate) fn wake_all(&self, outcome: O) {
        let mut wakers = {
            let mut list = self.list.borrow_mut();
            if list.head != NIL && list.head == list.tail {
                // One waiter (a watch or broadcast receiver, a Notified): no batch needed.
                let waker = list.pop_front(outcome);
                self.queued.set(list.queued);
                drop(list);
                if let Some(waker) = waker {
                    waker.wake();
                }
                return;
            }
            let mut wakers = mem::take(&mut list.spare);
            while let Some(waker) = list.pop_front(outcome) {
                wakers.push(waker);
            }
            self.queued.set(list.queued);
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
