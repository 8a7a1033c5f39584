//! The per-source read-ahead buffer: a small stream read is served from one larger kernel read.
//!
//! Rules:
//! - Bytes in the buffer come before anything still in the kernel: every stream read path
//!   (`Async::poll_read_stream`, `poll_read_ahead`, `try_read_stream`, and through them
//!   `AsyncRead`) looks here first and serves these bytes without a syscall, whatever the
//!   cached readiness says. So a task never waits for an event while bytes are buffered, and an
//!   end of stream or an error the kernel reports is delivered after the buffered data (the
//!   kernel is asked only once the buffer is empty).
//! - The buffer is refilled only when empty, with one read of `capacity` bytes. A fill shorter
//!   than `capacity` proves the kernel's receive queue was drained (as a short read does on the
//!   direct path), so the caller clears the read readiness without paying for an `EAGAIN` call.
//! - A read at least `capacity` long with nothing buffered bypasses the buffer: the kernel
//!   copies straight into the caller's memory, no extra copy.
//! - The memory (`capacity` bytes) is allocated by the first fill, or by a fill after the
//!   capacity changed; nothing else allocates. Changing the capacity never drops buffered bytes.
//! - Only the owner thread touches it (`!Sync`). The bytes are borrowed (mutably) only across
//!   the kernel read that fills them and the copy that drains them; a `read` or `deliver`
//!   closure that reaches back into the same buffer panics rather than see it half-updated.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;

/// Bytes read from the kernel ahead of the reader, and how many to read ahead.
pub(crate) struct ReadAhead {
    /// Bytes to ask the kernel for per fill; 0 means read-ahead is off.
    capacity: Cell<usize>,
    /// `bytes[pos..end]` is what is buffered.
    pos: Cell<usize>,
    end: Cell<usize>,
    bytes: RefCell<Box<[u8]>>,
}

impl ReadAhead {
    pub(crate) fn new(capacity: usize) -> ReadAhead {
        ReadAhead {
            capacity: Cell::new(capacity),
            pos: Cell::new(0),
            end: Cell::new(0),
            bytes: RefCell::new(Box::default()),
        }
    }

    /// Bytes per fill (0: off).
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity.get()
    }

    /// Sets the bytes per fill. Buffered bytes stay; the memory is resized by the next fill (or
    /// freed at once when turned off with nothing buffered).
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.set(capacity);
        if capacity == 0 && self.is_empty() {
            *self.bytes.borrow_mut() = Box::default();
        }
    }

    /// How many bytes are buffered.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end.get() - self.pos.get()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos.get() == self.end.get()
    }

    /// Whether a stream read of `len` bytes should go through the buffer: something is
    /// buffered, or the read is smaller than a fill (a non-empty read; an empty one has
    /// nothing to gain).
    #[inline]
    pub(crate) fn serves(&self, len: usize) -> bool {
        !self.is_empty() || (len != 0 && len < self.capacity.get())
    }

    /// Refills the (empty) buffer with one `read` of `capacity` bytes and returns what it
    /// returned: 0 is the end of the stream, an error leaves the buffer empty.
    pub(crate) fn fill(
        &self,
        read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        debug_assert!(self.is_empty(), "a fill would overwrite buffered bytes");
        let capacity = self.capacity.get();
        let mut bytes = self.bytes.borrow_mut();
        if bytes.len() != capacity {
            // The first fill, or the first after the capacity changed: the only allocation.
            *bytes = vec![0u8; capacity].into_boxed_slice();
        }
        let n = read(&mut bytes[..])?;
        assert!(
            n <= capacity,
            "read returned {n} bytes for a {capacity}-byte buffer"
        );
        self.pos.set(0);
        self.end.set(n);
        Ok(n)
    }

    /// Hands the buffered bytes to `take`, which returns how many it used (at most all).
    pub(crate) fn consume(&self, take: impl FnOnce(&[u8]) -> usize) -> usize {
        let (pos, end) = (self.pos.get(), self.end.get());
        let n = {
            // Mutably, though only read: `take` re-entering this buffer (to read or fill it)
            // panics instead of consuming the same bytes twice.
            let bytes = self.bytes.borrow_mut();
            take(&bytes[pos..end])
        };
        assert!(n <= end - pos, "consumed more bytes than were buffered");
        self.pos.set(pos + n);
        if pos + n == end && self.capacity.get() == 0 {
            // Turned off while bytes were buffered: the last of them is out, free the memory.
            self.pos.set(0);
            self.end.set(0);
            *self.bytes.borrow_mut() = Box::default();
        }
        n
    }

    /// Copies buffered bytes into `dst` and consumes them.
    #[cfg(test)]
    pub(crate) fn read_into(&self, dst: &mut [u8]) -> usize {
        self.consume(|bytes| {
            let n = bytes.len().min(dst.len());
            dst[..n].copy_from_slice(&bytes[..n]);
            n
        })
    }

    /// Copies buffered bytes into `dst` without consuming them.
    pub(crate) fn peek_into(&self, dst: &mut [u8]) -> usize {
        let bytes = self.bytes.borrow();
        let buffered = &bytes[self.pos.get()..self.end.get()];
        let n = buffered.len().min(dst.len());
        dst[..n].copy_from_slice(&buffered[..n]);
        n
    }

    /// Takes every buffered byte out, leaving the buffer empty.
    pub(crate) fn take_all(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.consume(|bytes| {
            out.extend_from_slice(bytes);
            bytes.len()
        });
        out
    }
}

