//! The senders' and permits' methods (see the parent module's rules).

/// The methods every sender has, bounded or not, and its weak counterpart's: `is_closed`,
/// `closed`, `same_channel`, `downgrade`, the counts, `upgrade`; `Clone`, `Drop`, `Debug`.
macro_rules! sender_methods {
    (
        ptr: $Ptr:ident,
        sender: $Sender:ident,
        weak: $Weak:ident,
        example: ($use_line:literal, $new:literal $(,)?) $(,)?
    ) => {
        impl<T> $Sender<T> {
            /// Returns true if the receiver was dropped or closed, so sends fail.
            pub fn is_closed(&self) -> bool {
                self.chan.is_rx_closed()
            }

            /// Waits until the receiver is dropped or closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            ///
            /// sonic_rt::block_on(async {
            #[doc = concat!("    let (tx, rx) = ", $new, ";")]
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
            pub fn same_channel(&self, other: &$Sender<T>) -> bool {
                $Ptr::ptr_eq(&self.chan, &other.chan)
            }

            #[doc = concat!("Makes a [`", stringify!($Weak), "`]: a handle that does not keep ")]
            /// the channel open.
            pub fn downgrade(&self) -> $Weak<T> {
                self.chan.add_weak_sender();
                $Weak {
                    chan: $Ptr::clone(&self.chan),
                }
            }
        }

        impl<T> std::fmt::Debug for $Sender<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Sender))
                    .field("chan", &self.chan)
                    .finish()
            }
        }

        impl<T> $Weak<T> {
            #[doc = concat!("Returns a [`", stringify!($Sender), "`] if at least one is still alive.")]
            pub fn upgrade(&self) -> Option<$Sender<T>> {
                self.chan.try_add_sender().then(|| $Sender {
                    chan: $Ptr::clone(&self.chan),
                })
            }
        }

        impl<T> std::fmt::Debug for $Weak<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Weak)).finish_non_exhaustive()
            }
        }

        $crate::sync::mpsc_api::sender_methods!(@counted $Sender, $Ptr, $Sender, $Weak, add_sender, drop_sender);
        $crate::sync::mpsc_api::sender_methods!(@counted $Weak, $Ptr, $Sender, $Weak, add_weak_sender, drop_weak_sender);
    };
    // What a strong and a weak sender both have: the counts, and `Clone` / `Drop` through the
    // channel's count of their kind.
    (@counted $Ty:ident, $Ptr:ident, $Sender:ident, $Weak:ident, $add:ident, $drop:ident) => {
        impl<T> $Ty<T> {
            #[doc = concat!("The number of [`", stringify!($Sender), "`]s of this channel.")]
            pub fn strong_count(&self) -> usize {
                self.chan.sender_count()
            }

            #[doc = concat!("The number of [`", stringify!($Weak), "`]s of this channel.")]
            pub fn weak_count(&self) -> usize {
                self.chan.weak_sender_count()
            }
        }

        impl<T> Clone for $Ty<T> {
            fn clone(&self) -> $Ty<T> {
                self.chan.$add();
                $Ty {
                    chan: $Ptr::clone(&self.chan),
                }
            }
        }

        impl<T> Drop for $Ty<T> {
            fn drop(&mut self) {
                self.chan.$drop();
            }
        }
    };
}

