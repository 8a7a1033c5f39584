//! `RwLock`: an async reader-writer lock for tasks on one runtime.
//!
//! Rules (why the `unsafe` in the guards is sound):
//! - The lock is a fair semaphore of `max_readers` permits: a reader holds one, a writer holds
//!   all of them. So while a write guard (plain, owned or mapped) lives, no other guard exists,
//!   and while read guards live, no write guard exists. Only guards reach the value through a
//!   shared `&RwLock`; `get_mut` / `into_inner` need exclusive access, which no guard can coexist
//!   with.
//! - Read guards hand out only `&T`. A write guard's pointer is derived from the `UnsafeCell`
//!   (or, once mapped, from the guard's `&mut`) and is valid while the permits are held.
//! - Mapping or downgrading a guard moves its permits into the new guard without releasing them
//!   (`ManuallyDrop`); a downgrade gives back all but one permit, after the mapping function ran.
//!   Each permit is released exactly once, by the guard that holds it last.
//! - Fairness is the semaphore's (FIFO): a writer that waits takes every free permit and waits at
//!   the head for the rest, so readers that come later wait behind it (tokio's behaviour: writers
//!   are never starved by a stream of readers).

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::Rc;

use super::mutex::TryLockError;
use super::permits::Permits;

mod read_guard;
mod write_guard;

pub use read_guard::{OwnedRwLockReadGuard, RwLockReadGuard};
pub use write_guard::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLockMappedWriteGuard, RwLockWriteGuard,
};

/// The largest number of concurrent readers (tokio's `u32::MAX >> 3`).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: many readers or one writer at a time, waiting instead of
/// blocking, with guards that may be held across `.await`; the local counterpart of
/// `tokio::sync::RwLock`.
///
/// Fair as tokio's: tasks get the lock in the order they asked for it. A writer waiting for the
/// readers to leave makes readers that come after it wait too, so writers are never starved.
/// Share it between tasks with an `Rc<RwLock<T>>`; the `*_owned` methods take the `Rc` (where
/// tokio takes an `Arc`). `RwLock` is `!Send` and `!Sync`; locking touches no atomic.
///
/// A lock that succeeds without waiting spends one unit of the task's cooperative budget, as in
/// tokio.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::RwLock;
///
/// sonic_rt::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await; // many readers at once
///         assert_eq!(*r1 + *r2, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    permits: Permits,
    value: UnsafeCell<T>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`, allowing up to `u32::MAX >> 3` readers at once.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::const_new(value)
    }

    /// Creates an unlocked lock holding `value` that lets at most `max_readers` readers in at
    /// once (a writer waits for all of them to leave).
    ///
    /// # Panics
    ///
    /// Panics if `max_readers` is 0 or exceeds `u32::MAX >> 3`.
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        RwLock::const_with_max_readers(value, max_readers)
    }

    /// [`new`](RwLock::new) in a const context (a `thread_local!`).
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock::const_with_max_readers(value, MAX_READS)
    }

    /// [`with_max_readers`](RwLock::with_max_readers) in a const context.
    ///
    /// # Panics
    ///
    /// As [`with_max_readers`](RwLock::with_max_readers).
    pub const fn const_with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!(
            max_readers != 0,
            "a RwLock may not be created with 0 readers"
        );
        assert!(
            max_readers <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        RwLock {
            max_readers,
            permits: Permits::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    /// Returns the value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    async fn acquire(&self, n: u32) {
        if self.permits.acquire(n as usize).await.is_err() {
            unreachable!("a RwLock's semaphore is never closed");
        }
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            permits: &self.permits,
            data: self.data(),
            _marker: PhantomData,
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            permits: &self.permits,
            permits_acquired: self.max_readers,
            data: self.data(),
            _marker: PhantomData,
        }
    }

    fn data(&self) -> NonNull<T> {
        NonNull::new(self.value.get()).expect("a pointer derived from a reference is not null")
    }

    /// Locks for reading, waiting (FIFO) while a writer holds the lock or waits for it.
    ///
    /// Cancellation safe: dropping the future gives up its place in the queue.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        self.read_guard()
    }

    /// Like [`read`](RwLock::read), with a guard that owns the `Rc` of the lock.
    pub async fn read_owned(self: Rc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        OwnedRwLockReadGuard {
            data: self.data(),
            lock: self,
        }
    }

    /// Locks for reading if that is possible now: no writer holds the lock or waits for it.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(self.read_guard()),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_read`](RwLock::try_read), with a guard that owns the lock.
    pub fn try_read_owned(self: Rc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(OwnedRwLockReadGuard {
                data: self.data(),
                lock: self,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Locks for writing, waiting (FIFO) until every reader and writer before it has left.
    ///
    /// Cancellation safe: dropping the future gives up its place in the queue, and the reader
    /// slots it had gathered go to the waiters behind it.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers).await;
        self.write_guard()
    }

    /// Like [`write`](RwLock::write), with a guard that owns the `Rc` of the lock.
    pub async fn write_owned(self: Rc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers).await;
        OwnedRwLockWriteGuard {
            permits_acquired: self.max_readers,
            data: self.data(),
            lock: self,
        }
    }

    /// Locks for writing if the lock is free now and nobody waits for it.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(self.max_readers as usize) {
            Ok(()) => Ok(self.write_guard()),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_write`](RwLock::try_write), with a guard that owns the lock.
    pub fn try_write_owned(self: Rc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        match self.permits.try_acquire(self.max_readers as usize) {
            Ok(()) => Ok(OwnedRwLockWriteGuard {
                permits_acquired: self.max_readers,
                data: self.data(),
                lock: self,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// A mutable reference to the value; no locking is needed, the borrow proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests;
