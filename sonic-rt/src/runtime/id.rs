//! A runtime's identity, as tokio exposes it on its handle: a process-unique [`Id`], the name
//! given with [`Builder::name`](crate::Builder::name), and the [`RuntimeFlavor`].

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A runtime's id, unique among the runtimes this process ever built (ids are not reused):
/// tokio's `runtime::Id` (exported as `sonic_rt::RuntimeId`). Read it with
/// [`Handle::id`](crate::Handle::id).
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(id).expect("2^64 runtimes"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The kind of runtime: tokio's `RuntimeFlavor`. A sonic runtime is always
/// [`CurrentThread`](RuntimeFlavor::CurrentThread): one thread runs all its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// One thread runs every task (every sonic runtime).
    CurrentThread,
    /// tokio's work-stealing runtime; a sonic runtime is never one.
    MultiThread,
}

/// What a handle on any thread may read about its runtime.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) id: Id,
    pub(crate) name: Option<Box<str>>,
}

impl Identity {
    pub(crate) fn new(name: Option<Box<str>>) -> Identity {
        Identity {
            id: Id::next(),
            name,
        }
    }
}
