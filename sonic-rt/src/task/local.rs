//! `LocalSet`: tokio's set of `!Send` tasks, over a runtime whose tasks are all local already.
//!
//! On sonic every task runs on the runtime's thread, so a `LocalSet` schedules nothing itself:
//! its tasks are ordinary runtime tasks that it keeps track of. What it adds is tokio's
//! observable behaviour: `task::spawn_local` inside it spawns into it; awaiting it waits until
//! all its tasks are done; dropping it drops their futures; and it can take tasks before any
//! runtime exists, which start when it is first driven.
//!
//! Rules:
//! - Every task of the set runs inside a [`LocalTask`] future, which makes the set current
//!   (for `task::spawn_local`) while the task's future is polled or dropped, and removes the task
//!   from the set when that future is done (returned, panicked, or dropped).
//! - A task spawned when no runtime is entered is *unbound* (executor rules): the set keeps the
//!   executor's reference in `unbound` until it is first driven (`run_until`, `block_on`,
//!   awaiting it) inside a runtime, which adopts it.
//! - The set remembers the runtime its tasks went to last, so that dropping the set can drop
//!   their futures there at once (entering it if another runtime, or none, is current). Tasks of
//!   a runtime that is gone were dropped with it; tasks of an earlier runtime are aborted.
//! - No borrow of the set's state is held while user code runs.

use super::waiter::Waiter;
use super::{AbortHandle, JoinHandle};
use crate::context::{self, Enter};
use crate::executor::cell::TaskRef;
use crate::executor::{cancel_unbound, spawn_unbound};
use crate::runtime::core::Core;
use crate::slab::{Key, Slab};
use crate::Runtime;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll};

thread_local! {
    /// The `LocalSet` that `task::spawn_local` spawns into, if any.
    static CURRENT: Cell<Option<Rc<Shared>>> = const { Cell::new(None) };
}

/// The current `LocalSet`, if any.
pub(crate) fn current() -> Option<Rc<Shared>> {
    // `try_with`: a set kept in a thread-local may be dropped after `CURRENT` was destroyed.
    CURRENT
        .try_with(|c| {
            let set = c.take();
            let out = set.clone();
            c.set(set);
            out
        })
        .ok()
        .flatten()
}

/// Makes a set current until dropped, then restores the previous one. Does nothing once the
/// thread-local is destroyed (thread exit), where no task can run anyway.
struct Entered(Option<Option<Rc<Shared>>>);

impl Entered {
    fn new(set: &Rc<Shared>) -> Entered {
        Entered(CURRENT.try_with(|c| c.replace(Some(set.clone()))).ok())
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            let _ = CURRENT.try_with(|c| drop(c.replace(prev)));
        }
    }
}

/// A set of tasks run on the current thread: tokio's `LocalSet`, for code that uses it.
///
/// Sonic's tasks need not be `Send` and every one runs on its runtime's thread, so a sonic
/// program needs no `LocalSet`: `sonic_rt::spawn` takes `!Send` futures anywhere. This type
/// keeps tokio code that uses one working unchanged:
///
/// - [`task::spawn_local`](crate::task::spawn_local) inside [`run_until`](LocalSet::run_until),
///   [`block_on`](LocalSet::block_on), [`enter`](LocalSet::enter), or a task of the set, spawns
///   into the set (and so does [`LocalSet::spawn_local`]);
/// - awaiting the set (`local.await`) waits until every task in it has finished;
/// - dropping the set drops the futures of its unfinished tasks at once (their `JoinHandle`s
///   then give a cancelled `JoinError`), as tokio's does;
/// - tasks may be spawned into a set before any runtime exists; they start when the set is
///   first driven inside one.
///
/// Where it differs: tokio runs a set's tasks only while the set is driven; here they are
/// runtime tasks, and once a runtime was current when they were spawned (or the set was driven
/// once) they run whenever the runtime runs, whether or not the set is being driven.
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use sonic_rt::task::{self, LocalSet};
///
/// let rt = sonic_rt::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// let data = Rc::new("not Send");
/// // Spawned before the set runs: it starts inside `block_on`.
/// let early = local.spawn_local({
///     let data = data.clone();
///     async move { data.len() }
/// });
/// let n = local.block_on(&rt, async move {
///     let late = task::spawn_local(async move { *data });
///     early.await.unwrap() + late.await.unwrap().len()
/// });
/// assert_eq!(n, 16);
/// ```
pub struct LocalSet {
    shared: Rc<Shared>,
}

