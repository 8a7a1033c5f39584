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
    /// A fresh id: one relaxed increment of a process-wide counter (a task's id is known from
    /// its spawn, like tokio's; nothing orders it against other memory).
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        loop {
            // 2^64 spawns wrap only after centuries; zero is skipped so `Id` keeps its niche.
            if let Some(id) = NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)) {
                return Id(id);
            }
        }
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
