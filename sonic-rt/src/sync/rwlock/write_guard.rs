//! Write guards of `RwLock`: exclusive access while every reader permit is held (rules in the
//! parent).

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::rc::Rc;

use super::{OwnedRwLockReadGuard, RwLock, RwLockReadGuard};
use crate::sync::permits::Permits;

/// Exclusive access to the value of an [`RwLock`] locked for writing; unlocks it when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    pub(super) permits: &'a Permits,
    pub(super) permits_acquired: u32,
    pub(super) data: NonNull<T>,
    pub(super) _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Moves the permits and pointer out without running `Drop` (which would unlock).
    fn into_parts(self) -> (&'a Permits, u32) {
        let this = ManuallyDrop::new(self);
        (this.permits, this.permits_acquired)
    }

    /// Narrows the guard to a part of the value. The lock stays write-locked until the returned
    /// guard drops.
    ///
    /// An associated function (`RwLockWriteGuard::map(guard, ..)`), so it does not shadow a
    /// method of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::{RwLock, RwLockWriteGuard};
    ///
    /// sonic_rt::block_on(async {
    ///     let lock = RwLock::new((1, 2));
    ///     let mut second = RwLockWriteGuard::map(lock.write().await, |pair| &mut pair.1);
    ///     *second = 20;
    ///     drop(second);
    ///     assert_eq!(*lock.read().await, (1, 20));
    /// });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let (permits, permits_acquired) = this.into_parts();
        RwLockMappedWriteGuard {
            permits,
            permits_acquired,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](RwLockWriteGuard::map), but `f` may decline (`None`); the original guard is
    /// then given back.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let (permits, permits_acquired) = this.into_parts();
        Ok(RwLockMappedWriteGuard {
            permits,
            permits_acquired,
            data,
            _marker: PhantomData,
        })
    }

    /// Turns the guard into a read guard of a part of the value, atomically: `f` runs while the
    /// lock is still write-locked, then waiting readers are let in, and no writer can get in
    /// between.
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let (permits, permits_acquired) = this.into_parts();
        // Keep one permit: the read guard's.
        permits.release(permits_acquired as usize - 1);
        RwLockReadGuard {
            permits,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`downgrade_map`](RwLockWriteGuard::downgrade_map), but `f` may decline; the
    /// original guard is then given back, still write-locked.
    pub fn try_downgrade_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let (permits, permits_acquired) = this.into_parts();
        permits.release(permits_acquired as usize - 1);
        Ok(RwLockReadGuard {
            permits,
            data,
            _marker: PhantomData,
        })
    }

    /// Converts the guard into a [`RwLockMappedWriteGuard`] of the whole value.
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |value| value)
    }

    /// Turns the write lock into a read lock, atomically: waiting readers are let in, and no
    /// writer can get in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::RwLock;
    ///
    /// sonic_rt::block_on(async {
    ///     let lock = RwLock::new(1);
    ///     let mut writer = lock.write().await;
    ///     *writer = 2;
    ///     let reader = writer.downgrade();
    ///     assert_eq!(*lock.try_read().unwrap(), 2); // other readers get in now
    ///     assert!(lock.try_write().is_err());
    ///     drop(reader);
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        RwLockWriteGuard::downgrade_map(self, |value| value)
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.permits.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit, so it is the only guard (rules in `rwlock.rs`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A write guard narrowed to a part of the value, from [`RwLockWriteGuard::map`]; unlocks the
/// lock when dropped. It cannot be downgraded (the rest of the value is out of its reach).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    permits: &'a Permits,
    permits_acquired: u32,
    data: NonNull<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    fn into_parts(self) -> (&'a Permits, u32) {
        let this = ManuallyDrop::new(self);
        (this.permits, this.permits_acquired)
    }

    /// Narrows the guard further; see [`RwLockWriteGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let (permits, permits_acquired) = this.into_parts();
        RwLockMappedWriteGuard {
            permits,
            permits_acquired,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](RwLockMappedWriteGuard::map), but `f` may decline; the original guard is
    /// then given back.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let (permits, permits_acquired) = this.into_parts();
        Ok(RwLockMappedWriteGuard {
            permits,
            permits_acquired,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.permits.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit (rules in `rwlock.rs`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`RwLockWriteGuard`] that owns an `Rc` of its lock, from [`RwLock::write_owned`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    pub(super) permits_acquired: u32,
    pub(super) data: NonNull<T>,
    pub(super) lock: Rc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Takes the `Rc` out without running `Drop` (which would unlock).
    fn into_lock(self) -> (Rc<RwLock<T>>, u32) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Rc` is moved out exactly once.
        (unsafe { ptr::read(&this.lock) }, this.permits_acquired)
    }

    /// Narrows the guard to a part of the value; see [`RwLockWriteGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let (lock, permits_acquired) = this.into_lock();
        OwnedRwLockMappedWriteGuard {
            permits_acquired,
            data,
            lock,
        }
    }

    /// Like [`map`](OwnedRwLockWriteGuard::map), but `f` may decline; the original guard is then
    /// given back.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        let (lock, permits_acquired) = this.into_lock();
        Ok(OwnedRwLockMappedWriteGuard {
            permits_acquired,
            data,
            lock,
        })
    }

    /// Turns the guard into a read guard of a part of the value; see
    /// [`RwLockWriteGuard::downgrade_map`].
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let (lock, permits_acquired) = this.into_lock();
        lock.permits.release(permits_acquired as usize - 1);
        OwnedRwLockReadGuard { data, lock }
    }

    /// Like [`downgrade_map`](OwnedRwLockWriteGuard::downgrade_map), but `f` may decline; the
    /// original guard is then given back, still write-locked.
    pub fn try_downgrade_map<U: ?Sized, F>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => NonNull::from(data),
            None => return Err(this),
        };
        let (lock, permits_acquired) = this.into_lock();
        lock.permits.release(permits_acquired as usize - 1);
        Ok(OwnedRwLockReadGuard { data, lock })
    }

    /// Converts the guard into an [`OwnedRwLockMappedWriteGuard`] of the whole value.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockWriteGuard::map(this, |value| value)
    }

    /// Turns the write lock into a read lock, atomically; see [`RwLockWriteGuard::downgrade`].
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        OwnedRwLockWriteGuard::downgrade_map(self, |value| value)
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Rc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.permits.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit (rules in `rwlock.rs`).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`OwnedRwLockWriteGuard`] narrowed to a part `U` of the locked `T`; unlocks the lock when
/// dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    permits_acquired: u32,
    /// Raw, not `NonNull`: a `*mut` keeps the guard invariant in `U`, as `&mut U` is.
    data: *mut U,
    lock: Rc<RwLock<T>>,
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    fn into_lock(self) -> (Rc<RwLock<T>>, u32) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Rc` is moved out exactly once.
        (unsafe { ptr::read(&this.lock) }, this.permits_acquired)
    }

    /// Narrows the guard further; see [`RwLockWriteGuard::map`].
    pub fn map<V: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data: *mut V = f(&mut *this);
        let (lock, permits_acquired) = this.into_lock();
        OwnedRwLockMappedWriteGuard {
            permits_acquired,
            data,
            lock,
        }
    }

    /// Like [`map`](OwnedRwLockMappedWriteGuard::map), but `f` may decline; the original guard is
    /// then given back.
    pub fn try_map<V: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let data: *mut V = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        let (lock, permits_acquired) = this.into_lock();
        Ok(OwnedRwLockMappedWriteGuard {
            permits_acquired,
            data,
            lock,
        })
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Rc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockMappedWriteGuard<T, U> {
    fn drop(&mut self) {
        self.lock.permits.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: this guard holds every permit (rules in `rwlock.rs`).
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`; `&mut self` makes this the only live reference from the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockMappedWriteGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedRwLockMappedWriteGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
