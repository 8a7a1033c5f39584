//! Proves with a counting global allocator that the sequencer's steady state allocates nothing:
//! pushes in and out of order, duplicates, gaps that open, time out, get recovered or skipped,
//! datagrams received in place and released, on every store.

use sonic_buf::sequencer::{Config, Sequencer, Store};
use sonic_buf::ByteBuffer;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

/// One round: 16 datagrams starting at `base`, pairs swapped, one duplicated, one lost and
/// recovered after its gap times out, one lost for good and skipped; all released.
fn round<S: Store>(s: &mut Sequencer<S>, base: u64, now: &mut Instant) {
    let data = [7u8; 200];
    for k in 0..16u64 {
        let seq = base + (k ^ 1);
        if seq == base + 5 || seq == base + 12 {
            continue; // lost on the wire
        }
        if k % 2 == 0 {
            s.push(seq, &data[..(seq % 200) as usize]).unwrap();
        } else {
            let space = s.claim(1500).unwrap();
            space[..64].copy_from_slice(&data[..64]);
            s.commit(seq, 64).unwrap();
        }
        if k == 3 {
            s.push(seq, &data).unwrap(); // a duplicate
        }
        while let Some((_, d)) = s.pop() {
            std::hint::black_box(d);
        }
    }
    assert_eq!(s.poll_timeout(*now), None, "first seen now");
    *now += Duration::from_millis(5);
    while let Some(g) = s.poll_timeout(*now) {
        if g.start == base + 5 {
            s.push(base + 5, &data[..10]).unwrap(); // recovered
        }
    }
    while let Some((_, d)) = s.pop() {
        std::hint::black_box(d);
    }
    assert_eq!(s.skip_gap().map(|g| g.start), Some(base + 12));
    while let Some((_, d)) = s.pop() {
        std::hint::black_box(d);
    }
    assert_eq!(s.next(), base + 16);
}

fn steady_state<S: Store>(what: &str, mut s: Sequencer<S>) {
    let mut now = Instant::now();
    let mut base = 0;
    sonic_test_support::assert_steady_state_alloc_free!(what, {
        round(&mut s, base, &mut now);
        base += 16;
    });
}

fn config() -> Config {
    Config {
        max_slots: 64,
        max_bytes: 64 * 1024,
        start: Some(0),
        gap_timeout: Some(Duration::from_millis(1)),
        gap_depth: None,
    }
}

#[test]
fn sequencer_steady_state_allocates_nothing() {
    steady_state("BipBuffer", Sequencer::new(config()));
    let store = ByteBuffer::with_capacity(64 * 1024).with_limit(64 * 1024);
    steady_state("ByteBuffer", Sequencer::with_store(store, config()));
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    {
        let ring = sonic_buf::MirroredBuffer::new(64 * 1024).unwrap();
        steady_state("MirroredBuffer", Sequencer::with_store(ring, config()));
    }
}
