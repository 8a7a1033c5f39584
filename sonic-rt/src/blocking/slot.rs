//! The cross-thread completion slot of one blocking job: the pool thread puts the result in, the
//! runtime's task takes it out.
//!
//! Rules:
//! - One `Sender` (moved into the job) and one `Receiver` (in the runtime's task) share an
//!   `Arc<Slot>`; all state is behind one mutex, taken once per side per job (a blocking job
//!   costs a thread hand-off anyway; an uncontended lock is noise next to it).
//! - The sender stores the result, or on drop without a result marks the slot `closed` (the job
//!   was dropped unrun: pool shut down); either way it wakes the stored waker after releasing the
//!   lock. That waker is a sonic task waker, so from a pool thread the wake goes through the
//!   runtime's remote queue (`executor/remote.rs`), waking the loop if it sleeps: no polling.
//! - The receiver's drop marks `receiver_gone`, so a job not yet started is skipped (tokio: an
//!   aborted `spawn_blocking` task that has not started does not start).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

pub(crate) type Panic = Box<dyn Any + Send + 'static>;

struct State<T> {
    result: Option<Result<T, Panic>>,
    waker: Option<Waker>,
    closed: bool,
    receiver_gone: bool,
}

struct Slot<T> {
    state: Mutex<State<T>>,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A new slot: the sender goes into the job, the receiver is awaited on the runtime.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            result: None,
            waker: None,
            closed: false,
            receiver_gone: false,
        }),
    });
    (
        Sender {
            slot: Some(slot.clone()),
        },
        Receiver { slot },
    )
}

pub(crate) struct Sender<T> {
    slot: Option<Arc<Slot<T>>>,
}

impl<T> Sender<T> {
    /// Whether nobody waits for the result any more (the job may be skipped).
    pub(crate) fn is_abandoned(&self) -> bool {
        self.slot.as_ref().is_none_or(|s| s.lock().receiver_gone)
    }

    /// Hands over the job's result (its value, or its panic payload).
    pub(crate) fn send(mut self, result: Result<T, Panic>) {
        let Some(slot) = self.slot.take() else { return };
        let waker = {
            let mut st = slot.lock();
            if st.receiver_gone {
                None
            } else {
                st.result = Some(result);
                st.waker.take()
            }
        };
        // Woken after the lock is released: the wake may take the runtime's remote-queue lock.
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        let waker = {
            let mut st = slot.lock();
            st.closed = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Resolves to the job's result, or `Err(None)` if the job was dropped without running.
pub(crate) struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

/// The job never ran: the pool was shut down (or refused it) first.
#[derive(Debug)]
pub(crate) struct Dropped;

impl<T> Future for Receiver<T> {
    type Output = Result<Result<T, Panic>, Dropped>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.slot.lock();
        if let Some(res) = st.result.take() {
            return Poll::Ready(Ok(res));
        }
        if st.closed {
            return Poll::Ready(Err(Dropped));
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (waker, result) = {
            let mut st = self.slot.lock();
            st.receiver_gone = true;
            (st.waker.take(), st.result.take())
        };
        // Dropped outside the lock: user destructors may run.
        drop(waker);
        drop(result);
    }
}
