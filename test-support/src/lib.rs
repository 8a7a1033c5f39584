//! Test helpers shared by the sonic crates' test suites (not published):
//! - [`each_mode!`]: run a test on both loop modes (busy-poll on and off);
//! - [`CountingAlloc`] and [`assert_steady_state_alloc_free!`]: prove a hot path allocates
//!   nothing once warmed up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};

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
    // While set, the allocator records where allocations come from (see `trace_allocations`).
    static TRACING: Cell<bool> = const { Cell::new(false) };
    // Set while a trace is being recorded, so the recording's own allocations are neither
    // counted nor traced.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
    static TRACES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// How many allocation sites [`trace_allocations`] records.
const MAX_TRACES: usize = 4;

/// Counts one allocation of `size` bytes by this thread, and records its backtrace while
/// tracing. The recording's own allocations re-enter the allocator and are not counted.
fn count(size: usize) {
    if IN_TRACE.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    // Not while panicking: the panic hook allocates while holding the lock a capture takes.
    if TRACING.try_with(Cell::get).unwrap_or(false) && !std::thread::panicking() {
        IN_TRACE.with(|t| t.set(true));
        TRACES.with(|traces| {
            let mut traces = traces.borrow_mut();
            if traces.len() < MAX_TRACES {
                let bt = Backtrace::force_capture().to_string();
                traces.push(format!("allocation of {size} B at:\n{}", callers(&bt)));
            }
        });
        IN_TRACE.with(|t| t.set(false));
    }
}

/// The frames of a backtrace taken in the allocator that matter: those between the allocator
/// entry point and the test harness.
fn callers(bt: &str) -> String {
    let lines: Vec<&str> = bt.lines().collect();
    let is_frame = |l: &str| {
        l.trim_start()
            .split(':')
            .next()
            .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    let start = lines
        .iter()
        .position(|l| l.contains("__rust_alloc") || l.contains("__rust_realloc"))
        .map_or(0, |i| i + 1);
    let start = (start..lines.len())
        .find(|&i| is_frame(lines[i]))
        .unwrap_or(start);
    let end = (start..lines.len())
        .find(|&i| lines[i].contains("__rust_begin_short_backtrace"))
        .unwrap_or(lines.len());
    lines[start..end].join("\n")
}

/// Starts (`true`) or stops recording the backtraces of this thread's next allocations (the
/// first few), for a failing [`assert_steady_state_alloc_free!`] to show where they happen.
/// Starting clears what was recorded.
pub fn trace_allocations(on: bool) {
    if on {
        TRACES.with(|t| t.borrow_mut().clear());
    }
    TRACING.with(|t| t.set(on));
}

/// The backtraces recorded since [`trace_allocations`]`(true)`, joined.
pub fn traced_allocations() -> String {
    TRACES.with(|t| t.borrow().join("\n"))
}

/// A global allocator that counts the allocations (and reallocations) of each thread. Install
/// it in a test binary with
/// `#[global_allocator] static A: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;`.
#[derive(Debug)]
pub struct CountingAlloc;

// SAFETY: forwards every call to the system allocator unchanged; the counter is a
// const-initialised thread-local `Cell`, which never allocates (and `try_with` tolerates
// thread teardown). Recording a trace allocates through this same allocator before `System` is
// called for the outer request; `IN_TRACE` makes those nested calls plain forwards, so there is
// no unbounded recursion and no lock of ours is held.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
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
        $crate::trace_allocations(true);
        for _ in 0..2000 {
            $body;
        }
        $crate::trace_allocations(false);
        let n = $crate::allocations() - before;
        assert_eq!(
            n,
            0,
            "{}: {} allocations in 2000 steady-state rounds; the first ones:\n{}",
            $what,
            n,
            $crate::traced_allocations()
        );
    }};
}
