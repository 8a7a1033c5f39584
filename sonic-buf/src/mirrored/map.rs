//! The Unix part every backend shares: reserve 2n bytes of address space, then map one shared
//! memory object of n bytes twice over it, back to back.
//!
//! # Rules
//!
//! * The reservation (`PROT_NONE`, private, anonymous) is owned by this process from the first
//!   `mmap` on. The two `MAP_FIXED` maps only ever replace pages of that reservation, so they can
//!   never clobber a mapping that belongs to someone else, and no other thread can take the hole
//!   between them: no race.
//! * Every failure path unmaps whatever was mapped so far (the `Region` guard).
//! * A `Mapping` is the sole owner of its 2n bytes; dropping it unmaps them.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::{self, NonNull};

use super::MapError;

/// The system page size.
pub(super) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions; it only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .unwrap_or(4096)
}

/// 2n bytes of address space whose halves show the same n bytes of memory.
pub(super) struct Mapping {
    base: NonNull<u8>,
    half: usize,
}

// SAFETY: a `Mapping` exclusively owns its address range; nothing in it refers to the thread
// that created it, so moving it (and the right to unmap it) to another thread is sound.
unsafe impl Send for Mapping {}

/// An owned address range that is unmapped on drop unless released.
struct Region {
    addr: *mut libc::c_void,
    len: usize,
}

impl Region {
    fn release(self) -> *mut libc::c_void {
        let addr = self.addr;
        std::mem::forget(self);
        addr
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `addr..addr+len` was mapped by this module and is owned by this guard alone;
        // nothing refers to it once the guard is dropped.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

impl Mapping {
    /// Maps `fd` (a shared memory object of at least `half` bytes) twice, back to back, at an
    /// address aligned to `align`. `half` and `align` must be multiples of the page size, with
    /// `align` a power of two. `shared_flags` is or-ed into the flags of both shared maps (for
    /// example `MAP_POPULATE`).
    pub(super) fn new(
        fd: BorrowedFd<'_>,
        half: usize,
        align: usize,
        shared_flags: libc::c_int,
    ) -> io::Result<Self> {
        let page = page_size();
        let total = half.checked_mul(2).filter(|t| *t <= isize::MAX as usize);
        let total = total.ok_or_else(|| {
            MapError::invalid("invalid size", "twice the size exceeds the address space")
        })?;
        let slack = align.saturating_sub(page);
        let reserve_len = total.checked_add(slack).ok_or_else(|| {
            MapError::invalid("invalid size", "twice the size exceeds the address space")
        })?;

        // SAFETY: a fresh anonymous PROT_NONE mapping at an address the kernel chooses touches
        // no existing memory.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                reserve_len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(MapError::os("reserving address space"));
        }
        let start = addr as usize;
        let aligned = start.next_multiple_of(align);
        let head_trim = aligned - start;
        let tail_trim = reserve_len - head_trim - total;
        // Trim the alignment slack. Both pieces are page multiples because `start`, `aligned`,
        // `total` and `reserve_len` are.
        if head_trim > 0 {
            // SAFETY: `start..aligned` lies inside the reservation made above, which nothing
            // else refers to.
            unsafe { libc::munmap(addr, head_trim) };
        }
        if tail_trim > 0 {
            // SAFETY: `aligned + total..start + reserve_len` lies inside the same reservation.
            unsafe { libc::munmap((aligned + total) as *mut libc::c_void, tail_trim) };
        }
        let region = Region {
            addr: aligned as *mut libc::c_void,
            len: total,
        };

        for (i, what) in [
            (0, "mapping the first half"),
            (1, "mapping the mirror half"),
        ] {
            let at = aligned + i * half;
            // SAFETY: `at..at+half` lies inside `region`, which this function owns, so MAP_FIXED
            // replaces only our own reservation. `fd` is a valid descriptor for the duration of
            // the call (it is borrowed).
            let got = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    half,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED | shared_flags,
                    fd.as_raw_fd(),
                    0,
                )
            };
            if got == libc::MAP_FAILED {
                return Err(MapError::os(what));
            }
            if got as usize != at {
                return Err(MapError::other(what, "the kernel ignored MAP_FIXED"));
            }
        }
        let base = region.release() as *mut u8;
        Ok(Self {
            // `aligned` comes from a successful mmap and is therefore never null.
            base: NonNull::new(base).ok_or_else(|| MapError::other("mapping", "null address"))?,
            half,
        })
    }

    /// Start of the first half.
    pub(super) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// Length of one half: the buffer's capacity.
    pub(super) fn half(&self) -> usize {
        self.half
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base..base+2*half` is mapped and owned by this `Mapping` alone; every slice
        // handed out borrowed the buffer that owns it, so none outlives it. A failure here cannot
        // be reported from `drop` and leaves only a leak.
        unsafe { libc::munmap(self.base.as_ptr().cast(), 2 * self.half) };
    }
}
