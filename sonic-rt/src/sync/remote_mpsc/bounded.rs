//! The bounded channel: senders wait (FIFO) while the buffer is full.

use super::blocking::{block_on, blocking_receiver_methods};
use super::chan::{Chan, RxChan, TryAcquireError, MAX_CAPACITY};
use super::primitives::Arc;
use crate::sync::mpsc::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use crate::sync::mpsc_api::{bounded_sender_methods, receiver_methods, sender_methods};

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
    let (chan, rx) = Chan::with_receiver(Some(buffer));
    (Sender { chan }, Receiver { chan: rx })
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
    /// Sends `value` from a plain thread, blocking it while the buffer is full.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that runs a sonic runtime (use [`send`](Sender::send)).
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on("remote_mpsc::Sender::blocking_send", self.send(value))
    }
}

/// A sender that does not keep the channel open: once every [`Sender`] is gone,
/// [`upgrade`](WeakSender::upgrade) fails and the receiver sees the end of the stream.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives the values of a bounded channel. Created by [`channel`].
///
/// Values come out in the order their sends claimed a position. When every sender is gone, the
/// receiver still gets what was buffered, then `None`. Dropping the receiver closes the channel
/// and drops the buffered values. `Send` (for `T: Send`), like tokio's: it may be moved to a
/// thread that calls [`blocking_recv`](Receiver::blocking_recv). It is also a
/// [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    pub(super) chan: RxChan<T>,
}

sender_methods! {
    ptr: Arc,
    sender: Sender,
    weak: WeakSender,
    example: ("use sonic_rt::sync::remote_mpsc as mpsc;", "mpsc::channel::<u32>(4)"),
}

bounded_sender_methods! {
    example: "use sonic_rt::sync::remote_mpsc as mpsc;",
    send_note: "Works in any async context (a sonic task, another runtime's task); from a plain \
                thread use [`blocking_send`](Sender::blocking_send).",
    permit_note: "`Send + Sync` (for `T: Send`): it may be moved to, or used from, another \
                  thread.",
    dropped_rx_note: "If the receiver was dropped, the value is dropped with the channel (when \
                      its last handle goes).",
}

receiver_methods! {
    receiver: Receiver,
    sender: Sender,
    weak: WeakSender,
    kind: bounded,
    example: ("use sonic_rt::sync::remote_mpsc as mpsc;", "mpsc::channel(8)", ".await"),
}

blocking_receiver_methods!(Receiver);
