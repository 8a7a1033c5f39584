//! `BipBuffer`: Simon Cooke's bipartite circular buffer, in safe Rust.
//!
//! # Rules
//!
//! The storage holds up to two regions of readable bytes, oldest first:
//!
//! * region A = `[a_start, a_end)`, read from the front;
//! * region B = `[0, b_end)`, which exists only once writing wrapped to the start, and always
//!   ends at or before `a_start`.
//!
//! Invariants: `b_end <= a_start <= a_end <= capacity`, and A empty implies B empty (when A is
//! consumed entirely, B is promoted to A). With no readable byte and no pending claim both
//! regions restart at offset 0, so an empty buffer offers its whole capacity.
//!
//! Where a claim goes (Cooke's rule): if B exists, into the gap `[b_end, a_start)`; otherwise
//! after A when the room after A is at least the room before it, else at offset 0 (starting B).
//! [`BipBuffer::claim_exact`] instead takes whichever place fits `n` whole, or nothing: what a
//! datagram receive needs, since a datagram cannot be split across two regions.
//!
//! Each committed chunk stays contiguous, so a record written by one commit is always read back
//! whole from [`Fifo::data`]. A byte stream whose messages span commits is better served by a
//! [`MirroredBuffer`](crate::MirroredBuffer) or a [`ByteBuffer`](crate::ByteBuffer): a message
//! cut by the wrap cannot be seen in one slice here.

use crate::fifo::Fifo;

/// A fixed-size bipartite buffer: contiguous claims without copying and without mirrored memory.
///
/// # Examples
///
/// ```
/// use sonic_buf::{BipBuffer, Fifo};
///
/// let mut bip = BipBuffer::new(8);
/// bip.push(b"abcdef");
/// bip.consume(4); // "ef" left at offsets 4..6
/// // 2 bytes fit after A, 4 before it: a 3-byte datagram goes to the front, whole.
/// bip.claim_exact(3).unwrap().copy_from_slice(b"xyz");
/// bip.commit(3);
/// assert_eq!(bip.data(), b"ef");
/// bip.consume(2);
/// assert_eq!(bip.data(), b"xyz");
/// ```
#[derive(Debug, Clone)]
pub struct BipBuffer {
    buf: Box<[u8]>,
    a_start: usize,
    a_end: usize,
    b_end: usize,
    claim_start: usize,
    claim_len: usize,
}

impl BipBuffer {
    /// A buffer of `capacity` bytes, zero-initialised. A zero capacity is allowed: every claim
    /// is then empty.
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity].into_boxed_slice(),
            a_start: 0,
            a_end: 0,
            b_end: 0,
            claim_start: 0,
            claim_len: 0,
        }
    }

    fn has_b(&self) -> bool {
        self.b_end > 0
    }

    /// The two places a claim may go: `(after A, before A)`, as `(start, len)`.
    fn gaps(&mut self) -> [(usize, usize); 2] {
        if self.a_start == self.a_end {
            // Empty: restart at 0 (a pending claim is replaced by the caller anyway).
            self.a_start = 0;
            self.a_end = 0;
        }
        let cap = self.buf.len();
        if self.has_b() {
            let gap = (self.b_end, self.a_start - self.b_end);
            [gap, gap]
        } else {
            [(self.a_end, cap - self.a_end), (0, self.a_start)]
        }
    }

    fn set_claim(&mut self, start: usize, len: usize) -> &mut [u8] {
        self.claim_start = start;
        self.claim_len = len;
        &mut self.buf[start..start + len]
    }

    /// Claims up to `n` contiguous bytes where Cooke's rule places them. The slice may be shorter
    /// than `n`, or empty when no room is left.
    pub fn claim_up_to(&mut self, n: usize) -> &mut [u8] {
        let [after, before] = self.gaps();
        let (start, room) = if after.1 >= before.1 { after } else { before };
        self.set_claim(start, n.min(room))
    }

    /// Claims exactly `n` contiguous bytes, after A when they fit there, else before A; `None`
    /// (and no pending claim) when neither place can take all of them.
    pub fn claim_exact(&mut self, n: usize) -> Option<&mut [u8]> {
        let [after, before] = self.gaps();
        self.claim_len = 0;
        if after.1 >= n {
            Some(self.set_claim(after.0, n))
        } else if before.1 >= n {
            Some(self.set_claim(before.0, n))
        } else {
            None
        }
    }

    /// Largest claim that could succeed right now.
    pub fn max_claim(&self) -> usize {
        if self.a_start == self.a_end {
            self.buf.len()
        } else if self.has_b() {
            self.a_start - self.b_end
        } else {
            (self.buf.len() - self.a_end).max(self.a_start)
        }
    }

    /// Length of the pending claim (0 when none).
    pub fn claimed(&self) -> usize {
        self.claim_len
    }

    /// Where the pending claim starts in the storage: after a commit, where the committed
    /// bytes lie (the sequencer keeps datagrams in place by this offset).
    pub(crate) fn claim_start(&self) -> usize {
        self.claim_start
    }

    /// The whole storage, readable or not: the sequencer reads a committed record at the
    /// offset it was committed to, in either region.
    pub(crate) fn storage(&self) -> &[u8] {
        &self.buf
    }
}

impl Fifo for BipBuffer {
    /// Same as [`BipBuffer::claim_up_to`].
    fn claim(&mut self, n: usize) -> &mut [u8] {
        self.claim_up_to(n)
    }

    fn commit(&mut self, n: usize) -> usize {
        let k = n.min(self.claim_len);
        let start = self.claim_start;
        self.claim_len = 0;
        if k == 0 {
            return 0;
        }
        if self.a_start == self.a_end {
            // Empty (B is then empty too): the claim becomes A wherever it lies.
            self.a_start = start;
            self.a_end = start + k;
        } else if start == self.a_end && !self.has_b() {
            self.a_end += k;
        } else {
            // The claim lies before A: it starts or extends B.
            debug_assert_eq!(start, self.b_end);
            self.b_end += k;
        }
        k
    }

    /// Region A only; region B becomes visible once A is consumed.
    fn data(&self) -> &[u8] {
        &self.buf[self.a_start..self.a_end]
    }

    /// Consumes from region A only (clamped to it); an emptied A is replaced by B.
    fn consume(&mut self, n: usize) -> usize {
        let k = n.min(self.a_end - self.a_start);
        self.a_start += k;
        if self.a_start == self.a_end {
            if self.has_b() {
                self.a_start = 0;
                self.a_end = self.b_end;
                self.b_end = 0;
            } else if self.claim_len == 0 {
                self.a_start = 0;
                self.a_end = 0;
            }
        }
        k
    }

    fn len(&self) -> usize {
        (self.a_end - self.a_start) + self.b_end
    }

    fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn clear(&mut self) {
        self.a_start = 0;
        self.a_end = 0;
        self.b_end = 0;
        self.claim_len = 0;
    }
}
