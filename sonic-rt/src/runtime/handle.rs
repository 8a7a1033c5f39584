//! `Handle`: the `Send` door into a runtime for other threads.

use crate::context;
use crate::executor::remote::{Remote, Shared};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// A `Send + Sync` handle other threads use to hand work to a runtime, waking it if it sleeps
/// (the Go library's `Post`).
///
/// # Examples
/// ```
/// let rt = sonic_rt::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let t = std::thread::spawn(move || {
///     handle.post(move || tx.send(std::thread::current().id()).unwrap()).unwrap();
/// });
/// rt.block_on(async {
///     while rx.try_recv().is_err() {
///         sonic_rt::time::sleep(std::time::Duration::from_micros(100)).await;
///     }
/// });
/// t.join().unwrap();
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The runtime behind a [`Handle`] is gone; the work was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostError(());

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sonic runtime was dropped")
    }
}

impl std::error::Error for PostError {}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a sonic runtime.
    pub fn current() -> Handle {
        Handle::new(
            context::expect_current("sonic_rt::Handle::current")
                .shared
                .clone(),
        )
    }

    /// Runs `f` on the runtime's thread at its next turn. A panic in `f` is caught and reported
    /// on stderr; the runtime keeps running.
    ///
    /// `Ok` means `f` was queued, not that it will run: if the runtime is dropped before its
    /// next turn, the closures still queued are dropped without running (on the runtime's
    /// thread, while it drops). To know that `f` ran, have it send a message back. `Err` means
    /// the runtime was already dropped; `f` is dropped on this thread, not run.
    pub fn post<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<(), PostError> {
        self.shared
            .push(Remote::Run(Box::new(f)))
            .map_err(|_| PostError(()))
    }

    /// Spawns `future` on the runtime's thread, detached. To get its output back, send it over a
    /// channel from inside the future.
    ///
    /// The future must be `Send` to cross threads, and sonic's sockets and timers are not; to
    /// use them, build the future on the runtime's thread with [`Handle::spawn_with`].
    pub fn spawn<F>(&self, future: F) -> Result<(), PostError>
    where
        F: Future + Send + 'static,
    {
        self.post(move || drop(crate::spawn(future)))
    }

    /// Runs `make` on the runtime's thread and spawns the future it returns, detached. The
    /// future itself need not be `Send`, so it may use sonic timers and sockets.
    pub fn spawn_with<M, F>(&self, make: M) -> Result<(), PostError>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
    {
        self.post(move || drop(crate::spawn(make())))
    }

    /// Whether the runtime has been dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.is_closed())
            .finish()
    }
}
