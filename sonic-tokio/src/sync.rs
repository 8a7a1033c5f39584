//! tokio's `sync`.
//!
//! The channels are `Send`, as tokio's, so a `Sender` may go to a `std::thread` (a feed
//! thread, a logger, a thread doing blocking work): [`mpsc`] is sonic-rt's `remote_mpsc`;
//! [`oneshot`], [`watch`] and [`broadcast`] are tokio's own (the `tokio` crate built with
//! `sync`, no runtime). Everything else is sonic-rt's local primitive of the same name and
//! shape: `Notify`, `Semaphore`, `Mutex`, `RwLock`, `Barrier`, `OnceCell` are `!Send` (`Rc` +
//! `Cell`, no atomics), which is what a single-thread program shares between its tasks. A
//! program that hands one of these to another thread does not compile against the facade; use
//! `sonic_rt::Handle::post` or a channel there (see docs/migrating-from-tokio.md).
//!
//! The cost of the choice: the `Send` mpsc takes a few atomic operations per message where
//! sonic-rt's local channel takes none (`benches/remote_mpsc.rs` measures it against tokio's
//! mpsc and the local one); tokio's oneshot costs about 1.5x sonic-rt's local one per create +
//! send + receive on a sonic runtime (20-27 ns against 14-17 ns over two runs on a loaded
//! machine, `tests/oneshot_cost.rs`); sonic-rt's local `watch` and `broadcast` are 2.8-5.7x faster per
//! operation than tokio's (BENCHMARKS.md, sync_local). The local types stay available under sonic-rt's names
//! (`sonic_rt::sync::{mpsc, oneshot, watch, broadcast}`) for code that wants the speed and
//! never crosses a thread.

pub use sonic_rt::sync::{
    AcquireError, Barrier, BarrierWaitResult, MappedMutexGuard, Mutex, MutexGuard, Notify,
    OnceCell, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit,
    SetError, TryAcquireError, TryLockError,
};

/// tokio's `sync::Notified` lives under `sync::futures`.
pub mod futures {
    pub use sonic_rt::sync::Notified;
}

/// tokio's own `oneshot`, `watch` and `broadcast` (the `tokio` crate's `sync` module, no
/// runtime): `Send`, with tokio's exact semantics. They work on a sonic runtime (their wakers are
/// plain `std` wakers) but spend no sonic cooperative budget.
pub use tokio::sync::{broadcast, oneshot, watch};

/// tokio's `mpsc`, with `Send` handles: sonic-rt's
/// [`remote_mpsc`](sonic_rt::sync::remote_mpsc). A `Sender` may be moved to a
/// `std::thread` and use `blocking_send` there, as with tokio.
pub mod mpsc {
    pub use sonic_rt::sync::remote_mpsc::*;
}
