//! Multi-producer, single-consumer channels whose handles may cross threads: a feed thread, a
//! logger or another runtime hands values to a task. A bounded [`channel`] (senders wait for
//! room) and an [`unbounded_channel`] (senders never wait), with the names, methods, errors and
//! closing rules of `tokio::sync::mpsc`.
//!
//! Use the local [`mpsc`](super::mpsc) between tasks of one runtime: it is `!Send`, takes no
//! atomic and is faster (see BENCHMARKS.md). Use this one when a sender lives on another thread.
//!
//! # What a message costs
//!
//! Values go through a lock-free queue owned by the channel (blocks of 32 slots, recycled by
//! the receiver), not through the runtime's remote queue. A sender claims a position with one
//! compare-and-swap, writes the value and flags it, then checks, with one fence and one load,
//! whether the receiver waits. Only then does it wake the receiver's task (through its waker:
//! for a sonic task, the runtime's remote queue, whose eventfd is written only if the runtime
//! sleeps). So while the receiver is busy, or its runtime busy-polls, a send makes no syscall
//! and takes no lock; a receiver that is busy costs its senders no wake at all. The bounded
//! channel adds one compare-and-swap on its slot count per send and per receive; waiting for
//! room takes a mutex (the slow path only).
//!
//! Neither channel allocates per message: the bounded one once its backlog has reached its
//! peak, the unbounded one while the backlog stays under the largest it has been (a block of 32
//! values is allocated when the backlog grows past that, and emptied blocks are reused).
//!
//! # Handles
//!
//! Senders are `Send + Sync + Clone` (for `T: Send`); `send` works from any async context,
//! [`Sender::blocking_send`] and [`Sender::try_send`] from plain threads. The receiver is `Send`
//! too, as tokio's is, so it can also be moved to a worker thread that calls
//! [`Receiver::blocking_recv`]; its methods take `&mut self`, so there is still one consumer at
//! a time. Nothing in the receiver's fast path depends on which thread it is on.
//!
//! The `blocking_*` methods park the calling thread and panic on a thread that runs a sonic
//! runtime (as tokio's do inside a runtime).
//!
//! # Closing
//!
//! As in tokio: when every sender is dropped, the receiver gets what was buffered, then `None`.
//! [`Receiver::close`] (or dropping the receiver) makes later sends fail and wakes senders that
//! wait for room or in `closed()`; values buffered can still be received, and on a bounded
//! channel so can values of permits handed out before the close (`recv` returns `None` only once
//! every permit is back). Dropping the receiver drops the buffered values.
//!
//! # Examples
//!
//! A thread feeding a task on a busy-polling runtime:
//!
//! ```
//! use sonic_rt::sync::remote_mpsc;
//!
//! let rt = sonic_rt::Builder::new().busy_poll(true).build().unwrap();
//! let (tx, mut rx) = remote_mpsc::channel::<u64>(1024);
//! let feed = std::thread::spawn(move || {
//!     for seq in 1..=1000 {
//!         tx.blocking_send(seq).unwrap();
//!     }
//! });
//! let last = rt.block_on(async move {
//!     let mut last = 0;
//!     while let Some(seq) = rx.recv().await {
//!         assert_eq!(seq, last + 1);
//!         last = seq;
//!     }
//!     last
//! });
//! assert_eq!(last, 1000);
//! feed.join().unwrap();
//! ```

#![allow(unsafe_code)]

mod blocking;
mod bounded;
mod chan;
mod primitives;
mod queue;
mod rx_wake;
mod unbounded;
mod waiters;

pub use crate::sync::mpsc::error;
pub use bounded::{channel, OwnedPermit, Permit, PermitIterator, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

#[cfg(all(test, sonic_loom))]
mod loom_tests;
#[cfg(all(test, not(sonic_loom)))]
mod tests;

/// The handles are `Send + Sync` for `T: Send` (checked at compile time).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sender<u8>>();
    send_sync::<WeakSender<u8>>();
    send_sync::<Receiver<u8>>();
    send_sync::<OwnedPermit<u8>>();
    send_sync::<Permit<'static, u8>>();
    send_sync::<PermitIterator<'static, u8>>();
    send_sync::<UnboundedSender<u8>>();
    send_sync::<WeakUnboundedSender<u8>>();
    send_sync::<UnboundedReceiver<u8>>();
};