/// The state of a set, reached by the set, its tasks and the thread-local `CURRENT`.
pub(crate) struct Shared {
    /// The tasks that have not finished, with a handle to cancel each (`None` while its spawn is
    /// in progress).
    tasks: RefCell<Slab<Option<AbortHandle>>>,
    /// Executor references of tasks spawned while no runtime was entered (module rules).
    unbound: RefCell<Vec<TaskRef>>,
    /// The runtime the set's tasks went to last.
    core: RefCell<Weak<Core>>,
    /// The party driving or awaiting the set: woken when the last task finishes, or when an
    /// unbound task is spawned (a pending `run_until` then binds it).
    waiter: Waiter,
    /// The set was dropped: a task spawned into it now is cancelled at once, as in tokio.
    closed: Cell<bool>,
}

impl Shared {
    /// Spawns `future` into this set: on the current runtime, or unbound if there is none.
    #[track_caller]
    pub(crate) fn spawn<F>(
        self: &Rc<Self>,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let Some(key) = self.tasks.borrow_mut().insert(None) else {
            panic!("LocalSet: more than 2^32 tasks in one set");
        };
        let task = LocalTask {
            future: Some(future),
            set: self.clone(),
            key,
            done: false,
        };
        let handle = match context::current() {
            Some(core) => {
                *self.core.borrow_mut() = Rc::downgrade(&core);
                core.executor.spawn(&core.shared, task, at)
            }
            None => {
                let (task, handle) = spawn_unbound(task, at);
                self.unbound.borrow_mut().push(task);
                self.waiter.wake();
                handle
            }
        };
        if let Some(slot) = self.tasks.borrow_mut().get_mut(key) {
            *slot = Some(handle.abort_handle());
        }
        if self.closed.get() {
            // Spawned by a destructor while the set is being dropped, or later by a task of it
            // that was running then: dropped at once, never polled.
            self.cancel_all();
        }
        handle
    }

    /// Hands the unbound tasks to the current runtime, if there is one.
    fn bind(&self) {
        if self.unbound.borrow().is_empty() {
            return;
        }
        let Some(core) = context::current() else {
            return;
        };
        *self.core.borrow_mut() = Rc::downgrade(&core);
        let tasks = std::mem::take(&mut *self.unbound.borrow_mut());
        for task in tasks {
            // SAFETY: `task` is the executor reference `spawn_unbound` returned, taken out of
            // `unbound`, so adopted once; the set is `!Send`, so this is the owner thread.
            unsafe { core.executor.adopt(&core.shared, task) };
        }
    }

    /// A task of the set is done.
    fn remove(&self, key: Key) {
        let handle = self.tasks.borrow_mut().remove(key);
        let empty = self.tasks.borrow().is_empty();
        drop(handle);
        if empty {
            self.waiter.wake();
        }
    }

    /// Drops the futures of every task of the set, including tasks spawned into it by the
    /// destructors this runs.
    fn cancel_all(&self) {
        loop {
            let unbound = std::mem::take(&mut *self.unbound.borrow_mut());
            let tasks = self.tasks.borrow_mut().drain();
            if unbound.is_empty() && tasks.is_empty() {
                return;
            }
            for task in unbound {
                // SAFETY: the executor reference `spawn_unbound` returned, taken out of
                // `unbound`, so never adopted; owner thread (the set is `!Send`).
                unsafe { cancel_unbound(task) };
            }
            let core = self.core.borrow().upgrade();
            for handle in tasks.into_iter().flatten() {
                cancel(&handle, core.as_ref());
            }
        }
    }
}

/// Drops the future of `task` now if it runs on `core` (a runtime that is alive), else aborts it.
fn cancel(task: &AbortHandle, core: Option<&Rc<Core>>) {
    if task.is_finished() {
        return;
    }
    let core = match (core, task.shared()) {
        (Some(core), Some(shared)) if Arc::ptr_eq(&core.shared, shared) => core,
        // Unbound tasks were cancelled above; a task of an earlier runtime is aborted there.
        _ => return task.abort(),
    };
    // Destructors may use the runtime (timers, sockets), so it is current while they run.
    let is_current = context::with_current(|c| c.is_some_and(|c| std::ptr::eq(c, &**core)));
    let _enter = (!is_current).then(|| Enter::new(core));
    // SAFETY: the task is bound to `core`'s executor (checked above), `task` holds a reference
    // to it, and the set is `!Send`, so this is the owner thread.
    unsafe { core.executor.cancel_now(task.raw()) };
}

