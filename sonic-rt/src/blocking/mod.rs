//! Blocking work off the runtime's thread: [`spawn_blocking`] and the per-runtime pool behind it.
//!
//! A sonic runtime is one thread; a call that blocks in the kernel (a file read, `getaddrinfo`,
//! a CPU-heavy computation) stalls every task on it. `spawn_blocking` runs such a closure on a
//! pool thread and hands its result back to the awaiting task through the runtime's remote wake
//! path, so the loop never polls for it and sleeps meanwhile if it has nothing else to do.
//!
//! The pool is per runtime, bounded ([`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads),
//! 512 by default as in tokio), and its threads exit after
//! [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive) idle (10 s by default).
//! They are not pinned to the runtime's core: with `pin_to_core`, they run on the CPUs the
//! building thread had before it was pinned.
//!
//! Shutdown follows tokio: dropping the runtime drops queued jobs that have not started and
//! waits for the running ones to return (a job that never returns blocks the drop, as in
//! tokio; bound the wait with the runtime's `shutdown_timeout`).

mod pool;
pub(crate) mod slot;

pub(crate) use pool::{affinity, BlockingPool, Job, PoolConfig};

use crate::context;
use crate::executor::join::JoinHandle;
use slot::{Dropped, Panic};
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `f` on the runtime's blocking pool and returns a handle to await its result.
///
/// Use it for work that blocks the thread: file and other syscalls that may sleep, a C library
/// call, a long computation. The runtime's thread goes on running tasks meanwhile; when `f`
/// returns, the awaiting task is woken through the runtime's cross-thread wake path.
///
/// The handle is an ordinary [`JoinHandle`]: awaiting it gives `Ok(value)`, or a
/// [`JoinError`](crate::task::JoinError) whose `is_panic()` is true if `f` panicked (the panic
/// payload is kept, as with a task). Dropping the handle detaches the job; it still runs.
/// `abort()` before the job started keeps it from starting; once it runs it cannot be stopped
/// (a thread cannot be interrupted), but the handle then resolves to a cancelled `JoinError`
/// at once (tokio's still waits for the value).
///
/// # Panics
/// Outside a sonic runtime; or if the pool has no thread and the OS refuses to start one.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let sum = sonic_rt::blocking::spawn_blocking(|| (1..=100u32).sum::<u32>());
///     assert_eq!(sum.await.unwrap(), 5050);
///
///     let boom = sonic_rt::blocking::spawn_blocking(|| -> u32 { panic!("boom") });
///     assert!(boom.await.unwrap_err().is_panic());
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    crate::task::spawn(blocking_job(f))
}

/// Starts `f` on the blocking pool and returns the future of its result, for a task to await:
/// what [`spawn_blocking`] spawns (and `JoinSet::spawn_blocking`). A panic of `f` resumes in
/// the awaiting task, so its join handle reports it.
///
/// # Panics
/// Outside a sonic runtime.
pub(crate) fn blocking_job<F, R>(f: F) -> impl Future<Output = R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let op = match Blocking::start(f, false) {
        Ok(op) => op,
        Err(e) => panic!("sonic_rt::spawn_blocking: {e}"),
    };
    async move {
        match op.await {
            Ok(value) => value,
            Err(Failed::Panicked(panic)) => resume_unwind(panic),
            Err(Failed::Dropped) => {
                panic!("the blocking job was dropped unrun: its runtime shut down")
            }
        }
    }
}

/// Why a blocking job gave no value.
pub(crate) enum Failed {
    /// It panicked; the payload.
    Panicked(Panic),
    /// It was dropped without running (the pool shut down).
    Dropped,
}

impl Failed {
    /// As an `io::Error`, for the I/O APIs built on the pool.
    pub(crate) fn into_io(self) -> io::Error {
        match self {
            Failed::Panicked(p) => io::Error::other(format!(
                "a blocking I/O job panicked: {}",
                crate::executor::panic_message(&*p)
            )),
            Failed::Dropped => io::Error::other("the runtime's blocking pool shut down"),
        }
    }
}

/// A job running on the current runtime's pool, awaited in place (no task of its own). Dropping
/// it before the job starts keeps it from starting.
pub(crate) struct Blocking<T> {
    rx: slot::Receiver<T>,
}

impl<T: Send + 'static> Blocking<T> {
    /// Queues `f` on the current runtime's pool. `mandatory` jobs still run if the runtime shuts
    /// down before they start (file writes: data handed to a write is not dropped).
    pub(crate) fn start<F>(f: F, mandatory: bool) -> io::Result<Blocking<T>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let core = context::expect_current("sonic_rt::spawn_blocking");
        let (tx, rx) = slot::channel();
        let run = Box::new(move || {
            if !mandatory && tx.is_abandoned() {
                return;
            }
            tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        match core.blocking.spawn(Job::new(run, mandatory)) {
            Ok(()) => Ok(Blocking { rx }),
            Err((job, e)) => {
                drop(job);
                Err(e)
            }
        }
    }
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, Failed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|res| match res {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(p)) => Err(Failed::Panicked(p)),
            Err(Dropped) => Err(Failed::Dropped),
        })
    }
}

/// Runs `f` on the pool and gives its `io::Result`, a panic or an unrun job mapped to `io::Error`.
pub(crate) async fn run_io<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    Blocking::start(f, false)?.await.map_err(Failed::into_io)?
}
