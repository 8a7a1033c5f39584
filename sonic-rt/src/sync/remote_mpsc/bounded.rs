//! The bounded channel: senders wait (FIFO) while the buffer is full.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::blocking::block_on;
use super::chan::{Chan, TryAcquireError, MAX_CAPACITY};
use super::primitives::Arc;
use crate::sync::mpsc::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};

/// Creates a bounded channel whose senders may be on any thread: up to `buffer` values are
/// buffered, and senders wait (FIFO) for room when it is full.
///
/// # Panics
///
/// Panics if `buffer` is 0 or larger than `usize::MAX >> 3`.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::remote_mpsc;
///
/// sonic_rt::block_on(async {
///     let (tx, mut rx) = remote_mpsc::channel(64);
///     let feed = std::thread::spawn(move || {
///         for n in 0..100 {
///             tx.blocking_send(n).unwrap(); // waits while 64 values are buffered
///         }
///     });
///     let mut sum = 0;
///     while let Some(n) = rx.recv().await {
///         sum += n;
///     }
///     assert_eq!(sum, 4950);
///     feed.join().unwrap();
/// });
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "remote_mpsc::channel: the buffer size must be greater than 0"
    );
    assert!(
        buffer <= MAX_CAPACITY,
        "remote_mpsc::channel: the buffer size must be at most usize::MAX >> 3"
    );
    let chan = Arc::new(Chan::new(Some(buffer)));
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// Sends values into a bounded channel, from any thread. Created by [`channel`]; clone it for
/// more senders. `Send + Sync` (for `T: Send`).
///
/// The channel closes for the receiver when the last `Sender` is dropped (after it has received
/// what was buffered).
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the buffer is full.
    ///
    /// Fails, giving the value back, if the receiver is dropped or closed (also while waiting,
    /// and also if a slot was handed to this call just before the close). `Ok` means the value
    /// is buffered, not that it will be received. Cancellation safe: dropped while it waits, it
    /// gives up its place in the queue and loses no slot.
    ///
    /// Works in any async context (a sonic task, another runtime's task); from a plain thread use
    /// [`blocking_send`](Sender::blocking_send).
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.acquire(1).await {
            Ok(()) => {
                self.chan.send_with_permit(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` from a plain thread, blocking it while the buffer is full.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that runs a sonic runtime (use [`send`](Sender::send)).
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on("remote_mpsc::Sender::blocking_send", self.send(value))
    }

    /// Sends `value`, waiting at most `timeout` for a free slot. Needs a sonic runtime (it sets
    /// a timer). Fails like [`send`](Sender::send), and with [`SendTimeoutError::Timeout`] if no
    /// slot was handed to it in time; either way the value comes back in the error.
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
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

    /// Sends `value` if a slot is free now, without waiting (from any thread).
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
    /// and without failing. Fails like [`send`](Sender::send); dropping the [`Permit`] unused
    /// gives the slot back.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.acquire(1).await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Waits for `n` free slots and reserves them all, so that `n` values can later be sent
    /// without waiting and without failing; the [`PermitIterator`] yields one [`Permit`] per
    /// slot, and dropping it gives back the slots it has not yielded.
    ///
    /// The slots are taken in the same first-come, first-served order as [`send`](Sender::send)
    /// and [`reserve`](Sender::reserve), whatever thread each sender is on: while this call waits
    /// for the rest of its slots, it keeps those it was handed and senders that came later wait
    /// behind it. `n = 0` succeeds at once unless the receiver is closed.
    ///
    /// Fails like [`reserve`](Sender::reserve), and at once if `n` exceeds the capacity of the
    /// channel (it could never succeed). Cancellation safe: dropped while it waits, it gives up
    /// its place in the queue and gives back the slots handed to it so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::remote_mpsc;
    ///
    /// sonic_rt::block_on(async {
    ///     let (tx, mut rx) = remote_mpsc::channel(4);
    ///     let permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     // The permits may be used on another thread (sending through them never waits).
    ///     std::thread::scope(|scope| {
    ///         scope.spawn(move || {
    ///             for (n, permit) in permits.enumerate() {
    ///                 permit.send(n);
    ///             }
    ///         });
    ///     });
    ///     assert_eq!(rx.recv().await, Some(0));
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
    /// moved to another thread. [`OwnedPermit::send`] gives the sender back.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match self.chan.acquire(1).await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves a slot if one is free now. Fails like [`try_send`](Sender::try_send).
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
    /// Fails with [`TrySendError::Full`] if fewer than `n` slots are free or other senders wait
    /// for room (always, if `n` exceeds the capacity, even on a closed channel), and with
    /// [`TrySendError::Closed`] if the receiver is dropped or closed. `n = 0` succeeds unless
    /// the receiver is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::remote_mpsc;
    ///
    /// let (tx, mut rx) = remote_mpsc::channel(2);
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

    /// Like [`try_reserve`](Sender::try_reserve), but the permit owns the sender; on failure the
    /// sender comes back inside the error.
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
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Returns true if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Makes a [`WeakSender`]: a handle that does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak_sender();
        WeakSender {
            chan: Arc::clone(&self.chan),
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
            chan: Arc::clone(&self.chan),
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
    chan: Arc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// Returns a [`Sender`] if at least one is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: Arc::clone(&self.chan),
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
            chan: Arc::clone(&self.chan),
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

/// One reserved slot: [`send`](Permit::send) uses it without waiting; dropping it gives it back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` in the reserved slot. Never fails (after the receiver is dropped, the value
    /// is dropped with the channel).
    pub fn send(self, value: T) {
        self.chan.send_with_permit(value);
        std::mem::forget(self);
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

/// A reserved slot that owns its [`Sender`] (from [`Sender::reserve_owned`]).
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` in the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender");
        sender.chan.send_with_permit(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender");
        sender.chan.release(1);
        sender
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
/// Values come out in the order their sends claimed a position. When every sender is gone, the
/// receiver still gets what was buffered, then `None`. Dropping the receiver closes the channel
/// and drops the buffered values. `Send` (for `T: Send`), like tokio's: it may be moved to a
/// thread that calls [`blocking_recv`](Receiver::blocking_recv). It is also a
/// [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting for one if the buffer is empty. Returns `None` once the
    /// channel is closed (every sender gone, or [`close`](Receiver::close) called and every
    /// permit back) and drained. Cancellation safe.
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
        block_on("remote_mpsc::Receiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](Receiver::recv_many) on a plain thread, blocking it while the buffer is
    /// empty.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that runs a sonic runtime.
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        block_on(
            "remote_mpsc::Receiver::blocking_recv_many",
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

    /// Polls for the next value; the building block of [`recv`](Receiver::recv).
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

    /// Closes the channel without dropping the receiver: sends and reservations fail from now
    /// on, waiting senders are woken with an error and [`Sender::closed`] completes. Values
    /// buffered, and values of permits handed out before, can still be received.
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
        // SAFETY: the receiver, shared: `len` only reads the consumer's position.
        unsafe { self.chan.len() }
    }

    /// The number of values that can be sent now without waiting.
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
        // SAFETY: the one receiver, exclusively, never used again.
        unsafe { self.chan.drop_rx() };
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
