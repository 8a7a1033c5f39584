//! Test helpers shared by the sonic crates' test suites (not published):
//! - [`each_mode!`]: run a test on both loop modes (busy-poll on and off);
//! - [`CountingAlloc`] and [`assert_steady_state_alloc_free!`]: prove a hot path allocates
//!   nothing once warmed up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// A runtime in the given loop mode.
pub fn rt(busy_poll: bool) -> sonic_rt::Runtime {
    sonic_rt::Builder::new()
        .busy_poll(busy_poll)
        .build()
        .expect("runtime")
}

/// For each named `fn NAME(rt: &sonic_rt::Runtime)` in scope, generates a module `NAME` with two
/// tests, `busy_poll` and `parked`. Attributes before a name (e.g. `#[cfg_attr(miri, ignore)]`)
/// apply to both.
#[macro_export]
macro_rules! each_mode {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                $(#[$attr])*
                fn busy_poll() {
                    super::$name(&$crate::rt(true));
                }
                #[test]
                $(#[$attr])*
                fn parked() {
                    super::$name(&$crate::rt(false));
                }
            }
        )*
    };
}

thread_local! {
    // Per thread, so tests running in parallel do not count each other's allocations.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// A global allocator that counts the allocations (and reallocations) of each thread. Install
/// it in a test binary with
/// `#[global_allocator] static A: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;`.
#[derive(Debug)]
pub struct CountingAlloc;

// SAFETY: forwards every call to the system allocator unchanged; the counter is a
// const-initialised thread-local `Cell`, which never allocates (and `try_with` tolerates
// thread teardown).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made so far by this thread (counted only where [`CountingAlloc`] is installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// Runs `$body` 200 times to warm up, then asserts that 2000 more rounds allocate nothing.
/// `$body` may contain `.await` (the macro expands in place).
#[macro_export]
macro_rules! assert_steady_state_alloc_free {
    ($what:expr, $body:expr) => {{
        for _ in 0..200 {
            $body;
        }
        let before = $crate::allocations();
        for _ in 0..2000 {
            $body;
        }
        let n = $crate::allocations() - before;
        assert_eq!(
            n, 0,
            "{}: {} allocations in 2000 steady-state rounds",
            $what, n
        );
    }};
}
