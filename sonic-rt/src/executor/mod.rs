//! The executor: task allocation, the local run queue and the task slab.
//!
//! Rules:
//! - The slab holds the executor's counted reference to every task that is not complete, so the
//!   run queue can hold plain pointers: a queued task is always in the slab.
//! - A task that completes while still queued (it woke itself, then returned `Ready`) stays in
//!   the slab until it is popped; then it is released.
//! - No borrow of the queue or the slab is held while user code runs (poll, drop, wake), so user
//!   code may spawn, wake and drop tasks freely.

pub(crate) mod budget;
pub(crate) mod cell;
pub(crate) mod join;
pub(crate) mod remote;
pub(crate) mod waker;

use crate::executor::remote::Shared;
use crate::slab::Slab;
use cell::{raw, Header, TaskRef, CANCELLED, COMPLETE, JOIN_INTEREST, RUNNING, SCHEDULED};
use join::JoinHandle;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) struct Executor {
    queue: RefCell<VecDeque<NonNull<Header>>>,
    tasks: RefCell<Slab<TaskRef>>,
    budget: u32,
}

impl Executor {
    pub(crate) fn new(budget: u32) -> Executor {
        Executor {
            queue: RefCell::new(VecDeque::with_capacity(256)),
            tasks: RefCell::new(Slab::with_capacity(256)),
            budget,
        }
    }

    pub(crate) fn spawn<F>(&self, shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let ptr = cell::allocate(future, shared.clone());
        let key = self.tasks.borrow_mut().insert(TaskRef::from_counted(ptr));
        let Some(key) = key else {
            panic!("sonic-rt: more than 2^32 live tasks on one runtime");
        };
        let header = raw::header(ptr);
        header.key.set(key);
        header.state.set(SCHEDULED | JOIN_INTEREST);
        self.queue.borrow_mut().push_back(ptr);
        JoinHandle::new(ptr)
    }

    /// Queues a task on the owner thread unless it is queued or done already.
    pub(crate) fn schedule_local(&self, ptr: NonNull<Header>) {
        let header = raw::header(ptr);
        let state = header.state.get();
        if state & (SCHEDULED | COMPLETE) != 0 {
            return;
        }
        header.state.set(state | SCHEDULED);
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
            self.run_task(ptr);
            ran += 1;
        }
        ran
    }

    fn run_task(&self, ptr: NonNull<Header>) {
        let header = raw::header(ptr);
        let state = header.state.get() & !SCHEDULED;
        if state & COMPLETE != 0 {
            header.state.set(state);
            self.release(ptr);
            return;
        }
        if state & CANCELLED != 0 {
            header.state.set(state);
            // SAFETY: owner thread, the task is live (in the slab) and not being polled.
            unsafe { raw::cancel(ptr) };
            self.complete(ptr);
            return;
        }
        header.state.set(state | RUNNING);
        let waker = waker::borrowed(ptr);
        let mut cx = Context::from_waker(&waker);
        let _reset = budget::Reset(budget::set(self.budget));
        // SAFETY: owner thread, live task, and RUNNING guards against re-entrant polls (a task
        // cannot reach its own cell except through wakers and handles, which never poll it).
        let poll = unsafe { raw::poll(ptr, &mut cx) };
        let state = header.state.get() & !RUNNING;
        header.state.set(state);
        match poll {
            Poll::Ready(()) => self.complete(ptr),
            Poll::Pending if state & CANCELLED != 0 => {
                // SAFETY: as above; the poll has returned.
                unsafe { raw::cancel(ptr) };
                self.complete(ptr);
            }
            Poll::Pending => {}
        }
    }

    /// The stage now holds the output (or an error): hand it to the JoinHandle or drop it.
    fn complete(&self, ptr: NonNull<Header>) {
        let header = raw::header(ptr);
        let state = header.state.get() | COMPLETE;
        header.state.set(state);
        if state & JOIN_INTEREST != 0 {
            // SAFETY: owner thread; no other borrow of the join waker is live.
            let waker = unsafe { raw::join_waker(ptr) }.take();
            if let Some(waker) = waker {
                waker.wake();
            }
        } else {
            // SAFETY: owner thread, live task, not being polled.
            unsafe { raw::drop_stage(ptr) };
        }
        if header.state.get() & SCHEDULED == 0 {
            self.release(ptr);
        }
    }

    /// Drops the executor's reference to a completed task.
    fn release(&self, ptr: NonNull<Header>) {
        let key = raw::header(ptr).key.get();
        let task = self.tasks.borrow_mut().remove(key);
        drop(task);
    }

    /// Drops every task's future (and unclaimed output) on the owner thread. Tasks spawned by
    /// destructors while this runs are dropped too.
    pub(crate) fn shutdown(&self) {
        loop {
            self.queue.borrow_mut().clear();
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                let ptr = task.ptr();
                let header = raw::header(ptr);
                let state = header.state.get() & !SCHEDULED;
                header.state.set(state | COMPLETE);
                if state & COMPLETE == 0 {
                    // SAFETY: owner thread, live task, not being polled (shutdown runs outside
                    // any poll).
                    unsafe { raw::cancel(ptr) };
                }
                if state & JOIN_INTEREST == 0 {
                    // SAFETY: as above.
                    unsafe { raw::drop_stage(ptr) };
                } else {
                    // SAFETY: owner thread.
                    let waker = unsafe { raw::join_waker(ptr) }.take();
                    drop(waker);
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

/// Polls a future that lives outside the task slab (the `block_on` future) with a budget.
pub(crate) fn poll_with_budget<F: Future + ?Sized>(
    future: std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
    budget: u32,
) -> Poll<F::Output> {
    let _reset = budget::Reset(budget::set(budget));
    future.poll(cx)
}
