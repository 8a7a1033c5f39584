//! Where a [`Sequencer`](super::Sequencer) keeps datagram bytes: any of the crate's buffers.
//!
//! # Rules
//!
//! The sequencer uses a buffer as an arrival-ordered log of records: each datagram is claimed
//! whole, written in place (by `recv` or a copy) and committed as one record; records leave from
//! the front, in arrival order, once released. A record is found again by the location its
//! commit returned:
//!
//! * [`BipBuffer`]: the storage offset of the claim. Records never move, and a record never
//!   straddles the wrap (claims are all-or-nothing), so any record, in region A or B, is one
//!   slice of the storage.
//! * [`ByteBuffer`] and [`MirroredBuffer`]: the window is always the whole queue, so a record's
//!   place is its stream offset (bytes committed before it, wrapping) minus the stream offset of
//!   the front (bytes released before it). A `ByteBuffer` may move the queue (compaction,
//!   growth), which keeps those relative offsets.

use crate::fifo::Fifo;
use crate::{BipBuffer, ByteBuffer};

/// A buffer a [`Sequencer`](super::Sequencer) can keep datagrams in: [`BipBuffer`] (the default:
/// fixed size, never copies), [`ByteBuffer`] (grows up to its limit; compaction may move bytes)
/// and `MirroredBuffer` (fixed size, never copies). Sealed: the sequencer relies on how each
/// of them places records.
pub trait Store: private::Sealed {}

pub(crate) mod private {
    /// The operations the sequencer needs; see the module rules.
    pub trait Sealed {
        /// Exactly `n` contiguous bytes, or `None` (and no pending claim).
        fn claim_whole(&mut self, n: usize) -> Option<&mut [u8]>;
        /// Commits the first `n` bytes of the pending claim (`n` at most its length) as one
        /// record; `back` is the stream offset of the end of the log. Returns its location.
        fn commit_record(&mut self, n: usize, back: usize) -> usize;
        /// Drops the pending claim.
        fn cancel_claim(&mut self);
        /// The record of `len` bytes at `loc`; `front` is the stream offset of the log's front.
        fn record(&self, loc: usize, len: usize, front: usize) -> &[u8];
        /// Drops the oldest record, `len` bytes.
        fn release_oldest(&mut self, len: usize);
        /// Drops every record and the pending claim.
        fn reset(&mut self);
        /// Most bytes the store can ever hold.
        fn max_bytes(&self) -> usize;
    }
}

impl Store for BipBuffer {}

impl private::Sealed for BipBuffer {
    fn claim_whole(&mut self, n: usize) -> Option<&mut [u8]> {
        self.claim_exact(n)
    }

    fn commit_record(&mut self, n: usize, _back: usize) -> usize {
        let at = self.claim_start();
        let done = self.commit(n);
        debug_assert_eq!(done, n);
        at
    }

    fn cancel_claim(&mut self) {
        self.commit(0);
    }

    fn record(&self, loc: usize, len: usize, _front: usize) -> &[u8] {
        &self.storage()[loc..loc + len]
    }

    fn release_oldest(&mut self, len: usize) {
        let done = self.consume(len);
        debug_assert_eq!(done, len);
    }

    fn reset(&mut self) {
        self.clear();
    }

    fn max_bytes(&self) -> usize {
        self.capacity()
    }
}

/// The shared implementation for buffers whose readable window is the whole queue.
macro_rules! whole_window_store {
    ($ty:ty, $max:expr) => {
        impl Store for $ty {}

        impl private::Sealed for $ty {
            fn claim_whole(&mut self, n: usize) -> Option<&mut [u8]> {
                if self.claim(n).len() == n {
                    Some(self.claim(n))
                } else {
                    self.commit(0);
                    None
                }
            }

            fn commit_record(&mut self, n: usize, back: usize) -> usize {
                let done = self.commit(n);
                debug_assert_eq!(done, n);
                back
            }

            fn cancel_claim(&mut self) {
                self.commit(0);
            }

            fn record(&self, loc: usize, len: usize, front: usize) -> &[u8] {
                let at = loc.wrapping_sub(front);
                &self.data()[at..at + len]
            }

            fn release_oldest(&mut self, len: usize) {
                let done = self.consume(len);
                debug_assert_eq!(done, len);
            }

            fn reset(&mut self) {
                self.clear();
            }

            fn max_bytes(&self) -> usize {
                let max: fn(&$ty) -> usize = $max;
                max(self)
            }
        }
    };
}

whole_window_store!(ByteBuffer, |b| b.limit());

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
whole_window_store!(crate::MirroredBuffer, |b| b.capacity());
