//! `JoinHandle` and `JoinError`: awaiting, aborting and detaching a spawned task.

use super::cell::{raw, Header, CANCELLED, COMPLETE, JOIN_INTEREST, RUNNING, SCHEDULED};
use super::waker;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or `Err(JoinError)` if the task panicked or was aborted.
/// Dropping it *detaches* the task: it keeps running and its output is dropped.
/// It is `!Send`, like the task: it belongs to the runtime's thread.
///
/// # Examples
/// ```
/// let v = sonic_rt::block_on(async {
///     let h = sonic_rt::spawn(async { 40 + 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
#[must_use = "dropping a JoinHandle detaches the task; await it or call .abort()"]
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _marker: PhantomData<(T, Rc<()>)>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _marker: PhantomData,
        }
    }

    /// Asks the task to stop. Its future is dropped the next time the runtime runs (at once if
    /// it is running now, when its current poll returns), and awaiting this handle then gives a
    /// cancelled `JoinError`. A task that already finished keeps its output.
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// Whether the task has finished (completed, panicked or been aborted).
    pub fn is_finished(&self) -> bool {
        raw::header(self.raw).state.get() & COMPLETE != 0
    }

    /// A handle that can abort the task without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        raw::ref_inc(self.raw);
        AbortHandle {
            raw: self.raw,
            _marker: PhantomData,
        }
    }
}

fn abort_task(ptr: NonNull<Header>) {
    let header = raw::header(ptr);
    let state = header.state.get();
    if state & (COMPLETE | CANCELLED) != 0 {
        return;
    }
    header.state.set(state | CANCELLED);
    if state & (SCHEDULED | RUNNING) == 0 {
        waker::schedule(ptr);
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = raw::header(self.raw);
        if header.state.get() & COMPLETE != 0 {
            let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
            // SAFETY: JoinHandle is !Send, so this is the owner thread; `out` has the type the
            // task was spawned with.
            unsafe {
                raw::read_output(
                    self.raw,
                    (&mut out as *mut Poll<Result<T, JoinError>>).cast(),
                )
            };
            if out.is_pending() {
                panic!("JoinHandle polled after it returned the task's output");
            }
            return out;
        }
        // SAFETY: owner thread (JoinHandle is !Send); no other borrow of the join waker is live.
        let slot = unsafe { raw::join_waker(self.raw) };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = raw::header(self.raw);
        let state = header.state.get();
        header.state.set(state & !JOIN_INTEREST);
        // SAFETY: owner thread (JoinHandle is !Send).
        unsafe {
            raw::join_waker(self.raw).take();
            if state & COMPLETE != 0 {
                raw::drop_stage(self.raw);
            }
        }
        raw::ref_dec(self.raw);
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without owning its output. `!Send`, like the task.
pub struct AbortHandle {
    raw: NonNull<Header>,
    _marker: PhantomData<Rc<()>>,
}

impl AbortHandle {
    /// See [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        raw::header(self.raw).state.get() & COMPLETE != 0
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        raw::ref_dec(self.raw);
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

enum Repr {
    Cancelled,
    /// The payload, and its message (read once, when the panic is caught).
    Panic(SyncPayload, Option<String>),
}

/// A panic payload that is `Sync` because nothing can borrow it: it is only ever moved out.
struct SyncPayload(Box<dyn Any + Send + 'static>);

// SAFETY: a `&SyncPayload` gives no access to the payload (no method takes `&self`), so sharing
// one between threads shares nothing; the payload itself is `Send`.
unsafe impl Sync for SyncPayload {}

/// Why a task did not produce its output: it was aborted, or it panicked.
pub struct JoinError {
    repr: Repr,
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            repr: Repr::Panic(SyncPayload(payload), message),
        }
    }

    /// The task was aborted (or dropped with its runtime).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(..))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic; use [`JoinError::try_into_panic`] to check.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task")
    }

    /// The panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p, _) => Ok(p.0),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(_, msg) => msg.as_deref(),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(..), Some(msg)) => write!(f, "task panicked: {msg}"),
            (Repr::Panic(..), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (Repr::Panic(..), Some(msg)) => write!(f, "JoinError::Panic({msg:?})"),
            (Repr::Panic(..), None) => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
