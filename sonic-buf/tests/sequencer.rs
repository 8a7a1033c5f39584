//! `Sequencer` behaviour, one rule per test: ordered release, duplicates, gaps (reported once,
//! split by fills, timed out by time and by depth, skipped), the slot and byte bounds, hostile
//! sequence numbers, receiving in place, and each store.

use sonic_buf::sequencer::{Config, Gap, PushError, Pushed, Sequencer, SequencerStats};
use sonic_buf::{BipBuffer, ByteBuffer};
use std::time::{Duration, Instant};

fn cfg(start: u64) -> Config {
    Config {
        start: Some(start),
        max_slots: 16,
        max_bytes: 4096,
        ..Config::default()
    }
}

fn body(seq: u64) -> Vec<u8> {
    format!("datagram {seq}").into_bytes()
}

/// Pops everything releasable.
fn drain<S: sonic_buf::sequencer::Store>(s: &mut Sequencer<S>) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some((seq, data)) = s.pop() {
        assert_eq!(data, &body(seq)[..]);
        out.push(seq);
    }
    out
}

fn gap(start: u64, end: u64) -> Gap {
    Gap { start, end }
}

#[test]
fn in_order_datagrams_are_released_at_once_and_once() {
    let mut s = Sequencer::new(cfg(10));
    for seq in 10..100 {
        assert_eq!(s.push(seq, &body(seq)), Ok(Pushed::Stored));
        assert_eq!(drain(&mut s), [seq]);
    }
    assert_eq!(s.pop(), None);
    assert_eq!((s.held(), s.held_bytes(), s.next()), (0, 0, 100));
    let st = s.stats();
    assert_eq!((st.stored, st.released, st.gaps), (90, 90, 0));
}

