//! The fair counting semaphore under `Semaphore`, `Mutex`, `RwLock` and `OnceCell`: a number of
//! free permits and a FIFO queue of tasks waiting for more.
//!
//! Rules:
//! - `available > 0` only while nobody is queued. `release` hands permits to the head of the
//!   queue before it counts any as free, and a waiter that queues takes every free permit first
//!   and waits for the rest. So a newcomer never jumps the queue: while a large request waits at
//!   the head, smaller ones behind it (and `try_acquire`) wait too, as with tokio's semaphore.
//! - A waiter holds the permits handed to it so far. Dropped while queued, it leaves the queue and
//!   gives them back; dropped after it was handed all it asked for but before it looked, it gives
//!   them all back; either way they go to the next waiters (`release`).
//! - `close` fails every queued waiter and every later acquire, also one that was handed its
//!   permits but had not looked yet (it gives them back), as tokio's does. Permits can still be
//!   released and counted after the close; they are just never handed out again.
//! - An acquire that completes at its first poll spends one unit of the task's cooperative
//!   budget (tokio's acquire does too), so a loop that always finds permits still yields; when
//!   the budget is spent the task yields before taking anything. One that had to wait spends none:
//!   it already gave the other tasks their turn.
//! - Nothing here allocates once the wait list has grown to the peak number of waiters.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait_list::{WaitList, WaiterKey};
use crate::executor::budget;

/// What a queued waiter is told when it is woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grant {
    /// It was handed every permit it asked for.
    Assigned,
    /// The semaphore was closed.
    Closed,
}

/// Why permits could not be taken at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

/// The semaphore was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Closed;

/// A fair counting semaphore for one thread.
pub(crate) struct Permits {
    available: Cell<usize>,
    closed: Cell<bool>,
    waiters: WaitList<Grant>,
    /// `!Send` and `!Sync`, like every handle of this module.
    _not_send: PhantomData<*const ()>,
}

impl Permits {
    /// The largest number of permits a semaphore can hold (tokio's limit).
    pub(crate) const MAX: usize = usize::MAX >> 3;

    /// A semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// Panics if `permits` exceeds [`Permits::MAX`].
    pub(crate) const fn new(permits: usize) -> Permits {
        assert!(
            permits <= Permits::MAX,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Permits {
            available: Cell::new(permits),
            closed: Cell::new(false),
            waiters: WaitList::new(),
            _not_send: PhantomData,
        }
    }

    /// A closed semaphore with no permits.
    pub(crate) const fn new_closed() -> Permits {
        Permits {
            available: Cell::new(0),
            closed: Cell::new(true),
            waiters: WaitList::new(),
            _not_send: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn available(&self) -> usize {
        self.available.get()
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Takes `n` permits now, or says why not. Never jumps the queue: while anyone waits, no
    /// permit is free. Taking 0 permits succeeds unless the semaphore is closed.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        assert!(
            n <= Permits::MAX,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        if self.closed.get() {
            return Err(TryAcquire::Closed);
        }
        let free = self.available.get();
        if free < n {
            return Err(TryAcquire::NoPermits);
        }
        self.available.set(free - n);
        Ok(())
    }

    /// Waits (FIFO) for `n` permits.
    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        assert!(
            n <= Permits::MAX,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Acquire {
            permits: self,
            n,
            state: State::Idle,
        }
    }

    /// Gives back (or adds) `n` permits: they go to the oldest waiters first, the rest become free.
    ///
    /// # Panics
    ///
    /// Panics if the free permits would exceed [`Permits::MAX`].
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        if self.waiters.is_empty() {
            self.add_free(n);
        } else {
            self.assign(n);
        }
    }

    /// Hands `n` permits to the waiters, oldest first; the rest become free.
    #[inline(never)]
    fn assign(&self, n: usize) {
        let left = self.waiters.assign(n, Grant::Assigned);
        if left > 0 {
            self.add_free(left);
        }
    }

    #[inline]
    fn add_free(&self, n: usize) {
        match self.available.get().checked_add(n) {
            Some(total) if total <= Permits::MAX => self.available.set(total),
            _ => overflow(n),
        }
    }

    /// Removes up to `n` free permits; returns how many were removed.
    pub(crate) fn forget(&self, n: usize) -> usize {
        let free = self.available.get();
        let removed = free.min(n);
        self.available.set(free - removed);
        removed
    }

    /// Closes the semaphore: every waiter fails, now and later.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.waiters.wake_all(Grant::Closed);
    }

    /// The number of slots the wait list has grown to (tests check that they are reused).
    #[cfg(test)]
    pub(crate) fn wait_slots(&self) -> usize {
        self.waiters.slot_count()
    }
}

#[cold]
#[inline(never)]
fn overflow(n: usize) -> ! {
    panic!("number of added permits ({n}) would overflow MAX_PERMITS")
}

impl fmt::Debug for Permits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permits")
            .field("available", &self.available.get())
            .field("closed", &self.closed.get())
            .field("waiters", &self.waiters)
            .finish()
    }
}

#[derive(Debug)]
enum State {
    Idle,
    Waiting(WaiterKey),
    Done,
}

/// Waits for permits; see [`Permits::acquire`].
///
/// Cancellation safe: dropped while queued, it leaves the queue and gives back what it was
/// handed; dropped after it was handed everything but before it looked, it hands it all on.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Acquire<'a> {
    permits: &'a Permits,
    n: usize,
    state: State,
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let this = self.get_mut();
        if let State::Idle = this.state {
            let permits = this.permits;
            let free = permits.available.get();
            // Free permits mean nobody waits (or `n` is 0): take them now, unless the task has
            // used up its budget.
            if free >= this.n && !permits.closed.get() {
                if budget::poll_proceed(cx).is_pending() {
                    return Poll::Pending;
                }
                permits.available.set(free - this.n);
                this.state = State::Done;
                return Poll::Ready(Ok(()));
            }
        }
        this.poll_slow(cx)
    }
}

impl Acquire<'_> {
    /// Everything but the uncontended first poll: queue, wait, or fail.
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let permits = self.permits;
        match mem::replace(&mut self.state, State::Done) {
            State::Idle => {
                if permits.closed.get() {
                    return Poll::Ready(Err(Closed));
                }
                // Take what is free and wait at the back for the rest.
                let free = permits.available.replace(0);
                let key = permits.waiters.park_for(cx.waker(), self.n - free);
                self.state = State::Waiting(key);
                Poll::Pending
            }
            State::Waiting(key) => match permits.waiters.poll(key, cx.waker()) {
                Ok(woken) => {
                    if woken.outcome == Some(Grant::Assigned) && !permits.closed.get() {
                        return Poll::Ready(Ok(()));
                    }
                    // Closed, possibly after it was handed everything: give back what it holds.
                    permits.release(self.n - woken.unfilled);
                    Poll::Ready(Err(Closed))
                }
                Err(key) => {
                    self.state = State::Waiting(key);
                    Poll::Pending
                }
            },
            State::Done => panic!("`Acquire` polled after completion"),
        }
    }

    /// Leaves the queue, giving back what was handed over so far.
    #[inline(never)]
    fn cancel(&mut self) {
        if let State::Waiting(key) = mem::replace(&mut self.state, State::Done) {
            let woken = self.permits.waiters.cancel(key);
            self.permits.release(self.n - woken.unfilled);
        }
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if let State::Waiting(_) = self.state {
            self.cancel();
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("n", &self.n)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
