//! BipBuffer: Cooke's placement rule, region promotion, all-or-nothing claims for datagrams.

use sonic_buf::{BipBuffer, Fifo};

#[test]
fn claims_after_a_while_that_side_is_larger() {
    let mut bip = BipBuffer::new(10);
    bip.push(b"0123");
    bip.consume(2); // A = [2, 4): 2 before, 6 after
    assert_eq!(bip.max_claim(), 6);
    assert_eq!(bip.claim(100).len(), 6);
    bip.commit(0);
}

#[test]
fn claims_before_a_when_that_side_is_larger_and_reads_in_order() {
    let mut bip = BipBuffer::new(10);
    bip.push(b"01234567");
    bip.consume(6); // A = [6, 8): 6 before, 2 after -> B starts at 0
    assert_eq!(bip.max_claim(), 6);
    assert_eq!(bip.push(b"abcdefgh"), 6);
    assert_eq!(bip.len(), 8);
    assert_eq!(bip.data(), b"67", "A first");
    // B exists: further claims go to the gap between B and A, which is empty now.
    assert_eq!(bip.max_claim(), 0);
    assert!(bip.claim(1).is_empty());
    bip.consume(2);
    assert_eq!(bip.data(), b"abcdef", "B promoted to A");
    assert_eq!(bip.max_claim(), 4);
}

#[test]
fn consume_never_spans_regions() {
    let mut bip = BipBuffer::new(8);
    bip.push(b"aaaaaa");
    bip.consume(5);
    bip.push(b"bbbb"); // goes to B (5 before A vs 2 after)
    assert_eq!(bip.consume(100), 1, "clamped to region A");
    assert_eq!(bip.data(), b"bbbb");
}

#[test]
fn claim_exact_picks_the_place_that_fits() {
    let mut bip = BipBuffer::new(10);
    bip.push(b"0123456");
    bip.consume(4); // A = [4, 7): 4 before, 3 after
                    // Cooke's rule would pick "before" for an open-ended claim; an exact 3 fits after A.
    bip.claim_exact(3).unwrap().copy_from_slice(b"xyz");
    bip.commit(3);
    assert_eq!(bip.data(), b"456xyz");
    // Now 0 after and 4 before: 4 fits before, 5 fits nowhere.
    assert!(bip.claim_exact(5).is_none());
    bip.claim_exact(4).unwrap().copy_from_slice(b"DGRM");
    assert_eq!(bip.commit(4), 4);
    bip.consume(6);
    assert_eq!(bip.data(), b"DGRM");
}

#[test]
fn datagrams_are_read_back_whole() {
    // Variable-size records through a small ring: each commit is one record and reads back as
    // one contiguous prefix of the window.
    let mut bip = BipBuffer::new(64);
    let mut sent = std::collections::VecDeque::new();
    let mut next = 0u8;
    for round in 0..2000usize {
        let len = 1 + (round * 7919) % 23;
        if let Some(space) = bip.claim_exact(len) {
            space.fill(next);
            bip.commit(len);
            sent.push_back((next, len));
            next = next.wrapping_add(1);
        }
        if round % 3 == 0 || bip.max_claim() < 24 {
            if let Some((tag, len)) = sent.pop_front() {
                let data = bip.data();
                assert!(data.len() >= len);
                assert!(data[..len].iter().all(|b| *b == tag));
                assert_eq!(bip.consume(len), len);
            }
        }
    }
}

#[test]
fn empty_buffer_restarts_at_zero() {
    let mut bip = BipBuffer::new(8);
    bip.push(b"abcde");
    bip.consume(5);
    assert_eq!(bip.max_claim(), 8);
    assert_eq!(bip.claim(8).len(), 8);
}
