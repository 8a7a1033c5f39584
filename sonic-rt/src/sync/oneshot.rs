//! A one-shot channel: one value, sent once, from one task to another on the same thread.
//!
//! The local counterpart of `tokio::sync::oneshot`. [`channel`] returns a [`Sender`] and a
//! [`Receiver`]; [`Sender::send`] consumes the sender, and the receiver is a future that resolves
//! to the value, or to a [`RecvError`] if the sender was dropped without
//! sending. Both halves are `!Send`.
//!
//! Rules:
//! - The value moves into a `Cell<Option<T>>` shared through an `Rc`; there is no `RefCell`, so
//!   nothing is borrowed while a waker runs or a value is dropped.
//! - The sender's `Drop` marks it gone and wakes the receiver; `send` stores the value and lets
//!   that `Drop` do the waking, so a send costs one wake.
//! - The receiver's `Drop` closes the channel and drops a value that was sent but never received.
//!
//! # Examples
//!
//! ```
//! use sonic_rt::sync::oneshot;
//!
//! sonic_rt::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     let task = sonic_rt::spawn(async move {
//!         let _ = tx.send("done");
//!     });
//!     assert_eq!(rx.await, Ok("done"));
//!     task.await.unwrap();
//! });
//! ```

use std::cell::Cell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waker_slot::WakerSlot;
use error::{RecvError, TryRecvError};

/// Errors of the oneshot channel.
pub mod error {
    use std::error::Error;
    use std::fmt;

    /// The error of awaiting a [`Receiver`](super::Receiver): the sender was dropped without
    /// sending, or the receiver was closed before a value arrived.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("oneshot channel closed without a value")
        }
    }

    impl Error for RecvError {}

    /// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender may still send one.
        Empty,
        /// No value, and none will come: the sender is gone or the receiver was closed.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("oneshot channel is empty"),
                TryRecvError::Closed => f.write_str("oneshot channel closed without a value"),
            }
        }
    }

    impl Error for TryRecvError {}
}

struct Inner<T> {
    value: Cell<Option<T>>,
    /// The sender was dropped (after sending or not).
    tx_gone: Cell<bool>,
    /// The receiver was closed or dropped: `send` fails from now on.
    rx_closed: Cell<bool>,
    rx_waker: WakerSlot,
    tx_waker: WakerSlot,
}

/// Creates a oneshot channel: a [`Sender`] for one value and the [`Receiver`] that awaits it.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::oneshot;
///
/// let (tx, mut rx) = oneshot::channel();
/// tx.send(7).unwrap();
/// assert_eq!(rx.try_recv(), Ok(7));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Rc::new(Inner {
        value: Cell::new(None),
        tx_gone: Cell::new(false),
        rx_closed: Cell::new(false),
        rx_waker: WakerSlot::new(),
        tx_waker: WakerSlot::new(),
    });
    (
        Sender {
            inner: Rc::clone(&inner),
        },
        Receiver { inner },
    )
}

/// Sends one value to the paired [`Receiver`]. Created by [`channel`].
///
/// Dropping the sender without sending completes the receiver with a
/// [`RecvError`].
pub struct Sender<T> {
    inner: Rc<Inner<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// Fails, giving the value back, if the receiver was dropped or closed. Success means the
    /// value is stored for the receiver, not that it has been received: a receiver dropped later
    /// drops it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("lost"), Err("lost"));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        if self.inner.rx_closed.get() {
            return Err(value);
        }
        self.inner.value.set(Some(value));
        // Dropping `self` marks the sender gone and wakes the receiver.
        Ok(())
    }

    /// Returns true if the receiver was dropped or closed, so a [`send`](Sender::send) would fail.
    pub fn is_closed(&self) -> bool {
        self.inner.rx_closed.get()
    }

    /// Polls for the receiver being dropped or closed; see [`closed`](Sender::closed).
    ///
    /// Only the waker of the most recent call is woken.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.rx_closed.get() {
            return Poll::Ready(());
        }
        self.inner.tx_waker.register(cx.waker());
        Poll::Pending
    }

    /// Waits until the receiver is dropped or closed: useful to stop computing a value that
    /// nobody wants any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot;
    ///
    /// sonic_rt::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     let task = sonic_rt::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    ///     task.await.unwrap();
    /// });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.inner.tx_gone.set(true);
        self.inner.tx_waker.clear();
        self.inner.rx_waker.wake();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("is_closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Receives the value of the paired [`Sender`]. Created by [`channel`].
///
/// Awaiting the receiver gives `Ok(value)`, or `Err(RecvError)` if the sender was dropped without
/// sending or the receiver was [closed](Receiver::close) before a value arrived. Once it has
/// returned a value, polling it again gives `Err(RecvError)`.
///
/// Dropping the receiver closes the channel and drops a value that was sent but not received.
pub struct Receiver<T> {
    inner: Rc<Inner<T>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// Returns [`TryRecvError::Empty`] while the sender may still send, and
    /// [`TryRecvError::Closed`] once no value can come (the sender is gone, the value was already
    /// taken, or the receiver was closed before a value arrived).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.inner.value.take() {
            return Ok(value);
        }
        if self.inner.tx_gone.get() || self.inner.rx_closed.get() {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel without dropping the receiver: a later [`Sender::send`] fails, and a
    /// sender waiting in [`Sender::closed`] is woken. A value sent before the close can still be
    /// taken with [`try_recv`](Receiver::try_recv) (or by awaiting the receiver).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        if !self.inner.rx_closed.replace(true) {
            self.inner.tx_waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &self.inner;
        if let Some(value) = inner.value.take() {
            return Poll::Ready(Ok(value));
        }
        if inner.tx_gone.get() || inner.rx_closed.get() {
            return Poll::Ready(Err(RecvError(())));
        }
        inner.rx_waker.register(cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        self.inner.rx_waker.clear();
        // A value that was sent but never received dies with the receiver, not with the sender.
        drop(self.inner.value.take());
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