#[test]
fn reordered_datagrams_are_released_in_order() {
    let mut s = Sequencer::new(cfg(0));
    for seq in [3, 1, 4, 0, 2, 6, 5] {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(drain(&mut s), [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(s.store_bytes(), 0, "every record left the store");
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let mut s = Sequencer::new(cfg(0));
    s.push(0, &body(0)).unwrap();
    s.push(2, &body(2)).unwrap();
    assert_eq!(s.push(2, b"other bytes"), Ok(Pushed::Duplicate)); // held
    assert_eq!(drain(&mut s), [0]);
    assert_eq!(s.push(0, &body(0)), Ok(Pushed::Duplicate)); // released
    s.push(1, &body(1)).unwrap();
    assert_eq!(drain(&mut s), [1, 2], "the first copy of 2 won");
    assert_eq!(s.stats().duplicates, 2);
}

#[test]
fn a_gap_is_reported_once_when_it_appears() {
    let mut s = Sequencer::new(cfg(0));
    assert_eq!(s.push(0, &body(0)), Ok(Pushed::Stored));
    assert_eq!(s.push(4, &body(4)), Ok(Pushed::StoredAfterGap(gap(1, 4))));
    assert_eq!(s.push(5, &body(5)), Ok(Pushed::Stored));
    assert_eq!(
        s.push(2, &body(2)),
        Ok(Pushed::Stored),
        "a fill reports nothing"
    );
    assert_eq!(s.push(8, &body(8)), Ok(Pushed::StoredAfterGap(gap(6, 8))));
    assert_eq!(
        s.gaps().collect::<Vec<_>>(),
        [gap(1, 2), gap(3, 4), gap(6, 8)]
    );
    let st = s.stats();
    assert_eq!((st.gaps, st.missing, st.filled), (2, 5, 1));
    assert_eq!(drain(&mut s), [0]);
}

#[test]
fn a_fill_in_the_middle_splits_the_gap() {
    let mut s = Sequencer::new(cfg(0));
    s.push(10, &body(10)).unwrap();
    s.push(5, &body(5)).unwrap();
    assert_eq!(s.gaps().collect::<Vec<_>>(), [gap(0, 5), gap(6, 10)]);
    for seq in [0, 9, 6, 4] {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(s.gaps().collect::<Vec<_>>(), [gap(1, 4), gap(7, 9)]);
    for seq in [1, 2, 3, 7, 8] {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(s.gaps().count(), 0);
    assert_eq!(drain(&mut s), (0..=10).collect::<Vec<_>>());
}

#[test]
fn a_gap_times_out_after_the_configured_time_once() {
    let t = Duration::from_millis(20);
    let mut s = Sequencer::new(Config {
        gap_timeout: Some(t),
        ..cfg(0)
    });
    let t0 = Instant::now();
    s.push(3, &body(3)).unwrap();
    assert_eq!(s.poll_timeout(t0), None, "first seen now");
    assert_eq!(s.poll_timeout(t0 + t - Duration::from_nanos(1)), None);
    s.push(9, &body(9)).unwrap(); // a second gap, first seen later
    assert_eq!(s.poll_timeout(t0 + t), Some(gap(0, 3)));
    assert_eq!(
        s.poll_timeout(t0 + t),
        None,
        "reported once, and 4..9 is younger"
    );
    assert_eq!(s.poll_timeout(t0 + 2 * t), Some(gap(4, 9)));
    assert_eq!(s.poll_timeout(t0 + 10 * t), None);
    assert_eq!(s.stats().timed_out, 2);
    assert_eq!(s.held(), 2, "a timeout drops nothing");
}

#[test]
fn a_timed_out_gap_reports_what_is_still_missing() {
    let mut s = Sequencer::new(Config {
        gap_timeout: Some(Duration::from_millis(1)),
        ..cfg(0)
    });
    let t0 = Instant::now();
    s.push(6, &body(6)).unwrap();
    s.poll_timeout(t0);
    s.push(0, &body(0)).unwrap();
    s.push(3, &body(3)).unwrap();
    let later = t0 + Duration::from_millis(1);
    assert_eq!(s.poll_timeout(later), Some(gap(1, 3)));
    assert_eq!(s.poll_timeout(later), Some(gap(4, 6)));
    assert_eq!(s.poll_timeout(later), None);
    // A split of a reported gap is not reported again.
    s.push(1, &body(1)).unwrap();
    s.push(5, &body(5)).unwrap();
    assert_eq!(s.poll_timeout(later + Duration::from_secs(1)), None);
}

#[test]
fn a_gap_times_out_at_the_configured_depth() {
    let mut s = Sequencer::new(Config {
        gap_depth: Some(4),
        ..cfg(0)
    });
    let now = Instant::now();
    s.push(2, &body(2)).unwrap(); // newest 2: 2 past the gap's start (0)
    assert_eq!(s.poll_timeout(now), None);
    s.push(3, &body(3)).unwrap();
    assert_eq!(s.poll_timeout(now), None);
    s.push(4, &body(4)).unwrap(); // newest 4 = start + 4
    assert_eq!(s.poll_timeout(now), Some(gap(0, 2)));
    assert_eq!(s.poll_timeout(now), None);
}

#[test]
fn skip_gap_gives_up_on_the_gap_that_blocks_release() {
    let mut s = Sequencer::new(cfg(0));
    for seq in [0, 1, 4, 5, 8] {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(s.skip_gap(), None, "0 and 1 come first");
    assert_eq!(drain(&mut s), [0, 1]);
    assert_eq!(s.skip_gap(), Some(gap(2, 4)));
    assert_eq!(drain(&mut s), [4, 5]);
    assert_eq!(s.push(3, &body(3)), Ok(Pushed::Duplicate), "too late");
    assert_eq!(s.skip_gap(), Some(gap(6, 8)));
    assert_eq!(drain(&mut s), [8]);
    assert_eq!(s.skip_gap(), None);
    assert_eq!(s.stats().skipped, 4);
}

#[test]
fn expect_until_shows_missing_datagrams_at_the_tail() {
    let mut s = Sequencer::new(cfg(0));
    s.push(0, &body(0)).unwrap();
    assert_eq!(s.expect_until(1), Ok(None));
    assert_eq!(s.expect_until(4), Ok(Some(gap(1, 4))));
    assert_eq!(s.expect_until(3), Ok(None));
    assert_eq!(s.end(), 4);
    s.push(2, &body(2)).unwrap();
    assert_eq!(s.gaps().collect::<Vec<_>>(), [gap(1, 2), gap(3, 4)]);
    // Further than the window: refused like a datagram would be.
    assert!(matches!(
        s.expect_until(100),
        Err(PushError::SlotsFull { .. })
    ));
}

#[test]
fn a_full_window_is_refused_with_a_clear_error_and_nothing_grows() {
    let mut s = Sequencer::new(cfg(100));
    let err = s.push(116, &body(116)).unwrap_err();
    assert_eq!(
        err,
        PushError::SlotsFull {
            seq: 116,
            next: 100,
            max_slots: 16
        }
    );
    assert_eq!(
        err.to_string(),
        "sequencer full: sequence number 116 is 16 past the next to release (100) and at most \
         16 are held; recover or skip the gap first"
    );
    assert_eq!((s.held(), s.end(), s.gaps().count()), (0, 100, 0));
    // The last sequence number of the window is fine.
    assert!(s.push(115, &body(115)).is_ok());
    for seq in 100..115 {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(s.held(), 16);
    assert_eq!(drain(&mut s).len(), 16);
    assert!(
        s.push(131, &body(131)).is_ok(),
        "the window moved with release"
    );
    assert_eq!(s.stats().rejected_slots, 1);
}

#[test]
fn a_full_store_is_refused_with_a_clear_error() {
    let mut s = Sequencer::new(Config {
        max_bytes: 100,
        ..cfg(0)
    });
    s.push(1, &[1; 60]).unwrap();
    let err = s.push(2, &[2; 50]).unwrap_err();
    assert_eq!(
        err,
        PushError::BytesFull {
            len: 50,
            used: 60,
            max_bytes: 100
        }
    );
    assert_eq!(
        err.to_string(),
        "sequencer full: no room for 50 bytes (60 of 100 bytes in use)"
    );
    assert!(s.push(3, &[3; 101]).is_err(), "larger than the store");
    assert!(s.claim(41).is_err());
    s.push(0, &[0; 40]).unwrap();
    assert_eq!(s.pop().map(|(q, d)| (q, d.len())), Some((0, 40)));
    assert_eq!(s.pop().map(|(q, d)| (q, d.len())), Some((1, 60)));
    assert_eq!(s.pop(), None);
    assert!(
        s.push(2, &[2; 100]).is_ok(),
        "released bytes are free again"
    );
    assert_eq!(s.stats().rejected_bytes, 3);
}

#[test]
fn released_datagrams_behind_an_older_held_one_keep_their_bytes_until_it_goes() {
    let mut s = Sequencer::new(cfg(0));
    s.push(2, &[2; 10]).unwrap(); // arrives first, held behind the gap 0..2
    s.push(0, &[0; 10]).unwrap();
    assert_eq!(s.pop().map(|(q, _)| q), Some(0));
    assert_eq!(s.pop(), None);
    assert_eq!((s.held_bytes(), s.store_bytes()), (10, 20));
    assert!((s.fill_ratio() - 20.0 / 4096.0).abs() < 1e-12);
    s.push(1, &[1; 10]).unwrap();
    while s.pop().is_some() {}
    s.push(3, &[3; 10]).unwrap(); // settles the last pop
    assert_eq!((s.held_bytes(), s.store_bytes()), (10, 10));
}

#[test]
fn hostile_sequence_numbers_are_refused_not_overflowed() {
    let mut s = Sequencer::new(cfg(0));
    assert_eq!(s.push(u64::MAX, b"x"), Err(PushError::NoSuccessor));
    assert!(matches!(
        s.push(u64::MAX - 1, b"x"),
        Err(PushError::SlotsFull { .. })
    ));
    assert!(matches!(
        s.push(1 << 63, b"x"),
        Err(PushError::SlotsFull { .. })
    ));
    assert_eq!((s.end(), s.gaps().count(), s.held()), (0, 0, 0));
    // A feed that really is near the end of the range works up to u64::MAX - 1.
    let mut s = Sequencer::new(cfg(u64::MAX - 3));
    s.push(u64::MAX - 1, &body(u64::MAX - 1)).unwrap();
    s.push(u64::MAX - 3, &body(u64::MAX - 3)).unwrap();
    s.push(u64::MAX - 2, &body(u64::MAX - 2)).unwrap();
    assert_eq!(s.push(u64::MAX, b"x"), Err(PushError::NoSuccessor));
    assert_eq!(drain(&mut s), [u64::MAX - 3, u64::MAX - 2, u64::MAX - 1]);
    assert_eq!(s.next(), u64::MAX);
    assert_eq!(s.stats().rejected_invalid, 1);
}

#[test]
fn claimed_space_is_stored_and_released_in_place() {
    let mut s = Sequencer::new(cfg(0));
    let space = s.claim(1500).unwrap();
    let at = space.as_ptr();
    space[..5].copy_from_slice(b"hello");
    assert_eq!(s.commit(0, 5), Ok(Pushed::Stored));
    let (seq, data) = s.pop().unwrap();
    assert_eq!((seq, data), (0, &b"hello"[..]));
    assert_eq!(data.as_ptr(), at, "released from where it was received");
}

#[test]
fn a_commit_without_a_claim_or_beyond_it_is_an_error() {
    let mut s = Sequencer::new(cfg(0));
    assert_eq!(
        s.commit(0, 1),
        Err(PushError::NotClaimed { len: 1, claimed: 0 })
    );
    s.claim(10).unwrap();
    assert_eq!(
        s.commit(0, 11),
        Err(PushError::NotClaimed {
            len: 11,
            claimed: 10
        })
    );
    assert_eq!(
        s.commit(0, 1).unwrap_err().to_string(),
        "commit of 1 bytes with 0 bytes claimed"
    );
    // A duplicate commit drops the claimed bytes.
    s.push(0, b"a").unwrap();
    s.claim(10).unwrap();
    assert_eq!(s.commit(0, 1), Ok(Pushed::Duplicate));
    assert_eq!(s.store_bytes(), 1);
}

#[test]
fn the_first_datagram_sets_the_start_when_none_is_given() {
    let mut s = Sequencer::new(Config {
        start: None,
        ..cfg(0)
    });
    assert_eq!(s.pop(), None);
    s.push(500, &body(500)).unwrap();
    s.push(501, &body(501)).unwrap();
    assert_eq!(s.push(499, &body(499)), Ok(Pushed::Duplicate));
    assert_eq!(drain(&mut s), [500, 501]);
}

#[test]
fn reset_drops_everything_and_keeps_the_counters() {
    let mut s = Sequencer::new(cfg(0));
    s.push(3, &body(3)).unwrap();
    s.reset(Some(10));
    assert_eq!(
        (s.held(), s.store_bytes(), s.gaps().count(), s.next()),
        (0, 0, 0, 10)
    );
    s.push(10, &body(10)).unwrap();
    assert_eq!(drain(&mut s), [10]);
    assert_eq!(s.stats().stored, 2);
}

/// The same scenario through each store: reorder, a duplicate, a gap, a fill, a skip.
fn scenario<S: sonic_buf::sequencer::Store>(mut s: Sequencer<S>) -> SequencerStats {
    for seq in [0, 2, 1, 2, 6, 3, 4] {
        s.push(seq, &body(seq)).unwrap();
    }
    assert_eq!(drain(&mut s), [0, 1, 2, 3, 4]);
    assert_eq!(s.skip_gap(), Some(gap(5, 6)));
    let mut out = drain(&mut s);
    // Receive in place, pairs swapped, around the wrap of a small store.
    for k in 0..194u64 {
        let seq = 7 + (k ^ 1);
        let b = body(seq);
        let space = s.claim(b.len()).unwrap();
        space.copy_from_slice(&b);
        s.commit(seq, b.len()).unwrap();
        out.extend(drain(&mut s));
    }
    assert_eq!(out, (6..201).collect::<Vec<_>>());
    s.stats()
}

#[test]
fn every_store_behaves_the_same() {
    let c = Config {
        max_bytes: 256,
        ..cfg(0)
    };
    let bip = scenario(Sequencer::with_store(BipBuffer::new(256), c));
    let byte = scenario(Sequencer::with_store(
        ByteBuffer::with_capacity(64).with_limit(256),
        c,
    ));
    assert_eq!(bip, byte);
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    {
        let ring = sonic_buf::MirroredBuffer::new(4096).unwrap();
        let mirrored = scenario(Sequencer::with_store(ring, c));
        assert_eq!(bip, mirrored);
    }
}
