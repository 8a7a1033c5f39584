//! The primitives of this channel's cross-thread protocols: std's, or loom's under
//! `--cfg sonic_loom` (see `loom_tests.rs` and `.ci/extra-loom.sh`), so that loom checks exactly
//! the code that ships. loom's `UnsafeCell` has a closure API (`with`, `with_mut`) through which
//! it tracks accesses; the std build wraps `std::cell::UnsafeCell` in the same API.

#[cfg(not(sonic_loom))]
pub(super) use std::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(sonic_loom)]
pub(super) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(sonic_loom)]
pub(super) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's access API.
#[cfg(not(sonic_loom))]
#[derive(Debug)]
pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(sonic_loom))]
impl<T> UnsafeCell<T> {
    pub(super) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Waits a moment for another thread to finish a step it has started (a few instructions,
/// unless it was preempted). Under loom, a yield, so the model lets that thread run.
#[inline]
pub(super) fn spin_wait(round: &mut u32) {
    #[cfg(sonic_loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(sonic_loom))]
    {
        if *round < 64 {
            *round += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// The receiver woke its own task because a sender is busy waking an older waker: in a real
/// executor the task is polled again after the others; under loom, a yield says the same (the
/// model would otherwise spin on the receiver without ever running that sender).
#[inline(always)]
pub(super) fn requeued_self() {
    #[cfg(sonic_loom)]
    loom::thread::yield_now();
}

/// Locks `mutex`, ignoring poisoning: no code that can panic runs while the channel's lock is held
/// with its state half-changed.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps a value on cache lines of its own, so that writes to it by one thread do not slow
/// down reads of its neighbours by another (128 bytes: adjacent-line prefetch pulls pairs of
/// 64-byte lines on x86).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(super) struct Padded<T>(pub(super) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}
