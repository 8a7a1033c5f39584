//! Local (`!Send`) synchronisation primitives for tasks on one runtime: the channels
//! [`oneshot`], [`mpsc`] (bounded and unbounded), [`watch`] and [`broadcast`]; [`Notify`];
//! the locks [`Mutex`] and [`RwLock`]; [`Semaphore`], [`Barrier`] and [`OnceCell`].
//!
//! They have the names and shapes of `tokio::sync`, so code written for tokio's current-thread
//! runtime ports by changing the import. Unlike tokio's, they are built for a single thread: the
//! shared state lives in an `Rc` with `Cell`s, so no operation takes a lock, touches an atomic or
//! makes a syscall, and every handle is `!Send` (the compiler stops a handle from leaving the
//! thread that runs the runtime).
//!
//! # Rules the implementation keeps
//!
//! - State is shared through `Rc` and mutated through `Cell`, or through a `RefCell` whose borrow
//!   never spans a call into foreign code: no waker is woken, cloned or dropped and no user value
//!   is dropped while a borrow is held. A value's destructor may therefore use the same channel
//!   (for example drop a `Sender` of it) without a "already borrowed" panic. (The exceptions are
//!   user closures that run on the value itself: `watch::Sender::send_modify`, a `Clone` of a
//!   broadcast value; re-entering the same channel from them panics where tokio would deadlock.)
//! - A party that waits alone (a receiver, a oneshot sender) keeps its waker between waits and
//!   reuses it when `Waker::will_wake` says it is the same task, so steady-state waits clone
//!   nothing. Nobody is woken unless it is actually waiting.
//! - Parties that wait in numbers (bounded senders, [`Notified`], semaphore and lock waiters,
//!   watch and broadcast receivers) queue FIFO in a slab-backed list: a future dropped while it
//!   waits unlinks itself, and one dropped after it was chosen passes its permit or notification
//!   to the next waiter. The slab is reused, so waiting does not allocate once the peak number of
//!   waiters has been seen.
//! - [`Semaphore`], [`Mutex`], [`RwLock`] and [`OnceCell`] share one fair semaphore
//!   (`permits.rs`): strictly FIFO, a large request at the head makes later small ones wait, as
//!   in tokio.
//! - Cooperative budget, as in tokio: an acquire or lock that completes without waiting, a
//!   `recv` of mpsc or broadcast that finds a value, and watch's `changed` / `wait_for` spend one
//!   unit, so a loop that never has to wait still yields. Barrier and oneshot spend none.
//! - `unsafe` only where a guard hands out references into a cell that the semaphore protects
//!   (`mutex.rs`, `rwlock/`) and in `OnceCell` (written once through `&self`); each module opens
//!   with the argument, and the unit tests run under Miri.
//!
//! # Examples
//!
//! ```
//! use sonic_rt::sync::{mpsc, oneshot};
//!
//! sonic_rt::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     let (done_tx, done_rx) = oneshot::channel();
//!     let consumer = sonic_rt::spawn(async move {
//!         let mut sum = 0;
//!         while let Some(n) = rx.recv().await {
//!             sum += n;
//!         }
//!         let _ = done_tx.send(sum);
//!     });
//!     for n in 1..=10 {
//!         tx.send(n).await.unwrap();
//!     }
//!     drop(tx);
//!     assert_eq!(done_rx.await, Ok(55));
//!     consumer.await.unwrap();
//! });
//! ```

#![deny(unsafe_code)]

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mpsc_api;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod permits;
pub mod remote_mpsc;
mod rwlock;
mod semaphore;
mod wait_list;
mod waker_slot;
pub mod watch;

#[cfg(test)]
mod test_util;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// Fails to compile if any listed type implements the given auto trait (`Send` or `Sync`).
///
/// If `T: Send`, both blanket impls of the probe trait apply to `T`, and naming the probe's
/// function without saying which impl is meant is ambiguous: a compile error. If `T` is not
/// `Send`, only the first impl applies and the expression resolves.
macro_rules! assert_not_impl {
    ($auto:path: $($ty:ty),+ $(,)?) => {
        const _: fn() = || {
            trait Probe<Which> {
                fn probe() {}
            }
            impl<T: ?Sized> Probe<()> for T {}
            struct ImplementsIt;
            impl<T: ?Sized + $auto> Probe<ImplementsIt> for T {}
            $(let _ = <$ty as Probe<_>>::probe;)+
        };
    };
}

assert_not_impl!(Send:
    Semaphore,
    SemaphorePermit<'static>,
    OwnedSemaphorePermit,
    Mutex<()>,
    MutexGuard<'static, ()>,
    OwnedMutexGuard<()>,
    MappedMutexGuard<'static, ()>,
    OwnedMappedMutexGuard<(), ()>,
    RwLock<()>,
    RwLockReadGuard<'static, ()>,
    RwLockWriteGuard<'static, ()>,
    OwnedRwLockReadGuard<()>,
    OwnedRwLockWriteGuard<()>,
    RwLockMappedWriteGuard<'static, ()>,
    OwnedRwLockMappedWriteGuard<(), ()>,
    Barrier,
    OnceCell<()>,
    watch::Sender<()>,
    watch::Receiver<()>,
    watch::Ref<'static, ()>,
    broadcast::Sender<()>,
    broadcast::Receiver<()>,
    broadcast::WeakSender<()>,
    oneshot::Sender<()>,
    oneshot::Receiver<()>,
    mpsc::Sender<()>,
    mpsc::Receiver<()>,
    mpsc::Permit<'static, ()>,
    mpsc::OwnedPermit<()>,
    mpsc::PermitIterator<'static, ()>,
    mpsc::UnboundedSender<()>,
    mpsc::UnboundedReceiver<()>,
    mpsc::WeakSender<()>,
    mpsc::WeakUnboundedSender<()>,
    Notify,
    Notified<'static>,
);
assert_not_impl!(Sync:
    Semaphore,
    Mutex<()>,
    MutexGuard<'static, ()>,
    RwLock<()>,
    RwLockReadGuard<'static, ()>,
    Barrier,
    OnceCell<()>,
    watch::Sender<()>,
    watch::Receiver<()>,
    broadcast::Sender<()>,
    broadcast::Receiver<()>,
    oneshot::Sender<()>,
    oneshot::Receiver<()>,
    mpsc::Sender<()>,
    mpsc::Receiver<()>,
    mpsc::UnboundedSender<()>,
    mpsc::UnboundedReceiver<()>,
    Notify,
    Notified<'static>,
);
