//! The contract every OS poller keeps, and the `cfg` that picks one.
//!
//! A poller:
//! - registers an fd once, edge-triggered, for both read and write readiness, with a `u64` token;
//! - may report spurious events: readiness is a hint, the I/O call is the truth;
//! - reports an edge again only after new readiness (data, space, hang-up), so a reader that did
//!   not drain to `EAGAIN` must not wait for another event;
//! - waits with nanosecond timeouts (never rounded up to a millisecond);
//! - owns a [`Notifier`] that any thread may use to end a wait early.

use std::time::Duration;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use super::epoll::{Events, Notifier, Poller};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use super::kqueue::{Events, Notifier, Poller};

/// Token reserved for the cross-thread notifier.
pub(crate) const NOTIFY_TOKEN: u64 = u64::MAX;
/// Token reserved for a poller's own timer (timerfd fallback).
pub(crate) const TIMER_TOKEN: u64 = u64::MAX - 1;

/// One readiness event, in portable form.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Event {
    pub(crate) token: u64,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    pub(crate) read_closed: bool,
    pub(crate) write_closed: bool,
    pub(crate) error: bool,
    /// Urgent (out-of-band) data; `readable` is set with it.
    pub(crate) priority: bool,
}

/// Splits a timeout into what a kernel call takes: `None` is forever.
pub(crate) fn timespec(timeout: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as _,
    }
}
