//! Multi-producer, single-consumer channels: a bounded [`channel`] whose senders wait while it is
//! full, and an [`unbounded_channel`] whose senders never wait.
//!
//! The local counterpart of `tokio::sync::mpsc`, with the same names. Senders are `Clone`; the
//! channel closes for the receiver when the last sender is dropped, and the receiver still gets
//! every value buffered before that, then `None`. Dropping the receiver (or calling `close`) makes
//! sends fail; dropping it also drops the buffered values. All handles are `!Send`.
//!
//! Sending and receiving allocate nothing in the steady state: the bounded buffer is allocated up
//! front, the unbounded one keeps its largest size, and senders waiting for room queue in a reused
//! slab, woken first come, first served.
//!
//! # Examples
//!
//! ```
//! use sonic_rt::sync::mpsc;
//!
//! sonic_rt::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(4);
//!     let producers: Vec<_> = (0..3)
//!         .map(|id| {
//!             let tx = tx.clone();
//!             sonic_rt::spawn(async move { tx.send(id).await.unwrap() })
//!         })
//!         .collect();
//!     drop(tx);
//!     let mut ids = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         ids.push(id);
//!     }
//!     ids.sort();
//!     assert_eq!(ids, [0, 1, 2]);
//!     for producer in producers {
//!         producer.await.unwrap();
//!     }
//! });
//! ```

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, PermitIterator, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

#[cfg(test)]
mod tests;
