//! Bad input on every buffer: zero and huge sizes, commit more than claimed, consume more than
//! readable, commit without a claim. Each call clamps as documented in `Fifo`; nothing panics and
//! the stored bytes stay intact.

use sonic_buf::{BipBuffer, ByteBuffer, Fifo};

/// Runs the same abuse on any buffer that can hold at least 16 bytes.
fn abuse<B: Fifo>(buf: &mut B) {
    // Zero-sized claims and commits.
    assert!(buf.claim(0).is_empty());
    assert_eq!(buf.commit(0), 0);
    assert_eq!(buf.commit(usize::MAX), 0, "nothing was claimed");
    assert_eq!(buf.consume(0), 0);
    assert_eq!(buf.consume(usize::MAX), 0, "nothing is readable");
    assert!(buf.data().is_empty());

    // Commit more than claimed: clamps to the claim.
    buf.claim(4).copy_from_slice(b"abcd");
    assert_eq!(buf.commit(1000), 4);
    assert_eq!(buf.data(), b"abcd");

    // A second commit without a new claim commits nothing.
    assert_eq!(buf.commit(3), 0);
    assert_eq!(buf.len(), 4);

    // A claim replaced by another: only the latest can be committed.
    buf.claim(8).fill(b'x');
    buf.claim(2).copy_from_slice(b"ef");
    assert_eq!(buf.commit(8), 2);
    assert_eq!(buf.data(), b"abcdef");

    // commit(0) cancels a claim.
    buf.claim(3).fill(b'!');
    assert_eq!(buf.commit(0), 0);
    assert_eq!(buf.commit(3), 0);
    assert_eq!(buf.data(), b"abcdef");

    // A huge claim clamps instead of failing; committing part of it is fine.
    let space = buf.claim(usize::MAX);
    assert!(space.len() <= buf_limit_hint());
    space[..2].copy_from_slice(b"gh");
    assert_eq!(buf.commit(2), 2);
    assert_eq!(buf.data(), b"abcdefgh");

    // Consume more than available: clamps.
    assert_eq!(buf.consume(3), 3);
    assert_eq!(buf.consume(usize::MAX), 5);
    assert!(buf.is_empty());
    assert_eq!(buf.consume(1), 0);

    // A claim survives a consume; clear cancels it.
    buf.push(b"12");
    buf.claim(2).copy_from_slice(b"34");
    assert_eq!(buf.consume(usize::MAX), 2);
    assert_eq!(buf.commit(2), 2);
    assert_eq!(buf.data(), b"34");
    buf.claim(2).fill(0);
    buf.clear();
    assert_eq!(buf.commit(2), 0);
    assert!(buf.is_empty());
    assert_eq!(buf.free(), buf.capacity());
}

fn buf_limit_hint() -> usize {
    ByteBuffer::DEFAULT_LIMIT
}

#[test]
fn byte_buffer_clamps() {
    abuse(&mut ByteBuffer::new().with_limit(1 << 16));
    abuse(&mut ByteBuffer::with_capacity(16).with_limit(16));
}

#[test]
#[cfg_attr(miri, ignore)] // allocates and zero-fills the 64 MiB default limit
fn byte_buffer_huge_claim_stops_at_default_limit() {
    let mut buf = ByteBuffer::new();
    buf.push(b"keep");
    let space = buf.claim(usize::MAX);
    assert_eq!(space.len(), ByteBuffer::DEFAULT_LIMIT - 4);
    assert_eq!(buf.commit(0), 0);
    assert_eq!(buf.data(), b"keep");
}

#[test]
fn byte_buffer_zero_and_huge_capacity() {
    let mut zero = ByteBuffer::with_capacity(0);
    assert_eq!(zero.capacity(), 0);
    assert_eq!(zero.claim(3).len(), 3, "grows on demand");
    let mut limited = ByteBuffer::new().with_limit(0);
    assert!(limited.claim(10).is_empty());
    assert_eq!(limited.push(b"x"), 0);
}

#[test]
#[cfg_attr(miri, ignore)] // zero-fills the 64 MiB default limit
fn byte_buffer_huge_capacity_is_clamped() {
    let mut huge = ByteBuffer::with_capacity(usize::MAX);
    assert_eq!(huge.capacity(), ByteBuffer::DEFAULT_LIMIT);
    assert_eq!(huge.push(b"x"), 1);
}

#[test]
fn bip_buffer_clamps() {
    abuse(&mut BipBuffer::new(16));
    abuse(&mut BipBuffer::new(4096));
}

#[test]
fn bip_buffer_zero_capacity() {
    let mut bip = BipBuffer::new(0);
    assert!(bip.claim(usize::MAX).is_empty());
    assert!(bip.claim_exact(1).is_none());
    assert_eq!(bip.claim_exact(0).map(|s| s.len()), Some(0));
    assert_eq!(bip.commit(5), 0);
    assert_eq!(bip.consume(5), 0);
    assert!(bip.is_empty());
}

#[test]
fn bip_claim_exact_too_large_leaves_no_claim() {
    let mut bip = BipBuffer::new(8);
    bip.push(b"abc");
    assert!(bip.claim_exact(6).is_none());
    assert!(bip.claim_exact(usize::MAX).is_none());
    assert_eq!(bip.commit(6), 0);
    assert_eq!(bip.data(), b"abc");
}

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
#[test]
#[cfg_attr(miri, ignore)]
fn mirrored_buffer_clamps() {
    let mut ring = sonic_buf::MirroredBuffer::new(1).unwrap();
    abuse(&mut ring);
    // Fill completely: further claims are empty, data intact.
    let cap = ring.capacity();
    assert_eq!(ring.push(&vec![9; cap + 100]), cap);
    assert!(ring.claim(1).is_empty());
    assert_eq!(ring.commit(1), 0);
    assert_eq!(ring.len(), cap);
    assert!(ring.data().iter().all(|b| *b == 9));
}

#[test]
fn fifo_through_mut_reference() {
    fn use_dyn(buf: &mut dyn Fifo) -> usize {
        buf.push(b"dyn")
    }
    let mut buf = ByteBuffer::new();
    assert_eq!(use_dyn(&mut buf), 3);
    let mut r = &mut buf;
    assert_eq!(Fifo::push(&mut r, b"!"), 1);
    assert_eq!(buf.data(), b"dyn!");
}
