//! The executor: task allocation, the local run queue and the task slab.
//!
//! Rules:
//! - The slab holds the executor's counted reference to every task that is not complete, so the
//!   run queue can hold plain pointers: a queued task is always in the slab.
//! - A task that completes while still queued (it woke itself, then returned `Ready`) stays in
//!   the slab until it is popped; then it is released.
//! - No borrow of the queue or the slab is held while user code runs (poll, drop, wake), so user
//!   code may spawn, wake and drop tasks freely.
//! - A task spawned on a `LocalSet` before any runtime was entered is *unbound*
//!   ([`spawn_unbound`]): its `LocalSet` holds the executor's reference, and the task is marked
//!   `SCHEDULED` (queued there) until [`Executor::adopt`] moves it into a slab and run queue.

pub(crate) mod budget;
pub(crate) mod cell;
pub(crate) mod join;
#[cfg(all(test, sonic_loom))]
mod loom_tests;
pub(crate) mod remote;
pub(crate) mod waker;

use crate::runtime::metrics::{PollTiming, RuntimeMetrics, SlowPoll, TaskCounters};
use crate::slab::{Key, Slab};
use crate::task::Id;
use cell::{raw, Header, StageLock, TaskRef, CANCELLED, COMPLETE, JOIN_INTEREST, SCHEDULED};
use join::JoinHandle;
use remote::Shared;
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

type Panic = Box<dyn Any + Send>;

/// The message of a panic payload, for reports on stderr.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string payload)")
}

pub(crate) struct Executor {
    queue: RefCell<VecDeque<NonNull<Header>>>,
    tasks: RefCell<Slab<TaskRef>>,
    budget: u32,
    /// Spawns, polls, completions (plain cells: owner thread only, see `runtime/metrics.rs`).
    counters: TaskCounters,
    /// Whether each task poll reads the clock (`timing.enabled()`, cached for the hot path).
    timed: bool,
    timing: PollTiming,
}

impl Executor {
    pub(crate) fn new(budget: u32, timing: PollTiming) -> Executor {
        Executor {
            queue: RefCell::new(VecDeque::with_capacity(256)),
            tasks: RefCell::new(Slab::with_capacity(256)),
            budget,
            counters: TaskCounters::default(),
            timed: timing.enabled(),
            timing,
        }
    }

    /// Copies the task counters into `out`.
    pub(crate) fn fill_metrics(&self, out: &mut RuntimeMetrics) {
        out.fill_tasks(&self.counters, self.timed);
        out.alive_tasks = self.live_tasks();
    }

    pub(crate) fn spawn<F>(
        &self,
        shared: &Arc<Shared>,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_with_id(shared, future, Id::next(), at)
    }

    /// [`Executor::spawn`] with an id chosen by the caller (a `Handle::spawn` from another
    /// thread hands out the id before the task exists).
    pub(crate) fn spawn_with_id<F>(
        &self,
        shared: &Arc<Shared>,
        future: F,
        id: Id,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::trace::spawn(id, at);
        let ptr = cell::allocate(future, Some(shared.clone()), id, at);
        // SAFETY: `allocate` counted two references: the slab takes one here, the JoinHandle
        // below the other; the new task is live and on its owner thread.
        unsafe {
            raw::header(ptr).set_state(SCHEDULED | JOIN_INTEREST);
            self.insert_queued(TaskRef::from_counted(ptr));
        }
        // SAFETY: a live task of output type `F::Output`, on its owner thread; the handle takes
        // the second reference and the JOIN_INTEREST set above.
        unsafe { JoinHandle::new(ptr) }
    }

    /// Takes an unbound task (see [`spawn_unbound`]) into this executor: binds it to this
    /// runtime, keeps `task` (the executor's reference) in the slab and queues it.
    ///
    /// # Safety
    /// `task` is the executor reference [`spawn_unbound`] returned, never adopted before, and
    /// this is its owner thread.
    pub(crate) unsafe fn adopt(&self, shared: &Arc<Shared>, task: TaskRef) {
        // SAFETY: caller's contract: an unbound task on its owner thread, so never queued or
        // polled and without wakers; `task` keeps it live.
        unsafe {
            raw::header(task.ptr()).bind(shared.clone());
            self.insert_queued(task);
        }
    }