/// The bounded channel's own sending surface: `Sender`'s `send`, `send_timeout`, `try_send`,
/// the `reserve` family and the capacities, and the permit types `Permit`, `PermitIterator`
/// and `OwnedPermit` (defined here: their docs are the same for both channels but for the
/// notes passed in). Expects `Sender`, `Receiver`, `Chan`, `TryAcquireError` and the error
/// types `SendError`, `SendTimeoutError`, `TrySendError` in scope.
macro_rules! bounded_sender_methods {
    (
        example: $use_line:literal,
        $(send_note: $send_note:literal,)?
        $(permit_note: $permit_note:literal,)?
        dropped_rx_note: $dropped_rx_note:literal $(,)?
    ) => {
        impl<T> Sender<T> {
            /// Sends `value`, waiting for a free slot if the buffer is full.
            ///
            /// Fails, giving the value back, if the receiver is dropped or closed (also while it
            /// waits, and also if a slot was handed to this call just before the close: it goes
            /// back). `Ok` means the value is buffered, not that it will be received.
            ///
            /// Cancellation safe: dropping the future while it waits gives up its place in the
            /// queue and loses no slot; the value was never sent (it is dropped with the
            /// future).
            $(#[doc = ""] #[doc = $send_note])?
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
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
            /// Fails like [`send`](Sender::send), and with
            /// [`SendTimeoutError::Timeout`]
            /// if no slot was handed to it in time; either way the value comes back in the
            /// error. A slot that frees up after the timeout goes to the next waiting sender.
            /// Needs a sonic runtime (it sets a timer).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            /// use std::time::Duration;
            ///
            /// sonic_rt::block_on(async {
            ///     let (tx, mut rx) = mpsc::channel(1);
            ///     tx.send_timeout(1, Duration::from_millis(5)).await.unwrap();
            ///     let full = tx.send_timeout(2, Duration::from_millis(5)).await;
            ///     assert!(matches!(full, Err(mpsc::error::SendTimeoutError::Timeout(2))));
            ///     assert_eq!(rx.recv().await, Some(1));
            /// });
            /// ```
            pub async fn send_timeout(
                &self,
                value: T,
                timeout: std::time::Duration,
            ) -> Result<(), SendTimeoutError<T>> {
                match $crate::time::timeout(timeout, self.chan.acquire(1)).await {
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
            /// Fails with [`TrySendError::Full`]
            /// if the buffer is full (or other senders are waiting for room: they come first),
            /// and with [`TrySendError::Closed`]
            /// if the receiver is dropped or closed.
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

            /// Waits for a free slot and reserves it, so that a value can later be sent without
            /// waiting and without failing.
            ///
            /// Fails if the receiver is dropped or closed, also while waiting, and also if the
            /// slot was handed to this call but the receiver closed before it returned (the slot
            /// goes back). Cancellation safe, like [`send`](Sender::send). Dropping the
            /// [`Permit`] unused gives the slot back.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
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

            /// Waits for `n` free slots and reserves them all, so that `n` values can later be
            /// sent without waiting and without failing; the [`PermitIterator`] yields one
            /// [`Permit`] per slot, and dropping it gives back the slots it has not yielded.
            ///
            /// The slots are taken in the same first-come, first-served order as
            /// [`send`](Sender::send) and [`reserve`](Sender::reserve): while this call waits for
            /// the rest of its slots, it keeps those it was handed and senders that came later
            /// wait behind it. `n = 0` succeeds at once unless the receiver is closed.
            ///
            /// Fails like [`reserve`](Sender::reserve), and at once if `n` exceeds the capacity
            /// of the channel (it could never succeed). Cancellation safe: dropped while it
            /// waits, it gives up its place in the queue and gives back the slots handed to it
            /// so far.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            ///
            /// sonic_rt::block_on(async {
            ///     let (tx, mut rx) = mpsc::channel(4);
            ///     let permits = tx.reserve_many(3).await.unwrap();
            ///     assert_eq!(tx.capacity(), 1);
            ///     for (n, permit) in permits.enumerate() {
            ///         permit.send(n);
            ///     }
            ///     assert_eq!(rx.len(), 3);
            ///     assert!(tx.reserve_many(5).await.is_err()); // more than the capacity
            ///     assert_eq!(rx.recv().await, Some(0));
            /// });
            /// ```
            pub async fn reserve_many(
                &self,
                n: usize,
            ) -> Result<PermitIterator<'_, T>, SendError<()>> {
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

            /// Like [`reserve`](Sender::reserve), but the permit owns the sender, so it can be
            /// stored or moved elsewhere. [`OwnedPermit::send`] gives the sender back.
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
            #[doc = $use_line]
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
            /// Fails with [`TrySendError::Full`]
            /// if fewer than `n` slots are free or other senders wait for room (always, if `n`
            /// exceeds the capacity, even on a closed channel), and with
            /// [`TrySendError::Closed`] if the
            /// receiver is dropped or closed. `n = 0` succeeds unless the receiver is closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            ///
            /// let (tx, mut rx) = mpsc::channel(2);
            /// let mut permits = tx.try_reserve_many(2).unwrap();
            /// assert!(tx.try_reserve_many(1).unwrap_err().is_full());
            /// permits.next().unwrap().send('a');
            /// drop(permits); // the unused slot goes back
            /// assert_eq!(tx.capacity(), 1);
            /// assert_eq!(rx.try_recv(), Ok('a'));
            /// ```
            pub fn try_reserve_many(
                &self,
                n: usize,
            ) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
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

            /// Like [`try_reserve`](Sender::try_reserve), but the permit owns the sender. On
            /// failure the sender is given back inside the error.
            pub fn try_reserve_owned(
                self,
            ) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
                match self.chan.try_acquire(1) {
                    Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
                    Err(TryAcquireError::Full) => Err(TrySendError::Full(self)),
                    Err(TryAcquireError::Closed) => Err(TrySendError::Closed(self)),
                }
            }

            /// The number of values that can be sent now without waiting: the capacity less
            /// the values buffered and the slots reserved.
            pub fn capacity(&self) -> usize {
                self.chan.permits()
            }

            /// The capacity the channel was created with.
            pub fn max_capacity(&self) -> usize {
                self.chan.bound()
            }
        }

        /// A reserved slot in a bounded channel, from [`Sender::reserve`] or
        /// [`Sender::try_reserve`].
        ///
        /// [`send`](Permit::send) cannot fail and does not wait. Dropping the permit unused
        /// gives the slot back (to the oldest waiting sender, if any).
        $(#[doc = ""] #[doc = $permit_note])?
        pub struct Permit<'a, T> {
            chan: &'a Chan<T>,
        }

        impl<T> Permit<'_, T> {
            /// Sends `value` into the reserved slot.
            ///
            /// The value is buffered even if the receiver was [closed](Receiver::close) after
            /// the slot was reserved (the receiver drains it).
            #[doc = $dropped_rx_note]
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

        impl<T> std::fmt::Debug for Permit<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Permit").finish_non_exhaustive()
            }
        }

        /// Reserved slots from [`Sender::reserve_many`] or [`Sender::try_reserve_many`]: an
        /// iterator that yields one [`Permit`] per slot (its `len` is how many are left).
        /// Dropping it gives back the slots it has not yielded.
        $(#[doc = ""] #[doc = $permit_note])?
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

        impl<T> std::fmt::Debug for PermitIterator<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("PermitIterator")
                    .field("n", &self.n)
                    .finish_non_exhaustive()
            }
        }

        /// A reserved slot that owns its [`Sender`], from [`Sender::reserve_owned`] or
        /// [`Sender::try_reserve_owned`].
        $(#[doc = ""] #[doc = $permit_note])?
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

        impl<T> std::fmt::Debug for OwnedPermit<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("OwnedPermit").finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use {bounded_sender_methods, sender_methods};