pin_project_lite::pin_project! {
    /// The future a task of a set runs: the user's future, with the set current around it.
    struct LocalTask<F> {
        #[pin]
        future: Option<F>,
        set: Rc<Shared>,
        key: Key,
        done: bool,
    }

    impl<F> PinnedDrop for LocalTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if !*this.done {
                *this.done = true;
                let _remove = Remove { set: this.set, key: *this.key };
                let _entered = Entered::new(this.set);
                this.future.set(None);
            }
        }
    }
}

/// Removes a task from its set when dropped, even if dropping its future panics.
struct Remove<'a> {
    set: &'a Shared,
    key: Key,
}

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        self.set.remove(self.key);
    }
}

impl<F: Future> Future for LocalTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _entered = Entered::new(this.set);
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Pending;
        };
        let out = std::task::ready!(future.poll(cx));
        *this.done = true;
        let _remove = Remove {
            set: this.set,
            key: *this.key,
        };
        this.future.set(None);
        Poll::Ready(out)
    }
}

impl LocalSet {
    /// An empty set. Works outside a runtime.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Rc::new(Shared {
                tasks: RefCell::new(Slab::new()),
                unbound: RefCell::new(Vec::new()),
                core: RefCell::new(Weak::new()),
                waiter: Waiter::new(),
                closed: Cell::new(false),
            }),
        }
    }

    /// Makes this the set [`task::spawn_local`](crate::task::spawn_local) spawns into, until
    /// the guard is dropped. Works outside a runtime: tasks spawned then start when the set is
    /// first driven.
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _entered: Entered::new(&self.shared),
        }
    }

    /// Spawns `future` into the set. Inside a runtime it starts at the runtime's next turn;
    /// outside one, when the set is first driven (`run_until`, `block_on`, awaiting it).
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future, Location::caller())
    }

    /// [`LocalSet::spawn_local`] with the spawn location given (see `task::spawn_at`).
    pub(crate) fn spawn_local_at<F>(
        &self,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future, at)
    }

    /// Runs `future` on `rt` with this set current: `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    /// As [`Runtime::block_on`]: inside a runtime already, or if `future` panics.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Runs `future` with this set current, so `task::spawn_local` inside it spawns into the
    /// set; tasks spawned into the set before any runtime existed start now. Tasks of the set
    /// still running when `future` completes stay in the set.
    ///
    /// # Cancel safety
    /// Cancel safe when `future` is.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        RunUntil {
            set: &self.shared,
            future,
        }
        .await
    }
}

pin_project_lite::pin_project! {
    struct RunUntil<'a, F> {
        set: &'a Rc<Shared>,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = Entered::new(this.set);
        this.set.bind();
        // Woken if a task is spawned into the set while no runtime is entered, to bind it.
        this.set.waiter.register(cx.waker());
        this.future.poll(cx)
    }
}

/// Completes when every task of the set has finished (tasks spawned into it meanwhile
/// included). tokio's "awaiting a `LocalSet`".
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _entered = Entered::new(&self.shared);
        self.shared.bind();
        if self.shared.tasks.borrow().is_empty() {
            return Poll::Ready(());
        }
        self.shared.waiter.register(cx.waker());
        Poll::Pending
    }
}

/// Drops the futures of the tasks that have not finished, at once, with the set current (so
/// a destructor's `spawn_local` lands in the set and is dropped too).
impl Drop for LocalSet {
    fn drop(&mut self) {
        self.shared.closed.set(true);
        let _entered = Entered::new(&self.shared);
        self.shared.cancel_all();
        self.shared.waiter.clear();
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.tasks.borrow().len())
            .finish()
    }
}

/// Returned by [`LocalSet::enter`]: the set stays current until it is dropped.
pub struct LocalEnterGuard {
    _entered: Entered,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalEnterGuard")
    }
}
