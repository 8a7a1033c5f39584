//! The handle methods the local [`mpsc`](super::mpsc) and the `Send`
//! [`remote_mpsc`](super::remote_mpsc) share, written once as macros that each channel expands
//! over its own core (as sonic-net's `methods.rs` does for sockets).
//!
//! Rules:
//! - The two channels have tokio's one surface over two different cores (`Rc` + `Cell` on one
//!   thread; a lock-free queue and an atomic slot count across threads). Each core (`Chan` in
//!   `mpsc/chan.rs` and `remote_mpsc/chan.rs`) offers the same methods under the same names;
//!   the macros call them by name (`self.chan.try_acquire(n)`, `self.chan.poll_recv(cx)`...)
//!   and resolve `Chan`, `TryAcquireError` and the handle types where they are expanded.
//! - Each handle keeps its core in a field named `chan`: the shared pointer (`Rc` or `Arc`,
//!   named by the `ptr` argument) for senders, permits and weak senders; for receivers,
//!   whatever gives the receiver-only operations safely (`Rc<Chan>` locally, the remote
//!   channel's `RxChan`).
//! - The type definitions stay with each channel, so their docs can say what differs (`Send`
//!   or not, where values go); the macros take the few sentences of method docs that differ,
//!   and the first line of each doc example (`use sonic_rt::sync::mpsc;` or
//!   `use sonic_rt::sync::remote_mpsc as mpsc;`), so the examples run against both.
//! - What only one channel has (the remote one's `blocking_*` methods) is written there.
//! - The tests of behaviour tokio specifies for both bounded channels are written once too
//!   (`tests.rs`, macros that each channel's unit tests expand).
//!
//! `senders.rs` has the senders' and permits' macros, `receivers.rs` the receivers'.

mod receivers;
mod senders;
#[cfg(test)]
mod tests;

pub(super) use receivers::receiver_methods;
pub(super) use senders::{bounded_sender_methods, sender_methods};
#[cfg(test)]
pub(super) use tests::bounded_reserve_many_tests;
