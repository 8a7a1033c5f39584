//! `MirroredBuffer`: a ring whose n bytes of memory are mapped twice, back to back, so that every
//! readable and every writable window is one contiguous slice, even across the wrap.
//!
//! # Rules
//!
//! * `head` (first readable byte) is kept in `[0, n)`; the readable window `[head, head + len)`
//!   and the writable window `[tail, tail + claimed)` (with `tail = (head + len) mod n`, also in
//!   `[0, n)`) may run into the second half, never past it, because `len + claimed <= n`.
//! * Wrapping is compare-and-subtract, so any page multiple works as a size.
//! * The two windows never share a physical byte: `len + claimed <= n`.
//! * **Barriers.** The compiler assumes `base[i]` and `base[i + n]` are different memory, and an
//!   optimised build was measured returning a stale byte written through the other address. A
//!   physical byte changes its role (free to readable, readable to free) only in `commit`,
//!   `consume` and `clear`; each of them runs `compiler_fence(SeqCst)`, which LLVM treats as a
//!   read and write of all memory, so no access through one address is reordered past, or served
//!   from a value cached across, an access through the other. No method touches one physical
//!   byte through both addresses without such a barrier in between.
//! * The mapping is private to the buffer; slices borrow `&self` / `&mut self`, so none outlives
//!   it or overlaps a live `&mut`.

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::atomic::{compiler_fence, Ordering};

use crate::fifo::Fifo;

mod map;

#[cfg(target_os = "linux")]
#[path = "mirrored/linux.rs"]
mod sys;

#[cfg(target_vendor = "apple")]
#[path = "mirrored/macos.rs"]
mod sys;

/// Why building a [`MirroredBuffer`] failed: the step and the operating system's error. It is the
/// payload of the `io::Error` the constructor returns (reach it with `get_ref` and `downcast_ref`).
#[derive(Debug)]
pub struct MapError {
    step: &'static str,
    hint: &'static str,
    source: Option<io::Error>,
}

impl MapError {
    fn wrap(
        kind: io::ErrorKind,
        step: &'static str,
        hint: &'static str,
        source: Option<io::Error>,
    ) -> io::Error {
        io::Error::new(kind, MapError { step, hint, source })
    }

    /// The last OS error, with the step that failed.
    fn os(step: &'static str) -> io::Error {
        let err = io::Error::last_os_error();
        Self::wrap(err.kind(), step, "", Some(err))
    }

    /// A request that can never succeed (kind `InvalidInput`).
    fn invalid(step: &'static str, why: &'static str) -> io::Error {
        Self::wrap(io::ErrorKind::InvalidInput, step, why, None)
    }

    /// A failure without an OS error (kind `Other`).
    fn other(step: &'static str, why: &'static str) -> io::Error {
        Self::wrap(io::ErrorKind::Other, step, why, None)
    }

    const HUGE_HINT: &'static str =
        "huge pages unavailable: reserve some with `sysctl vm.nr_hugepages=N`";

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn huge(step: &'static str) -> io::Error {
        let err = io::Error::last_os_error();
        Self::wrap(err.kind(), step, Self::HUGE_HINT, Some(err))
    }

    /// Re-labels a mapping failure seen while huge pages were asked for.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn huge_from(err: io::Error) -> io::Error {
        let kind = err.kind();
        match err.into_inner().map(|inner| inner.downcast::<MapError>()) {
            Some(Ok(inner)) => Self::wrap(kind, inner.step, Self::HUGE_HINT, inner.source),
            Some(Err(inner)) => io::Error::new(kind, inner),
            None => io::Error::from(kind),
        }
    }

    #[cfg_attr(target_os = "linux", allow(dead_code))]
    fn unsupported_huge() -> io::Error {
        Self::wrap(
            io::ErrorKind::Unsupported,
            "huge pages",
            "not supported for mirrored buffers on this system",
            None,
        )
    }

    /// The construction step that failed, e.g. `"mapping the mirror half"`.
    pub fn step(&self) -> &'static str {
        self.step
    }

    /// The operating system's error, when there was one (its `raw_os_error` is the errno).
    pub fn os_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(err) if self.hint.is_empty() => {
                write!(f, "mirrored buffer: {} failed: {err}", self.step)
            }
            Some(err) => write!(
                f,
                "mirrored buffer: {} failed: {err} ({})",
                self.step, self.hint
            ),
            None => write!(f, "mirrored buffer: {}: {}", self.step, self.hint),
        }
    }
}

impl Error for MapError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// Options for [`MirroredBuffer`]; start from [`MirroredBuffer::builder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MirroredBuilder {
    prefault: bool,
    huge_pages: bool,
}

impl MirroredBuilder {
    /// Populate every page at construction (`MAP_POPULATE` on Linux, a touch of every page on
    /// macOS), so the first pass over the ring takes no page fault. Default: off.
    pub fn prefault(mut self, yes: bool) -> Self {
        self.prefault = yes;
        self
    }

