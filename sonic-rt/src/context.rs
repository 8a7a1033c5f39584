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

/// While alive, `core` is the current runtime of this thread.
pub(crate) struct Enter {
    prev: *const Core,
}

impl Enter {
    /// Enters `core`. Entering a runtime while another one runs on this thread is refused.
    pub(crate) fn new(core: &Rc<Core>, allow_nested: bool) -> Enter {
        let raw = Rc::into_raw(core.clone());
        let prev = CURRENT.with(|c| c.replace(raw));
        if !prev.is_null() && !allow_nested {
            CURRENT.with(|c| c.set(prev));
            // SAFETY: `raw` came from `Rc::into_raw` just above and was not stored.
            drop(unsafe { Rc::from_raw(raw) });
            panic!(
                "cannot start a sonic runtime from within a runtime: block_on was called from \
                 inside block_on or a task (spawn the future instead)"
            );
        }
        Enter { prev }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let raw = CURRENT.with(|c| c.replace(self.prev));
        // SAFETY: `raw` is the reference this guard stored with `Rc::into_raw`.
        drop(unsafe { Rc::from_raw(raw) });
    }
}
