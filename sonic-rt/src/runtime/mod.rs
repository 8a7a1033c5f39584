//! The runtime: `Builder`, `Runtime`, `block_on` and the loop that drives tasks, timers and I/O.

mod builder;
pub(crate) mod core;
mod handle;
mod id;
pub(crate) mod metrics;

pub use builder::Builder;
pub use handle::{Handle, PostError, TryCurrentError};
pub(crate) use id::Identity;
pub use id::{Id, RuntimeFlavor};
pub use metrics::{RuntimeMetrics, SlowPoll};

use crate::context::{Enter, Running};
use crate::executor::remote::Shared;
use crate::executor::{self, join::JoinHandle};
use crate::loom::{AtomicBool, Ordering};
use core::Core;
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A single-thread runtime: an executor for `!Send` tasks, an epoll/kqueue reactor and a timer
/// queue, all owned by the thread that built it (`Runtime` is `!Send`).
///
/// Run it with [`Runtime::block_on`], or drive it by hand from your own loop with
/// [`Runtime::poll_once`], [`Runtime::run_one`], [`Runtime::run_one_for`] and
/// [`Runtime::run_pending`]. Dropping it drops every task (their destructors run).
///
/// # Examples
/// ```
/// let rt = sonic_rt::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let a = sonic_rt::spawn(async { 1 });
///     let b = sonic_rt::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(out, 3);
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

