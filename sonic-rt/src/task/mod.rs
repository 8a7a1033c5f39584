//! Tasks: spawning, joining, aborting and yielding; `JoinSet`, `LocalSet`, task-local values and
//! the cooperative budget.

pub mod coop;
mod id;
mod join_set;
mod local;
mod remote;
mod task_local;
mod waiter;

pub use crate::blocking::spawn_blocking;
pub use crate::executor::join::{AbortHandle, JoinError, JoinHandle};
pub use coop::{unconstrained, Unconstrained};
pub(crate) use id::CurrentTask;
pub use id::{id, try_id, Id};
pub use join_set::JoinSet;
pub use local::{LocalEnterGuard, LocalSet};
pub(crate) use remote::pair as remote_pair;
pub use remote::RemoteJoinHandle;
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

use crate::context;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spawns a task on the current runtime. The future need not be `Send`: it runs on this thread.
///
/// The task starts on the runtime's next turn. Await the returned [`JoinHandle`] for its output;
/// drop the handle to let it run detached.
///
/// # Panics
/// Outside a sonic runtime (not inside `block_on` or a task).
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// sonic_rt::block_on(async {
///     let shared = Rc::new(5); // !Send is fine
///     let s = shared.clone();
///     let h = sonic_rt::spawn(async move { *s * 2 });
///     assert_eq!(h.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, Location::caller())
}

/// [`spawn`], recording `at` as the spawn location (for callers that cannot pass theirs
/// through `#[track_caller]`: a closure in between).
#[track_caller]
pub(crate) fn spawn_at<F>(future: F, at: &'static Location<'static>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_current(|core| match core {
        Some(core) => core.executor.spawn(&core.shared, future, at),
        None => panic!(
            "sonic_rt::spawn must be called from inside a sonic runtime (block_on or a task)"
        ),
    })
}

/// Spawns a `!Send` task: into the current [`LocalSet`] if there is one (inside its
/// `run_until`, `block_on` or `enter`, or one of its tasks), else on the current runtime, like
/// [`spawn`].
///
/// tokio panics when there is no `LocalSet` (or local runtime); every sonic runtime runs `!Send`
/// tasks, so sonic spawns on the runtime instead. Only outside both a `LocalSet` and a runtime
/// does it panic.
///
/// # Panics
/// Outside both a `LocalSet` and a sonic runtime.
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use sonic_rt::task::{self, LocalSet};
///
/// sonic_rt::block_on(async {
///     let local = LocalSet::new();
///     let shared = Rc::new(3);
///     let n = local
///         .run_until(async move { task::spawn_local(async move { *shared * 2 }).await.unwrap() })
///         .await;
///     assert_eq!(n, 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_at(future, Location::caller())
}

/// [`spawn_local`] with the spawn location given (see [`spawn_at`]).
#[track_caller]
pub(crate) fn spawn_local_at<F>(future: F, at: &'static Location<'static>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if let Some(set) = local::current() {
        return set.spawn(future, at);
    }
    context::with_current(|core| match core {
        Some(core) => core.executor.spawn(&core.shared, future, at),
        None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or a sonic runtime \
             (block_on or a task)"
        ),
    })
}

/// Spends one unit of the task's cooperative budget, yielding first if it is used up.
///
/// Every sonic I/O operation does this already; call it in a loop that does a lot of work
/// without I/O (or with I/O that never blocks) so it cannot starve other tasks and timers.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     for _ in 0..1000 {
///         sonic_rt::task::consume_budget().await; // yields every 128 iterations
///     }
/// });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(poll_proceed).await
}

/// The poll form of [`consume_budget`], for hand-written futures: `Ready` spends one unit;
/// `Pending` means the budget is used up and the task has been scheduled to run again.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    crate::executor::budget::poll_proceed(cx)
}

/// Yields once to the runtime: other ready tasks, timers and I/O events get their turn before
/// this task runs again.
///
/// As with tokio's `yield_now`, the task is woken only after the next reactor turn, so it runs
/// after every task that was ready when it yielded and every task woken meanwhile (by another
/// task, an I/O event or a timer).
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     sonic_rt::task::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken only after the next reactor turn, so I/O and timers are looked at before this
        // task runs again (outside a runtime: at once).
        context::with_current(|core| match core {
            Some(core) => core.defer(cx.waker()),
            None => cx.waker().wake_by_ref(),
        });
        Poll::Pending
    }
}
