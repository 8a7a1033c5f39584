//! Task identity: [`Id`], and the id of the task whose code runs now.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque number that identifies a task among all tasks of the process that are alive.
///
/// Ids are unique while a task or any handle to it exists; they are not a spawn order, and they
/// say nothing about the runtime a task runs on. `Display` shows the number (`7`), `Debug` shows
/// `Id(7)`, as tokio's do.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let h = sonic_rt::spawn(async { sonic_rt::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id. Each thread takes a block of ids from a process-wide counter and hands them
    /// out one by one, so a spawn costs a thread-local increment, not an atomic one.
    pub(crate) fn next() -> Id {
        const BLOCK: u64 = 1 << 16;
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            /// The next id of this thread's block, and the end of the block.
            static LOCAL: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        LOCAL.with(|local| {
            let (mut next, mut end) = local.get();
            if next >= end {
                // Relaxed: uniqueness needs only the atomicity of the increment. 2^48 blocks
                // last centuries of spawning; should the counter wrap, zero is skipped.
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed).max(1);
                end = next.saturating_add(BLOCK);
            }
            local.set((next + 1, end));
            Id(NonZeroU64::new(next).unwrap_or(NonZeroU64::MIN))
        })
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    /// The task whose code (poll, or the drop of its future or output) runs on this thread now.
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Makes `id` the current task until dropped, then restores the previous one (a task's drop can
/// run inside another task's poll).
pub(crate) struct CurrentTask(Option<Id>);

impl CurrentTask {
    pub(crate) fn enter(id: Id) -> CurrentTask {
        CurrentTask(CURRENT.with(|c| c.replace(Some(id))))
    }
}

impl Drop for CurrentTask {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The [`Id`] of the task that is running.
///
/// # Panics
/// Outside a task: in `block_on`'s own future (which is not a task, as in tokio) or outside a
/// runtime. [`try_id`] returns `None` there instead.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let (a, b) = (sonic_rt::spawn(async { sonic_rt::task::id() }), sonic_rt::spawn(async {}));
///     assert_ne!(a.await.unwrap(), b.id());
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!(
            "sonic_rt::task::id() called outside a task (block_on's future is not a task); \
             use task::try_id() where that can happen"
        ),
    }
}

/// The [`Id`] of the task that is running, or `None` outside a task. Inside a task's
/// destructor (its future or output being dropped) it is that task's id.
pub fn try_id() -> Option<Id> {
    CURRENT.with(|c| c.get())
}
