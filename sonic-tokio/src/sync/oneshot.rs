//! tokio's `oneshot` with `Send` halves: one value, sent once, possibly from another thread (a
//! `std::thread` doing blocking work, another runtime) to a task.
//!
//! sonic-rt's own [`oneshot`](sonic_rt::sync::oneshot) is `!Send` and takes no lock; this one
//! is what `tokio::sync::oneshot` is under the facade, because handing a `Sender` to a thread
//! is common in single-thread tokio programs.
//!
//! Rules (one `std` mutex guards the whole state; wakers are woken after it is released):
//! - `send` stores the value and marks the sender gone; the sender's `Drop` marks it gone. Each
//!   wakes the receiver's waker, if one is stored.
//! - The receiver's `close` or `Drop` marks it closed and wakes the sender's `closed()` waiter;
//!   a value sent but never received is dropped with the last handle.
//! - Once the receiver has produced its result (a `Ready` poll, or a `try_recv` that returned a
//!   value or `Closed`) it is terminated: `try_recv` reports `Closed` and polling it again
//!   panics, as tokio's does.
//!
//! Cost against the local channel: one allocation per channel either way (`Arc` here, `Rc`
//! there), plus an uncontended mutex lock and unlock for each operation (send, poll, drop).
//!
//! # Examples
//!
//! ```
//! use sonic_tokio::sync::oneshot;
//!
//! sonic_tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     std::thread::spawn(move || {
//!         let _ = tx.send(6 * 7);
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

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
            f.write_str("channel closed")
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
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl Error for TryRecvError {}
}

struct State<T> {
    value: Option<T>,
    /// The sender was consumed by `send` or dropped.
    sender_gone: bool,
    /// The receiver was closed or dropped.
    receiver_closed: bool,
    /// The receiver's task, waiting for the value.
    rx_waker: Option<Waker>,
    /// The sender's task, waiting in `closed()`.
    tx_waker: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    /// The state; a panic while it was held (in a user's `Drop` of a waker, say) does not
    /// make the channel unusable: every update below is complete before anything can panic.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stores `cx`'s waker in `slot`, cloning only if it would not wake the same task.
fn store(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Creates a oneshot channel: a [`Sender`] and a [`Receiver`], both `Send` (for `T: Send`).
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            value: None,
            sender_gone: false,
            receiver_closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver {
            shared: Some(shared),
        },
    )
}

/// Sends the one value. `Send` (for `T: Send`): it may go to another thread.
pub struct Sender<T> {
    /// `None` once `send` has run.
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender. Fails, giving the value back, if the receiver was
    /// closed or dropped.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self
            .shared
            .take()
            .expect("a sender before send has its state");
        let waker = {
            let mut state = shared.lock();
            if state.receiver_closed {
                state.sender_gone = true;
                return Err(value);
            }
            state.value = Some(value);
            state.sender_gone = true;
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// True once the receiver was closed or dropped (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.shared
            .as_ref()
            .is_none_or(|s| s.lock().receiver_closed)
    }

    /// Ready once the receiver is closed or dropped; otherwise stores `cx`'s waker.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(());
        };
        let mut state = shared.lock();
        if state.receiver_closed {
            return Poll::Ready(());
        }
        store(&mut state.tx_waker, cx);
        Poll::Pending
    }

    /// Waits until the receiver is closed or dropped (to stop computing a value nobody wants).
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let waker = {
            let mut state = shared.lock();
            state.sender_gone = true;
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Receives the one value: a future that resolves to it, or to [`RecvError`] if the sender
/// went away without sending. `Send` (for `T: Send`).
pub struct Receiver<T> {
    /// `None` once terminated (the result was produced).
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// The value if it was sent, `Empty` if it may still come, `Closed` if it never will (or
    /// the receiver already produced its result).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(shared) = &self.shared else {
            return Err(TryRecvError::Closed);
        };
        let result = {
            let mut state = shared.lock();
            match state.value.take() {
                Some(v) => Ok(v),
                None if state.sender_gone || state.receiver_closed => Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.terminate();
        result
    }

    /// Closes the channel: a later `send` fails, and the sender's `closed()` completes. A
    /// value sent before can still be received.
    pub fn close(&mut self) {
        if let Some(shared) = &self.shared {
            close(shared);
        }
    }

    /// True once the receiver has produced its result; polling it again would panic.
    pub fn is_terminated(&self) -> bool {
        self.shared.is_none()
    }

    /// True if no value is waiting (none was sent yet, or it was already received).
    pub fn is_empty(&self) -> bool {
        self.shared
            .as_ref()
            .is_none_or(|s| s.lock().value.is_none())
    }

    /// Blocks the calling thread until the value arrives (for a plain thread holding the
    /// receiver).
    ///
    /// # Panics
    /// On a thread that runs a sonic runtime (it would stop every task of it), as tokio's
    /// panics inside a runtime.
    pub fn blocking_recv(mut self) -> Result<T, RecvError> {
        assert!(
            sonic_rt::Handle::try_current().is_err(),
            "Cannot block the current thread from within a runtime: `blocking_recv` was \
             called on a thread that runs a sonic runtime"
        );
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(r) = Pin::new(&mut self).poll(&mut cx) {
                return r;
            }
            std::thread::park();
        }
    }

    fn terminate(&mut self) {
        if let Some(shared) = self.shared.take() {
            close(&shared);
        }
    }
}

fn close<T>(shared: &Shared<T>) {
    let waker = {
        let mut state = shared.lock();
        state.receiver_closed = true;
        state.tx_waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let shared = self
            .shared
            .as_ref()
            .expect("called after complete: the oneshot receiver already produced its result");
        let result = {
            let mut state = shared.lock();
            match state.value.take() {
                Some(v) => Ok(v),
                None if state.sender_gone || state.receiver_closed => Err(RecvError(())),
                None => {
                    store(&mut state.rx_waker, cx);
                    return Poll::Pending;
                }
            }
        };
        self.terminate();
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
            .field("terminated", &self.is_terminated())
            .finish()
    }
}