impl Runtime {
    /// A runtime with default options (see [`Builder::new`]).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    pub(crate) fn from_core(core: Rc<Core>) -> Runtime {
        Runtime { core }
    }

    /// Runs `future` to completion on this thread, running spawned tasks, timers and I/O
    /// meanwhile. Tasks still pending when it returns stay in the runtime.
    ///
    /// # Panics
    /// If called from inside a runtime (spawn the future instead), if `future` panics, or if the
    /// OS poller fails in a way no task could handle (`epoll_wait` returning `EBADF`).
    ///
    /// Also if a waker that the runtime wakes (for a readiness event, a timer or a yield)
    /// panics. The rest of that batch is still woken, the first panic is re-raised once the
    /// batch is done (as tokio lets it escape `block_on`, but without losing the other wakes;
    /// any further panics of the same batch are reported on stderr), and the runtime stays
    /// usable: a later `block_on` runs the woken tasks.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = Running::new();
        let _enter = Enter::new(&self.core);
        let core = &*self.core;
        let _driving = core.driving();
        let _publish = Publish(core);
        let mut future = pin!(future);
        let main = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            shared: core.shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let config = core.config();
        // Tasks run since the last reactor turn: while tasks keep waking each other the loop
        // stays in user space, but looks at I/O and timers at least every `event_interval`.
        let mut since_turn = 0usize;
        loop {
            if main.woken.swap(false, Ordering::Acquire) {
                since_turn += 1;
                if let Poll::Ready(out) =
                    executor::poll_with_budget(future.as_mut(), &mut cx, config.budget)
                {
                    return out;
                }
            }
            since_turn += core.executor.run_batch(config.event_interval);
            let runnable = core.executor.has_ready() || main.woken.load(Ordering::Relaxed);
            if runnable && since_turn < config.event_interval && !core.has_deferred() {
                continue;
            }
            let wait = core.wait(main.woken.load(Ordering::Relaxed), since_turn, None);
            if let Err(e) = core.turn(wait) {
                panic!("sonic-rt: the OS poller failed: {e}");
            }
            since_turn = 0;
        }
    }

    /// Spawns a task on this runtime (from outside it); it runs when the runtime next runs.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let at = std::panic::Location::caller();
        self.core.executor.spawn(&self.core.shared, future, at)
    }

    /// A `Send` handle for other threads.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared.clone())
    }

    /// Makes this the current runtime of the thread until the guard drops, so `spawn`,
    /// `Async::new` and timers work outside `block_on` (for loops driven by hand). As in tokio,
    /// guards nest (the runtime entered before is current again when a guard drops) and
    /// `block_on` works under one.
    ///
    /// # Examples
    /// ```
    /// let (a, b) = (sonic_rt::Runtime::new().unwrap(), sonic_rt::Runtime::new().unwrap());
    /// let _in_a = a.enter();
    /// {
    ///     let _in_b = b.enter();
    ///     assert_eq!(sonic_rt::Handle::current().id(), b.handle().id());
    /// }
    /// assert_eq!(sonic_rt::Handle::current().id(), a.handle().id());
    /// assert_eq!(a.block_on(async { 1 + 1 }), 2);
    /// ```
    ///
    /// # Panics
    /// When a guard is dropped while one created after it is still alive (tokio's rule).
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _enter: Enter::new(&self.core),
            _rt: PhantomData,
        }
    }

    /// One turn without blocking: runs ready tasks, polls the reactor with a zero timeout and
    /// fires due timers. Returns the amount of work done (tasks run + events + timers); zero means
    /// nothing was ready. The Go library's `PollOne`. It never blocks, whatever the loop mode.
    ///
    /// # Panics
    /// If a waker the runtime woke panicked (see [`Runtime::block_on`]); the runtime stays
    /// usable.
    pub fn poll_once(&self) -> io::Result<usize> {
        self.step(Some(Duration::ZERO))
    }

    /// One turn that waits until something happens (an event, a timer, a remote wake) if no
    /// task is ready. The Go library's `RunOne`.
    ///
    /// It waits the way the runtime's loop mode says: a busy-poll runtime keeps polling with a
    /// zero timeout (it never sleeps in the kernel, so the call spins until something
    /// happens); with `spin_before_park` it polls without sleeping for that long after the
    /// last work, then sleeps.
    pub fn run_one(&self) -> io::Result<usize> {
        self.step(None)
    }

    /// Like [`Runtime::run_one`], but waits at most `timeout` (spinning for it in busy-poll
    /// mode). The Go library's `RunOneFor`.
    pub fn run_one_for(&self, timeout: Duration) -> io::Result<usize> {
        self.step(Some(timeout))
    }

    /// Turns without blocking until a turn finds nothing ready. The Go library's `RunPending`.
    pub fn run_pending(&self) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.poll_once()?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    fn step(&self, limit: Option<Duration>) -> io::Result<usize> {
        let _running = Running::new();
        let _enter = Enter::new(&self.core);
        let core = &*self.core;
        let _driving = core.driving();
        let ran = core.executor.run_batch(core.config().event_interval);
        // Tasks ran: that is the "something happened" this call waits for, so only look.
        let wait = core.wait(ran > 0, ran, limit);
        let work = ran + core.turn(wait)?;
        if work > 0 || !wait.is_spin() || limit == Some(Duration::ZERO) {
            return Ok(work);
        }
        // Idle, and the wait policy says not to sleep (busy-poll, or spinning before park): a
        // call that may wait keeps turning until something happens or `limit` passes.
        let start = limit.map(|_| Instant::now());
        loop {
            let left = match (limit, start) {
                (Some(limit), Some(start)) => match limit.checked_sub(start.elapsed()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(0),
                },
                _ => None,
            };
            let wait = core.wait(false, 0, left);
            let work = core.turn(wait)?;
            if work > 0 || !wait.is_spin() {
                return Ok(work);
            }
        }
    }

    /// Shuts the runtime down: every task's future is dropped (on this thread, with the runtime
    /// entered, as when the runtime is dropped), then blocking jobs that are running
    /// ([`spawn_blocking`](crate::spawn_blocking), pool file I/O) are waited for at most
    /// `duration`; jobs still queued are dropped. tokio's `shutdown_timeout`: a job that
    /// outlives the wait keeps its thread until it returns, but nobody waits for it.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = sonic_rt::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     sonic_rt::spawn(std::future::pending::<()>());
    ///     drop(sonic_rt::spawn_blocking(|| std::thread::sleep(Duration::from_secs(5))));
    ///     sonic_rt::task::yield_now().await;
    /// });
    /// let start = std::time::Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(50)); // does not wait for the 5 s job
    /// assert!(start.elapsed() < Duration::from_secs(4));
    /// ```
    pub fn shutdown_timeout(self, duration: Duration) {
        {
            let _enter = Enter::new(&self.core);
            self.core.shutdown();
            self.core.shutdown_blocking(Some(duration));
        }
        // The drop that follows finds nothing left to wait for.
        drop(self);
    }

    /// Shuts the runtime down without waiting for blocking jobs: tokio's
    /// `shutdown_background`, [`Runtime::shutdown_timeout`] with a zero duration. Every task's
    /// future is dropped before it returns; running blocking jobs finish on their own threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// A snapshot of the runtime's metrics: tasks spawned and completed, polls and their
    /// durations, busy and parked time, reactor turns and events, remote wakes and posts,
    /// timers fired, and the gauges below (see [`RuntimeMetrics`]).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = sonic_rt::Runtime::new().unwrap();
    /// rt.block_on(sonic_rt::time::sleep(Duration::from_millis(1)));
    /// let m = rt.metrics();
    /// assert_eq!(m.timers_fired_count(), 1);
    /// assert!(m.park_count() >= 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.core.metrics()
    }

    /// Number of spawned tasks that have not completed.
    pub fn live_tasks(&self) -> usize {
        self.core.executor.live_tasks()
    }

    /// Number of timers waiting to fire (a leak check for code that drops sleeps).
    pub fn pending_timers(&self) -> usize {
        self.core.timers.borrow().len()
    }

    /// Number of fds registered with the reactor (a leak check for code that drops sockets).
    pub fn io_sources(&self) -> usize {
        self.core.reactor.borrow().source_count()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Task destructors may use the runtime (deregister sockets, cancel timers), so it is
        // entered while they run, even if another runtime is current.
        let _enter = Enter::new(&self.core);
        self.core.shutdown();
        // After the tasks: running blocking jobs are waited for (a no-op if a bounded shutdown
        // already ran), queued ones dropped.
        self.core.shutdown_blocking(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("live_tasks", &self.live_tasks())
            .field("io_sources", &self.io_sources())
            .field("pending_timers", &self.pending_timers())
            .finish()
    }
}

/// Publishes the metrics for other threads when `block_on` returns (or unwinds).
struct Publish<'a>(&'a Core);

impl Drop for Publish<'_> {
    fn drop(&mut self) {
        self.0.publish();
    }
}

/// Returned by [`Runtime::enter`].
pub struct EnterGuard<'a> {
    _enter: Enter,
    _rt: PhantomData<&'a Runtime>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

/// The waker of the `block_on` future: a flag, plus a reactor wake-up when set from elsewhere.
struct MainWake {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let local = crate::context::with_current(|core| {
            core.is_some_and(|core| Arc::ptr_eq(&core.shared, &self.shared))
        });
        if local {
            // The owner is running: `block_on` reads the flag before it next waits.
            self.woken.store(true, Ordering::Release);
        } else {
            self.shared.wake_root(&self.woken);
        }
    }
}

/// Runs `future` to completion on a new default runtime (see [`Runtime::block_on`]).
///
/// # Examples
/// ```
/// assert_eq!(sonic_rt::block_on(async { 6 * 7 }), 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    match Runtime::new() {
        Ok(rt) => rt.block_on(future),
        Err(e) => panic!("sonic_rt::block_on: cannot create the runtime: {e}"),
    }
}
