//! `Semaphore`: a fair, counting semaphore for tasks on one runtime.

use std::error::Error;
use std::fmt;
use std::rc::Rc;

use super::permits::{Permits, TryAcquire};

/// A counting semaphore: a number of permits that tasks take and give back, waiting FIFO when
/// there are not enough; the local counterpart of `tokio::sync::Semaphore`.
///
/// Waiters are served strictly in the order they started waiting, whatever they ask for: a task
/// waiting for many permits at the head of the queue makes later tasks wait even if what they ask
/// for is free, so large requests are never starved (and [`try_acquire`](Semaphore::try_acquire)
/// fails while anyone waits). A permit goes back when its [`SemaphorePermit`] drops.
///
/// Share it between tasks with an `Rc<Semaphore>`; the `*_owned` methods take an `Rc` and return
/// permits that own it, for moving into other tasks. (tokio's take an `Arc`: a semaphore of this
/// crate never leaves its thread, so an `Rc` is all it needs.) `Semaphore` is `!Send` and
/// `!Sync`; no operation touches an atomic or takes a lock.
///
/// An acquire that completes without waiting spends one unit of the task's cooperative budget,
/// as in tokio, so a loop that always finds a permit still yields to other tasks.
///
/// # Examples
///
/// At most two tasks in the critical section at once:
///
/// ```
/// use sonic_rt::sync::Semaphore;
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// sonic_rt::block_on(async {
///     let semaphore = Rc::new(Semaphore::new(2));
///     let inside = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..6)
///         .map(|_| {
///             let (semaphore, inside) = (Rc::clone(&semaphore), Rc::clone(&inside));
///             sonic_rt::spawn(async move {
///                 let _permit = semaphore.acquire().await.unwrap();
///                 inside.set(inside.get() + 1);
///                 assert!(inside.get() <= 2);
///                 sonic_rt::task::yield_now().await;
///                 inside.set(inside.get() - 1);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(semaphore.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    permits: Permits,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold: `usize::MAX >> 3`, as in tokio.
    pub const MAX_PERMITS: usize = Permits::MAX;

    /// Creates a semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        Semaphore::const_new(permits)
    }

    /// Creates a semaphore with `permits` permits, in a const context (a `thread_local!`).
    ///
    /// # Panics
    ///
    /// Panics (at compile time in a const) if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Permits::new(permits),
        }
    }

    /// A closed semaphore with no permits (for `OnceCell`s that start full).
    pub(crate) const fn const_new_closed() -> Semaphore {
        Semaphore {
            permits: Permits::new_closed(),
        }
    }

    /// The number of permits free now.
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Adds `n` permits. They go to waiting tasks first, oldest first.
    ///
    /// # Panics
    ///
    /// Panics if the free permits would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.permits.release(n);
    }

    /// Removes up to `n` free permits and returns how many were removed. Permits held by
    /// [`SemaphorePermit`]s are not touched; they come back when those drop.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// let held = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.forget_permits(5), 2);
    /// assert_eq!(semaphore.available_permits(), 0);
    /// drop(held);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        self.permits.forget(n)
    }

    /// Waits for a permit.
    ///
    /// Fails only if the semaphore is (or gets) [closed](Semaphore::close). Waiters are served
    /// first come, first served.
    ///
    /// Cancellation safe: dropping the future gives up its place in the queue, and a permit it
    /// was handed but had not yet taken goes to the next waiter.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits, taken together.
    ///
    /// While it waits it keeps the permits handed to it so far, and tasks that started waiting
    /// later wait behind it even if what they ask for is free. Waiting for more permits than
    /// the semaphore will ever have waits forever. Fails, and is cancellation safe, like
    /// [`acquire`](Semaphore::acquire); the permits handed over so far go back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Semaphore;
    ///
    /// sonic_rt::block_on(async {
    ///     let semaphore = Semaphore::new(5);
    ///     let permit = semaphore.acquire_many(3).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 3);
    ///     assert_eq!(semaphore.available_permits(), 2);
    /// });
    /// ```
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        match self.permits.acquire(n as usize).await {
            Ok(()) => Ok(SemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(_) => Err(AcquireError(())),
        }
    }

    /// Takes a permit if one is free now.
    ///
    /// Fails with [`TryAcquireError::NoPermits`] if none is free (or tasks are waiting: they come
    /// first), and with [`TryAcquireError::Closed`] if the semaphore is closed.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if that many are free now; fails like
    /// [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        match self.permits.try_acquire(n as usize) {
            Ok(()) => Ok(SemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Like [`acquire`](Semaphore::acquire), but the permit owns the `Rc` of the semaphore, so it
    /// can be moved into another task or stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Semaphore;
    /// use std::rc::Rc;
    ///
    /// sonic_rt::block_on(async {
    ///     let semaphore = Rc::new(Semaphore::new(1));
    ///     let permit = Rc::clone(&semaphore).acquire_owned().await.unwrap();
    ///     let task = sonic_rt::spawn(async move {
    ///         let _permit = permit; // released when the task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(semaphore.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Rc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Semaphore::acquire_many), with a permit that owns the semaphore.
    pub async fn acquire_many_owned(
        self: Rc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        match self.permits.acquire(n as usize).await {
            Ok(()) => Ok(OwnedSemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(_) => Err(AcquireError(())),
        }
    }

    /// Like [`try_acquire`](Semaphore::try_acquire), with a permit that owns the semaphore.
    pub fn try_acquire_owned(self: Rc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Semaphore::try_acquire_many), with a permit that owns the
    /// semaphore.
    pub fn try_acquire_many_owned(
        self: Rc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        match self.permits.try_acquire(n as usize) {
            Ok(()) => Ok(OwnedSemaphorePermit {
                semaphore: self,
                permits: n,
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Closes the semaphore: every waiting acquire fails, and so does every later one (also the
    /// `try_` forms). Permits already held stay valid and still come back when they drop.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn close(&self) {
        self.permits.close();
    }

    /// Returns true if the semaphore was closed.
    pub fn is_closed(&self) -> bool {
        self.permits.is_closed()
    }

    #[cfg(test)]
    pub(crate) fn wait_slots(&self) -> usize {
        self.permits.wait_slots()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.permits.available())
            .finish()
    }
}

/// Permits taken from a [`Semaphore`], given back when this drops.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: u32,
}

impl<'a> SemaphorePermit<'a> {
    /// Drops the permit without giving its permits back: the semaphore has that many fewer.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Takes over the permits of `other`, which must come from the same semaphore.
    ///
    /// # Panics
    ///
    /// Panics if `other` belongs to another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'_>) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit; `None` (and nothing changes) if this one holds
    /// fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// let mut permit = semaphore.try_acquire_many(3).unwrap();
    /// let one = permit.split(1).unwrap();
    /// assert_eq!((permit.num_permits(), one.num_permits()), (2, 1));
    /// assert!(permit.split(3).is_none());
    /// drop(one);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(SemaphorePermit {
            semaphore: self.semaphore,
            permits: n,
        })
    }

    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.permits.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Permits taken from an `Rc<Semaphore>`, given back when this drops; it keeps the semaphore
/// alive.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Rc<Semaphore>,
    permits: u32,
}

impl OwnedSemaphorePermit {
    /// Drops the permit without giving its permits back: the semaphore has that many fewer.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Takes over the permits of `other`, which must come from the same semaphore.
    ///
    /// # Panics
    ///
    /// Panics if `other` belongs to another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Rc::ptr_eq(&self.semaphore, &other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit; `None` (and nothing changes) if this one holds
    /// fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            semaphore: Rc::clone(&self.semaphore),
            permits: n,
        })
    }

    /// The semaphore the permits come from.
    pub fn semaphore(&self) -> &Rc<Semaphore> {
        &self.semaphore
    }

    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for OwnedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.permits.release(self.permits as usize);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// The error of [`Semaphore::acquire`] and its variants: the semaphore was closed.
#[derive(Debug)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl Error for AcquireError {}

/// The error of [`Semaphore::try_acquire`] and its variants.
#[derive(Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free (or other tasks are waiting for them).
    NoPermits,
}

impl From<TryAcquire> for TryAcquireError {
    fn from(error: TryAcquire) -> TryAcquireError {
        match error {
            TryAcquire::Closed => TryAcquireError::Closed,
            TryAcquire::NoPermits => TryAcquireError::NoPermits,
        }
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl Error for TryAcquireError {}

#[cfg(test)]
mod tests;
