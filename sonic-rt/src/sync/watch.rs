//! A channel that keeps only the latest value: senders replace it, receivers see whether it
//! changed since they last looked. The local counterpart of `tokio::sync::watch`, with the same
//! names and the same rules for when a value counts as seen.
//!
//! Every receiver remembers the version of the value it last saw. The initial value, and the
//! value current when a receiver is created ([`Sender::subscribe`], [`Receiver::clone`] copies
//! the version of the original), count as seen. [`Receiver::changed`] completes when the current
//! value is unseen and marks it seen; it fails only once every sender is gone **and** the current
//! value was seen. [`Receiver::has_changed`] fails as soon as every sender is gone.
//!
//! Rules the implementation keeps:
//! - The value is in a `RefCell`. A [`Ref`] from `borrow` holds a shared borrow; sending while a
//!   `Ref` of the same channel is alive panics (already borrowed), where tokio's would deadlock
//!   its lock. So do not hold a `Ref` across an `.await`, as with tokio. The old value is dropped
//!   after the borrow ended, so its destructor may use the channel.
//! - The version goes up by one per change; receivers compare versions for equality only, so
//!   wrapping is harmless. A `send_modify` whose closure panics leaves the value as the closure
//!   left it, with no new version and no wake (as tokio's, which catches the panic).
//! - Receivers wait on a `Notify` woken (`notify_waiters`) by every change and by the last sender
//!   leaving; senders waiting in `closed` on another, woken by the last receiver leaving.
//! - `changed` and `wait_for` spend one unit of cooperative budget when they complete
//!   (`wait_for` and `Sender::closed` when they start), as tokio's do, so a loop over an always
//!   changed or closed channel still yields.
//! - Nothing here allocates after `channel`; waiting reuses the `Notify`'s slab.
//!
//! # Examples
//!
//! ```
//! use sonic_rt::sync::watch;
//!
//! sonic_rt::block_on(async {
//!     let (tx, mut rx) = watch::channel("v1");
//!     let reader = sonic_rt::spawn(async move {
//!         let mut seen = vec![*rx.borrow_and_update()];
//!         while rx.changed().await.is_ok() {
//!             seen.push(*rx.borrow_and_update());
//!         }
//!         seen
//!     });
//!     sonic_rt::task::yield_now().await;
//!     tx.send("v2").unwrap();
//!     sonic_rt::task::yield_now().await;
//!     drop(tx);
//!     assert_eq!(reader.await.unwrap(), ["v1", "v2"]);
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::mem;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use super::notify::{Notified, Notify};
use crate::executor::budget;

pub mod error {
    //! The errors of the watch channel.

    use std::error::Error;
    use std::fmt;

    /// The error of [`Sender::send`](super::Sender::send): every receiver is gone. Holds the
    /// value, which was not stored.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> Error for SendError<T> {}

    /// The error of [`Receiver::changed`](super::Receiver::changed) and
    /// [`has_changed`](super::Receiver::has_changed): every sender is gone.
    #[derive(Debug, Clone)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl Error for RecvError {}
}

use error::{RecvError, SendError};

struct Shared<T> {
    value: RefCell<T>,
    /// Goes up (wrapping) with every change of the value.
    version: Cell<usize>,
    /// Every sender is gone.
    closed: Cell<bool>,
    senders: Cell<usize>,
    receivers: Cell<usize>,
    /// Woken by every change and by the last sender leaving.
    changed: Notify,
    /// Woken by the last receiver leaving.
    receivers_gone: Notify,
}

/// Creates a watch channel holding `init`, which the returned receiver counts as seen.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        value: RefCell::new(init),
        version: Cell::new(0),
        closed: Cell::new(false),
        senders: Cell::new(1),
        receivers: Cell::new(1),
        changed: Notify::new(),
        receivers_gone: Notify::new(),
    });
    let sender = Sender {
        shared: Rc::clone(&shared),
    };
    (sender, Receiver { shared, version: 0 })
}