    /// Puts `task` (the executor's reference) in the slab and on the run queue; the task's state
    /// already says `SCHEDULED`.
    ///
    /// # Safety
    /// `task` is a live task bound to this executor, on its owner thread, in neither the slab
    /// nor the queue.
    unsafe fn insert_queued(&self, task: TaskRef) {
        let ptr = task.ptr();
        let key = self.tasks.borrow_mut().insert(task);
        let Some(key) = key else {
            panic!("sonic-rt: more than 2^32 live tasks on one runtime");
        };
        // SAFETY: the slab keeps the task live; this is its owner thread.
        unsafe { raw::header(ptr) }.key.set(key);
        self.queue.borrow_mut().push_back(ptr);
        self.counters.spawned();
    }

    /// Drops a task's future now, as a `LocalSet` being dropped does to its tasks: a handle
    /// awaiting it gets a cancelled `JoinError`. A task that is complete already is left alone;
    /// a task whose poll is running now (the `LocalSet` is dropped by its own task) is aborted
    /// instead, and dropped when that poll returns.
    ///
    /// # Safety
    /// `ptr` is a task bound to this executor, the caller holds a reference to it, and this is
    /// its owner thread.
    pub(crate) unsafe fn cancel_now(&self, ptr: NonNull<Header>) {
        // SAFETY: caller's contract.
        let state = unsafe { raw::header(ptr) }.state();
        if state & COMPLETE != 0 {
            return;
        }
        // SAFETY: caller's contract.
        let Some(lock) = (unsafe { raw::lock_stage(ptr) }) else {
            // SAFETY: caller's contract.
            unsafe { join::abort_task(ptr) };
            return;
        };
        lock.cancel();
        // SAFETY: caller's contract; a task that is not complete is in this executor's slab
        // (module rules), unless `shutdown` has just drained it, where removing its stale key
        // does nothing.
        let panic = unsafe { finish(ptr, lock) };
        // SAFETY: as above.
        unsafe { self.release_unless_queued(ptr) };
        report_join_waker_panic(panic, "when a LocalSet dropped its task");
    }

    /// Queues a task on the owner thread unless it is queued or done already.
    ///
    /// # Safety
    /// `ptr` is a live task of this executor, this is its owner thread, and the caller holds a
    /// reference to it for the duration of the call.
    pub(crate) unsafe fn schedule_local(&self, ptr: NonNull<Header>) {
        // SAFETY: caller's contract.
        let header = unsafe { raw::header(ptr) };
        let state = header.state();
        if state & (SCHEDULED | COMPLETE) != 0 {
            return;
        }
        // A task that is not complete is in the slab, which keeps it live while it is queued.
        header.set_state(state | SCHEDULED);
        self.queue.borrow_mut().push_back(ptr);
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.queue.borrow().is_empty()
    }

    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Runs at most `max` of the tasks queued now; tasks woken meanwhile (a task that yields)
    /// wait for the next batch, after the reactor and timers had a turn. Returns how many ran.
    pub(crate) fn run_batch(&self, max: usize) -> usize {
        let max = max.min(self.queue.borrow().len());
        let mut ran = 0;
        while ran < max {
            let next = self.queue.borrow_mut().pop_front();
            let Some(ptr) = next else { break };
            // SAFETY: a queued task is in the slab (module rules), which keeps it live until
            // `run_task` itself releases it; owner thread.
            unsafe { self.run_task(ptr) };
            ran += 1;
        }
        ran
    }

    /// # Safety
    /// `ptr` was just popped from the run queue (so it is in the slab), on the owner thread.
    unsafe fn run_task(&self, ptr: NonNull<Header>) {
        // SAFETY: caller's contract.
        if let Some(slow) = unsafe { self.poll_task(ptr) } {
            self.report_slow(&slow);
        }
    }