impl fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadAhead")
            .field("capacity", &self.capacity.get())
            .field("buffered", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill_from(ra: &ReadAhead, src: &[u8]) -> usize {
        ra.fill(|b| {
            let n = src.len().min(b.len());
            b[..n].copy_from_slice(&src[..n]);
            Ok(n)
        })
        .unwrap()
    }

    #[test]
    fn small_reads_drain_one_fill_in_order() {
        let ra = ReadAhead::new(8);
        assert!(ra.serves(4) && !ra.serves(8) && !ra.serves(0));
        assert_eq!(fill_from(&ra, b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(ra.peek_into(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(ra.read_into(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert!(
            ra.serves(100),
            "buffered bytes come first, whatever the size"
        );
        assert_eq!(ra.read_into(&mut out), 2);
        assert_eq!(&out[..2], b"ef");
        assert!(ra.is_empty());
    }

    #[test]
    fn turning_off_keeps_buffered_bytes_then_frees() {
        let ra = ReadAhead::new(8);
        fill_from(&ra, b"xyz");
        ra.set_capacity(0);
        assert_eq!(ra.take_all(), b"xyz");
        assert!(
            ra.bytes.borrow().is_empty(),
            "memory kept after turning off"
        );
        assert!(!ra.serves(1));
    }

    #[test]
    fn a_capacity_change_resizes_at_the_next_fill() {
        let ra = ReadAhead::new(4);
        fill_from(&ra, b"ab");
        ra.set_capacity(16);
        let mut out = [0u8; 2];
        assert_eq!(ra.read_into(&mut out), 2);
        assert_eq!(fill_from(&ra, &[7u8; 20]), 16);
        assert_eq!(ra.len(), 16);
    }

    #[test]
    #[should_panic(expected = "already")]
    fn reentering_the_buffer_from_a_deliver_closure_panics() {
        let ra = ReadAhead::new(8);
        fill_from(&ra, b"abcd");
        ra.consume(|bytes| {
            let mut out = [0u8; 2];
            ra.read_into(&mut out); // would hand out "ab" a second time
            bytes.len()
        });
    }

    #[test]
    fn a_failed_fill_leaves_nothing_buffered() {
        let ra = ReadAhead::new(4);
        let err = ra.fill(|_| Err(io::ErrorKind::ConnectionReset.into()));
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        assert!(ra.is_empty());
    }
}
