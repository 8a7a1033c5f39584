//! Read guards of `RwLock`: shared access while one reader permit is held (rules in the parent).

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::{self, NonNull};
use std::rc::Rc;

use super::RwLock;
use crate::sync::permits::Permits;

/// Shared access to the value of an [`RwLock`] locked for reading; gives its reader slot back
/// when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) permits: &'a Permits,
    pub(super) data: NonNull<T>,
    pub(super) _marker: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the value. The lock stays read-locked until the returned
    /// guard drops.
    ///
    /// An associated function (`RwLockReadGuard::map(guard, ..)`), so it does not shadow a method
    /// of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::{RwLock, RwLockReadGuard};
    ///
    /// sonic_rt::block_on(async {
    ///     let lock = RwLock::new((1, "one"));
    ///     let name = RwLockReadGuard::map(lock.read().await, |pair| &pair.1);
    ///     assert_eq!(*name, "one");
    /// });
    /// ```
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let this = ManuallyDrop::new(this);
        RwLockReadGuard {
            permits: this.permits,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](RwLockReadGuard::map), but `f` may decline (`None`); the original guard is
    /// then given back.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockReadGuard {
            permits: this.permits,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.permits.release(1);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds a reader permit, so no write guard exists while it lives and
        // the value is only read (rules in `rwlock.rs`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`RwLockReadGuard`] that owns an `Rc` of its lock, from [`RwLock::read_owned`]; `U` is the
/// part of the value it gives access to (the whole `T` until mapped).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    pub(super) data: NonNull<U>,
    pub(super) lock: Rc<RwLock<T>>,
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// Takes the `Rc` out without running `Drop` (which would unlock).
    fn into_lock(self) -> Rc<RwLock<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Rc` is moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Narrows the guard to a part of the value; see [`RwLockReadGuard::map`].
    pub fn map<V: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = NonNull::from(f(&*this));
        OwnedRwLockReadGuard {
            data,
            lock: this.into_lock(),
        }
    }

    /// Like [`map`](OwnedRwLockReadGuard::map), but `f` may decline; the original guard is then
    /// given back.
    pub fn try_map<V: ?Sized, F>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let data = match f(&*this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        Ok(OwnedRwLockReadGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Rc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: this guard holds a reader permit (rules in `rwlock.rs`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
