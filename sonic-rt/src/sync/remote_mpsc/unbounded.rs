//! The unbounded channel: sending never waits.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::blocking::block_on;
use super::chan::Chan;
use super::primitives::Arc;
use crate::sync::mpsc::error::{SendError, TryRecvError};

/// Creates an unbounded channel whose senders may be on any thread: [`UnboundedSender::send`]
/// never waits, and the buffer grows as needed.
///
/// The buffer is a list of blocks of 32 values; the receiver keeps the blocks it has emptied for
/// reuse (up to four), so a steady flow allocates nothing: a block is allocated only when the
/// backlog grows past what it has been. Prefer a bounded [`channel`](super::channel) where a
/// fast producer could outrun its consumer.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::remote_mpsc;
///
/// sonic_rt::block_on(async {
///     let (tx, mut rx) = remote_mpsc::unbounded_channel();
///     let logger = std::thread::spawn(move || {
///         for line in ["starting", "ready"] {
///             tx.send(line).unwrap();
///         }
///     });
///     assert_eq!(rx.recv().await, Some("starting"));
///     assert_eq!(rx.recv().await, Some("ready"));
///     assert_eq!(rx.recv().await, None); // the thread's sender is gone
///     logger.join().unwrap();
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver { chan },
    )
}

/// Sends values into an unbounded channel, from any thread. Created by [`unbounded_channel`];
/// clone it for more senders. `Send + Sync` (for `T: Send`).
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once. Fails, giving the value back, if the receiver is dropped or
    /// closed. No syscall: the receiver is woken only if it waits, and its runtime's eventfd is
    /// written only if that runtime sleeps.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value)
    }

    /// Returns true if the receiver was dropped or closed, so sends fail.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Waits until the receiver is dropped or closed.
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Returns true if both senders belong to the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Makes a [`WeakUnboundedSender`]: a handle that does not keep the channel open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak_sender();
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }

    /// The number of [`UnboundedSender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakUnboundedSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}

/// An unbounded sender that does not keep the channel open: once every [`UnboundedSender`] is
/// gone, [`upgrade`](WeakUnboundedSender::upgrade) fails.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// Returns an [`UnboundedSender`] if at least one is still alive.
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: Arc::clone(&self.chan),
        })
    }

    /// The number of [`UnboundedSender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakUnboundedSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak_sender();
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak_sender();
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

/// Receives the values of an unbounded channel. Created by [`unbounded_channel`].
///
/// Values come out in the order their sends claimed a position. When every sender is gone, the
/// receiver still gets what was buffered, then `None`. Dropping the receiver closes the channel
/// and drops the buffered values. `Send` (for `T: Send`), like tokio's. It is also a
/// [`Stream`](futures_core::Stream) of the values.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value, waiting for one if the buffer is empty. Returns `None` once the
    /// channel is closed (every sender gone, or [`close`](UnboundedReceiver::close) called) and
    /// drained. Cancellation safe.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appending), waiting if none is buffered.
    /// Returns how many: 0 only if `limit` is 0 or the channel is closed and drained.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receives the next value on a plain thread, blocking it while the buffer is empty.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that runs a sonic runtime.
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on("remote_mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](UnboundedReceiver::recv_many) on a plain thread, blocking it while the
    /// buffer is empty.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that runs a sonic runtime.
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        block_on(
            "remote_mpsc::UnboundedReceiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }

    /// Receives a value if one is buffered, without waiting. Fails with
    /// [`TryRecvError::Empty`] if a value may still come, and with
    /// [`TryRecvError::Disconnected`] if the channel is closed and drained.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // SAFETY: `&mut self`: the one receiver, exclusively.
        unsafe { self.chan.try_recv() }
    }

    /// Polls for the next value; the building block of [`recv`](UnboundedReceiver::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: `&mut self`: the one receiver, exclusively.
        unsafe { self.chan.poll_recv(cx) }
    }

    /// Polls for up to `limit` values, appending them to `buffer`.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        // SAFETY: `&mut self`: the one receiver, exclusively.
        unsafe { self.chan.poll_recv_many(cx, buffer, limit) }
    }

    /// Closes the channel without dropping the receiver: sends fail from now on and
    /// [`UnboundedSender::closed`] completes. Values already buffered can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Returns true if the channel is closed: [`close`](UnboundedReceiver::close) was called or
    /// every sender is gone. Buffered values may remain.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_for_rx()
    }

    /// Returns true if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of buffered values.
    pub fn len(&self) -> usize {
        // SAFETY: the receiver, shared: `len` only reads the consumer's position.
        unsafe { self.chan.len() }
    }

    /// The number of [`UnboundedSender`]s of this channel.
    pub fn sender_strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakUnboundedSender`]s of this channel.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        // SAFETY: the one receiver, exclusively, never used again.
        unsafe { self.chan.drop_rx() };
    }
}

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), None)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.chan)
            .finish()
    }
}
