//! ByteBuffer: lazy compaction (data moves only when the room in front is at least the data),
//! growth, limits.

use sonic_buf::{ByteBuffer, Fifo};

#[test]
fn no_move_while_front_room_is_smaller_than_data() {
    let mut buf = ByteBuffer::with_capacity(100).with_limit(1000);
    buf.push(&[1; 100]);
    buf.consume(40); // 40 in front, 60 of data
    assert_eq!(buf.claim(30).len(), 30);
    // Grew instead of moving 60 bytes for 40 of room; growth copies only the 60 live bytes.
    assert_eq!(buf.bytes_moved(), 60);
    assert!(buf.capacity() >= 200);
    buf.commit(0);
}

#[test]
fn moves_when_front_room_covers_data() {
    let mut buf = ByteBuffer::with_capacity(100);
    buf.push(&[1; 100]);
    buf.consume(70); // 70 in front, 30 of data
    let space = buf.claim(60);
    assert_eq!(space.len(), 60);
    assert_eq!(buf.bytes_moved(), 30, "30 live bytes moved to the front");
    assert_eq!(buf.capacity(), 100, "no growth");
    buf.commit(0);
    assert_eq!(buf.data(), &[1; 30][..]);
}

#[test]
fn emptying_resets_offsets_for_free() {
    let mut buf = ByteBuffer::with_capacity(64);
    for _ in 0..1000 {
        buf.push(&[5; 48]);
        buf.consume(48);
    }
    assert_eq!(buf.bytes_moved(), 0);
    assert_eq!(buf.capacity(), 64);
}

#[test]
fn amortised_moves_stay_below_bytes_consumed() {
    // A stream with a partial message always left behind: moves never exceed what was consumed.
    let mut buf = ByteBuffer::with_capacity(4096);
    let mut consumed = 0u64;
    for i in 0..10_000usize {
        let n = 1 + (i * 2654435761) % 1500;
        buf.push(&vec![i as u8; n]);
        let keep = (i * 40503) % 700;
        let k = buf.len().saturating_sub(keep);
        consumed += buf.consume(k) as u64;
    }
    assert!(
        buf.bytes_moved() <= consumed,
        "{} > {consumed}",
        buf.bytes_moved()
    );
}

#[test]
fn limit_clamps_growth() {
    let mut buf = ByteBuffer::new().with_limit(10);
    assert_eq!(buf.push(b"0123456789abc"), 10);
    assert!(buf.claim(1).is_empty());
    buf.consume(9);
    assert_eq!(
        buf.claim(100).len(),
        9,
        "compaction makes the room, limit caps it"
    );
    buf.commit(0);
    assert_eq!(buf.data(), b"9");
    assert_eq!(buf.limit(), 10);
}

#[test]
fn at_the_limit_a_claim_moves_the_data_instead_of_reallocating() {
    // Less room in front than data, so below the limit this would grow; at the limit growing
    // cannot add room, and a reallocation of the same size would only copy the data too.
    let mut buf = ByteBuffer::with_capacity(100).with_limit(100);
    buf.push(&[1; 90]);
    buf.consume(30); // 30 in front, 60 of data, 10 free behind
    let base = buf.data().as_ptr() as usize - 30;
    assert_eq!(buf.claim(40).len(), 40);
    buf.commit(0);
    assert_eq!(buf.capacity(), 100);
    assert_eq!(
        buf.data().as_ptr() as usize,
        base,
        "the same allocation, data at its front"
    );
    assert_eq!(buf.data(), &[1; 60][..]);
    assert_eq!(buf.bytes_moved(), 60);
}

#[test]
fn an_empty_or_compacted_buffer_starts_on_a_cache_line() {
    // glibc puts allocations of 128 KiB and more 16 bytes past a page start, the one place a
    // socket read was measured 2.7x slower to copy into; small ones at any 16-byte boundary.
    // (Miri's allocator places memory its own way, and megabytes take it minutes.)
    let caps: &[usize] = if cfg!(miri) {
        &[100, 5000]
    } else {
        &[100, 5000, 64 << 10, 200 << 10, 256 << 10, 1 << 20, 3 << 20]
    };
    for &cap in caps {
        let mut buf = ByteBuffer::with_capacity(cap).with_limit(cap);
        assert_eq!(buf.capacity(), cap);
        assert_eq!(
            buf.claim(1).as_ptr() as usize % 64,
            0,
            "empty, capacity {cap}"
        );
        buf.commit(0);
        buf.push(&vec![1; cap]);
        buf.consume(cap / 2 + 1);
        buf.claim(cap / 2);
        buf.commit(0);
        assert_eq!(
            buf.data().as_ptr() as usize % 64,
            0,
            "compacted, capacity {cap}"
        );
        buf.consume(cap);
        assert_eq!(buf.claim(cap).len(), cap);
        assert_eq!(
            buf.claim(1).as_ptr() as usize % 64,
            0,
            "emptied, capacity {cap}"
        );
    }
}

#[test]
fn clone_is_independent() {
    let mut a = ByteBuffer::new();
    a.push(b"one");
    let mut b = a.clone();
    b.push(b"two");
    assert_eq!(a.data(), b"one");
    assert_eq!(b.data(), b"onetwo");
}

#[test]
fn claim_all_offers_the_whole_tail_and_commits_what_was_written() {
    let mut b = ByteBuffer::with_capacity(1024);
    b.push(&[1; 100]);
    b.consume(40);
    // 924 bytes of tail: all offered, no move, no growth.
    let space = b.claim_all(10);
    assert_eq!(space.len(), 924);
    space[..3].copy_from_slice(&[7, 8, 9]);
    assert_eq!(b.commit(3), 3);
    assert_eq!(b.len(), 63);
    assert_eq!(&b.data()[60..], &[7, 8, 9]);
    assert_eq!(b.bytes_moved(), 0);
    // A minimum larger than the tail makes room (here: grows), then offers all of it.
    let cap = b.capacity();
    let space = b.claim_all(cap);
    assert!(space.len() >= cap);
    // Committing more than was claimed clamps to the claim.
    let claimed = space.len();
    assert_eq!(b.commit(usize::MAX), claimed);
    assert_eq!(b.len(), 63 + claimed);
    assert_eq!(&b.data()[60..63], &[7, 8, 9]);
    // At the limit the claim is clamped, never a panic.
    let mut small = ByteBuffer::new().with_limit(64);
    assert_eq!(small.claim_all(1000).len(), 64);
}

#[test]
fn data_mut_changes_bytes_in_place() {
    let mut b = ByteBuffer::new();
    b.push(b"hello world");
    b.consume(6);
    b.data_mut().make_ascii_uppercase();
    assert_eq!(b.data(), b"WORLD");
    assert_eq!(b.len(), 5);
}
