//! `ByteBuffer`: a growable FIFO over a `Vec<u8>` with lazy compaction.
//!
//! # Rules
//!
//! The vector's length is the initialised capacity (plus up to 63 bytes of padding in front);
//! four offsets split it: `[0, start)` padding, `[start, rd)` consumed, `[rd, wr)` readable,
//! `[wr, len)` free tail. `start` is the vector's first byte on a 64-byte boundary, where the data
//! of an empty or compacted buffer begins: a `read(2)` into it is then a kernel copy to an aligned
//! destination. (glibc places every allocation of 128 KiB or more 16 bytes past a page start,
//! and on AMD EPYC copying from a socket to a destination in a page's first 32 bytes took 2.7x
//! as long as to an aligned one.) A claim for `n` bytes is served in this order:
//!
//! 1. from the free tail, when it is large enough (no copy);
//! 2. by moving the readable bytes to the front, **only when the consumed room in front is at
//!    least as large as the readable data** (`rd >= wr - rd`) and the result fits. Every byte
//!    moved is then paid for by at least as many bytes consumed since the last move, so the copy
//!    is amortised O(1) per byte;
//! 3. by growing into a new allocation (at least doubling), which copies only the readable bytes;
//! 4. at the limit, where growing cannot add room, by moving the readable bytes to the front
//!    whatever was consumed: the copy a reallocation would make, without the allocation.
//!
//! Growth stops at the buffer's limit ([`ByteBuffer::DEFAULT_LIMIT`] unless set); past it, and when
//! the allocator refuses, a claim is clamped instead of failing. A buffer whose limit is its
//! capacity thus never allocates again: its owner decides every size. When the queue empties with no
//! claim pending, both offsets return to zero, which costs nothing.

use crate::fifo::Fifo;

/// A growable byte FIFO with lazy compaction; every claim is contiguous.
///
/// Pick it when messages have no fixed upper size or memory should follow the load. A
/// [`MirroredBuffer`](crate::MirroredBuffer) never moves data but has a fixed size.
///
/// # Examples
///
/// ```
/// use sonic_buf::{ByteBuffer, Fifo};
///
/// let mut buf = ByteBuffer::with_capacity(16);
/// buf.push(b"partial-");
/// buf.consume(3);
/// // A claim larger than the free tail moves or grows, and is always whole.
/// assert_eq!(buf.claim(64).len(), 64);
/// assert_eq!(buf.data(), b"tial-");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ByteBuffer {
    buf: Vec<u8>,
    start: usize,
    rd: usize,
    wr: usize,
    claimed: usize,
    limit: Option<usize>,
    moved: u64,
}

impl ByteBuffer {
    /// Largest capacity a claim grows the buffer to unless [`ByteBuffer::with_limit`] says
    /// otherwise: 64 MiB, so that a runaway length cannot take all memory. A claim beyond it is
    /// clamped.
    pub const DEFAULT_LIMIT: usize = 64 << 20;

    const MIN_GROWTH: usize = 64;

    /// Alignment of the first byte of an empty buffer: a cache line.
    const ALIGN: usize = 64;