    /// Polls (or drops, if aborted) a task just popped from the run queue. Returns the slow-poll
    /// report, if the poll was timed and slower than the threshold; it is delivered only after
    /// the task's completion was handled, outside every borrow and stage lock.
    ///
    /// # Safety
    /// As for `run_task`.
    unsafe fn poll_task(&self, ptr: NonNull<Header>) -> Option<SlowPoll> {
        // SAFETY: caller's contract.
        let header = unsafe { raw::header(ptr) };
        let state = header.state() & !SCHEDULED;
        header.set_state(state);
        if state & COMPLETE != 0 {
            // Completed while queued: the slab's reference goes now.
            self.release(header.key.get());
            return None;
        }
        // SAFETY: live (in the slab) and on the owner thread. The executor never re-enters a
        // task's poll, so the lock is free unless the task is complete, excluded above.
        let lock = (unsafe { raw::lock_stage(ptr) })?;
        if state & CANCELLED != 0 {
            lock.cancel();
            // SAFETY: as above.
            unsafe { self.finish_and_release(ptr, lock) };
            return None;
        }
        // SAFETY: the slab's reference outlives the poll; clones count their own.
        let waker = unsafe { waker::borrowed(ptr) };
        let mut cx = Context::from_waker(&waker);
        let _reset = budget::Reset(budget::set(self.budget));
        self.counters.polled();
        let _span = crate::trace::poll(header.id(), header.spawned_at());
        let (polled, slow) = if self.timed {
            let start = Instant::now();
            let polled = lock.poll(&mut cx);
            (polled, self.timed_poll(start, header))
        } else {
            (lock.poll(&mut cx), None)
        };
        if polled.is_pending() {
            if header.state() & CANCELLED == 0 {
                return slow;
            }
            // Aborted during its own poll: dropped now, not at its next wake.
            lock.cancel();
        }
        // SAFETY: as above.
        unsafe { self.finish_and_release(ptr, lock) };
        slow
    }

    /// [`Executor::finish`], then the slab's reference goes (unless the task is queued again).
    /// A join waker's panic is re-raised after that, so it surfaces from the loop (as any
    /// panic of a waker the runtime wakes) with the task already released.
    ///
    /// # Safety
    /// As for `finish`, and the task is in the slab.
    unsafe fn finish_and_release(&self, ptr: NonNull<Header>, lock: StageLock<'_>) {
        // SAFETY: caller's contract.
        let panic = unsafe { finish(ptr, lock) };
        // SAFETY: caller's contract.
        unsafe { self.release_unless_queued(ptr) };
        if let Some(panic) = panic {
            resume_unwind(panic);
        }
    }

    /// Releases a completed task unless it is queued again (it woke itself): then it is
    /// released when popped, so the queue never holds a freed task.
    ///
    /// # Safety
    /// `ptr` is a live task of this executor, in the slab, on its owner thread.
    unsafe fn release_unless_queued(&self, ptr: NonNull<Header>) {
        let (state, key) = {
            // SAFETY: caller's contract; the reference ends before the task may be freed.
            let header = unsafe { raw::header(ptr) };
            (header.state(), header.key.get())
        };
        if state & SCHEDULED == 0 {
            self.release(key);
        }
    }

    /// Records the duration of a poll of `header`'s task that started at `start`, and makes the
    /// slow-poll report if it took longer than the threshold.
    // Out of line: only timed runtimes call it.
    #[inline(never)]
    fn timed_poll(&self, start: Instant, header: &Header) -> Option<SlowPoll> {
        let duration = start.elapsed();
        self.counters
            .timed(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        match &self.timing.slow {
            Some((threshold, _)) if duration > *threshold => {
                self.counters.slow();
                Some(SlowPoll {
                    id: header.id(),
                    duration,
                    location: header.spawned_at(),
                })
            }
            _ => None,
        }
    }

    /// Calls the slow-poll callback. A panic in it is reported on stderr (as a posted closure's
    /// is): the loop goes on.
    #[cold]
    fn report_slow(&self, slow: &SlowPoll) {
        let Some((_, hook)) = &self.timing.slow else {
            return;
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| hook(slow))) {
            eprintln!(
                "sonic-rt: the on_slow_poll callback panicked: {}",
                panic_message(&*panic)
            );
        }
    }

    /// Drops the executor's reference to a completed task (which may free it).
    fn release(&self, key: Key) {
        let task = self.tasks.borrow_mut().remove(key);
        if task.is_some() {
            self.counters.completed();
        }
        drop(task);
    }

