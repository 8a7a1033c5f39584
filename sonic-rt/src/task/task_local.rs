//! Task-local storage: `task_local!`, [`LocalKey`] and [`TaskLocalFuture`], as in tokio.
//!
//! A value is bound to a future with [`LocalKey::scope`]: the future owns the value, and around
//! every poll of it (and its drop) the value is moved into the key's thread-local slot and back
//! out afterwards. So the value is visible exactly while that future's code runs, whichever task
//! polls it, and nested scopes of the same key see their own value.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

/// Declares task-local keys: `static NAME: Type;` each, with attributes and visibility, as in
/// tokio. Each becomes a [`LocalKey`](crate::task::LocalKey).
///
/// # Examples
/// ```
/// sonic_rt::task_local! {
///     static REQUEST_ID: u32;
///     pub static USER: String;
/// }
///
/// sonic_rt::block_on(async {
///     REQUEST_ID
///         .scope(7, async {
///             assert_eq!(REQUEST_ID.get(), 7);
///             sonic_rt::task::yield_now().await;
///             assert_eq!(REQUEST_ID.get(), 7);
///         })
///         .await;
///     assert!(REQUEST_ID.try_with(|_| ()).is_err());
///     assert_eq!(USER.sync_scope("ana".to_string(), || USER.with(|u| u.len())), 3);
/// });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __SONIC_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey {
                inner: __SONIC_TASK_LOCAL,
            }
        };
    };
}

/// A key for task-local data, made by [`task_local!`](crate::task_local).
///
/// The value is set for the duration of a future with [`LocalKey::scope`] (or of a closure with
/// [`LocalKey::sync_scope`]) and read with [`LocalKey::with`], [`LocalKey::try_with`] or
/// [`LocalKey::get`].
pub struct LocalKey<T: 'static> {
    /// The thread-local slot the scoped value is moved into while its scope runs. Public only
    /// for the macro.
    #[doc(hidden)]
    pub inner: thread::LocalKey<RefCell<Option<T>>>,
}

/// The task-local value was read outside any scope of its key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl std::error::Error for AccessError {}

/// Why a scope could not be entered.
enum ScopeError {
    /// The slot is borrowed: a scope is entered from inside `with` on the same key.
    Borrowed,
    /// The thread-local is being destroyed (thread exit).
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(self) -> ! {
        match self {
            ScopeError::Borrowed => {
                panic!("cannot enter a task-local scope while the task-local storage is borrowed")
            }
            ScopeError::Destroyed => panic!(
                "cannot enter a task-local scope during or after destruction of the underlying \
                 thread-local"
            ),
        }
    }
}

impl<T: 'static> LocalKey<T> {
    /// Binds `value` to this key for `future`: inside every poll of the returned future (and
    /// while it is dropped) the key gives `value`. The future owns the value.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Binds `value` to this key while `f` runs.
    ///
    /// # Panics
    /// If called inside [`LocalKey::with`] of the same key.
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.enter(&mut slot, f) {
            Ok(out) => out,
            Err(err) => err.panic(),
        }
    }

    /// Swaps `slot` into the key's thread-local, runs `f`, and swaps it back out (also when `f`
    /// panics).
    fn enter<R>(
        &'static self,
        slot: &mut Option<T>,
        f: impl FnOnce() -> R,
    ) -> Result<R, ScopeError> {
        struct SwapBack<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for SwapBack<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the slot was free when the scope was entered, and every borrow
                // made inside it (`with`) has ended; the thread-local outlives the scope.
                self.key
                    .inner
                    .with(|cell| mem::swap(self.slot, &mut *cell.borrow_mut()));
            }
        }
        self.inner
            .try_with(|cell| {
                cell.try_borrow_mut()
                    .map(|mut inner| mem::swap(slot, &mut *inner))
            })
            .map_err(|_| ScopeError::Destroyed)?
            .map_err(|_| ScopeError::Borrowed)?;
        let _swap_back = SwapBack { key: self, slot };
        Ok(f())
    }

    /// Runs `f` with a reference to the value of the innermost scope of this key.
    ///
    /// # Panics
    /// Outside any scope of this key.
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(out) => out,
            Err(_) => panic!("cannot access a task-local storage value without setting it first"),
        }
    }

    /// Runs `f` with a reference to the value of the innermost scope of this key, or gives an
    /// [`AccessError`] outside any scope.
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        // No user code runs while a scope borrows the slot mutably, so `borrow` cannot fail. A
        // destroyed thread-local means no scope is running either.
        match self.inner.try_with(|cell| cell.borrow().as_ref().map(f)) {
            Ok(Some(out)) => Ok(out),
            Ok(None) | Err(_) => Err(AccessError(())),
        }
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the value of the innermost scope of this key.
    ///
    /// # Panics
    /// Outside any scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A clone of the value of the innermost scope of this key, or an [`AccessError`] outside
    /// any scope.
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

pin_project_lite::pin_project! {
    /// A future with a task-local value bound to it, made by [`LocalKey::scope`].
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        slot: Option<T>,
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            // The future's destructor sees the value too (an aborted task's drop code may read
            // it), if the scope can be entered; otherwise the field drops on its own.
            let this = this.project();
            if mem::needs_drop::<F>() && this.future.is_some() {
                let mut future = this.future;
                let _ = this.key.enter(this.slot, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope. Polled after this, the future runs without a value for
    /// the key (`try_with` gives an error), and this returns `None`.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let polled = this.key.enter(this.slot, || {
            let poll = future.as_mut().as_pin_mut()?.poll(cx);
            if poll.is_ready() {
                // Dropped inside the scope, like on every other path.
                future.set(None);
            }
            Some(poll)
        });
        match polled {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!("`TaskLocalFuture` polled after completion"),
            Err(err) => err.panic(),
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .finish()
    }
}