/// A borrow of the value of a watch channel, from `borrow` or `borrow_and_update`.
///
/// It holds a `RefCell` borrow: sending while it is alive panics. Do not keep it across an
/// `.await`.
pub struct Ref<'a, T> {
    inner: std::cell::Ref<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Returns true if the value was unseen by the receiver when it was borrowed (always false
    /// for a sender's borrow).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("value", &*self.inner)
            .field("has_changed", &self.has_changed)
            .finish()
    }
}

/// Sends values into a watch channel; `Clone` for more senders. The channel closes for the
/// receivers when the last sender is dropped.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Creates a channel holding `init` with no receiver yet; make them with
    /// [`subscribe`](Sender::subscribe). Until then [`send`](Sender::send) fails (the other
    /// `send_*` methods still update the value).
    pub fn new(init: T) -> Sender<T> {
        channel(init).0
    }

    /// Replaces the value and notifies every receiver, unless no receiver exists: then the
    /// value is given back in the error and nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// assert_eq!(*tx.borrow(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.get() == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Modifies the value in place and notifies every receiver, whether or not any exists.
    ///
    /// # Panics
    ///
    /// Panics if a [`Ref`] of this channel is alive. If `modify` panics, the value stays as
    /// `modify` left it and the receivers are not notified.
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place and notifies every receiver if `modify` returns true (it
    /// should return whether it changed the value). Returns what `modify` returned.
    ///
    /// # Panics
    ///
    /// As [`send_modify`](Sender::send_modify).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// assert!(!tx.send_if_modified(|v| if v.contains(&1) { false } else { v.push(1); true }));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { v.push(2); true }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        let shared = &*self.shared;
        // A panic in `modify` unwinds through the `RefMut` (releasing the borrow) and skips the
        // version bump and the wake.
        if !modify(&mut shared.value.borrow_mut()) {
            return false;
        }
        shared.version.set(shared.version.get().wrapping_add(1));
        shared.changed.notify_waiters();
        true
    }

    /// Replaces the value and returns the old one, notifying every receiver, whether or not any
    /// exists.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| mem::swap(old, &mut value));
        value
    }

    /// Borrows the current value. [`Ref::has_changed`] is always false for a sender.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.value.borrow(),
            has_changed: false,
        }
    }

    /// Returns true if every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone. A receiver created meanwhile with
    /// [`subscribe`](Sender::subscribe) makes it wait again.
    pub async fn closed(&self) {
        poll_fn(budget::poll_proceed).await;
        while self.receiver_count() > 0 {
            self.shared.receivers_gone.notified().await;
        }
    }

    /// Creates a receiver that counts the current value as seen. It reopens a channel whose
    /// receivers were all gone.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::new(Rc::clone(&self.shared), self.shared.version.get())
    }

    /// The number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.get()
    }

    /// The number of senders.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.get()
    }

    /// Returns true if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.set(self.shared.senders.get() + 1);
        Sender {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let left = self.shared.senders.get() - 1;
        self.shared.senders.set(left);
        if left == 0 {
            self.shared.closed.set(true);
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Sender<T> {
        Sender::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("shared", &*self.shared)
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Shared");
        match self.value.try_borrow() {
            Ok(value) => d.field("value", &*value),
            Err(_) => d.field("value", &format_args!("<borrowed>")),
        };
        d.field("version", &self.version.get())
            .field("closed", &self.closed.get())
            .field("receivers", &self.receivers.get())
            .finish()
    }
}

/// Receives the changes of a watch channel; `Clone` for more receivers (a clone has seen what
/// the original has seen).
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The version of the value this receiver last saw.
    version: usize,
}

impl<T> Receiver<T> {
    fn new(shared: Rc<Shared<T>>, version: usize) -> Receiver<T> {
        shared.receivers.set(shared.receivers.get() + 1);
        Receiver { shared, version }
    }

