//! `Handle`: the `Send` door into a runtime for other threads.

use crate::context;
use crate::executor::remote::{Remote, Shared};
use crate::runtime::RuntimeMetrics;
use crate::task::RemoteJoinHandle;
use std::fmt;
use std::future::Future;
use std::panic::Location;
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

/// [`Handle::try_current`] found no runtime on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl TryCurrentError {
    /// The call was made outside a runtime (the only reason sonic gives).
    pub fn is_missing_context(&self) -> bool {
        true
    }

    /// tokio's error for a call made while its thread-locals are being destroyed. sonic's
    /// runtime context is a plain thread-local pointer that is never destroyed: always `false`.
    pub fn is_thread_local_destroyed(&self) -> bool {
        false
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no sonic runtime running, must be called from inside one (block_on or a task)",
        )
    }
}

impl std::error::Error for TryCurrentError {}

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

    /// The handle of the runtime running on this thread, or an error outside a runtime. Never
    /// panics.
    ///
    /// # Examples
    /// ```
    /// assert!(sonic_rt::Handle::try_current().is_err());
    /// sonic_rt::block_on(async {
    ///     assert!(sonic_rt::Handle::try_current().is_ok());
    /// });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|core| match core {
            Some(core) => Ok(Handle::new(core.shared.clone())),
            None => Err(TryCurrentError(())),
        })
    }

    /// The runtime's id, unique in this process and never reused: tokio's `Handle::id`.
    ///
    /// # Examples
    /// ```
    /// let (a, b) = (sonic_rt::Runtime::new().unwrap(), sonic_rt::Runtime::new().unwrap());
    /// assert_eq!(a.handle().id(), a.handle().id());
    /// assert_ne!(a.handle().id(), b.handle().id());
    /// ```
    pub fn id(&self) -> crate::RuntimeId {
        self.shared.identity().id
    }

    /// The name given with [`Builder::name`](crate::Builder::name), if any: tokio's
    /// `Handle::name`.
    pub fn name(&self) -> Option<&str> {
        self.shared.identity().name.as_deref()
    }

    /// Always [`RuntimeFlavor::CurrentThread`](crate::RuntimeFlavor::CurrentThread): tokio's
    /// `Handle::runtime_flavor`, for code that checks it.
    pub fn runtime_flavor(&self) -> crate::RuntimeFlavor {
        crate::RuntimeFlavor::CurrentThread
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

    /// Spawns `future` on the runtime, from any thread, and returns a [`RemoteJoinHandle`] that
    /// can be awaited (on any thread, by any executor) for its output: tokio's `Handle::spawn`.
    ///
    /// On the runtime's own thread the task is spawned at once; from another thread it is
    /// handed over like [`Handle::post`] and spawned at the runtime's next turn. If the runtime
    /// is gone (or is dropped before the task runs), the future is dropped and awaiting the
    /// handle gives a cancelled `JoinError`, as in tokio.
    ///
    /// The future must be `Send` to cross threads, and sonic's sockets and timers are not; to
    /// use them, build the future on the runtime's thread with [`Handle::spawn_with`].
    ///
    /// # Examples
    /// ```
    /// let rt = sonic_rt::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let from_thread = std::thread::spawn(move || handle.spawn(async { "hi" }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(from_thread).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let at = Location::caller();
        let (task, handle) = crate::task::remote_pair(future);
        let mut task = Some(task);
        context::with_current(|core| match core {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => {
                if let Some(task) = task.take() {
                    let id = task.id();
                    drop(core.executor.spawn_with_id(&core.shared, task, id, at));
                }
            }
            _ => {}
        });
        if let Some(task) = task {
            // Runs on the runtime's thread, inside the runtime. A closure that never runs (the
            // runtime is gone, now or before its next turn) drops the task, which completes the
            // handle with a cancelled error.
            let spawn = move || {
                context::with_current(|core| {
                    if let Some(core) = core {
                        let id = task.id();
                        drop(core.executor.spawn_with_id(&core.shared, task, id, at));
                    }
                })
            };
            let _ = self.post(spawn);
        }
        handle
    }

    /// Runs `make` on the runtime's thread and spawns the future it returns, detached. The
    /// future itself need not be `Send`, so it may use sonic timers and sockets.
    #[track_caller]
    pub fn spawn_with<M, F>(&self, make: M) -> Result<(), PostError>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
    {
        let at = Location::caller();
        self.post(move || drop(crate::task::spawn_at(make(), at)))
    }

    /// A snapshot of the runtime's metrics (see [`RuntimeMetrics`]). On the runtime's own
    /// thread it is exact, as [`Runtime::metrics`](crate::Runtime::metrics); on another thread
    /// it is the copy the runtime published last (before its last blocking wait, at most 1024
    /// reactor turns ago, or when `block_on` last returned) with the remote queue's depth now.
    /// The runtime's counters are plain cells of its thread, so another thread never reads
    /// them directly.
    ///
    /// # Examples
    /// ```
    /// let rt = sonic_rt::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// rt.block_on(async { sonic_rt::spawn(async {}).await.unwrap() });
    /// let m = std::thread::spawn(move || handle.metrics()).join().unwrap();
    /// assert_eq!(m.spawned_tasks_count(), 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        let local = context::with_current(|core| match core {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => Some(core.metrics()),
            _ => None,
        });
        local.unwrap_or_else(|| self.shared.published())
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
