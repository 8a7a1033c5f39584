//! `JoinSet`: a set of spawned tasks whose outputs are taken in the order they finish.
//!
//! Rules:
//! - Every task of a set runs inside a [`Member`] future that knows the set's [`Ready`] queue and
//!   its own key in the set. When the task's future is done (it returned, panicked, or was
//!   dropped by an abort or a runtime shutdown), the member pushes its key onto the queue,
//!   waking the set's waiter. `join_next` pops a key: it never scans the set, so a join
//!   costs the same with 10 tasks or 100,000.
//! - The push happens as the task finishes, before the executor marks it complete: only the
//!   destructor of the user's future runs in between. Should that destructor reach the set and
//!   pop the key, the task is not complete yet: the key goes back to the end of the queue and is
//!   looked at again on the next poll.
//! - Keys are generational, so the key of a task that left the set finds nothing. Each member
//!   carries the set's epoch from when it was spawned; `detach_all` and dropping the set start a
//!   new epoch, so tasks that no longer belong to the set do not fill its queue.
//! - No borrow of the queue is held while user code runs (a waker, a task's output being
//!   dropped).

use super::waiter::Waiter;
use super::{AbortHandle, Id, JoinError, JoinHandle, LocalSet};
use crate::executor::budget;
use crate::slab::{Key, Slab};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

/// A collection of spawned tasks, awaited in the order they finish. tokio's `JoinSet`.
///
/// All tasks have the same output type `T`. Dropping the set aborts every task still in it
/// (their futures are dropped the next time the runtime runs, as with [`JoinHandle::abort`]);
/// [`JoinSet::detach_all`] lets them run on instead.
///
/// Unlike tokio's, the tasks need not be `Send` (every sonic task is local), and the set itself
/// is `!Send`: it belongs to the runtime's thread.
///
/// Joining is wake-driven: a task that finishes puts itself on the set's ready queue, so
/// [`join_next`](JoinSet::join_next) takes the next output without looking at the tasks that
/// are still running. Once warmed up, spawning into a set and joining allocate nothing but the
/// task itself.
///
/// # Examples
/// ```
/// use sonic_rt::task::JoinSet;
///
/// sonic_rt::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10 {
///         set.spawn(async move { i * 2 });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 90);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    /// `None` only while a spawn is in progress (the member needs its key first).
    tasks: Slab<Option<JoinHandle<T>>>,
    ready: Rc<Ready>,
}

/// The part of a set its tasks reach: the keys of finished tasks, and the set's waiter.
struct Ready {
    keys: RefCell<VecDeque<Key>>,
    waiter: Waiter,
    epoch: Cell<u32>,
}

impl Ready {
    /// A member of `epoch` is done: queue its key and wake the set's waiter.
    fn push(&self, key: Key, epoch: u32) {
        if epoch != self.epoch.get() {
            return;
        }
        self.keys.borrow_mut().push_back(key);
        self.waiter.wake();
    }

    fn pop(&self) -> Option<Key> {
        self.keys.borrow_mut().pop_front()
    }

    /// Puts back a key just popped, to be looked at first next time.
    fn push_front(&self, key: Key) {
        self.keys.borrow_mut().push_front(key);
    }

    /// Puts back a key just popped, to be looked at after the others.
    fn push_back(&self, key: Key) {
        self.keys.borrow_mut().push_back(key);
    }

    /// Tasks spawned before this call no longer report here.
    fn new_epoch(&self) {
        self.epoch.set(self.epoch.get().wrapping_add(1));
        self.keys.borrow_mut().clear();
    }
}

pin_project_lite::pin_project! {
    /// The future a task of a set runs: the user's future, and the set's queue to report to.
    struct Member<F> {
        #[pin]
        future: F,
        ready: Rc<Ready>,
        key: Key,
        epoch: u32,
        reported: bool,
    }

    impl<F> PinnedDrop for Member<F> {
        fn drop(this: Pin<&mut Self>) {
            // Aborted, dropped at shutdown, or unwinding from a panic of the future: reported
            // before the future is dropped (right after this), which the rules allow for.
            let this = this.project();
            if !*this.reported {
                *this.reported = true;
                this.ready.push(*this.key, *this.epoch);
            }
        }
    }
}