    /// Back the ring with huge pages (Linux `MFD_HUGETLB`); the size is then rounded up to the
    /// huge page size. Construction fails with a clear error when the system has none reserved
    /// (`vm.nr_hugepages`) and on other systems. Default: off.
    pub fn huge_pages(mut self, yes: bool) -> Self {
        self.huge_pages = yes;
        self
    }

    /// Builds a buffer of at least `min_size` bytes, rounded up to the page size (or the huge page
    /// size). Fails with `InvalidInput` for 0 or for a size the address space cannot hold twice,
    /// and with the operating system's error, naming the failed step, when mapping fails.
    pub fn build(&self, min_size: usize) -> io::Result<MirroredBuffer> {
        if min_size == 0 {
            return Err(MapError::invalid("invalid size", "0 bytes requested"));
        }
        let granule = sys::granule(self.huge_pages);
        let size = min_size
            .checked_next_multiple_of(granule)
            .filter(|s| s.checked_mul(2).is_some_and(|t| t <= isize::MAX as usize))
            .ok_or_else(|| {
                MapError::invalid("invalid size", "twice the size exceeds the address space")
            })?;
        let map = sys::map_mirrored(size, self.prefault, self.huge_pages)?;
        Ok(MirroredBuffer {
            map,
            head: 0,
            len: 0,
            claimed: 0,
        })
    }
}

/// A fixed-size ring mapped twice in virtual memory: every claim and every readable window is one
/// slice, and data is never moved.
///
/// Pick it for byte streams where a message may straddle the end of the ring (a partial message
/// is simply left in place) and the largest message is known. Available on Linux and macOS.
///
/// The type is `Send` but not `Sync`.
///
/// # Examples
///
/// ```
/// use sonic_buf::{Fifo, MirroredBuffer};
///
/// let mut ring = MirroredBuffer::new(4096)?;
/// let cap = ring.capacity();
/// ring.push(&vec![0; cap - 2]);
/// ring.consume(cap - 2);
/// // These 4 bytes wrap around the end of the ring, yet read back as one slice.
/// ring.push(b"wrap");
/// assert_eq!(ring.data(), b"wrap");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MirroredBuffer {
    map: map::Mapping,
    head: usize,
    len: usize,
    claimed: usize,
}

impl MirroredBuffer {
    /// A buffer of at least `min_size` bytes (rounded up to the page size) with default options;
    /// see [`MirroredBuilder::build`] for the errors.
    pub fn new(min_size: usize) -> io::Result<Self> {
        Self::builder().build(min_size)
    }

    /// Options: prefault, huge pages.
    pub fn builder() -> MirroredBuilder {
        MirroredBuilder::default()
    }

    /// The system page size: the smallest capacity, and the unit capacities are rounded to.
    pub fn page_size() -> usize {
        map::page_size()
    }

    fn cap(&self) -> usize {
        self.map.half()
    }

    fn tail(&self) -> usize {
        let tail = self.head + self.len;
        if tail >= self.cap() {
            tail - self.cap()
        } else {
            tail
        }
    }
}

impl fmt::Debug for MirroredBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MirroredBuffer")
            .field("capacity", &self.cap())
            .field("head", &self.head)
            .field("len", &self.len)
            .field("claimed", &self.claimed)
            .finish()
    }
}

impl Fifo for MirroredBuffer {
    /// Returns `min(n, free())` bytes: every free byte is reachable in one slice.
    fn claim(&mut self, n: usize) -> &mut [u8] {
        let k = n.min(self.cap() - self.len);
        let start = self.tail();
        self.claimed = k;
        // SAFETY: `start < cap` and `k <= cap`, so `start..start + k` lies inside the 2 * cap
        // mapping owned by `self.map`; the memory is initialised (shared memory starts zeroed).
        // The slice borrows `self` mutably, so no other slice of this buffer is alive, and its
        // physical bytes are disjoint from the readable ones because `len + k <= cap`.
        unsafe { std::slice::from_raw_parts_mut(self.map.base().add(start), k) }
    }

    fn commit(&mut self, n: usize) -> usize {
        let k = n.min(self.claimed);
        self.claimed = 0;
        // Bytes written through one address may be read through the other from now on.
        compiler_fence(Ordering::SeqCst);
        self.len += k;
        k
    }

    fn data(&self) -> &[u8] {
        // SAFETY: `head < cap` and `len <= cap`, so the range lies inside the mapping; the bytes
        // were written before a `commit` barrier. The slice borrows `self`, so no `&mut` slice of
        // this buffer exists while it lives.
        unsafe { std::slice::from_raw_parts(self.map.base().add(self.head), self.len) }
    }

    fn consume(&mut self, n: usize) -> usize {
        let k = n.min(self.len);
        // Bytes read through one address may be overwritten through the other from now on.
        compiler_fence(Ordering::SeqCst);
        self.head += k;
        if self.head >= self.cap() {
            self.head -= self.cap();
        }
        self.len -= k;
        k
    }

    fn len(&self) -> usize {
        self.len
    }

    fn capacity(&self) -> usize {
        self.cap()
    }

    fn clear(&mut self) {
        compiler_fence(Ordering::SeqCst);
        self.head = 0;
        self.len = 0;
        self.claimed = 0;
    }
}
