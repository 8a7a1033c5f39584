//! `RemoteJoinHandle`: the `Send` handle of a task spawned through a [`Handle`](crate::Handle),
//! from any thread.
//!
//! Rules:
//! - The task runs on the runtime's thread inside a [`RemoteTask`] future; it and the handle
//!   share one `Arc<Slot>`. The task catches its future's panic itself, so its own (local)
//!   `JoinHandle` is not needed and is dropped.
//! - The result goes into the slot once, under its lock; the join waker is taken under the same
//!   lock and woken after it is released. `finished` is set with the result.
//! - `abort` sets `aborted`, then takes the task's waker under the lock. The task stores its
//!   waker under the lock (at its first `Pending`) and reads `aborted` after releasing it. The
//!   lock orders the two, so either `abort` finds the waker or the task sees the flag.
//! - A `RemoteTask` dropped before it stored a result (the runtime was dropped, or never got
//!   the task) stores a cancelled error, so an awaiting handle always completes.

use super::{Id, JoinError};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// An owned permission to await a task spawned with [`Handle::spawn`](crate::Handle::spawn),
/// from any thread: tokio's `JoinHandle` for `Handle::spawn`, with the same meaning.
///
/// It is `Send` and `Sync` (for an output that is `Send`), unlike [`JoinHandle`](super::JoinHandle),
/// which belongs to the runtime's thread. Awaiting it gives `Ok(output)`, or `Err(JoinError)` if
/// the task panicked, was aborted, or never ran because the runtime was dropped. Dropping it
/// detaches the task.
///
/// # Examples
/// ```
/// let rt = sonic_rt::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 42);
/// ```
pub struct RemoteJoinHandle<T> {
    slot: Arc<Slot<T>>,
}

struct Slot<T> {
    id: Id,
    aborted: AtomicBool,
    finished: AtomicBool,
    state: Mutex<State<T>>,
}

struct State<T> {
    result: Option<Result<T, JoinError>>,
    /// The handle returned the result already.
    taken: bool,
    join_waker: Option<Waker>,
    task_waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding the lock (wakers are woken after it is released).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the task's result unless one is stored already, and wakes the handle.
    fn complete(&self, result: Result<T, JoinError>) {
        let (join_waker, task_waker) = {
            let mut state = self.lock();
            if self.finished.load(Ordering::Relaxed) {
                return;
            }
            state.result = Some(result);
            self.finished.store(true, Ordering::Release);
            (state.join_waker.take(), state.task_waker.take())
        };
        // The task's own waker is not needed any more; it would keep the finished task's
        // memory alive as long as the handle.
        drop(task_waker);
        if let Some(waker) = join_waker {
            waker.wake();
        }
    }
}

/// A task to spawn on a runtime, and the handle that awaits it.
pub(crate) fn pair<F>(future: F) -> (RemoteTask<F>, RemoteJoinHandle<F::Output>)
where
    F: Future,
{
    let slot = Arc::new(Slot {
        id: Id::next(),
        aborted: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        state: Mutex::new(State {
            result: None,
            taken: false,
            join_waker: None,
            task_waker: None,
        }),
    });
    let task = RemoteTask {
        future: Some(future),
        slot: slot.clone(),
        registered: false,
    };
    (task, RemoteJoinHandle { slot })
}

impl<T> RemoteJoinHandle<T> {
    /// The [`Id`] of the task (also its [`task::id`](crate::task::id) while it runs).
    pub fn id(&self) -> Id {
        self.slot.id
    }

    /// Whether the task has finished (completed, panicked, been aborted, or been dropped with
    /// its runtime).
    pub fn is_finished(&self) -> bool {
        self.slot.finished.load(Ordering::Acquire)
    }

    /// Asks the task to stop, from any thread: its future is dropped on the runtime's thread the
    /// next time the task is looked at (never polled again; never polled at all if it had not
    /// started), and awaiting this handle gives a cancelled `JoinError`. A task that finished
    /// keeps its result.
    pub fn abort(&self) {
        if self.is_finished() {
            return;
        }
        self.slot.aborted.store(true, Ordering::Release);
        let waker = self.slot.lock().task_waker.clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        if let Some(result) = state.result.take() {
            state.taken = true;
            return Poll::Ready(result);
        }
        assert!(
            !state.taken,
            "RemoteJoinHandle polled after it returned the task's output"
        );
        match &state.join_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                // The old waker is dropped after the lock is released: a drop may run code.
                let old = state.join_waker.replace(cx.waker().clone());
                drop(state);
                drop(old);
            }
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future a remotely spawned task runs on the runtime's thread.
    pub(crate) struct RemoteTask<F: Future> {
        #[pin]
        future: Option<F>,
        slot: Arc<Slot<F::Output>>,
        registered: bool,
    }

    impl<F: Future> PinnedDrop for RemoteTask<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before it finished: the runtime is gone, or the task was never spawned.
            let mut this = this.project();
            if !this.slot.finished.load(Ordering::Relaxed) {
                let _cancelled = CompleteCancelled(this.slot);
                this.future.set(None);
            }
        }
    }
}

/// Stores a cancelled error when dropped, even if dropping the future panicked.
struct CompleteCancelled<'a, T>(&'a Slot<T>);

impl<T> Drop for CompleteCancelled<'_, T> {
    fn drop(&mut self) {
        self.0.complete(Err(JoinError::cancelled(self.0.id)));
    }
}

impl<F: Future> RemoteTask<F> {
    pub(crate) fn id(&self) -> Id {
        self.slot.id
    }
}

impl<F: Future> Future for RemoteTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let id = this.slot.id;
        if this.slot.aborted.load(Ordering::Acquire) {
            // As tokio's abort: the future is dropped on the runtime's thread; a panic of its
            // destructor is the task's panic.
            let result = match catch_unwind(AssertUnwindSafe(|| this.future.set(None))) {
                Ok(()) => Err(JoinError::cancelled(id)),
                Err(payload) => Err(JoinError::panic(id, payload)),
            };
            this.slot.complete(result);
            return Poll::Ready(());
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => {
                if !*this.registered {
                    // A task's waker always wakes the same task: storing it once is enough.
                    *this.registered = true;
                    this.slot.lock().task_waker = Some(cx.waker().clone());
                    if this.slot.aborted.load(Ordering::Acquire) {
                        cx.waker().wake_by_ref();
                    }
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(id, payload)),
        };
        // The future is done (or panicked: it is dropped while nothing else runs, as tokio
        // drops a panicked task's future). A panic of its destructor after it returned is the
        // task's panic, as in tokio.
        let result = match catch_unwind(AssertUnwindSafe(|| this.future.set(None))) {
            Ok(()) => result,
            Err(payload) => Err(JoinError::panic(id, payload)),
        };
        this.slot.complete(result);
        Poll::Ready(())
    }
}
