//! Read statistics of a [`Peer`](super::Peer): counters owned by the runtime thread.
//!
//! # Rules
//!
//! * A `Peer` is `!Send`, so its counters are plain `Cell<u64>`s: an increment is a load, an add
//!   and a store on memory the thread already touches, with no atomic instruction and no
//!   fence. Reading them ([`Peer::stats`](super::Peer::stats)) copies them out.
//! * A receive *completed at once* found a datagram queued on its first attempt; one
//!   *completed after waiting* returned `Pending` at least once (it waited for readiness, or
//!   gave its turn back to the scheduler) before it found one. The async fns know this per
//!   call; the `poll_*` fns per peer (a `Pending` makes the peer's next completed receive a
//!   waited one); `try_*` fns never wait. Sends are counted the same way (the Go peer's
//!   immediate vs scheduled writes).
//! * Kernel drops come from `SO_RXQ_OVFL` (Linux): with it on, a datagram carries the socket's
//!   drop counter (datagrams discarded because the receive queue was full) whenever that
//!   counter is not zero. The counter is cumulative and 32 bits wide; the peer adds the
//!   difference to the last value it saw, so a wrap is counted right.

use super::recv::RecvMeta;
use std::cell::Cell;

/// What a [`Peer`](super::Peer) received and sent, since it was made or since
/// [`Peer::reset_stats`](super::Peer::reset_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStats {
    /// Receive calls that found a datagram on their first attempt.
    pub reads_immediate: u64,
    /// Receive calls that waited (returned `Pending` at least once) before one came.
    pub reads_waited: u64,
    /// Datagrams received (a batch counts each of its datagrams).
    pub datagrams: u64,
    /// Bytes received (what was written into the caller's buffers).
    pub bytes: u64,
    /// Datagrams cut because the buffer was shorter (known from
    /// [`recv_msg`](super::Peer::recv_msg) and [`recv_batch`](super::Peer::recv_batch); a plain
    /// `recv_from` cannot tell).
    pub truncated: u64,
    /// Datagrams the kernel dropped because the receive queue was full, as far as reported so
    /// far (needs [`set_recv_drop_count`](super::Peer::set_recv_drop_count); reported with the
    /// next datagram received through `recv_msg` / `recv_batch`).
    pub kernel_drops: u64,
    /// Send calls that went out on their first attempt.
    pub writes_immediate: u64,
    /// Send calls that waited for room in the socket buffer first.
    pub writes_waited: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
}

impl PeerStats {
    /// The share of completed receives that did not wait (`1.0` when there were none): near
    /// 1 the reader keeps up with a queue that is never empty, near 0 it waits for every
    /// datagram. The Go peer's `AsyncReadPerf`.
    pub fn immediate_ratio(&self) -> f64 {
        let all = self.reads_immediate + self.reads_waited;
        if all == 0 {
            1.0
        } else {
            self.reads_immediate as f64 / all as f64
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    reads_immediate: Cell<u64>,
    reads_waited: Cell<u64>,
    datagrams: Cell<u64>,
    bytes: Cell<u64>,
    truncated: Cell<u64>,
    kernel_drops: Cell<u64>,
    last_drops: Cell<u32>,
    writes_immediate: Cell<u64>,
    writes_waited: Cell<u64>,
    sent: Cell<u64>,
    sent_bytes: Cell<u64>,
    /// A `poll_*` receive returned `Pending` and no receive completed since.
    poll_waiting: Cell<bool>,
    /// The same for sends.
    poll_send_waiting: Cell<bool>,
}

fn add(c: &Cell<u64>, n: u64) {
    c.set(c.get().wrapping_add(n));
}

impl Counters {
    #[inline]
    pub(super) fn read(&self, waited: bool) {
        if waited {
            add(&self.reads_waited, 1);
        } else {
            add(&self.reads_immediate, 1);
        }
    }

    /// A `poll_*` receive completed: waited if an earlier poll of this peer was `Pending`.
    #[inline]
    pub(super) fn poll_read(&self) {
        self.read(self.poll_waiting.replace(false));
    }

    #[inline]
    pub(super) fn poll_pending(&self) {
        self.poll_waiting.set(true);
    }

    #[inline]
    pub(super) fn datagram(&self, len: usize) {
        add(&self.datagrams, 1);
        add(&self.bytes, len as u64);
    }

    #[inline]
    pub(super) fn meta(&self, m: &RecvMeta) {
        self.datagram(m.len);
        if m.truncated {
            add(&self.truncated, 1);
        }
        if let Some(d) = m.drops {
            add(
                &self.kernel_drops,
                u64::from(d.wrapping_sub(self.last_drops.get())),
            );
            self.last_drops.set(d);
        }
    }

    #[inline]
    pub(super) fn send(&self, len: usize, waited: bool) {
        add(
            if waited {
                &self.writes_waited
            } else {
                &self.writes_immediate
            },
            1,
        );
        add(&self.sent, 1);
        add(&self.sent_bytes, len as u64);
    }

    /// A `poll_*` send completed: waited if an earlier poll of this peer was `Pending`.
    #[inline]
    pub(super) fn poll_send(&self, len: usize) {
        self.send(len, self.poll_send_waiting.replace(false));
    }

    #[inline]
    pub(super) fn poll_send_pending(&self) {
        self.poll_send_waiting.set(true);
    }

    pub(super) fn snapshot(&self) -> PeerStats {
        PeerStats {
            reads_immediate: self.reads_immediate.get(),
            reads_waited: self.reads_waited.get(),
            datagrams: self.datagrams.get(),
            bytes: self.bytes.get(),
            truncated: self.truncated.get(),
            kernel_drops: self.kernel_drops.get(),
            writes_immediate: self.writes_immediate.get(),
            writes_waited: self.writes_waited.get(),
            sent: self.sent.get(),
            sent_bytes: self.sent_bytes.get(),
        }
    }

    /// Zeroes the counters; the kernel's drop counter keeps its last value, so only drops after
    /// the reset are counted.
    pub(super) fn reset(&self) {
        for c in [
            &self.reads_immediate,
            &self.reads_waited,
            &self.datagrams,
            &self.bytes,
            &self.truncated,
            &self.kernel_drops,
            &self.writes_immediate,
            &self.writes_waited,
            &self.sent,
            &self.sent_bytes,
        ] {
            c.set(0);
        }
    }
}
