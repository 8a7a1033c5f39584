//! `OnceCell`: a cell written once, possibly by an async initialiser, for tasks on one runtime.
//!
//! Rules (why the `unsafe` here is sound):
//! - The value lives in an `UnsafeCell<Option<T>>`. It is written through a shared `&OnceCell`
//!   only once, from `None` to `Some`, by the holder of the init permit (below). `get` hands out
//!   references only into a `Some`, so no reference into the cell exists while it is written, and
//!   a `Some` is never written through `&OnceCell` again. (`std::cell::OnceCell` would do the same
//!   without `unsafe`, but cannot be built holding a value in a `const fn`.)
//! - Initialisers take the single permit of a semaphore before they run, so at most one runs at a
//!   time and the others wait in FIFO order. The one that stores the value closes the semaphore
//!   (and forgets its permit): every waiter fails its acquire and reads the value. One that fails,
//!   is cancelled or panics drops its permit, and the next waiter runs its own initialiser.
//! - Invariant: the semaphore is closed only once the value is set.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::error::Error;
use std::fmt;
use std::future::Future;

use super::semaphore::{Semaphore, SemaphorePermit, TryAcquireError};

/// A cell that is written at most once, whose initialiser may be async; the local counterpart of
/// `tokio::sync::OnceCell`.
///
/// [`get_or_init`](OnceCell::get_or_init) runs the initialiser of the first caller; callers that
/// come while it runs wait for it and get its value. If the initialiser fails
/// ([`get_or_try_init`](OnceCell::get_or_try_init)), is cancelled or panics, the next waiter runs
/// its own. `OnceCell` is `!Sync`, so it lives in a `thread_local!` (see
/// [`const_new`](OnceCell::const_new)) or an `Rc`, not in a `static`.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::OnceCell;
/// use std::rc::Rc;
///
/// sonic_rt::block_on(async {
///     let config = Rc::new(OnceCell::new());
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let config = Rc::clone(&config);
///             sonic_rt::spawn(async move {
///                 *config
///                     .get_or_init(|| async {
///                         sonic_rt::task::yield_now().await; // the others wait meanwhile
///                         42
///                     })
///                     .await
///             })
///         })
///         .collect();
///     for task in tasks {
///         assert_eq!(task.await.unwrap(), 42);
///     }
/// });
/// ```
pub struct OnceCell<T> {
    value: UnsafeCell<Option<T>>,
    /// One permit while empty: the right to initialise. Closed once the value is set.
    init: Semaphore,
}

impl<T> OnceCell<T> {
    /// Creates an empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell::const_new()
    }

    /// Creates an empty cell in a const context, for a `thread_local!`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::OnceCell;
    ///
    /// thread_local! {
    ///     static GREETING: OnceCell<String> = const { OnceCell::const_new() };
    /// }
    ///
    /// GREETING.with(|cell| cell.set("hello".to_owned()).unwrap());
    /// GREETING.with(|cell| assert_eq!(cell.get().unwrap(), "hello"));
    /// ```
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value: UnsafeCell::new(None),
            init: Semaphore::const_new(1),
        }
    }

    /// Creates a cell holding `value` if it is `Some`, an empty one otherwise.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        match value {
            Some(value) => OnceCell::from(value),
            None => OnceCell::new(),
        }
    }

    /// Creates a cell holding `value`, in a const context.
    pub const fn const_new_with(value: T) -> OnceCell<T> {
        OnceCell {
            value: UnsafeCell::new(Some(value)),
            init: Semaphore::const_new_closed(),
        }
    }

    /// Returns true if the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.get().is_some()
    }

    /// The value, if the cell holds one.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: a `Some` is never written through `&self` again, so the reference stays valid
        // for as long as `self` is borrowed; a `None` gives out no reference (module rules).
        unsafe { (*self.value.get()).as_ref() }
    }

    /// The value, mutably, if the cell holds one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut().as_mut()
    }

    /// Stores `value` if the cell is empty and no initialiser is running.
    ///
    /// Fails with [`SetError::AlreadyInitializedError`] if the cell holds a value, and with
    /// [`SetError::InitializingError`] while a [`get_or_init`](OnceCell::get_or_init) runs its
    /// initialiser; the error gives `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.init.try_acquire() {
            Ok(permit) => {
                self.store(value, permit);
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
        }
    }

    /// Stores the value of the initialiser that holds `permit`, and lets every waiter read it.
    fn store(&self, value: T, permit: SemaphorePermit<'_>) -> &T {
        assert!(
            !self.initialized(),
            "only the holder of the init permit stores a value, once"
        );
        // SAFETY: the cell is empty, so no reference into it exists (`get` gives out none for a
        // `None`), and only the permit holder (us) writes it; the `None` has nothing to drop.
        unsafe { self.value.get().write(Some(value)) };
        self.init.close();
        permit.forget();
        self.get().expect("the value was just stored")
    }

    /// Returns the value, running `f` to produce it if the cell is empty.
    ///
    /// If another task is running its initialiser, this waits for it and returns its value. If
    /// that initialiser is cancelled or panics, the next waiter (in the order they started
    /// waiting) runs its own. An `f` that awaits this same cell waits forever.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(value) = self.get() {
            return value;
        }
        match self.init.acquire().await {
            // Cancelled or panicking `f`: the permit drops and the next waiter tries.
            Ok(permit) => self.store(f().await, permit),
            Err(_) => self
                .get()
                .expect("the init semaphore closes only once the value is set"),
        }
    }

    /// Like [`get_or_init`](OnceCell::get_or_init), with an initialiser that may fail: its error
    /// is returned, the cell stays empty, and the next waiter runs its own initialiser.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::OnceCell;
    ///
    /// sonic_rt::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let failed = cell.get_or_try_init(|| async { Err::<u32, _>("offline") }).await;
    ///     assert_eq!(failed, Err("offline"));
    ///     assert!(!cell.initialized());
    ///     let value = cell.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    ///     assert_eq!(value, Ok(&7));
    /// });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        match self.init.acquire().await {
            Ok(permit) => Ok(self.store(f().await?, permit)),
            Err(_) => Ok(self
                .get()
                .expect("the init semaphore closes only once the value is set")),
        }
    }

    /// Returns the value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty (and ready to be initialised again).
    pub fn take(&mut self) -> Option<T> {
        std::mem::take(self).into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::const_new_with(value)
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

/// The error of [`OnceCell::set`]; holds the value that was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// An initialiser is running.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Returns true for [`SetError::AlreadyInitializedError`].
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Returns true for [`SetError::InitializingError`].
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError"),
            SetError::InitializingError(_) => f.write_str("InitializingError"),
        }
    }
}

impl<T: fmt::Debug> Error for SetError<T> {}

#[cfg(test)]
mod tests;
