//! Cooperative budget: each task poll may perform a bounded number of I/O operations before it
//! is made to yield, so a socket that is always ready cannot starve other tasks or timers.

use std::cell::Cell;
use std::task::{Context, Poll};

const UNLIMITED: u32 = u32::MAX;

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(UNLIMITED) };
}

/// Sets the budget for the poll that is about to start; returns the previous one.
pub(crate) fn set(budget: u32) -> u32 {
    BUDGET.with(|b| b.replace(budget))
}

/// Spends one unit, or, when the budget is exhausted, schedules the task again and yields.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|b| match b.get() {
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        UNLIMITED => Poll::Ready(()),
        n => {
            b.set(n - 1);
            Poll::Ready(())
        }
    })
}

/// Restores the budget after a poll (so nested runtimes and manual polling see their own).
pub(crate) struct Reset(pub(crate) u32);

impl Drop for Reset {
    fn drop(&mut self) {
        set(self.0);
    }
}

/// `Ready` while the running task has budget left, spending none; once it is used up, schedules
/// the task again and returns `Pending`. `select!` checks this before polling its branches, as
/// tokio's does, so a loop whose branches are always ready (but not all budget-aware) still
/// yields to other tasks and timers.
#[doc(hidden)]
pub fn poll_budget_available(cx: &mut Context<'_>) -> Poll<()> {
    if BUDGET.with(Cell::get) == 0 {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// Runs `f` with an unlimited budget (tokio's `unconstrained`), then restores the budget the
/// task had: what `f` would have spent is not taken from it.
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    let _reset = Reset(set(UNLIMITED));
    f()
}

/// Whether the running task has budget left (always true outside a task, or when unconstrained).
pub(crate) fn has_remaining() -> bool {
    BUDGET.with(Cell::get) != 0
}
