//! MirroredBuffer: mapping, sizes, the mirror itself, prefault, huge pages, drop. Skipped under
//! Miri (no model for memory mapped twice); valgrind runs these instead (`valgrind.sh`).
#![cfg(any(target_os = "linux", target_vendor = "apple"))]

use std::io;

use sonic_buf::{Fifo, MapError, MirroredBuffer};

fn page() -> usize {
    MirroredBuffer::page_size()
}

#[test]
#[cfg_attr(miri, ignore)]
fn size_rounds_up_to_page_multiples_without_power_of_two() {
    for (asked, pages) in [
        (1, 1),
        (page(), 1),
        (page() + 1, 2),
        (3 * page() - 7, 3),
        (5 * page(), 5),
    ] {
        let buf = MirroredBuffer::new(asked).unwrap();
        assert_eq!(buf.capacity(), pages * page(), "asked {asked}");
        assert_eq!(buf.len(), 0);
        assert_eq!(buf.free(), pages * page());
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn claim_is_contiguous_across_the_wrap_for_three_pages() {
    let mut buf = MirroredBuffer::new(3 * page()).unwrap();
    let cap = buf.capacity();
    // Move head and tail to 10 bytes before the end.
    assert_eq!(buf.push(&vec![7; cap - 10]), cap - 10);
    assert_eq!(buf.consume(cap - 10), cap - 10);
    // The whole ring is claimable as one slice that runs through the mirror.
    let space = buf.claim(usize::MAX);
    assert_eq!(space.len(), cap);
    for (i, b) in space.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    assert_eq!(buf.commit(cap), cap);
    assert_eq!(buf.free(), 0);
    assert!(buf.claim(1).is_empty());
    let expect: Vec<u8> = (0..cap).map(|i| (i % 251) as u8).collect();
    assert_eq!(buf.data(), &expect[..]);
    // Consume past the wrap point: head moves back into the first half.
    assert_eq!(buf.consume(20), 20);
    assert_eq!(buf.data(), &expect[20..]);
}

/// The hazard from the research note: a byte written through the upper address must be seen
/// through the lower one in an optimised build. The barrier in `commit` / `consume` ensures it.
#[test]
#[cfg_attr(miri, ignore)]
fn write_through_mirror_is_seen_through_base() {
    let mut buf = MirroredBuffer::new(page()).unwrap();
    let cap = buf.capacity();
    for round in 0..1000u32 {
        buf.clear();
        buf.push(&vec![b'a'; cap - 1]);
        let first = buf.data()[0];
        assert_eq!(first, b'a');
        buf.consume(cap - 1);
        // Tail sits at cap - 1: byte 1 of this claim is base[cap], i.e. physical byte 0.
        let space = buf.claim(2);
        space[0] = b'y';
        space[1] = b'z';
        buf.commit(2);
        assert_eq!(buf.data(), b"yz", "round {round}");
        buf.consume(1);
        // head is now 0 again: the same physical byte read through the base address.
        assert_eq!(buf.data(), b"z", "round {round}");
    }
}

/// The same hazard with the ring size known to the optimiser (the `if` below tells it), which
/// lets it prove `base + 4096 != base` and forward a stale byte unless a barrier intervenes.
/// Without the fences in `commit` / `consume` this fails in release builds.
#[test]
#[cfg_attr(miri, ignore)]
fn stale_read_is_prevented_when_size_is_known() {
    let mut ring = MirroredBuffer::new(4096).unwrap();
    if ring.capacity() != 4096 {
        return; // a 16 KiB-page system: the hazard needs a known size; nothing to check
    }
    for _ in 0..100 {
        ring.clear();
        ring.claim(1)[0] = b'a';
        ring.commit(1);
        assert_eq!(ring.data()[0], b'a');
        ring.consume(1);
        let space = ring.claim(4096);
        space[4095] = b'z'; // address base + 4096: physical byte 0
        ring.commit(4096);
        ring.consume(4095);
        assert_eq!(ring.data()[0], b'z'); // address base + 0
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn zero_size_is_an_invalid_input_error() {
    let err = MirroredBuffer::new(0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("0 bytes requested"), "{err}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn absurd_sizes_are_errors_not_panics() {
    for size in [usize::MAX, usize::MAX / 2, isize::MAX as usize, 1 << 62] {
        let err = MirroredBuffer::new(size).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{size}: {err}");
    }
    // Large but addressable: the kernel either maps it lazily or refuses; never a panic.
    match MirroredBuffer::new(1 << 46) {
        Ok(buf) => assert_eq!(buf.capacity(), 1 << 46),
        Err(err) => {
            let map_err = err.get_ref().and_then(|e| e.downcast_ref::<MapError>());
            assert!(map_err.is_some(), "{err}");
        }
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn mapping_failure_names_the_step() {
    // 64 TiB twice exceeds the 47-bit user address space of x86-64 Linux.
    let err = MirroredBuffer::new(1 << 46).err();
    if let Some(err) = err {
        let msg = err.to_string();
        assert!(msg.starts_with("mirrored buffer: "), "{msg}");
        assert!(msg.contains("failed"), "{msg}");
    }
}

#[cfg(target_os = "linux")]
fn resident_pages(buf: &mut MirroredBuffer) -> usize {
    assert!(buf.is_empty());
    let cap = buf.capacity();
    buf.clear();
    let base = buf.claim(cap).as_ptr();
    let pages = cap / page();
    let mut vec = vec![0u8; pages];
    // SAFETY: `base..base + cap` is the buffer's first half, mapped while `buf` lives; mincore
    // only reports residency into `vec`, which has one byte per page.
    let rc = unsafe { libc::mincore(base as *mut libc::c_void, cap, vec.as_mut_ptr()) };
    assert_eq!(rc, 0, "{}", io::Error::last_os_error());
    buf.commit(0);
    vec.iter().filter(|v| **v & 1 == 1).count()
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
fn prefault_really_populates_every_page() {
    let mut lazy = MirroredBuffer::new(64 * page()).unwrap();
    assert_eq!(
        resident_pages(&mut lazy),
        0,
        "pages are allocated lazily by default"
    );
    let mut eager = MirroredBuffer::builder()
        .prefault(true)
        .build(64 * page())
        .unwrap();
    assert_eq!(resident_pages(&mut eager), 64);
}

#[test]
#[cfg_attr(miri, ignore)]
fn huge_pages_work_or_fail_with_a_clear_error() {
    match MirroredBuffer::builder().huge_pages(true).build(1) {
        Ok(mut buf) => {
            assert!(buf.capacity() >= 2 << 20 || buf.capacity() % page() == 0);
            buf.push(b"huge");
            assert_eq!(buf.data(), b"huge");
        }
        Err(err) => {
            let msg = err.to_string();
            assert!(msg.contains("huge pages"), "{msg}");
            let map_err = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<MapError>())
                .unwrap();
            assert!(!map_err.step().is_empty());
        }
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn many_buffers_create_and_drop() {
    for i in 1..200 {
        let mut buf = MirroredBuffer::new(i * 97).unwrap();
        buf.push(&[i as u8; 33]);
        assert_eq!(buf.data(), &[i as u8; 33][..]);
    }
    let many: Vec<_> = (0..64)
        .map(|_| MirroredBuffer::new(page()).unwrap())
        .collect();
    assert_eq!(many.len(), 64);
}

#[test]
#[cfg_attr(miri, ignore)]
fn buffer_moves_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<MirroredBuffer>();
    let mut buf = MirroredBuffer::new(page()).unwrap();
    buf.push(b"across");
    let buf = std::thread::spawn(move || {
        assert_eq!(buf.data(), b"across");
        buf
    })
    .join()
    .unwrap();
    assert_eq!(buf.len(), 6);
}

#[test]
#[cfg_attr(miri, ignore)]
fn fork_child_does_not_share_the_ring() {
    // MADV_DONTFORK is best effort and invisible from the parent; just check the buffer keeps
    // working in the parent after a fork.
    #[cfg(target_os = "linux")]
    {
        let mut buf = MirroredBuffer::new(page()).unwrap();
        buf.push(b"parent");
        // SAFETY: the child calls only async-signal-safe `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: `_exit` is always safe to call in the child.
            unsafe { libc::_exit(0) };
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: waits for the child we just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(buf.data(), b"parent");
    }
}