    /// An empty buffer that allocates on the first claim.
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer with `capacity` bytes allocated up front (clamped to the limit).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Self::new();
        buf.grow_to(capacity.min(Self::DEFAULT_LIMIT));
        buf
    }

    /// Sets the largest capacity growth may reach. A buffer already larger keeps its memory but
    /// does not grow further.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Largest capacity growth may reach.
    pub fn limit(&self) -> usize {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .max(self.capacity())
    }

    /// Total bytes moved inside the buffer so far, by compaction and by growth. Reads into the
    /// buffer are not counted.
    pub fn bytes_moved(&self) -> u64 {
        self.moved
    }

    /// The readable window, writable in place: for a decoder that transforms bytes where
    /// they arrived (unmasking, decryption) before handing out borrowed views of them.
    ///
    /// ```
    /// use sonic_buf::{ByteBuffer, Fifo};
    ///
    /// let mut buf = ByteBuffer::new();
    /// buf.push(b"abc");
    /// buf.data_mut().iter_mut().for_each(|b| *b ^= 0x20);
    /// assert_eq!(buf.data(), b"ABC");
    /// ```
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.rd..self.wr]
    }

    /// Like [`claim`](Fifo::claim)`(min)`, but hands out the whole contiguous free tail, which
    /// may be longer: for a `read(2)` that should take as much as the source has without
    /// making the buffer grow for it.
    ///
    /// ```
    /// use sonic_buf::{ByteBuffer, Fifo};
    ///
    /// let mut buf = ByteBuffer::with_capacity(4096);
    /// buf.push(b"header");
    /// assert_eq!(buf.claim_all(100).len(), 4096 - 6);
    /// ```
    pub fn claim_all(&mut self, min: usize) -> &mut [u8] {
        let tail = self.make_room(min);
        self.claimed = tail;
        &mut self.buf[self.wr..self.wr + tail]
    }

    fn readable(&self) -> usize {
        self.wr - self.rd
    }

    /// Moves the readable bytes to `start`.
    fn compact(&mut self) {
        let len = self.readable();
        self.buf.copy_within(self.rd..self.wr, self.start);
        self.moved += len as u64;
        self.rd = self.start;
        self.wr = self.start + len;
    }

    /// Replaces the storage with `cap` zeroed bytes (after the alignment padding) holding the
    /// readable data at the front. Leaves the buffer untouched when the allocation fails.
    fn grow_to(&mut self, cap: usize) -> bool {
        let len = self.readable();
        let mut next: Vec<u8> = Vec::new();
        let Some(total) = cap.checked_add(Self::ALIGN - 1) else {
            return false;
        };
        if next.try_reserve_exact(total).is_err() {
            return false;
        }
        // The padding fits in the reserve, so the vector never moves after this.
        let start = (Self::ALIGN - next.as_ptr().addr() % Self::ALIGN) % Self::ALIGN;
        next.resize(start, 0);
        next.extend_from_slice(&self.buf[self.rd..self.wr]);
        next.resize(start + cap, 0);
        self.moved += len as u64;
        self.buf = next;
        self.start = start;
        self.rd = start;
        self.wr = start + len;
        true
    }

    /// Makes at least `n` contiguous bytes free behind the data if the limit and the allocator
    /// allow; returns the free tail length afterwards.
    fn make_room(&mut self, n: usize) -> usize {
        let len = self.readable();
        if len == 0 {
            self.rd = self.start;
            self.wr = self.start;
        }
        let tail = self.buf.len() - self.wr;
        if tail >= n {
            return tail;
        }
        let limit = self.limit();
        // `len <= capacity <= limit`, so this does not underflow.
        let n = n.min(limit - len);
        if self.buf.len() - self.wr >= n {
            return self.buf.len() - self.wr;
        }
        let cap = self.capacity();
        let front = self.rd - self.start;
        if cap >= limit || (front >= len && cap - len >= n) {
            // At the limit (`n <= limit - len`, so packing makes the room), or paid for.
            self.compact();
        } else {
            let want = (len + n).max(cap.saturating_mul(2)).max(Self::MIN_GROWTH);
            if !self.grow_to(want.min(limit)) && !self.grow_to(len + n) && front >= len {
                // Out of memory: the data can still be packed to the front.
                self.compact();
            }
        }
        self.buf.len() - self.wr
    }
}

impl Fifo for ByteBuffer {
    /// Grows or compacts so that `n` contiguous bytes are available; shorter only at the limit
    /// or when the allocator refuses.
    fn claim(&mut self, n: usize) -> &mut [u8] {
        let tail = self.make_room(n);
        let k = n.min(tail);
        self.claimed = k;
        &mut self.buf[self.wr..self.wr + k]
    }

    fn commit(&mut self, n: usize) -> usize {
        let k = n.min(self.claimed);
        self.wr += k;
        self.claimed = 0;
        k
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.rd..self.wr]
    }

    fn consume(&mut self, n: usize) -> usize {
        let k = n.min(self.readable());
        self.rd += k;
        if self.rd == self.wr && self.claimed == 0 {
            self.rd = self.start;
            self.wr = self.start;
        }
        k
    }

    fn len(&self) -> usize {
        self.readable()
    }

    fn capacity(&self) -> usize {
        self.buf.len() - self.start
    }

    fn clear(&mut self) {
        self.rd = self.start;
        self.wr = self.start;
        self.claimed = 0;
    }
}
