//! `JoinHandle`, `AbortHandle` and `JoinError`: awaiting, aborting and detaching a spawned task.

use super::cell::{raw, Header, CANCELLED, COMPLETE, JOIN_INTEREST, RUNNING, SCHEDULED};
use super::waker;
use crate::task::Id;
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
/// Dropping it *detaches* the task: it keeps running and its output is dropped. So, as in tokio,
/// it is not `#[must_use]`: `spawn(fut);` on its own line is the idiom for a detached task.
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
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _marker: PhantomData<(T, Rc<()>)>,
}

// A handle is a pointer to the task; the output is never pinned inside it (as tokio's).
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a live task whose output type is `T`, on its owner thread, and the caller
    /// transfers to the handle one counted reference and the task's `JOIN_INTEREST`.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _marker: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a counted reference, and it is `!Send`, so this is the owner
        // thread, where every field of the header may be read.
        unsafe { raw::header(self.raw) }
    }

    /// Asks the task to stop. Its future is dropped the next time the runtime runs (at once if
    /// it is running now, when its current poll returns), and awaiting this handle then gives a
    /// cancelled `JoinError`. A task that already finished keeps its output.
    pub fn abort(&self) {
        // SAFETY: the handle holds a reference, and is `!Send`: this is the owner thread.
        unsafe { abort_task(self.raw) };
    }

    /// Whether the task has finished (completed, panicked or been aborted).
    pub fn is_finished(&self) -> bool {
        self.header().state() & COMPLETE != 0
    }

    /// The task's [`Id`].
    pub fn id(&self) -> Id {
        self.header().id()
    }

    /// A handle that can abort the task without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        // SAFETY: this handle holds a reference, so the task is live and the count non-zero.
        unsafe { raw::ref_inc(self.raw) };
        AbortHandle {
            raw: self.raw,
            _marker: PhantomData,
        }
    }
}

/// Marks the task cancelled and makes sure the executor looks at it.
///
/// # Safety
/// `ptr` is a live task on its owner thread, and the caller holds a reference to it.
pub(crate) unsafe fn abort_task(ptr: NonNull<Header>) {
    // SAFETY: caller's contract.
    let header = unsafe { raw::header(ptr) };
    let state = header.state();
    if state & (COMPLETE | CANCELLED) != 0 {
        return;
    }
    header.set_state(state | CANCELLED);
    // A task being polled (or whose future is being dropped) is looked at when that returns.
    if state & (SCHEDULED | RUNNING) == 0 {
        // SAFETY: caller's contract.
        unsafe { waker::schedule(ptr) };
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.header();
        if header.state() & COMPLETE != 0 {
            // SAFETY: the handle's reference keeps the task live, on the owner thread (`!Send`).
            // A locked stage (the task's own destructor polls this handle) has no output for us
            // yet: that is `Pending` below.
            if let Some(lock) = unsafe { raw::lock_stage(self.raw) } {
                let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
                // SAFETY: `out` has the output type this handle was created for.
                unsafe { lock.read_output((&mut out as *mut Poll<Result<T, JoinError>>).cast()) };
                drop(lock);
                if out.is_pending() {
                    panic!("JoinHandle polled after it returned the task's output");
                }
                return out;
            }
        }
        header.set_join_waker(cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        let state = header.state();
        header.set_state(state & !JOIN_INTEREST);
        drop(header.take_join_waker());
        if state & COMPLETE != 0 {
            // SAFETY: live task (our reference), owner thread. If the stage is locked, its
            // holder finds `JOIN_INTEREST` gone when it finishes and drops the output itself.
            if let Some(lock) = unsafe { raw::lock_stage(self.raw) } {
                lock.drop_stage();
            }
        }
        // SAFETY: the handle's counted reference, released once; `self.raw` is not used again.
        unsafe { raw::ref_dec(self.raw) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
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
    fn header(&self) -> &Header {
        // SAFETY: as in `JoinHandle::header`: a counted reference on the owner thread.
        unsafe { raw::header(self.raw) }
    }

    /// See [`JoinHandle::abort`].
    pub fn abort(&self) {
        // SAFETY: the handle holds a reference, and is `!Send`: this is the owner thread.
        unsafe { abort_task(self.raw) };
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.header().state() & COMPLETE != 0
    }

    /// The task's [`Id`].
    pub fn id(&self) -> Id {
        self.header().id()
    }

    /// The task this handle refers to; the handle's reference keeps it live while the handle is.
    pub(crate) fn raw(&self) -> NonNull<Header> {
        self.raw
    }

    /// The runtime the task runs on (`None` while it waits in a `LocalSet` for its first one).
    pub(crate) fn shared(&self) -> Option<&std::sync::Arc<super::remote::Shared>> {
        self.header().shared()
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: the handle's counted reference, released once.
        unsafe { raw::ref_dec(self.raw) };
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
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
///
/// `Display` reads as tokio's: `task 7 was cancelled`, `task 7 panicked with message "boom"`.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let h = sonic_rt::spawn(async { panic!("boom") });
///     let id = h.id();
///     let err = h.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.id(), id);
///     assert_eq!(err.to_string(), format!("task {id} panicked with message \"boom\""));
/// });
/// ```
pub struct JoinError {
    repr: Repr,
    id: Id,
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            repr: Repr::Panic(SyncPayload(payload), message),
            id,
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

    /// The [`Id`] of the task that failed.
    pub fn id(&self) -> Id {
        self.id
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
        let id = self.id;
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {id} was cancelled"),
            (Repr::Panic(..), Some(msg)) => write!(f, "task {id} panicked with message {msg:?}"),
            (Repr::Panic(..), None) => write!(f, "task {id} panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id;
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({id:?})"),
            (Repr::Panic(..), Some(msg)) => write!(f, "JoinError::Panic({id:?}, {msg:?}, ...)"),
            (Repr::Panic(..), None) => write!(f, "JoinError::Panic({id:?}, ...)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
