//! Linux backend: an anonymous `memfd` (no file system involved, nothing left after a crash).

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use super::map::{page_size, Mapping};
use super::MapError;

/// Huge page size the kernel uses for `MFD_HUGETLB`; 2 MiB when `/proc` does not say.
fn huge_page_size() -> usize {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix("Hugepagesize:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<usize>().ok())
        .map_or(2 << 20, |kb| kb * 1024)
}

/// The unit the size is rounded up to.
pub(super) fn granule(huge_pages: bool) -> usize {
    if huge_pages {
        huge_page_size()
    } else {
        page_size()
    }
}

/// Creates the memfd and maps it twice; `half` is a multiple of `granule(huge_pages)`.
pub(super) fn map_mirrored(half: usize, prefault: bool, huge_pages: bool) -> io::Result<Mapping> {
    let mut flags = libc::MFD_CLOEXEC;
    if huge_pages {
        flags |= libc::MFD_HUGETLB;
    }
    // SAFETY: the name is a valid NUL-terminated string; memfd_create touches no other memory.
    let raw = unsafe { libc::memfd_create(c"sonic-buf".as_ptr(), flags) };
    if raw < 0 {
        return Err(if huge_pages {
            MapError::huge("memfd_create(MFD_HUGETLB)")
        } else {
            MapError::os("memfd_create")
        });
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let len = libc::off_t::try_from(half)
        .map_err(|_| MapError::invalid("invalid size", "too large for a memfd"))?;
    // SAFETY: `fd` is a valid open memfd; ftruncate only changes its size.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } != 0 {
        return Err(MapError::os("sizing the memfd"));
    }
    let populate = if prefault { libc::MAP_POPULATE } else { 0 };
    let align = granule(huge_pages);
    let mapping = Mapping::new(fd.as_fd(), half, align, populate).map_err(|e| {
        if huge_pages && e.kind() == io::ErrorKind::OutOfMemory {
            MapError::huge_from(e)
        } else {
            e
        }
    })?;
    // Without this a forked child would share the ring's memory with the parent. Best effort:
    // the buffer works the same when the kernel refuses.
    // SAFETY: the range is the mapping just created and owned by `mapping`; MADV_DONTFORK
    // changes no contents.
    unsafe { libc::madvise(mapping.base().cast(), 2 * half, libc::MADV_DONTFORK) };
    Ok(mapping)
    // `fd` closes here; the two shared maps keep the memory alive.
}
