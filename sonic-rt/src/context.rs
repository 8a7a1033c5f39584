//! The thread-local "current runtime": set while a runtime runs on this thread.

use crate::runtime::core::Core;
use std::cell::Cell;
use std::rc::Rc;

thread_local! {
    /// A strong reference (from `Rc::into_raw`) to the entered runtime's core, or null.
    static CURRENT: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with the current core, if any, without touching its reference count.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let ptr = CURRENT.with(|c| c.get());
    // SAFETY: a non-null CURRENT holds a strong reference owned by the live `Enter` guard,
    // which is dropped (and resets CURRENT) only on this thread.
    f(unsafe { ptr.as_ref() })
}

/// A counted reference to the current core, if a runtime is entered.
pub(crate) fn current() -> Option<Rc<Core>> {
    let ptr = CURRENT.with(|c| c.get());
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` came from `Rc::into_raw` and its reference is alive (see `with_current`);
    // counting one more and rebuilding an Rc from it is the documented way to clone.
    unsafe {
        Rc::increment_strong_count(ptr);
        Some(Rc::from_raw(ptr))
    }
}

/// The current core, or a panic with a message that says what went wrong.
pub(crate) fn expect_current(what: &str) -> Rc<Core> {
    match current() {
        Some(core) => core,
        None => panic!("{what} must be called from inside a sonic runtime (block_on or a task)"),
    }
}

thread_local! {
    /// A runtime is running on this thread (`block_on` or a manual turn): starting another one
    /// here would block a thread that must keep polling the first.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// How many `Enter` guards are alive on this thread: each knows its place, so one dropped
    /// out of order is seen even when both entered the same runtime.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// While alive, `core` is the current runtime of this thread. Entering nests, as tokio's
/// `enter` does: the runtime entered before comes back when the guard drops, so guards must
/// be dropped in the reverse order of their creation.
pub(crate) struct Enter {
    prev: *const Core,
    /// The reference this guard stored (from `Rc::into_raw`).
    raw: *const Core,
    /// This guard's place among the live ones (1 for the outermost).
    depth: usize,
}

impl Enter {
    /// Makes `core` the current runtime.
    pub(crate) fn new(core: &Rc<Core>) -> Enter {
        let raw = Rc::into_raw(core.clone());
        let prev = CURRENT.with(|c| c.replace(raw));
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        Enter { prev, raw, depth }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        if DEPTH.with(|d| d.get()) != self.depth {
            // A later guard is still alive: restoring `prev` now would leave that guard's
            // runtime current after the guard is gone. Its reference stays (a leak, not a
            // dangling pointer), as does ours. tokio panics here too.
            if !std::thread::panicking() {
                panic!(
                    "sonic_rt::EnterGuard values dropped out of order: guards returned by \
                     `Runtime::enter` must be dropped in the reverse order of their creation"
                );
            }
            return;
        }
        debug_assert_eq!(CURRENT.with(|c| c.get()), self.raw);
        CURRENT.with(|c| c.set(self.prev));
        DEPTH.with(|d| d.set(self.depth - 1));
        // SAFETY: `raw` is the reference this guard stored with `Rc::into_raw`, and it is no
        // longer current (replaced just above), so nothing reads it through CURRENT.
        drop(unsafe { Rc::from_raw(self.raw) });
    }
}

/// While alive, this thread is running a runtime (`block_on`, `poll_once`...). Entering a
/// runtime (`Runtime::enter`) is not running one: `block_on` works under an `EnterGuard`, as
/// in tokio.
pub(crate) struct Running(());

impl Running {
    /// Marks the thread as running a runtime; refused if it already runs one.
    pub(crate) fn new() -> Running {
        if RUNNING.with(|r| r.replace(true)) {
            panic!(
                "cannot start a sonic runtime from within a runtime: block_on was called from \
                 inside block_on or a task (spawn the future instead)"
            );
        }
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(false));
    }
}