    /// Drops every task's future (and unclaimed output) on the owner thread. Tasks spawned by
    /// destructors while this runs are dropped too. Join wakers are woken: a handle polled
    /// after this gives a cancelled `JoinError`.
    pub(crate) fn shutdown(&self) {
        loop {
            self.queue.borrow_mut().clear();
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                let ptr = task.ptr();
                // SAFETY: `task` is the slab's reference, held until the end of this iteration;
                // owner thread.
                let header = unsafe { raw::header(ptr) };
                let state = header.state() & !SCHEDULED;
                header.set_state(state);
                // SAFETY: as above. The lock is free: shutdown runs outside every poll, and a
                // complete task's stage is only locked for a moment by handle code.
                if let Some(lock) = unsafe { raw::lock_stage(ptr) } {
                    if state & COMPLETE == 0 {
                        lock.cancel();
                        // SAFETY: as above. Shutdown runs in `Runtime::drop`, where a panic
                        // would abort if the thread is unwinding already: report it instead.
                        let panic = unsafe { finish(ptr, lock) };
                        report_join_waker_panic(panic, "at runtime shutdown");
                    } else if state & JOIN_INTEREST == 0 {
                        lock.drop_stage();
                    }
                }
                drop(task);
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The locked stage now holds the output (or an error): mark the task complete, unlock, and
/// hand the output to the JoinHandle or drop it.
///
/// # Safety
/// `ptr` is a live task on its owner thread, and `lock` is its stage lock.
///
/// A join waker that panics is caught, so the caller still releases the task; the payload is
/// returned for the caller to re-raise once it has.
#[must_use = "a join waker's panic must be re-raised or reported"]
unsafe fn finish(ptr: NonNull<Header>, lock: StageLock<'_>) -> Option<Panic> {
    // SAFETY: caller's contract.
    let header = unsafe { raw::header(ptr) };
    header.set_state(header.state() | COMPLETE);
    // Unlocked before any user code runs, so a join waker that polls or drops the handle
    // at once finds the output there.
    drop(lock);
    if header.state() & JOIN_INTEREST != 0 {
        let waker = header.take_join_waker()?;
        return catch_unwind(AssertUnwindSafe(|| waker.wake())).err();
    }
    // Nobody can want this output: `JOIN_INTEREST` never comes back once cleared.
    // SAFETY: as for `header`.
    if let Some(lock) = unsafe { raw::lock_stage(ptr) } {
        lock.drop_stage();
    }
    None
}

/// A task made before any runtime was entered (a `LocalSet`'s): it waits, queued in its
/// `LocalSet`, until the set is first driven and [`Executor::adopt`] binds it to that runtime.
/// Returns the executor's reference, which goes to `adopt` (or [`cancel_unbound`]), and the
/// handle. The task is marked `SCHEDULED` from the start, so an `abort` only marks it.
pub(crate) fn spawn_unbound<F>(
    future: F,
    at: &'static Location<'static>,
) -> (TaskRef, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let id = Id::next();
    crate::trace::spawn(id, at);
    let ptr = cell::allocate(future, None, id, at);
    // SAFETY: `allocate` counted two references, one for each value returned; the new task is
    // live, on this (its owner) thread, of output type `F::Output`.
    unsafe {
        raw::header(ptr).set_state(SCHEDULED | JOIN_INTEREST);
        (TaskRef::from_counted(ptr), JoinHandle::new(ptr))
    }
}

/// Drops the future of a task that was never adopted (its `LocalSet` is dropped before it was
/// driven): a handle awaiting it gets a cancelled `JoinError`. `task` is the executor's
/// reference from [`spawn_unbound`].
///
/// # Safety
/// `task` is the executor reference [`spawn_unbound`] returned, never adopted, and this is its
/// owner thread.
pub(crate) unsafe fn cancel_unbound(task: TaskRef) {
    let ptr = task.ptr();
    // SAFETY: caller's contract; `task` keeps the task live.
    let header = unsafe { raw::header(ptr) };
    let state = header.state() & !SCHEDULED;
    header.set_state(state);
    if state & COMPLETE == 0 {
        // SAFETY: as above. Never polled, so the lock is free unless its own destructor is
        // running, which cannot reach this reference.
        if let Some(lock) = unsafe { raw::lock_stage(ptr) } {
            lock.cancel();
            // SAFETY: as above.
            let panic = unsafe { finish(ptr, lock) };
            report_join_waker_panic(panic, "when a LocalSet dropped its task");
        }
    }
    drop(task);
}

/// Reports a join waker's panic where it cannot be re-raised (a destructor runs).
fn report_join_waker_panic(panic: Option<Panic>, when: &str) {
    if let Some(panic) = panic {
        eprintln!(
            "sonic-rt: a join waker panicked {when}: {}",
            panic_message(&*panic)
        );
    }
}

/// Polls a future that lives outside the task slab (the `block_on` future) with a budget.
pub(crate) fn poll_with_budget<F: Future + ?Sized>(
    future: std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
    budget: u32,
) -> Poll<F::Output> {
    let _reset = budget::Reset(budget::set(budget));
    future.poll(cx)
}
