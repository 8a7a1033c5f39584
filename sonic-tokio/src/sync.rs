//! tokio's `sync`.
//!
//! [`mpsc`] is sonic-rt's `remote_mpsc` and [`oneshot`] is this crate's: their handles are
//! `Send`, as tokio's, so a `Sender` may go to a `std::thread` (a feed thread, a logger, a
//! thread doing blocking work). Everything else is sonic-rt's local primitive of the same name
//! and shape: `watch`, `broadcast`, `Notify`,
//! `Semaphore`, `Mutex`, `RwLock`, `Barrier`, `OnceCell` are `!Send` (`Rc` + `Cell`, no
//! atomics), which is what a single-thread program shares between its tasks. A program that
//! hands one of these to another thread does not compile against the facade; use
//! `sonic_rt::Handle::post` or a `Send` channel there (see docs/migrating-from-tokio.md).
//!
//! The cost of the `Send` mpsc: a send and a receive take a few atomic operations (one
//! compare-and-swap to claim a slot, a fence before the waiter check, plus one on the slot count
//! when bounded) where the local channel takes none; BENCHMARKS.md (remote_mpsc) has the
//! numbers. sonic-rt's local channel stays available as `sonic_rt::sync::mpsc`. The `Send`
//! oneshot costs an uncontended mutex lock per operation over the local one
//! (`sonic_rt::sync::oneshot`).

pub use sonic_rt::sync::{
    broadcast, watch, AcquireError, Barrier, BarrierWaitResult, MappedMutexGuard, Mutex,
    MutexGuard, Notify, OnceCell, OwnedMappedMutexGuard, OwnedMutexGuard,
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit,
    RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit,
    SetError, TryAcquireError, TryLockError,
};

pub mod oneshot;

/// tokio's `sync::Notified` lives under `sync::futures`.
pub mod futures {
    pub use sonic_rt::sync::Notified;
}

/// tokio's `mpsc`, with `Send` handles: sonic-rt's
/// [`remote_mpsc`](sonic_rt::sync::remote_mpsc). A `Sender` may be moved to a
/// `std::thread` and use `blocking_send` there, as with tokio.
pub mod mpsc {
    pub use sonic_rt::sync::remote_mpsc::*;
}
