//! The bounded channel: senders wait (FIFO) while the buffer is full.

use std::fmt;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::chan::{Chan, TryAcquireError};
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};

/// Creates a bounded channel that buffers up to `buffer` values.
///
/// When the buffer is full, [`Sender::send`] waits for a free slot, and waiting senders get slots
/// in the order they started waiting. The buffer is allocated up front (up to 1024 values; larger
/// buffers grow on demand), so sending and receiving allocate nothing.
///
/// # Panics
///
/// Panics if `buffer` is 0.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::mpsc::{self, error::TrySendError};
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "mpsc::channel: the buffer size must be greater than 0"
    );
    let chan = Rc::new(Chan::new(Some(buffer)));
    (
        Sender {
            chan: Rc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// Sends values into a bounded channel. Created by [`channel`]; clone it for more senders.
///
/// The channel closes for the receiver when the last `Sender` is dropped (after it has received
/// what was buffered).
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the buffer is full.
    ///
    /// Fails, giving the value back, if the receiver is dropped or closed (also while waiting, and
    /// also if a slot was handed to this call just before the close: it goes back). `Ok` means
    /// the value is buffered, not that it will be received.
    ///
    /// Cancellation safe: dropping the future while it waits gives up its place in the queue
    /// and loses no slot; the value was never sent (it is dropped with the future).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let producer = sonic_rt::spawn(async move {
    ///         for n in 0..3 {
    ///             tx.send(n).await.unwrap(); // waits while the slot is taken
    ///         }
    ///     });
    ///     assert_eq!(rx.recv().await, Some(0));
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, Some(2));
    ///     assert_eq!(rx.recv().await, None);
    ///     producer.await.unwrap();
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.acquire(1).await {
            Ok(()) => {
                self.chan.send_with_permit(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value`, waiting at most `timeout` for a free slot.
    ///
    /// Fails like [`send`](Sender::send), and with [`SendTimeoutError::Timeout`] if no slot was
    /// handed to it in time; either way the value comes back in the error. A slot that frees up
    /// after the timeout goes to the next waiting sender. Needs a runtime (it sets a timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc::{self, error::SendTimeoutError};
    /// use std::time::Duration;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_millis(5)).await.unwrap();
    ///     let full = tx.send_timeout(2, Duration::from_millis(5)).await;
    ///     assert!(matches!(full, Err(SendTimeoutError::Timeout(2))));
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.chan.acquire(1)).await {
            Ok(Ok(())) => {
                self.chan.send_with_permit(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Sends `value` if a slot is free now, without waiting.
    ///
    /// Fails with [`TrySendError::Full`] if the buffer is full (or other senders are waiting for
    /// room: they come first), and with [`TrySendError::Closed`] if the receiver is dropped or
    /// closed.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.try_acquire(1) {
            Ok(()) => {
                self.chan.send_with_permit(value);
                Ok(())
            }
            Err(TryAcquireError::Full) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for a free slot and reserves it, so that a value can later be sent without waiting
    /// and without failing.
    ///
    /// Fails if the receiver is dropped or closed, also while waiting, and also if the slot was
    /// handed to this call but the receiver closed before it returned (the slot goes back).
    /// Cancellation safe, like [`send`](Sender::send). Dropping the [`Permit`] unused gives the
    /// slot back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert_eq!(tx.capacity(), 0);
    ///     permit.send("hello");
    ///     assert_eq!(rx.recv().await, Some("hello"));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.acquire(1).await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Waits for `n` free slots and reserves them all, so that `n` values can later be sent
    /// without waiting and without failing; the [`PermitIterator`] yields one [`Permit`] per
    /// slot.
    ///
    /// The slots are taken in the same first-come, first-served order as [`send`](Sender::send)
    /// and [`reserve`](Sender::reserve): while this call waits for the rest of its slots, it
    /// keeps those it was handed and senders that came later wait behind it. `n = 0` succeeds at
    /// once unless the receiver is closed.
    ///
    /// Fails like [`reserve`](Sender::reserve), and at once if `n` exceeds the capacity of the
    /// channel (it could never succeed). Cancellation safe: the slots handed over so far go
    /// back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, rx) = mpsc::channel(4);
    ///     let permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     for (n, permit) in permits.enumerate() {
    ///         permit.send(n);
    ///     }
    ///     assert_eq!(rx.len(), 3);
    ///     assert!(tx.reserve_many(5).await.is_err()); // more than the capacity
    /// });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        match self.chan.acquire(n).await {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                n,
            }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Like [`reserve`](Sender::reserve), but the permit owns the sender, so it can be stored or
    /// moved into another task. [`OwnedPermit::send`] gives the sender back.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match self.chan.acquire(1).await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves a slot if one is free now, without waiting. Fails like
    /// [`try_send`](Sender::try_send).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().unwrap_err().is_full());
    /// permit.send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.try_acquire(1) {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(TryAcquireError::Full) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// Reserves `n` slots if that many are free now, without waiting; see
    /// [`reserve_many`](Sender::reserve_many).
    ///
    /// Fails with [`TrySendError::Full`] if fewer than `n` slots are free (always, if `n`
    /// exceeds the capacity, even on a closed channel), and with [`TrySendError::Closed`] if the
    /// receiver is dropped or closed. `n = 0` succeeds unless the receiver is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// let mut permits = tx.try_reserve_many(2).unwrap();
    /// assert!(tx.try_reserve_many(1).unwrap_err().is_full());
    /// permits.next().unwrap().send('a');
    /// drop(permits); // the unused slot goes back
    /// assert_eq!(tx.capacity(), 1);
    /// assert_eq!(rx.try_recv(), Ok('a'));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.max_capacity() {
            // Never satisfiable; reported as `Full` (before any close), as tokio does.
            return Err(TrySendError::Full(()));
        }
        match self.chan.try_acquire(n) {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                n,
            }),
            Err(TryAcquireError::Full) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// Like [`try_reserve`](Sender::try_reserve), but the permit owns the sender. On failure the
    /// sender is given back inside the error.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.chan.try_acquire(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TryAcquireError::Full) => Err(TrySendError::Full(self)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(self)),
        }
    }

    /// The number of values that can be sent now without waiting: the capacity less the values
    /// buffered and the slots reserved.
    pub fn capacity(&self) -> usize {
        self.chan.permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// Returns true if the receiver was dropped or closed, so sends fail.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, rx) = mpsc::channel::<u32>(4);
    ///     let task = sonic_rt::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    ///     task.await.unwrap();
    /// });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Returns true if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Rc::ptr_eq(&self.chan, &other.chan)
    }

    /// Makes a [`WeakSender`]: a handle that does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak_sender();
        WeakSender {
            chan: Rc::clone(&self.chan),
        }
    }

    /// The number of [`Sender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: Rc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &self.chan).finish()
    }
}

/// A sender that does not keep the channel open: once every [`Sender`] is gone,
/// [`upgrade`](WeakSender::upgrade) fails and the receiver sees the end of the stream.
pub struct WeakSender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// Returns a [`Sender`] if at least one is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: Rc::clone(&self.chan),
        })
    }

    /// The number of [`Sender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.chan.add_weak_sender();
        WeakSender {
            chan: Rc::clone(&self.chan),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak_sender();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

/// A reserved slot in a bounded channel, from [`Sender::reserve`] or [`Sender::try_reserve`].
///
/// [`send`](Permit::send) cannot fail and does not wait. Dropping the permit unused gives the slot
/// back (to the oldest waiting sender, if any).
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot.
    ///
    /// The value is buffered even if the receiver was [closed](Receiver::close) after the slot was
    /// reserved (the receiver drains it); if the receiver was dropped, the value is dropped.
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot now belongs to the value: skip `Drop`, which would give it back.
        std::mem::forget(self);
        chan.send_with_permit(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Reserved slots from [`Sender::reserve_many`] or [`Sender::try_reserve_many`]: an iterator
/// that yields one [`Permit`] per slot. Dropping it gives back the slots it has not yielded.
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    /// Slots not yielded yet.
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        self.n = self.n.checked_sub(1)?;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release(self.n);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

/// A reserved slot that owns its [`Sender`], from [`Sender::reserve_owned`] or
/// [`Sender::try_reserve_owned`].
pub struct OwnedPermit<T> {
    /// `None` only after `send` or `release` moved it out.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back. Behaves like
    /// [`Permit::send`].
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("OwnedPermit holds its sender until consumed");
        sender.chan.send_with_permit(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("OwnedPermit holds its sender until consumed");
        sender.chan.release(1);
        sender
    }

    /// Returns true if both permits belong to the same channel.
    pub fn same_channel(&self, other: &OwnedPermit<T>) -> bool {
        match (&self.sender, &other.sender) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    /// Returns true if this permit and `sender` belong to the same channel.
    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.sender
            .as_ref()
            .is_some_and(|own| own.same_channel(sender))
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// Receives the values of a bounded channel. Created by [`channel`].
///
/// Values come out in the order they were sent. When every sender is gone, the receiver still
/// gets what was buffered, then `None`. Dropping the receiver closes the channel and drops the
/// buffered values. It is also a [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    pub(super) chan: Rc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting for one if the buffer is empty. Returns `None` once the
    /// channel is closed (every sender gone, or [`close`](Receiver::close) called) and drained.
    ///
    /// Cancellation safe: dropping the future loses no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(8);
    ///     let task = sonic_rt::spawn(async move { tx.send("ping").await.unwrap() });
    ///     assert_eq!(rx.recv().await, Some("ping"));
    ///     assert_eq!(rx.recv().await, None);
    ///     task.await.unwrap();
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appending), waiting if none is buffered.
    /// Returns how many were received: 0 only if `limit` is 0 or the channel is closed and drained.
    ///
    /// Cancellation safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receives a value if one is buffered, without waiting.
    ///
    /// Fails with [`TryRecvError::Empty`] if a value may still come, and with
    /// [`TryRecvError::Disconnected`] if the channel is closed and drained.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Polls for the next value; the building block of [`recv`](Receiver::recv). On `Pending`,
    /// the waker of `cx` is woken when a value arrives or the channel closes (only the waker of
    /// the most recent call).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for up to `limit` values, appending them to `buffer`; the building block of
    /// [`recv_many`](Receiver::recv_many).
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Closes the channel without dropping the receiver: sends fail from now on, waiting senders
    /// are woken with an error, and [`Sender::closed`] completes. Values already buffered, and
    /// values sent through permits reserved before the close, can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).unwrap_err().is_closed());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Returns true if the channel is closed: [`close`](Receiver::close) was called or every
    /// sender is gone. Buffered values may remain.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_for_rx()
    }

    /// Returns true if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of buffered values.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// The number of values that can be sent now without waiting; see [`Sender::capacity`].
    pub fn capacity(&self) -> usize {
        self.chan.permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// The number of [`Sender`]s of this channel.
    pub fn sender_strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// The number of [`WeakSender`]s of this channel.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_sender_count()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), None)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.chan)
            .finish()
    }
}
