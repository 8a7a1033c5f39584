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
//! - Once the receiver has produced its result (a `Ready` poll, or a `try_recv` that returned a
//!   value or `Closed`) it is terminated: it lets go of the shared state as if dropped, `try_recv`
//!   reports `Closed`, and polling it again panics, as tokio's does.
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
        Receiver { inner: Some(inner) },
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
/// sending or the receiver was [closed](Receiver::close) before a value arrived.
///
/// Once the receiver has produced its result it is [terminated](Receiver::is_terminated), and
/// polling it again panics, as in tokio: in a loop (`select!` over `&mut rx`, say) check
/// `is_terminated` or stop polling it once it completed.
///
/// Dropping the receiver closes the channel and drops a value that was sent but not received.
pub struct Receiver<T> {
    /// `None` once the receiver is terminated.
    inner: Option<Rc<Inner<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// Returns [`TryRecvError::Empty`] while the sender may still send, and
    /// [`TryRecvError::Closed`] once no value can come (the sender is gone, the value was already
    /// taken, or the receiver was closed before a value arrived). A call that returns a value or
    /// `Closed` terminates the receiver: it must not be polled afterwards.
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
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let result = match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.tx_gone.get() || inner.rx_closed.get() => Err(TryRecvError::Closed),
            None => return Err(TryRecvError::Empty),
        };
        self.terminate();
        result
    }

    /// Returns true once the receiver has produced its result: awaiting it returned, or
    /// [`try_recv`](Receiver::try_recv) returned a value or [`TryRecvError::Closed`]. A terminated
    /// receiver must not be polled again (it panics).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel();
    ///     tx.send(1).unwrap();
    ///     assert!(!rx.is_terminated()); // sent, not yet received
    ///     assert_eq!((&mut rx).await, Ok(1));
    ///     assert!(rx.is_terminated());
    /// });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Returns true if no value is waiting to be received: none was sent yet, the sender is gone
    /// without sending, or the value was already received. An empty receiver is not necessarily
    /// safe to poll (see [`is_terminated`](Receiver::is_terminated)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send("v").unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok("v"));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let Some(inner) = &self.inner else {
            return true;
        };
        // Peek by moving the value out and back; nothing is dropped or run in between.
        let value = inner.value.take();
        let empty = value.is_none();
        inner.value.set(value);
        empty
    }

    /// Lets go of the shared state after the result was produced, as a drop would.
    fn terminate(&mut self) {
        if let Some(inner) = self.inner.take() {
            Self::release(&inner);
        }
    }

    /// What the receiver's end does to the shared state: close, forget the waker, drop a value
    /// that was sent but never received.
    fn release(inner: &Inner<T>) {
        if !inner.rx_closed.replace(true) {
            inner.tx_waker.wake();
        }
        inner.rx_waker.clear();
        // A value that was sent but never received dies with the receiver, not with the sender.
        drop(inner.value.take());
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
        if let Some(inner) = &self.inner {
            if !inner.rx_closed.replace(true) {
                inner.tx_waker.wake();
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    ///
    /// Panics if the receiver is [terminated](Receiver::is_terminated): it already produced its
    /// result.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(inner) = &this.inner else {
            panic!("`oneshot::Receiver` polled after it completed");
        };
        let result = match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.tx_gone.get() || inner.rx_closed.get() => Err(RecvError(())),
            None => {
                inner.rx_waker.register(cx.waker());
                return Poll::Pending;
            }
        };
        this.terminate();
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("is_terminated", &self.is_terminated())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
