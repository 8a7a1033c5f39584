//! The unbounded channel: sending never waits.

use super::blocking::blocking_receiver_methods;
use super::chan::{Chan, RxChan};
use super::primitives::Arc;
use crate::sync::mpsc::error::{SendError, TryRecvError};
use crate::sync::mpsc_api::{receiver_methods, sender_methods};

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
    let (chan, rx) = Chan::with_receiver(None);
    (UnboundedSender { chan }, UnboundedReceiver { chan: rx })
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
}

/// An unbounded sender that does not keep the channel open: once every [`UnboundedSender`] is
/// gone, [`upgrade`](WeakUnboundedSender::upgrade) fails.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives the values of an unbounded channel. Created by [`unbounded_channel`].
///
/// Values come out in the order their sends claimed a position. When every sender is gone, the
/// receiver still gets what was buffered, then `None`. Dropping the receiver closes the channel
/// and drops the buffered values. `Send` (for `T: Send`), like tokio's. It is also a
/// [`Stream`](futures_core::Stream) of the values.
pub struct UnboundedReceiver<T> {
    chan: RxChan<T>,
}

sender_methods! {
    ptr: Arc,
    sender: UnboundedSender,
    weak: WeakUnboundedSender,
    example: ("use sonic_rt::sync::remote_mpsc as mpsc;", "mpsc::unbounded_channel::<u32>()"),
}

receiver_methods! {
    receiver: UnboundedReceiver,
    sender: UnboundedSender,
    weak: WeakUnboundedSender,
    kind: unbounded,
    example: ("use sonic_rt::sync::remote_mpsc as mpsc;", "mpsc::unbounded_channel()", ""),
}

blocking_receiver_methods!(UnboundedReceiver);
