//! macOS (and other Apple targets) backend: a POSIX shared memory object that is unlinked right
//! after it is opened, so no name outlives construction. Written for macOS but not run by the
//! project's Linux CI; the mmap steps are the shared ones in `map.rs`.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{compiler_fence, AtomicU32, Ordering};

use super::map::{page_size, Mapping};
use super::MapError;

/// The unit the size is rounded up to.
pub(super) fn granule(_huge_pages: bool) -> usize {
    page_size()
}

/// Opens a fresh, already unlinked shared memory object.
fn open_unlinked() -> io::Result<OwnedFd> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // macOS limits the name to 31 bytes: "/sb" + 8 + 1 + 8 + 1 + 8 hex digits at most.
        let name = format!("/sb{pid:x}.{n:x}.{nanos:x}");
        let name = CString::new(name)
            .map_err(|_| MapError::invalid("shm_open", "name contains a NUL byte"))?;
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
        // SAFETY: `name` is NUL-terminated; the variadic mode argument is passed as an unsigned
        // int, the type it is promoted to.
        let raw = unsafe { libc::shm_open(name.as_ptr(), flags, 0o600 as libc::c_uint) };
        if raw < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::AlreadyExists {
                continue;
            }
            return Err(MapError::os("shm_open"));
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `name` is NUL-terminated. The object stays alive through `fd`.
        if unsafe { libc::shm_unlink(name.as_ptr()) } != 0 {
            return Err(MapError::os("shm_unlink"));
        }
        return Ok(fd);
    }
    Err(MapError::other("shm_open", "no free name after 64 tries"))
}

/// Creates the shared memory object and maps it twice; `half` is a multiple of the page size.
pub(super) fn map_mirrored(half: usize, prefault: bool, huge_pages: bool) -> io::Result<Mapping> {
    if huge_pages {
        return Err(MapError::unsupported_huge());
    }
    let fd = open_unlinked()?;
    let len = libc::off_t::try_from(half)
        .map_err(|_| MapError::invalid("invalid size", "too large for a shared memory object"))?;
    // SAFETY: `fd` is a valid open shared memory object; ftruncate only changes its size.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } != 0 {
        return Err(MapError::os("sizing the shared memory object"));
    }
    let mapping = Mapping::new(fd.as_fd(), half, page_size(), 0)?;
    if prefault {
        touch(&mapping);
    }
    Ok(mapping)
}

/// Populates every page: macOS has no `MAP_POPULATE`. Writing allocates the memory through the
/// first half; reading one byte per page of the second half fills its page table entries.
fn touch(mapping: &Mapping) {
    let page = page_size();
    let base = mapping.base();
    for off in (0..mapping.half()).step_by(page) {
        // SAFETY: `off < half`, so both addresses lie inside the 2n-byte mapping, which nothing
        // else references yet. Volatile accesses are not elided.
        unsafe {
            base.add(off).write_volatile(0);
            compiler_fence(Ordering::SeqCst);
            base.add(mapping.half() + off).read_volatile();
        }
    }
    compiler_fence(Ordering::SeqCst);
}
