//! `blocking_*` methods: run one of the channel's futures to completion on a plain thread,
//! parking it between polls.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Unparks the thread that made it.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    // One per thread, made on its first blocking call: waiting again allocates nothing.
    static THREAD_WAKER: Waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
}

/// Polls `future` on this thread until it completes, parking between polls.
///
/// # Panics
/// On a thread that runs a sonic runtime: blocking it would stop the tasks that could make
/// progress (in the worst case the receiver this call waits for).
pub(super) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if crate::context::with_current(|core| core.is_some()) {
        panic!(
            "{what}: cannot block the thread that runs a sonic runtime (its tasks could not \
             run meanwhile); use the async method, or call this from a thread of your own"
        );
    }
    let mut future = pin!(future);
    THREAD_WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            // A wake that came before this park makes it return at once (the token).
            thread::park();
        }
    })
}

/// `blocking_recv` and `blocking_recv_many` for a receiver type of this channel.
macro_rules! blocking_receiver_methods {
    ($Receiver:ident) => {
        impl<T> $Receiver<T> {
            /// Receives the next value on a plain thread, blocking it while the buffer is
            /// empty.
            ///
            /// # Panics
            ///
            /// Panics if called on a thread that runs a sonic runtime.
            pub fn blocking_recv(&mut self) -> Option<T> {
                super::blocking::block_on(
                    concat!("remote_mpsc::", stringify!($Receiver), "::blocking_recv"),
                    self.recv(),
                )
            }

            #[doc = concat!("[`recv_many`](", stringify!($Receiver), "::recv_many) on a plain thread, blocking it")]
            /// while the buffer is empty.
            ///
            /// # Panics
            ///
            /// Panics if called on a thread that runs a sonic runtime.
            pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                super::blocking::block_on(
                    concat!("remote_mpsc::", stringify!($Receiver), "::blocking_recv_many"),
                    self.recv_many(buffer, limit),
                )
            }
        }
    };
}

pub(super) use blocking_receiver_methods;
