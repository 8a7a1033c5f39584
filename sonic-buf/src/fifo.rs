//! The FIFO contract shared by every buffer in this crate.
//! Every buffer implements it; the rules are in the trait's docs.

/// A byte FIFO with a claim / commit / consume interface.
///
/// # Rules
///
/// A buffer holds a queue of bytes. Bytes enter at the back in two steps and leave at the front:
///
/// 1. [`Fifo::claim`] hands out writable space right behind the last readable byte. The caller
///    writes into it (a `read(2)`, an encoder, a `copy_from_slice`).
/// 2. [`Fifo::commit`] makes the first `n` bytes of the *latest* claim readable.
/// 3. [`Fifo::data`] shows the readable window, oldest byte first, as one slice.
/// 4. [`Fifo::consume`] drops bytes from the front of that window.
///
/// Bad input never panics and never corrupts the queue. Every call clamps, and the return value
/// says what actually happened:
///
/// | call | clamps to | returns |
/// |---|---|---|
/// | `claim(n)` | the contiguous space the buffer can offer (fixed buffers: at most [`Fifo::free`]) | the slice, possibly shorter than `n`, possibly empty |
/// | `commit(n)` | the length of the latest claim that is still pending | bytes committed |
/// | `consume(n)` | `data().len()` | bytes consumed |
///
/// A claim stays pending until the next `claim`, `commit` or `clear`; `consume` does not cancel
/// it, so a reader may consume parsed messages while a write into claimed space is outstanding.
/// A second `claim` replaces the first: bytes written into the first claim are not committed.
/// `commit(0)` cancels the pending claim. Committing without a pending claim commits nothing.
///
/// `data()` is always a prefix of the queue. For [`MirroredBuffer`](crate::MirroredBuffer) and
/// [`ByteBuffer`](crate::ByteBuffer) it is the whole queue (`data().len() == len()`). A
/// [`BipBuffer`](crate::BipBuffer) keeps its bytes in up to two regions and shows the first; once
/// it is consumed, the second becomes visible.
///
/// # Examples
///
/// ```
/// use sonic_buf::{ByteBuffer, Fifo};
///
/// let mut buf = ByteBuffer::new();
/// let space = buf.claim(5);
/// space.copy_from_slice(b"hello");
/// assert_eq!(buf.commit(5), 5);
/// assert_eq!(buf.data(), b"hello");
/// assert_eq!(buf.consume(100), 5); // clamped: only five bytes were readable
/// assert!(buf.is_empty());
/// ```
pub trait Fifo {
    /// Returns up to `n` bytes of contiguous writable space behind the readable bytes.
    ///
    /// The slice may be shorter than `n` (down to empty) when the buffer cannot offer more. Its
    /// contents are unspecified (old data or zeros), never uninitialised. The claim replaces any
    /// earlier pending claim.
    fn claim(&mut self, n: usize) -> &mut [u8];

    /// Makes the first `min(n, claimed)` bytes of the latest claim readable, ends the claim and
    /// returns how many bytes were committed.
    fn commit(&mut self, n: usize) -> usize;

    /// The readable window: the oldest readable bytes, in order, as one contiguous slice.
    fn data(&self) -> &[u8];

    /// Drops `min(n, data().len())` bytes from the front of the readable window and returns how
    /// many were dropped.
    fn consume(&mut self, n: usize) -> usize;

    /// Number of readable bytes held (may exceed `data().len()` for a [`BipBuffer`](crate::BipBuffer)).
    fn len(&self) -> usize;

    /// Total number of bytes the buffer can hold right now.
    fn capacity(&self) -> usize;

    /// Drops all readable bytes and any pending claim.
    fn clear(&mut self);

    /// `true` when no byte is readable.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes not holding readable data: `capacity() - len()`. Not necessarily contiguous (see
    /// [`BipBuffer`](crate::BipBuffer)), and a growable buffer may claim more than this.
    fn free(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Copies as much of `src` as one claim allows to the back of the queue and returns the
    /// number of bytes copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_buf::{ByteBuffer, Fifo};
    ///
    /// let mut buf = ByteBuffer::new();
    /// assert_eq!(buf.push(b"abc"), 3);
    /// assert_eq!(buf.data(), b"abc");
    /// ```
    fn push(&mut self, src: &[u8]) -> usize {
        let space = self.claim(src.len());
        let n = space.len();
        space.copy_from_slice(&src[..n]);
        self.commit(n)
    }
}

impl<F: Fifo + ?Sized> Fifo for &mut F {
    fn claim(&mut self, n: usize) -> &mut [u8] {
        (**self).claim(n)
    }
    fn commit(&mut self, n: usize) -> usize {
        (**self).commit(n)
    }
    fn data(&self) -> &[u8] {
        (**self).data()
    }
    fn consume(&mut self, n: usize) -> usize {
        (**self).consume(n)
    }
    fn len(&self) -> usize {
        (**self).len()
    }
    fn capacity(&self) -> usize {
        (**self).capacity()
    }
    fn clear(&mut self) {
        (**self).clear()
    }
}