    /// Borrows the current value without marking it seen. [`Ref::has_changed`] says whether it
    /// was unseen.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.value.borrow(),
            has_changed: self.version != self.shared.version.get(),
        }
    }

    /// Borrows the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let current = self.shared.version.get();
        let has_changed = self.version != current;
        self.version = current;
        Ref {
            inner: self.shared.value.borrow(),
            has_changed,
        }
    }

    /// Returns whether the current value is unseen, without marking it seen.
    ///
    /// Fails once every sender is gone, even if the value is unseen (use
    /// [`changed`](Receiver::changed) or [`borrow`](Receiver::borrow) to read it then).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.closed.get() {
            return Err(RecvError(()));
        }
        Ok(self.version != self.shared.version.get())
    }

    /// Marks the current value unseen, so [`changed`](Receiver::changed) completes at once.
    pub fn mark_changed(&mut self) {
        self.version = self.shared.version.get().wrapping_sub(1);
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version.get();
    }

    /// Waits until the current value is unseen, then marks it seen.
    ///
    /// Completes at once if the value is already unseen, also when every sender is gone. Fails
    /// once every sender is gone and the value was seen. Cancellation safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::watch;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = watch::channel(1);
    ///     tx.send(2).unwrap();
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_ok()); // 2 was unseen
    ///     assert_eq!(*rx.borrow(), 2);
    ///     assert!(rx.changed().await.is_err()); // seen, and no sender left
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            version: &mut self.version,
            notified: None,
            spend_budget: true,
        }
        .await
    }

    /// Waits until the value satisfies `f`, marks it seen and returns a borrow of it.
    ///
    /// `f` is first called on the current value (seen or not), then on every new value. Fails
    /// once every sender is gone and no later value satisfied `f`. If `f` panics, the panic
    /// reaches the caller and the channel is left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::watch;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     let counter = sonic_rt::spawn(async move {
    ///         for n in 1..=5 {
    ///             tx.send(n).unwrap();
    ///             sonic_rt::task::yield_now().await;
    ///         }
    ///     });
    ///     assert_eq!(*rx.wait_for(|n| *n >= 3).await.unwrap(), 3);
    ///     counter.await.unwrap();
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        poll_fn(budget::poll_proceed).await;
        let shared: &Shared<T> = &self.shared;
        let version = &mut self.version;
        let mut closed = false;
        loop {
            let current = shared.version.get();
            let has_changed = *version != current;
            *version = current;
            if !closed || has_changed {
                let inner = shared.value.borrow();
                if f(&inner) {
                    return Ok(Ref { inner, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            let changed = Changed {
                shared,
                version: &mut *version,
                notified: None,
                spend_budget: false,
            };
            closed = changed.await.is_err();
        }
    }

    /// Returns true if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        Receiver::new(Rc::clone(&self.shared), self.version)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let left = self.shared.receivers.get() - 1;
        self.shared.receivers.set(left);
        if left == 0 {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("shared", &*self.shared)
            .field("version", &self.version)
            .finish()
    }
}

/// Waits for an unseen value (or the end); the future behind `changed` and `wait_for`.
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    version: &'a mut usize,
    /// Registered while the value is seen and a sender is alive.
    notified: Option<Notified<'a>>,
    spend_budget: bool,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        let this = self.get_mut();
        loop {
            let current = this.shared.version.get();
            if *this.version != current || this.shared.closed.get() {
                if this.spend_budget {
                    // Before anything is marked seen: a yield here loses nothing.
                    ready!(budget::poll_proceed(cx));
                }
                if *this.version != current {
                    *this.version = current;
                    return Poll::Ready(Ok(()));
                }
                return Poll::Ready(Err(RecvError(())));
            }
            let shared = this.shared;
            let notified = this
                .notified
                .get_or_insert_with(|| shared.changed.notified());
            ready!(Pin::new(notified).poll(cx));
            // Woken: look again (a later `notified` waits for the next change).
            this.notified = None;
        }
    }
}

#[cfg(test)]
mod tests;
