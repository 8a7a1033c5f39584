//! The task waker: a `RawWaker` over the task pointer, counted by the task's atomic `refs`.
//!
//! A wake on the runtime's own thread pushes the task onto the local run queue: no lock, no
//! syscall. A wake from anywhere else sends a counted reference through the remote queue, which
//! wakes a sleeping reactor.

use super::cell::{raw, Header, TaskRef};
use crate::context;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn ptr_of(data: *const ()) -> NonNull<Header> {
    // SAFETY: every RawWaker with this vtable was made from a non-null task pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    raw::ref_inc(ptr_of(data));
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    schedule(ptr_of(data));
    raw::ref_dec(ptr_of(data));
}

unsafe fn wake_by_ref(data: *const ()) {
    schedule(ptr_of(data));
}

unsafe fn drop_waker(data: *const ()) {
    raw::ref_dec(ptr_of(data));
}

/// Makes the task runnable, from any thread. The caller holds a reference.
pub(crate) fn schedule(ptr: NonNull<Header>) {
    let shared = raw::shared(ptr);
    let local = context::with_current(|core| match core {
        Some(core) if std::sync::Arc::ptr_eq(&core.shared, shared) => {
            core.executor.schedule_local(ptr);
            true
        }
        _ => false,
    });
    if !local {
        raw::ref_inc(ptr);
        shared.wake_remote(TaskRef::from_counted(ptr));
    }
}

/// A waker for the task that borrows the caller's reference instead of counting a new one.
pub(crate) fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable upholds the RawWaker contract; ManuallyDrop keeps this borrowed waker
    // from releasing a reference it never counted (clones count their own).
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) })
}
