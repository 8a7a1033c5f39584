//! The task cell: one heap allocation holding a header, then the future or its output.
//!
//! Rules (who may touch what):
//! - `refs` and `shared` may be touched from any thread: wakers are `Send + Sync`, so a clone, a
//!   drop or a wake can come from anywhere. `refs` is atomic; `shared` never changes.
//! - Everything else (`state`, `key`, `join_waker`, the stage) is touched only on the runtime's
//!   own thread. A wake from another thread never touches it: it sends a counted reference through
//!   the runtime's remote queue, and the owner thread does the rest.
//! - The future (and a non-`Send` output) is dropped only on the owner thread: when the task
//!   completes, is aborted, when its `JoinHandle` drops the output, or at runtime shutdown. So
//!   when the last reference goes away, possibly on another thread, the stage is already
//!   `Consumed` (or holds only a `Send` `JoinError`) and freeing the memory runs no user code.
//! - The future never moves: it is pinned inside the cell until dropped in place.

use super::join::JoinError;
use crate::executor::remote::Shared;
use crate::slab::Key;
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The task is in the local run queue.
pub(crate) const SCHEDULED: u8 = 1 << 0;
/// The task's future is being polled.
pub(crate) const RUNNING: u8 = 1 << 1;
/// The future is gone: the output (or error) is stored or already taken.
pub(crate) const COMPLETE: u8 = 1 << 2;
/// `abort` was called; the next time the executor sees the task it drops the future.
pub(crate) const CANCELLED: u8 = 1 << 3;
/// A `JoinHandle` exists and wants the output.
pub(crate) const JOIN_INTEREST: u8 = 1 << 4;

pub(crate) struct Vtable {
    /// Polls the future; on completion stores the output and returns `Ready`.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drops the future in place and stores a cancellation error.
    cancel: unsafe fn(NonNull<Header>),
    /// Drops whatever the stage holds and leaves it `Consumed`.
    drop_stage: unsafe fn(NonNull<Header>),
    /// Moves a finished output into `*mut Poll<Result<T, JoinError>>`.
    read_output: unsafe fn(NonNull<Header>, *mut ()),
    dealloc: unsafe fn(NonNull<Header>),
}

#[repr(C)]
pub(crate) struct Header {
    refs: AtomicUsize,
    vtable: &'static Vtable,
    shared: Arc<Shared>,
    pub(crate) state: Cell<u8>,
    pub(crate) key: Cell<Key>,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// Allocates a task with two references (the executor's and the `JoinHandle`'s).
pub(crate) fn allocate<F: Future + 'static>(future: F, shared: Arc<Shared>) -> NonNull<Header> {
    let cell = Box::new(TaskCell {
        header: Header {
            refs: AtomicUsize::new(2),
            vtable: &TaskCell::<F>::VTABLE,
            shared,
            state: Cell::new(0),
            key: Cell::new(Key {
                index: 0,
                generation: 0,
            }),
            join_waker: UnsafeCell::new(None),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // `TaskCell` is `repr(C)` with the header first, so the cell pointer is a header pointer.
    NonNull::from(Box::leak(cell)).cast()
}

impl<F: Future + 'static> TaskCell<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        cancel: Self::cancel,
        drop_stage: Self::drop_stage,
        read_output: Self::read_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `ptr` is a live task of this type, on its owner thread, with no other borrow of the stage.
    unsafe fn stage(ptr: NonNull<Header>) -> *mut Stage<F> {
        // SAFETY: the header is the first field of a repr(C) TaskCell<F> (caller's contract).
        unsafe { (*ptr.cast::<TaskCell<F>>().as_ptr()).stage.get() }
    }

    /// Drops the stage in place, catching a panicking destructor, and leaves `Consumed`.
    ///
    /// # Safety
    /// As for [`Self::stage`].
    unsafe fn replace_stage(ptr: NonNull<Header>, with: Stage<F>) -> Option<Box<dyn Any + Send>> {
        // SAFETY: caller's contract; the stage is valid and dropped exactly once, in place, so a
        // pinned future is never moved. If its destructor panics, drop glue has still dropped
        // every field, so writing the new value over it does not leak or double-drop.
        unsafe {
            let stage = Self::stage(ptr);
            let panic = catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(stage))).err();
            ptr::write(stage, with);
            panic
        }
    }

    unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the executor calls this on the owner thread with a live task.
        let stage = unsafe { &mut *Self::stage(ptr) };
        let Stage::Running(future) = stage else {
            return Poll::Ready(());
        };
        // SAFETY: the future lives in the heap cell and is only ever dropped in place.
        let future = unsafe { Pin::new_unchecked(future) };
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // SAFETY: as above; the borrow of the future ended with the poll.
        let drop_panic = unsafe { Self::replace_stage(ptr, Stage::Consumed) };
        let result = match (result, drop_panic) {
            (Ok(_), Some(payload)) => Err(JoinError::panic(payload)),
            (result, _) => result,
        };
        // SAFETY: as above; the stage is `Consumed`, so overwriting it drops nothing.
        unsafe { ptr::write(Self::stage(ptr), Stage::Finished(result)) };
        Poll::Ready(())
    }

    unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: owner thread, live task (executor's contract).
        let panic = unsafe { Self::replace_stage(ptr, Stage::Consumed) };
        let err = match panic {
            Some(payload) => JoinError::panic(payload),
            None => JoinError::cancelled(),
        };
        // SAFETY: as above; the stage is `Consumed`.
        unsafe { ptr::write(Self::stage(ptr), Stage::Finished(Err(err))) };
    }

    unsafe fn drop_stage(ptr: NonNull<Header>) {
        // SAFETY: owner thread, live task (caller's contract). A panic in an output's destructor
        // is swallowed: there is nobody left to report it to.
        drop(unsafe { Self::replace_stage(ptr, Stage::Consumed) });
    }

    unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: owner thread, live task; `dst` points at a `Poll<Result<F::Output, JoinError>>`
        // (the JoinHandle<F::Output> that calls this was created for this very task type).
        unsafe {
            let stage = &mut *Self::stage(ptr);
            if let Stage::Finished(_) = stage {
                if let Stage::Finished(out) = std::mem::replace(stage, Stage::Consumed) {
                    *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(out);
                }
            }
        }
    }

    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the last reference is gone, so nothing else can reach the cell; it was made
        // by `Box::new` in `allocate`. The stage is `Consumed` or a `Send` error (module rules),
        // so this may run on any thread.
        drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
    }
}

/// Operations on a task through its header pointer.
///
/// Every function takes a pointer to a live task: one for which the caller holds a reference
/// (a `TaskRef`, a waker, a `JoinHandle`) or which the executor's slab keeps alive.
pub(crate) mod raw {
    use super::*;

    pub(crate) fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
        // SAFETY: module contract: the task is live. Off the owner thread only the atomic
        // `refs` and the immutable `shared` are read through this reference.
        unsafe { ptr.as_ref() }
    }

    pub(crate) fn ref_inc(ptr: NonNull<Header>) {
        let old = header(ptr).refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
    }

    pub(crate) fn ref_dec(ptr: NonNull<Header>) {
        if header(ptr).refs.fetch_sub(1, Ordering::Release) == 1 {
            fence(Ordering::Acquire);
            let dealloc = header(ptr).vtable.dealloc;
            // SAFETY: that was the last reference.
            unsafe { dealloc(ptr) };
        }
    }

    pub(crate) fn shared<'a>(ptr: NonNull<Header>) -> &'a Arc<Shared> {
        &header(ptr).shared
    }

    /// # Safety
    /// Owner thread only, and not re-entrantly (not from inside the task's own poll).
    pub(crate) unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: forwarded contract.
        unsafe { (header(ptr).vtable.poll)(ptr, cx) }
    }

    /// # Safety
    /// Owner thread only, not from inside the task's own poll.
    pub(crate) unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: forwarded contract.
        unsafe { (header(ptr).vtable.cancel)(ptr) }
    }

    /// # Safety
    /// Owner thread only, not from inside the task's own poll.
    pub(crate) unsafe fn drop_stage(ptr: NonNull<Header>) {
        // SAFETY: forwarded contract.
        unsafe { (header(ptr).vtable.drop_stage)(ptr) }
    }

    /// # Safety
    /// Owner thread only; `dst` points at a `Poll<Result<T, JoinError>>` for the task's `T`.
    pub(crate) unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: forwarded contract.
        unsafe { (header(ptr).vtable.read_output)(ptr, dst) }
    }

    /// # Safety
    /// Owner thread only.
    pub(crate) unsafe fn join_waker<'a>(ptr: NonNull<Header>) -> &'a mut Option<Waker> {
        // SAFETY: the join waker is touched only on the owner thread, never re-entrantly.
        unsafe { &mut *header(ptr).join_waker.get() }
    }
}

/// A counted reference to a task. Dropping it releases the reference.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: off the owner thread a TaskRef only changes the atomic count or reads the immutable
// `shared` pointer (module rules); the last release frees memory that holds no non-Send value.
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// Takes over one reference the caller already counted.
    pub(crate) fn from_counted(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.0
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        raw::ref_dec(self.0);
    }
}
