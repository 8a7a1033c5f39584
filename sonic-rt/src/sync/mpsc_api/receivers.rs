//! The receivers' methods (see the parent module's rules).

/// The receiver's methods, bounded or not: `recv`, `recv_many`, `try_recv`, `poll_recv`,
/// `poll_recv_many`, `close`, `is_closed`, `is_empty`, `len`, the sender counts (and, bounded,
/// the capacities); `Drop` (closes the channel and drops what is buffered), `Stream`, `Debug`.
/// Expects `TryRecvError` in scope, and a `chan` field with the receiver-only operations.
macro_rules! receiver_methods {
    (
        receiver: $Receiver:ident,
        sender: $Sender:ident,
        weak: $Weak:ident,
        kind: $kind:ident,
        example: ($use_line:literal, $new:literal, $send_await:literal $(,)?) $(,)?
    ) => {
        impl<T> $Receiver<T> {
            /// Receives the next value, waiting for one if the buffer is empty. Returns `None`
            #[doc = concat!("once the channel is closed (every sender gone, or [`close`](", stringify!($Receiver), "::close)")]
            #[doc = $crate::sync::mpsc_api::receiver_methods!(@end_of_stream $kind)]
            ///
            /// Cancellation safe: dropping the future loses no value.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            ///
            /// sonic_rt::block_on(async {
            #[doc = concat!("    let (tx, mut rx) = ", $new, ";")]
            #[doc = concat!("    let task = sonic_rt::spawn(async move { tx.send(\"ping\")", $send_await, ".unwrap() });")]
            ///     assert_eq!(rx.recv().await, Some("ping"));
            ///     assert_eq!(rx.recv().await, None);
            ///     task.await.unwrap();
            /// });
            /// ```
            pub async fn recv(&mut self) -> Option<T> {
                std::future::poll_fn(|cx| self.poll_recv(cx)).await
            }

            /// Receives up to `limit` values into `buffer` (appending), waiting if none is
            /// buffered. Returns how many were received: 0 only if `limit` is 0 or the channel
            /// is closed and drained.
            ///
            /// Cancellation safe.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
            }

            /// Receives a value if one is buffered, without waiting.
            ///
            /// Fails with [`TryRecvError::Empty`]
            /// if a value may still come, and with
            /// [`TryRecvError::Disconnected`]
            /// if the channel is closed and drained.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.chan.try_recv()
            }

            #[doc = concat!("Polls for the next value; the building block of [`recv`](", stringify!($Receiver), "::recv).")]
            /// On `Pending`, the waker of `cx` is woken when a value arrives or the channel
            /// closes (only the waker of the most recent call).
            pub fn poll_recv(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.chan.poll_recv(cx)
            }

            /// Polls for up to `limit` values, appending them to `buffer`; the building block of
            #[doc = concat!("[`recv_many`](", stringify!($Receiver), "::recv_many).")]
            pub fn poll_recv_many(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> std::task::Poll<usize> {
                self.chan.poll_recv_many(cx, buffer, limit)
            }

            /// Closes the channel without dropping the receiver: sends fail from now on,
            #[doc = concat!("waiting senders are woken with an error, and [`", stringify!($Sender), "::closed`]")]
            /// completes. Values already buffered (and, bounded, values sent through permits
            /// reserved before the close) can still be received.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $use_line]
            ///
            /// sonic_rt::block_on(async {
            #[doc = concat!("    let (tx, mut rx) = ", $new, ";")]
            #[doc = concat!("    tx.send(1)", $send_await, ".unwrap();")]
            ///     rx.close();
            #[doc = concat!("    assert!(tx.send(2)", $send_await, ".is_err());")]
            ///     assert_eq!(rx.recv().await, Some(1));
            ///     assert_eq!(rx.recv().await, None);
            /// });
            /// ```
            pub fn close(&mut self) {
                self.chan.close();
            }

            #[doc = concat!("Returns true if the channel is closed: [`close`](", stringify!($Receiver), "::close)")]
            /// was called or every sender is gone. Buffered values may remain.
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

            #[doc = concat!("The number of [`", stringify!($Sender), "`]s of this channel.")]
            pub fn sender_strong_count(&self) -> usize {
                self.chan.sender_count()
            }

            #[doc = concat!("The number of [`", stringify!($Weak), "`]s of this channel.")]
            pub fn sender_weak_count(&self) -> usize {
                self.chan.weak_sender_count()
            }
        }

        $crate::sync::mpsc_api::receiver_methods!(@capacity $kind $Receiver);

        impl<T> Drop for $Receiver<T> {
            fn drop(&mut self) {
                self.chan.drop_rx();
            }
        }

        impl<T> futures_core::Stream for $Receiver<T> {
            type Item = T;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.get_mut().poll_recv(cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.len(), None)
            }
        }

        impl<T> std::fmt::Debug for $Receiver<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Receiver))
                    .field("chan", &self.chan)
                    .finish()
            }
        }
    };
    (@end_of_stream bounded) => {
        "called and every permit handed out before it back) and drained."
    };
    (@end_of_stream unbounded) => {
        "called) and drained."
    };
    (@capacity bounded $Receiver:ident) => {
        impl<T> $Receiver<T> {
            /// The number of values that can be sent now without waiting; see
            /// [`Sender::capacity`].
            pub fn capacity(&self) -> usize {
                self.chan.permits()
            }

            /// The capacity the channel was created with.
            pub fn max_capacity(&self) -> usize {
                self.chan.bound()
            }
        }
    };
    (@capacity unbounded $Receiver:ident) => {};
}

pub(crate) use receiver_methods;
