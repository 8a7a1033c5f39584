//! The unbounded channel: sending never waits; the buffer grows as needed.

use std::rc::Rc;

use super::chan::Chan;
use super::error::{SendError, TryRecvError};
use crate::sync::mpsc_api::{receiver_methods, sender_methods};

/// Creates an unbounded channel: [`UnboundedSender::send`] never waits, and the buffer grows as
/// needed (it keeps its largest size, so a steady flow allocates nothing once it has grown).
///
/// Prefer a bounded [`channel`](super::channel) where a fast producer could outrun its consumer:
/// an unbounded buffer turns that into unbounded memory.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send("a").unwrap();
/// tx.send("b").unwrap();
/// drop(tx);
/// assert_eq!(rx.try_recv(), Ok("a"));
/// assert_eq!(rx.try_recv(), Ok("b"));
/// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Rc::new(Chan::new(None));
    (
        UnboundedSender {
            chan: Rc::clone(&chan),
        },
        UnboundedReceiver { chan },
    )
}

/// Sends values into an unbounded channel. Created by [`unbounded_channel`]; clone it for more
/// senders. `!Send`, like every handle of this channel.
pub struct UnboundedSender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once. Fails, giving the value back, if the receiver is dropped or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value)
    }
}

/// An unbounded sender that does not keep the channel open: once every [`UnboundedSender`] is
/// gone, [`upgrade`](WeakUnboundedSender::upgrade) fails.
pub struct WeakUnboundedSender<T> {
    chan: Rc<Chan<T>>,
}

/// Receives the values of an unbounded channel. Created by [`unbounded_channel`].
///
/// Values come out in the order they were sent. When every sender is gone, the receiver still
/// gets what was buffered, then `None`. Dropping the receiver closes the channel and drops the
/// buffered values. It is also a [`Stream`](futures_core::Stream) of the values.
pub struct UnboundedReceiver<T> {
    pub(super) chan: Rc<Chan<T>>,
}

sender_methods! {
    ptr: Rc,
    sender: UnboundedSender,
    weak: WeakUnboundedSender,
    example: ("use sonic_rt::sync::mpsc;", "mpsc::unbounded_channel::<u32>()"),
}

receiver_methods! {
    receiver: UnboundedReceiver,
    sender: UnboundedSender,
    weak: WeakUnboundedSender,
    kind: unbounded,
    example: ("use sonic_rt::sync::mpsc;", "mpsc::unbounded_channel()", ""),
}