impl<F: Future> Future for Member<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let out = ready!(this.future.poll(cx));
        *this.reported = true;
        this.ready.push(*this.key, *this.epoch);
        Poll::Ready(out)
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: Slab::new(),
            ready: Rc::new(Ready {
                keys: RefCell::new(VecDeque::new()),
                waiter: Waiter::new(),
                epoch: Cell::new(0),
            }),
        }
    }

    /// The number of tasks in the set, finished or not (a finished task leaves the set when its
    /// output is taken).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `task` on the current runtime and adds it to the set. It starts running at the
    /// runtime's next turn, whether or not the set is awaited. The returned [`AbortHandle`]
    /// aborts it.
    ///
    /// # Panics
    /// Outside a sonic runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(task, |member, at| crate::task::spawn_at(member, at))
    }

    /// Spawns `task` with [`spawn_local`](crate::task::spawn_local) and adds it to the set: onto
    /// the current [`LocalSet`] if there is one, else onto the current runtime.
    ///
    /// # Panics
    /// Outside both a `LocalSet` and a sonic runtime.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(task, |member, at| crate::task::spawn_local_at(member, at))
    }

    /// Runs `f` on the blocking pool (see [`spawn_blocking`](crate::spawn_blocking)) and adds
    /// its task to the set: tokio's `JoinSet::spawn_blocking`. Aborting it, or dropping the
    /// set, resolves the task at once; a job already running runs to its end, unseen.
    ///
    /// # Examples
    /// ```
    /// sonic_rt::block_on(async {
    ///     let mut set = sonic_rt::task::JoinSet::new();
    ///     for i in 0..3u64 {
    ///         set.spawn_blocking(move || i * 10);
    ///     }
    ///     let mut sum = 0;
    ///     while let Some(res) = set.join_next().await {
    ///         sum += res.unwrap();
    ///     }
    ///     assert_eq!(sum, 30);
    /// });
    /// ```
    ///
    /// # Panics
    /// Outside a sonic runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.spawn(crate::blocking::blocking_job(f))
    }

    /// Spawns `task` on `local_set` (see [`LocalSet::spawn_local`]) and adds it to the set.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, task: F, local_set: &LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(task, |member, at| local_set.spawn_local_at(member, at))
    }

    /// Spawns `task` wrapped in a [`Member`] through `spawn`, which is handed the caller's
    /// location (the user's spawn site: every caller is a `#[track_caller]` public spawn).
    #[track_caller]
    fn insert<F>(
        &mut self,
        task: F,
        spawn: impl FnOnce(Member<F>, &'static Location<'static>) -> JoinHandle<T>,
    ) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let at = Location::caller();
        let Some(key) = self.tasks.insert(None) else {
            panic!("JoinSet: more than 2^32 tasks in one set");
        };
        // Frees the reserved key if `spawn` panics (outside a runtime).
        struct Reserved<'a, T> {
            tasks: &'a mut Slab<Option<JoinHandle<T>>>,
            key: Key,
        }
        impl<T> Drop for Reserved<'_, T> {
            fn drop(&mut self) {
                if let Some(None) = self.tasks.get(self.key) {
                    self.tasks.remove(self.key);
                }
            }
        }
        let reserved = Reserved {
            tasks: &mut self.tasks,
            key,
        };
        let handle = spawn(
            Member {
                future: task,
                ready: self.ready.clone(),
                key,
                epoch: self.ready.epoch.get(),
                reported: false,
            },
            at,
        );
        let abort = handle.abort_handle();
        if let Some(slot) = reserved.tasks.get_mut(key) {
            *slot = Some(handle);
        }
        std::mem::forget(reserved);
        abort
    }

    /// Waits for a task of the set to finish and returns its output, or `None` if the set is
    /// empty. A task that panicked or was aborted gives an `Err`.
    ///
    /// # Cancel safety
    /// Cancel safe: dropped before it completes (in a `select!` branch that lost), it removed no
    /// task from the set.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`JoinSet::join_next`], with the [`Id`] of the task that finished. For an `Err`, the id
    /// is [`JoinError::id`].
    ///
    /// # Cancel safety
    /// Cancel safe, as `join_next`.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Takes the output of a task that has finished, without waiting: `None` if no task has
    /// finished yet, or the set is empty. Spends no cooperative budget.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|res| res.map(|(_, output)| output))
    }

    /// [`JoinSet::try_join_next`], with the [`Id`] of the task that finished.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        // Each queued key is looked at once at most: one not complete yet goes to the back.
        let queued = self.ready.keys.borrow().len();
        budget::with_unconstrained(|| {
            for _ in 0..queued {
                if let Poll::Ready(res) = self.take_front(&mut cx) {
                    return res;
                }
            }
            None
        })
    }

    /// Aborts every task and waits until all of them have stopped. The set is empty when this
    /// returns; outputs and panics of tasks that finished meanwhile are dropped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in the order they finished.
    ///
    /// # Panics
    /// If a task panicked (the panic is resumed here) or was aborted; the tasks still in the set
    /// are then aborted, as the set is dropped.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("{err}"),
            }
        }
        outputs
    }

    /// Aborts every task of the set. They stay in the set: `join_next` then gives a cancelled
    /// `JoinError` for each one that had not finished.
    pub fn abort_all(&mut self) {
        for handle in self.tasks.iter().flatten() {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on, detached, and their
    /// outputs are dropped.
    pub fn detach_all(&mut self) {
        self.ready.new_epoch();
        drop(self.tasks.drain());
    }

    /// Polls for the next task to finish (the poll form of [`JoinSet::join_next`]).
    ///
    /// `Ready(Some(..))` removes that task from the set; `Ready(None)` means the set is empty;
    /// `Pending` means no task has finished, and the waker of `cx` (only the most recent one) is
    /// woken when one does. Like tokio's, it may return `Pending` when an output is ready but
    /// the task's cooperative budget is spent (it is then scheduled again at once).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|res| res.map(|res| res.map(|(_, output)| output)))
    }

    /// [`JoinSet::poll_join_next`], with the [`Id`] of the task that finished.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        match self.take_front(cx) {
            Poll::Ready(Some(res)) => Poll::Ready(Some(res)),
            Poll::Ready(None) if self.is_empty() => Poll::Ready(None),
            Poll::Ready(None) => {
                self.ready.waiter.register(cx.waker());
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Takes the output of the task whose key is at the front of the queue. `Ready(None)`: the
    /// queue is empty. `Pending`: the budget is spent, or that task is not complete yet (its key
    /// went to the back); the waker of `cx` was woken.
    fn take_front(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(Id, T), JoinError>>> {
        loop {
            let Some(key) = self.ready.pop() else {
                return Poll::Ready(None);
            };
            let Some(Some(handle)) = self.tasks.get_mut(key) else {
                // A task that left the set (`detach_all`) or a spawn that failed.
                continue;
            };
            if !handle.is_finished() {
                self.ready.push_back(key);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if budget::poll_proceed(cx).is_pending() {
                self.ready.push_front(key);
                return Poll::Pending;
            }
            let id = handle.id();
            // Complete, so this reads the output at once and registers no waker.
            let Poll::Ready(res) = Pin::new(handle).poll(cx) else {
                self.ready.push_back(key);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            };
            // The handle has given its output: dropping it frees the task.
            drop(self.tasks.remove(key));
            return Poll::Ready(Some(res.map(|output| (id, output))));
        }
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.ready.new_epoch();
        self.ready.waiter.clear();
        let tasks = self.tasks.drain();
        for handle in tasks.iter().flatten() {
            handle.abort();
        }
        drop(tasks);
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Spawns every future of the iterator into a new set (see [`JoinSet::spawn`]).
///
/// # Panics
/// Outside a sonic runtime.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
    T: 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future of the iterator into the set (see [`JoinSet::spawn`]).
///
/// # Panics
/// Outside a sonic runtime.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
    T: 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for task in iter {
            self.spawn(task);
        }
    }
}
