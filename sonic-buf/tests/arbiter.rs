//! `Arbiter`: A/B (and N-line) arbitration into one sequencer, by unit tests and a property
//! test over random per-line loss, duplication, reordering and interleaving, where every
//! line counter is checked against what the generated wire says.

use proptest::prelude::*;
use sonic_buf::sequencer::{Arbiter, Config, PushError, Pushed};
use std::collections::BTreeSet;

const A: usize = 0;
const B: usize = 1;

fn cfg() -> Config {
    Config {
        start: Some(0),
        max_slots: 64,
        max_bytes: 64 * 1024,
        ..Config::default()
    }
}

fn body(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn drain(arb: &mut Arbiter) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some((seq, d)) = arb.pop() {
        assert_eq!(d, body(seq));
        out.push(seq);
    }
    out
}

#[test]
fn the_first_copy_wins_and_the_second_is_a_duplicate_of_its_line() {
    let mut arb = Arbiter::new(2, cfg());
    for seq in 0..10 {
        assert_eq!(arb.push(A, seq, &body(seq)), Ok(Pushed::Stored));
        assert_eq!(arb.push(B, seq, &body(seq)), Ok(Pushed::Duplicate));
    }
    assert_eq!(drain(&mut arb), (0..10).collect::<Vec<_>>());
    let (a, b) = (arb.line_stats(A), arb.line_stats(B));
    assert_eq!((a.received, a.first, a.duplicates, a.sole), (10, 10, 0, 0));
    assert_eq!((b.received, b.first, b.duplicates, b.sole), (10, 0, 10, 0));
}

#[test]
fn each_line_fills_the_gaps_of_the_other() {
    let mut arb = Arbiter::new(2, cfg());
    // A loses 3 and 7; B loses 4, 5 and 7; 7 is lost on both and recovered.
    for seq in 0..10 {
        if ![3, 7].contains(&seq) {
            arb.push(A, seq, &body(seq)).unwrap();
        }
        if ![4, 5, 7].contains(&seq) {
            arb.push(B, seq, &body(seq)).unwrap();
        }
    }
    assert_eq!(drain(&mut arb), (0..7).collect::<Vec<_>>());
    assert_eq!(arb.push_recovered(7, &body(7)), Ok(Pushed::Stored));
    assert_eq!(drain(&mut arb), [7, 8, 9]);
    let (a, b) = (arb.line_stats(A), arb.line_stats(B));
    assert_eq!(
        (a.gaps, a.missing, a.sole),
        (2, 2, 2),
        "A alone had 4 and 5"
    );
    assert_eq!((b.gaps, b.missing, b.sole), (2, 3, 1), "B alone had 3");
    let s = arb.stats();
    assert_eq!((s.lost_on_all, s.recovered), (1, 1));
    assert_eq!(a.first + b.first + s.recovered, 10);
}

#[test]
fn a_late_datagram_on_a_line_is_late_not_a_gap() {
    let mut arb = Arbiter::new(2, cfg());
    for seq in [0, 2, 1, 3] {
        arb.push(A, seq, &body(seq)).unwrap();
    }
    let a = arb.line_stats(A);
    assert_eq!((a.gaps, a.missing, a.late), (1, 1, 1));
}

#[test]
fn a_hostile_datagram_is_refused_and_moves_no_line() {
    let mut arb = Arbiter::new(2, cfg());
    arb.push(A, 0, &body(0)).unwrap();
    assert_eq!(arb.push(B, u64::MAX, b"x"), Err(PushError::NoSuccessor));
    assert!(matches!(
        arb.push(B, 1 << 62, b"x"),
        Err(PushError::SlotsFull { .. })
    ));
    arb.push(B, 1, &body(1)).unwrap();
    let b = arb.line_stats(B);
    assert_eq!((b.rejected, b.received, b.gaps, b.missing), (2, 1, 0, 0));
}

#[test]
fn three_lines_count_sole_deliveries_once_out_of_the_horizon() {
    // A small window, so the horizon (16) moves many times.
    let mut arb = Arbiter::new(
        3,
        Config {
            max_slots: 16,
            ..cfg()
        },
    );
    let mut want_sole = [0u64; 3];
    for seq in 0..1000u64 {
        // Line k carries seq unless seq % 7 == k; seq % 21 == 0 goes only on line 2.
        let carriers: Vec<usize> = if seq % 21 == 0 {
            vec![2]
        } else {
            (0..3).filter(|&k| seq % 7 != k as u64).collect()
        };
        if carriers.len() == 1 {
            want_sole[carriers[0]] += 1;
        }
        for &k in &carriers {
            arb.push(k, seq, &body(seq)).unwrap();
        }
        drain(&mut arb);
    }
    for (k, &want) in want_sole.iter().enumerate() {
        assert_eq!(arb.line_stats(k).sole, want, "line {k}");
    }
    assert_eq!(arb.stats().lost_on_all, 0);
}

