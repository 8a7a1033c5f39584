//! The task waker: a `RawWaker` over the task pointer, counted by the task's atomic `refs`.
//!
//! A wake on the runtime's own thread pushes the task onto the local run queue: no lock, no
//! syscall. A wake from anywhere else sends a counted reference through the remote queue, which
//! wakes a sleeping reactor. Every `RawWaker` with [`VTABLE`] holds one counted reference to a
//! live task (or, for [`borrowed`], borrows one), which is what the four entries rely on.

use super::cell::{raw, Header, TaskRef};
use crate::context;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety
/// `data` is the data pointer of a `RawWaker` made with [`VTABLE`].
unsafe fn ptr_of(data: *const ()) -> NonNull<Header> {
    // SAFETY: every RawWaker with this vtable was made from a non-null task pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

/// # Safety
/// `data` belongs to a live waker of [`VTABLE`] (it holds or borrows a reference).
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task live; the clone counts its own reference.
    unsafe { raw::ref_inc(ptr_of(data)) };
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// `data` belongs to a waker of [`VTABLE`] that holds a counted reference, which this consumes.
unsafe fn wake(data: *const ()) {
    // SAFETY: the consumed waker's reference keeps the task live until it is released here.
    unsafe {
        schedule(ptr_of(data));
        raw::ref_dec(ptr_of(data));
    }
}

/// # Safety
/// `data` belongs to a live waker of [`VTABLE`].
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker keeps the task live.
    unsafe { schedule(ptr_of(data)) };
}

/// # Safety
/// `data` belongs to a waker of [`VTABLE`] that holds a counted reference, which this releases.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker's own reference, released once.
    unsafe { raw::ref_dec(ptr_of(data)) };
}

/// Makes the task runnable, from any thread.
///
/// # Safety
/// `ptr` is a live task and the caller holds a reference to it for the duration of the call.
pub(crate) unsafe fn schedule(ptr: NonNull<Header>) {
    // SAFETY: caller's contract; off the owner thread only `shared` is read.
    let Some(shared) = unsafe { raw::header(ptr) }.shared() else {
        // Unbound (a LocalSet task waiting for its first runtime): it has no waker, and it is
        // queued in its LocalSet already, which is where it will be scheduled from.
        return;
    };
    let local = context::with_current(|core| match core {
        Some(core) if Arc::ptr_eq(&core.shared, shared) => {
            // SAFETY: as above (`id` may be read from any thread).
            crate::trace::wake(unsafe { raw::header(ptr) }.id(), false);
            // SAFETY: this is the task's own runtime, on its thread; the caller's reference
            // keeps the task live.
            unsafe { core.executor.schedule_local(ptr) };
            true
        }
        _ => false,
    });
    if !local {
        // SAFETY: as above.
        crate::trace::wake(unsafe { raw::header(ptr) }.id(), true);
        // SAFETY: the caller's reference makes the count non-zero; the new reference is handed
        // to the `TaskRef`, which the remote queue carries to the owner thread.
        let task = unsafe {
            raw::ref_inc(ptr);
            TaskRef::from_counted(ptr)
        };
        shared.wake_remote(task);
    }
}

/// A waker for the task that borrows the caller's reference instead of counting a new one.
///
/// # Safety
/// `ptr` is a live task, and the caller keeps a reference to it for as long as the returned
/// waker (and anything borrowing it) is used; clones made from it count their own.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable upholds the RawWaker contract given a live task (caller's contract);
    // ManuallyDrop keeps this borrowed waker from releasing a reference it never counted.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) })
}
