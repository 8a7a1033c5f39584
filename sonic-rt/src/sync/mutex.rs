//! `Mutex`: an async mutex for tasks on one runtime, whose guard may be held across `.await`.
//!
//! Rules (why the `unsafe` here is sound):
//! - The value lives in an `UnsafeCell`. A guard exists only while it holds the mutex's single
//!   permit (taken by `lock`/`try_lock`, given back by the guard's `Drop` exactly once), so at
//!   most one guard, plain, owned or mapped, exists at a time, and only a guard reaches the value
//!   through a shared `&Mutex`. `get_mut` and `into_inner` need `&mut Mutex` / ownership, which
//!   no guard can coexist with (a borrowed guard borrows the mutex; an owned one holds an `Rc`, and
//!   `Rc::get_mut` fails while it lives).
//! - A mapped guard keeps a pointer into the value, derived from the guard's `&mut`; it is valid
//!   as long as the permit is held, which is as long as the mapped guard lives.
//! - Turning a guard into a mapped one moves its permit over without giving it back
//!   (`ManuallyDrop`), so the permit is released once, by the last guard.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::rc::Rc;

use super::permits::Permits;

/// An async mutex: [`lock`](Mutex::lock) waits instead of blocking, and the guard may be held
/// across `.await`; the local counterpart of `tokio::sync::Mutex`.
///
/// Fair as tokio's: tasks get the lock in the order they started waiting for it. A guard
/// dropped during a panic unlocks the mutex (no poisoning). Share it between tasks with an
/// `Rc<Mutex<T>>`; [`lock_owned`](Mutex::lock_owned) takes the `Rc` (where tokio takes an
/// `Arc`) and returns a guard that owns it. `Mutex` is `!Send` and `!Sync`; locking touches no
/// atomic.
///
/// On one thread, a `RefCell` is enough for data that is never borrowed across an `.await`; this
/// mutex is for when it is (a connection used by several tasks in turn). A lock that succeeds
/// without waiting spends one unit of the task's cooperative budget, as in tokio.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::Mutex;
/// use std::rc::Rc;
///
/// sonic_rt::block_on(async {
///     let log = Rc::new(Mutex::new(Vec::new()));
///     let tasks: Vec<_> = (0..3)
///         .map(|id| {
///             let log = Rc::clone(&log);
///             sonic_rt::spawn(async move {
///                 let mut log = log.lock().await;
///                 log.push(id);
///                 sonic_rt::task::yield_now().await; // still holding the lock
///                 log.push(id);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(*log.lock().await, [0, 0, 1, 1, 2, 2]);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    permits: Permits,
    value: UnsafeCell<T>,
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex::const_new(value)
    }

    /// Creates an unlocked mutex holding `value`, in a const context (a `thread_local!`).
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            permits: Permits::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Returns the value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting (FIFO) while another guard holds it.
    ///
    /// Cancellation safe: dropping the future gives up its place in the queue; if the lock had
    /// been handed to it already, it goes to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard { lock: self }
    }

    /// Like [`lock`](Mutex::lock), but the guard owns the `Rc` of the mutex, so it can be moved
    /// into another task or stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Mutex;
    /// use std::rc::Rc;
    ///
    /// sonic_rt::block_on(async {
    ///     let mutex = Rc::new(Mutex::new(0));
    ///     let mut guard = Rc::clone(&mutex).lock_owned().await;
    ///     let task = sonic_rt::spawn(async move { *guard += 1 });
    ///     task.await.unwrap();
    ///     assert_eq!(*mutex.lock().await, 1);
    /// });
    /// ```
    pub async fn lock_owned(self: Rc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard { lock: self }
    }

    async fn acquire(&self) {
        if self.permits.acquire(1).await.is_err() {
            unreachable!("a mutex's semaphore is never closed");
        }
    }

    /// Locks the mutex if it is free now and nobody waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert_eq!(*mutex.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(MutexGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_lock`](Mutex::try_lock), with a guard that owns the mutex.
    pub fn try_lock_owned(self: Rc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.permits.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// A mutable reference to the value; no locking is needed, the borrow proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// A pointer to the value for a guard.
    fn data(&self) -> *mut T {
        self.value.get()
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The error of [`Mutex::try_lock`] (and of `RwLock`'s `try_` methods): the lock is held, or
/// others wait for it.
#[derive(Debug)]
pub struct TryLockError(pub(super) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl Error for TryLockError {}

/// Access to the value of a locked [`Mutex`]; unlocks it when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the value (a field, an element). The mutex stays locked
    /// until the returned guard drops.
    ///
    /// An associated function (`MutexGuard::map(guard, ..)`), so it does not shadow a method of
    /// the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::{Mutex, MutexGuard};
    ///
    /// sonic_rt::block_on(async {
    ///     let mutex = Mutex::new((0, String::new()));
    ///     let mut name = MutexGuard::map(mutex.lock().await, |pair| &mut pair.1);
    ///     name.push_str("sonic");
    ///     assert!(mutex.try_lock().is_err());
    ///     drop(name);
    ///     assert_eq!(mutex.lock().await.1, "sonic");
    /// });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        MappedMutexGuard {
            permits: &this.lock.permits,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](MutexGuard::map), but `f` may decline (`None`); the original guard is then
    /// given back.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            permits: &this.lock.permits,
            data,
            _marker: PhantomData,
        })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no other guard reaches the value,
        // and `&Mutex` gives no other access to it (module rules).
        unsafe { &*self.lock.data() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { &mut *self.lock.data() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] that owns an `Rc` of its mutex, from [`Mutex::lock_owned`].
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Rc<Mutex<T>>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// Takes the `Rc` out without running `Drop` (which would unlock).
    fn into_lock(self) -> Rc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Rc` is moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Narrows the guard to a part of the value; see [`MutexGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        }
    }

    /// Like [`map`](OwnedMutexGuard::map), but `f` may decline; the original guard is then given
    /// back.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Rc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (module rules).
        unsafe { &*self.lock.data() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { &mut *self.lock.data() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A guard narrowed to a part of the locked value, from [`MutexGuard::map`]; unlocks the mutex
/// when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    permits: &'a Permits,
    data: NonNull<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further; see [`MutexGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let this = ManuallyDrop::new(this);
        MappedMutexGuard {
            permits: this.permits,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](MappedMutexGuard::map), but `f` may decline; the original guard is then
    /// given back.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            permits: this.permits,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.permits.release(1);
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `data` points into the locked value and this guard holds the permit (module
        // rules).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`OwnedMutexGuard`] narrowed to a part `U` of the locked `T`; unlocks the mutex when
/// dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    /// Raw, not `NonNull`: a `*mut` keeps the guard invariant in `U`, as `&mut U` is.
    data: *mut U,
    lock: Rc<Mutex<T>>,
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// Takes the `Rc` out without running `Drop` (which would unlock).
    fn into_lock(self) -> Rc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Rc` is moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Narrows the guard further; see [`MutexGuard::map`].
    pub fn map<S: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let data: *mut S = f(&mut *this);
        OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        }
    }

    /// Like [`map`](OwnedMappedMutexGuard::map), but `f` may decline; the original guard is then
    /// given back.
    pub fn try_map<S: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let data: *mut S = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Rc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: `data` points into the locked value and this guard holds the permit (module
        // rules).
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests;
