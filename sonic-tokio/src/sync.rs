//! tokio's `sync`.
//!
//! Everything here is `Send` and `Sync` where tokio's is, so tokio programs that share a
//! primitive beyond their tasks compile unchanged: a `static` [`OnceCell`] or [`Mutex`], an
//! `Arc<Semaphore>` with [`acquire_owned`](Semaphore::acquire_owned), an `Arc<Notify>` or an
//! `Arc<Mutex<T>>` handed to a `std::thread` or to `spawn_blocking` (with `blocking_lock`),
//! an `mpsc::Sender` in a feed thread.
//!
//! - [`mpsc`] is sonic-rt's `remote_mpsc`: `Send` handles, no syscall per message while the
//!   receiving runtime is awake, and it spends sonic's cooperative budget.
//! - The rest is tokio's own code (the `tokio` crate built with `sync`, no runtime):
//!   [`oneshot`], [`watch`], [`broadcast`], [`Notify`], [`Semaphore`], [`Mutex`], [`RwLock`],
//!   [`Barrier`], [`OnceCell`], [`SetOnce`], with tokio's exact semantics. Their wakers are
//!   plain `std` wakers, so they work on a sonic runtime; they spend tokio's cooperative budget,
//!   which no sonic task has, so a loop that always finds one of them ready does not yield
//!   every 128 operations as it would on tokio (see docs/migrating-from-tokio.md).
//!
//! The cost of the choice: sonic-rt's local (`!Send`, no atomics) primitives of the same names
//! are 2x to 6x faster per operation (BENCHMARKS.md, sync_local; the `Send` mpsc against the
//! local one in remote_mpsc). They stay available as `sonic_rt::sync::*` for code that wants
//! the speed and never crosses a thread.

pub use tokio::sync::{
    AcquireError, Barrier, BarrierWaitResult, MappedMutexGuard, Mutex, MutexGuard, Notify,
    OnceCell, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit,
    SetError, SetOnce, SetOnceError, TryAcquireError, TryLockError,
};

/// tokio's `sync::futures`: the futures of [`Notify`].
pub mod futures {
    pub use tokio::sync::futures::*;
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
