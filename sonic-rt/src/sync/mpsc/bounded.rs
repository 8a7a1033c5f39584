//! The bounded channel: senders wait (FIFO) while the buffer is full.

use std::rc::Rc;

use super::chan::{Chan, TryAcquireError};
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use crate::sync::mpsc_api::{bounded_sender_methods, receiver_methods, sender_methods};

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
/// `!Send`: every handle stays on the runtime's thread (use
/// [`remote_mpsc`](crate::sync::remote_mpsc) for senders on other threads).
///
/// The channel closes for the receiver when the last `Sender` is dropped (after it has received
/// what was buffered).
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

/// A sender that does not keep the channel open: once every [`Sender`] is gone,
/// [`upgrade`](WeakSender::upgrade) fails and the receiver sees the end of the stream.
pub struct WeakSender<T> {
    chan: Rc<Chan<T>>,
}

/// Receives the values of a bounded channel. Created by [`channel`].
///
/// Values come out in the order they were sent. When every sender is gone, the receiver still
/// gets what was buffered, then `None`. Dropping the receiver closes the channel and drops the
/// buffered values. It is also a [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    pub(super) chan: Rc<Chan<T>>,
}

sender_methods! {
    ptr: Rc,
    sender: Sender,
    weak: WeakSender,
    example: ("use sonic_rt::sync::mpsc;", "mpsc::channel::<u32>(4)"),
}

bounded_sender_methods! {
    example: "use sonic_rt::sync::mpsc;",
    dropped_rx_note: "If the receiver was dropped, the value is dropped at once.",
}

receiver_methods! {
    receiver: Receiver,
    sender: Sender,
    weak: WeakSender,
    kind: bounded,
    example: ("use sonic_rt::sync::mpsc;", "mpsc::channel(8)", ".await"),
}