#[test]
fn nothing_received_counts_nothing_lost() {
    let mut arb = Arbiter::new(
        2,
        Config {
            start: Some(1),
            ..cfg()
        },
    );
    assert_eq!(arb.stats().lost_on_all, 0);
    arb.sequencer_mut().expect_until(5).unwrap();
    assert_eq!(arb.stats().lost_on_all, 0, "not released yet");
    arb.push(A, 5, &body(5)).unwrap();
    assert_eq!(arb.stats().lost_on_all, 0);
}

#[test]
fn a_datagram_received_in_place_counts_for_its_line() {
    let mut arb = Arbiter::new(2, cfg());
    let space = arb.claim(1500).unwrap();
    space[..8].copy_from_slice(&body(0));
    assert_eq!(arb.commit(B, 0, 8), Ok(Pushed::Stored));
    assert_eq!(drain(&mut arb), [0]);
    assert_eq!(arb.line_stats(B).first, 1);
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every line loses, duplicates and reorders on its own; the lines are interleaved at
    /// random; gaps lost on every line are recovered at the end. Everything comes out once, in
    /// order, and every line counter equals what the wire says.
    #[test]
    fn lines_are_arbitrated_and_counted_as_the_wire_says(
        lines in 2usize..5,
        n in 1u64..400,
        drop_pct in 0u64..40,
        dup_pct in 0u64..20,
        reorder_pct in 0u64..40,
        salt in any::<u64>(),
    ) {
        let mut rng = salt | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        // Per line: its wire, in the order it arrives.
        let mut wires: Vec<Vec<u64>> = Vec::new();
        for _ in 0..lines {
            let mut w = Vec::new();
            for seq in 0..n {
                if next() % 100 >= drop_pct {
                    w.push(seq);
                    if next() % 100 < dup_pct {
                        w.push(seq);
                    }
                }
            }
            for i in 0..w.len() {
                if next() % 100 < reorder_pct {
                    let j = (i + 1 + (next() % 4) as usize).min(w.len() - 1);
                    w.swap(i, j);
                }
            }
            wires.push(w);
        }
        // The window holds the whole feed, so no copy is ever too late to count.
        let mut arb = Arbiter::new(lines, Config {
            start: Some(0),
            max_slots: 512,
            max_bytes: 512 * 8 * 4,
            ..Config::default()
        });
        let mut pos = vec![0usize; lines];
        let mut out = Vec::new();
        // What the arbiter must conclude, replayed from the arrival order.
        let mut first_seen: BTreeSet<u64> = BTreeSet::new();
        let mut want = vec![sonic_buf::sequencer::LineStats::default(); lines];
        let mut line_end: Vec<Option<u64>> = vec![None; lines];
        let mut who: Vec<u32> = vec![0; n as usize];
        while pos.iter().zip(&wires).any(|(&p, w)| p < w.len()) {
            let l = (next() % lines as u64) as usize;
            let Some(&seq) = wires[l].get(pos[l]) else { continue };
            pos[l] += 1;
            let w = &mut want[l];
            w.received += 1;
            if first_seen.insert(seq) { w.first += 1 } else { w.duplicates += 1 }
            match line_end[l] {
                Some(e) if seq < e => w.late += 1,
                e => {
                    let e = e.unwrap_or(seq);
                    if seq > e { w.gaps += 1; w.missing += seq - e; }
                    line_end[l] = Some(seq + 1);
                }
            }
            who[seq as usize] |= 1 << l;
            arb.push(l, seq, &body(seq)).unwrap();
            out.extend(drain(&mut arb));
        }
        // Lost on every line: recover, as a TCP retransmission would.
        prop_assert!(arb.sequencer_mut().expect_until(n).is_ok());
        let missing: Vec<u64> = arb.sequencer().gaps().flat_map(|g| g.start..g.end).collect();
        for &seq in &missing {
            prop_assert_eq!(arb.push_recovered(seq, &body(seq)), Ok(Pushed::Stored));
        }
        out.extend(drain(&mut arb));
        prop_assert_eq!(out, (0..n).collect::<Vec<_>>());
        for (l, w) in want.iter_mut().enumerate() {
            w.sole = who.iter().filter(|&&m| m == 1 << l).count() as u64;
            prop_assert_eq!(arb.line_stats(l), *w, "line {}", l);
        }
        let s = arb.stats();
        prop_assert_eq!(s.lost_on_all, who.iter().filter(|&&m| m == 0).count() as u64);
        prop_assert_eq!(s.recovered, missing.len() as u64);
        prop_assert_eq!(s.lost_on_all, s.recovered);
    }
}
