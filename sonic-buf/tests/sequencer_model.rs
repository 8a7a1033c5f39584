//! Property tests of the `Sequencer` against a model built on a `BTreeMap`, over random
//! reorder / duplicate / drop patterns, through every store and both ways in (copy, and
//! receive in place):
//!
//! * `matches_the_btreemap_model`: random operations (pushes near and far from the window,
//!   pops, announcements, timeouts by time and depth, skips); after each one the results, the
//!   open gaps, the counters and the released bytes equal the model's.
//! * `a_full_store_refuses_only_when_it_must`: a small store; a refusal leaves the state as it
//!   was, and happens only when the bytes really do not fit.
//! * `lossy_reordered_streams_are_delivered_exactly_once_in_order`: a stream with drops,
//!   duplicates and reordering, whose timed-out gaps are recovered from the source, comes out
//!   complete and in order.

use proptest::prelude::*;
use sonic_buf::sequencer::{Config, Gap, PushError, Pushed, Sequencer, SequencerStats, Store};
use sonic_buf::{BipBuffer, ByteBuffer};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MAX_LEN: usize = 40;
const TIMEOUT: Duration = Duration::from_millis(10);

fn body(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq.wrapping_mul(31) as u8) ^ (i as u8))
        .collect()
}

/// Length of datagram `seq` (the same for every copy of it).
fn len_of(seq: u64, salt: u64) -> usize {
    (seq.wrapping_mul(2654435761) ^ salt) as usize % (MAX_LEN + 1)
}

#[derive(Clone, Debug)]
struct MGap {
    gap: Gap,
    seen: Option<Instant>,
    expired: bool,
}

/// The reference: held datagrams in a `BTreeMap`, gaps in a `Vec` with flags.
#[derive(Default)]
struct Model {
    started: bool,
    next: u64,
    end: u64,
    max_slots: u64,
    held: BTreeMap<u64, Vec<u8>>,
    gaps: Vec<MGap>,
    depth: Option<u64>,
    stats: SequencerStats,
}

impl Model {
    fn admit(&mut self, seq: u64) -> Result<bool, PushError> {
        if seq == u64::MAX {
            self.stats.rejected_invalid += 1;
            return Err(PushError::NoSuccessor);
        }
        if !self.started {
            (self.started, self.next, self.end) = (true, seq, seq);
        }
        if seq < self.next || self.held.contains_key(&seq) {
            self.stats.duplicates += 1;
            return Ok(false);
        }
        if seq - self.next >= self.max_slots {
            self.stats.rejected_slots += 1;
            return Err(PushError::SlotsFull {
                seq,
                next: self.next,
                max_slots: self.max_slots as usize,
            });
        }
        Ok(true)
    }

    fn store(&mut self, seq: u64, data: Vec<u8>) -> Pushed {
        self.held.insert(seq, data);
        self.stats.stored += 1;
        if seq >= self.end {
            let gap = Gap {
                start: self.end,
                end: seq,
            };
            self.end = seq + 1;
            if gap.is_empty() {
                return Pushed::Stored;
            }
            self.open(gap);
            return Pushed::StoredAfterGap(gap);
        }
        self.stats.filled += 1;
        let i = self.gaps.iter().position(|g| g.gap.contains(seq)).unwrap();
        let g = self.gaps[i].clone();
        self.gaps.remove(i);
        let mut parts = Vec::new();
        if g.gap.start < seq {
            parts.push(Gap {
                start: g.gap.start,
                end: seq,
            });
        }
        if seq + 1 < g.gap.end {
            parts.push(Gap {
                start: seq + 1,
                end: g.gap.end,
            });
        }
        for (k, p) in parts.into_iter().enumerate() {
            self.gaps.insert(i + k, MGap { gap: p, ..g });
        }
        Pushed::Stored
    }

    fn open(&mut self, gap: Gap) {
        self.stats.gaps += 1;
        self.stats.missing += gap.len();
        self.gaps.push(MGap {
            gap,
            seen: None,
            expired: false,
        });
    }

    fn pop(&mut self) -> Option<(u64, Vec<u8>)> {
        let d = self.held.remove(&self.next)?;
        self.next += 1;
        self.stats.released += 1;
        Some((self.next - 1, d))
    }

    fn expect_until(&mut self, end: u64) -> Result<Option<Gap>, PushError> {
        if !self.started {
            (self.started, self.next, self.end) = (true, end, end);
            return Ok(None);
        }
        if end <= self.end {
            return Ok(None);
        }
        if end - self.next > self.max_slots {
            self.stats.rejected_slots += 1;
            return Err(PushError::SlotsFull {
                seq: end - 1,
                next: self.next,
                max_slots: self.max_slots as usize,
            });
        }
        let gap = Gap {
            start: self.end,
            end,
        };
        self.open(gap);
        self.end = end;
        Ok(Some(gap))
    }

    fn poll_timeout(&mut self, now: Instant) -> Option<Gap> {
        if !self.started || self.end == 0 {
            return None;
        }
        for g in &mut self.gaps {
            g.seen.get_or_insert(now);
        }
        let newest = self.end - 1;
        let depth = self.depth;
        let g = self.gaps.iter_mut().find(|g| !g.expired)?;
        let aged = now.duration_since(g.seen.unwrap()) >= TIMEOUT;
        let deep = depth.is_some_and(|d| newest - g.gap.start >= d);
        if aged || deep {
            g.expired = true;
            self.stats.timed_out += 1;
            Some(g.gap)
        } else {
            None
        }
    }

    fn skip_gap(&mut self) -> Option<Gap> {
        let g = self.gaps.first()?.gap;
        if g.start != self.next {
            return None;
        }
        self.gaps.remove(0);
        self.next = g.end;
        self.stats.skipped += g.len();
        Some(g)
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Push `next + offset` (offset may be negative: a duplicate of a released one).
    Push {
        offset: i64,
        in_place: bool,
    },
    /// Push an absolute, possibly hostile, sequence number.
    PushAbs(u64),
    Pop,
    PopAll,
    ExpectUntil(i64),
    /// Advance the clock by this many milliseconds, then poll timeouts until `None`.
    Tick(u64),
    Skip,
}

fn op(max_slots: i64) -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (-4..max_slots + 4, any::<bool>()).prop_map(|(offset, in_place)| Op::Push { offset, in_place }),
        1 => prop_oneof![Just(u64::MAX), Just(u64::MAX - 1), Just(1 << 63), 0..1000u64].prop_map(Op::PushAbs),
        4 => Just(Op::Pop),
        2 => Just(Op::PopAll),
        1 => (0..max_slots + 3).prop_map(Op::ExpectUntil),
        2 => (0..15u64).prop_map(Op::Tick),
        1 => Just(Op::Skip),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Bip,
    Byte,
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    Mirrored,
}

fn kind() -> impl Strategy<Value = Kind> {
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    return prop_oneof![Just(Kind::Bip), Just(Kind::Byte), Just(Kind::Mirrored)];
    #[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
    return prop_oneof![Just(Kind::Bip), Just(Kind::Byte)];
}

/// Runs `f` on a sequencer with the store of `kind`.
fn with_kind(kind: Kind, config: Config, f: impl FnOnce(&mut dyn Driver)) {
    match kind {
        Kind::Bip => f(&mut Sequencer::with_store(
            BipBuffer::new(config.max_bytes),
            config,
        )),
        Kind::Byte => f(&mut Sequencer::with_store(
            ByteBuffer::new().with_limit(config.max_bytes),
            config,
        )),
        #[cfg(any(target_os = "linux", target_vendor = "apple"))]
        Kind::Mirrored => {
            let ring = sonic_buf::MirroredBuffer::new(config.max_bytes).unwrap();
            let config = Config {
                max_bytes: config.max_bytes.min(sonic_buf::Fifo::capacity(&ring)),
                ..config
            };
            f(&mut Sequencer::with_store(ring, config))
        }
    }
}

/// The sequencer's API without its store type, so one test body drives every store.
trait Driver {
    fn push(&mut self, seq: u64, data: &[u8], in_place: bool) -> Result<Pushed, PushError>;
    fn pop(&mut self) -> Option<(u64, Vec<u8>)>;
    fn expect_until(&mut self, end: u64) -> Result<Option<Gap>, PushError>;
    fn poll_timeout(&mut self, now: Instant) -> Option<Gap>;
    fn skip_gap(&mut self) -> Option<Gap>;
    fn gaps(&self) -> Vec<Gap>;
    fn stats(&self) -> SequencerStats;
    fn next(&self) -> u64;
    fn end(&self) -> u64;
    fn held(&self) -> usize;
    fn held_bytes(&self) -> usize;
    fn store_bytes(&self) -> usize;
    fn max_bytes(&self) -> usize;
    fn bip(&self) -> bool;
}

impl<S: Store + 'static> Driver for Sequencer<S> {
    fn push(&mut self, seq: u64, data: &[u8], in_place: bool) -> Result<Pushed, PushError> {
        if !in_place {
            return Sequencer::push(self, seq, data);
        }
        let space = self.claim(data.len() + 3)?; // more than the datagram, as a recv does
        space[..data.len()].copy_from_slice(data);
        self.commit(seq, data.len())
    }
    fn pop(&mut self) -> Option<(u64, Vec<u8>)> {
        Sequencer::pop(self).map(|(s, d)| (s, d.to_vec()))
    }
    fn expect_until(&mut self, end: u64) -> Result<Option<Gap>, PushError> {
        Sequencer::expect_until(self, end)
    }
    fn poll_timeout(&mut self, now: Instant) -> Option<Gap> {
        Sequencer::poll_timeout(self, now)
    }
    fn skip_gap(&mut self) -> Option<Gap> {
        Sequencer::skip_gap(self)
    }
    fn gaps(&self) -> Vec<Gap> {
        Sequencer::gaps(self).collect()
    }
    fn stats(&self) -> SequencerStats {
        Sequencer::stats(self)
    }
    fn next(&self) -> u64 {
        Sequencer::next(self)
    }
    fn end(&self) -> u64 {
        Sequencer::end(self)
    }
    fn held(&self) -> usize {
        Sequencer::held(self)
    }
    fn held_bytes(&self) -> usize {
        Sequencer::held_bytes(self)
    }
    fn store_bytes(&self) -> usize {
        Sequencer::store_bytes(self)
    }
    fn max_bytes(&self) -> usize {
        Sequencer::max_bytes(self)
    }
    fn bip(&self) -> bool {
        std::any::TypeId::of::<S>() == std::any::TypeId::of::<BipBuffer>()
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn check_same(s: &dyn Driver, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.stats(), m.stats);
    prop_assert_eq!(s.held(), m.held.len());
    prop_assert_eq!(s.held_bytes(), m.held.values().map(Vec::len).sum::<usize>());
    prop_assert!(s.store_bytes() >= s.held_bytes() && s.store_bytes() <= s.max_bytes());
    if m.started {
        prop_assert_eq!((s.next(), s.end()), (m.next, m.end));
    }
    let gaps: Vec<Gap> = m.gaps.iter().map(|g| g.gap).collect();
    prop_assert_eq!(s.gaps(), gaps.clone());
    // The gaps and the held datagrams cover [next, end) exactly once.
    let mut covered: Vec<u64> = m.held.keys().copied().collect();
    covered.extend(gaps.iter().flat_map(|g| g.start..g.end));
    covered.sort_unstable();
    let want: Vec<u64> = (m.next..m.end).collect();
    prop_assert_eq!(covered, want);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matches_the_btreemap_model(
        kind in kind(),
        max_slots in 1usize..24,
        start in prop_oneof![Just(None), (0u64..5).prop_map(Some), Just(Some(u64::MAX - 30))],
        depth in prop_oneof![Just(None), (1u64..30).prop_map(Some)],
        salt in any::<u64>(),
        ops in proptest::collection::vec(op(24), 1..300),
    ) {
        // Room for every log entry (2 * max_slots) at the largest size, twice over, so that
        // only the slot bound refuses (bytes are the next property's subject).
        let config = Config {
            max_slots,
            max_bytes: 4 * 2 * max_slots * (MAX_LEN + 3) + 64,
            start,
            gap_timeout: Some(TIMEOUT),
            gap_depth: depth,
        };
        let mut result = Ok(());
        with_kind(kind, config, |s| {
            let mut m = Model { max_slots: max_slots as u64, depth, ..Model::default() };
            if let Some(st) = start {
                (m.started, m.next, m.end) = (true, st, st);
            }
            let mut now = Instant::now();
            result = (|| {
                for op in &ops {
                    match *op {
                        Op::Push { offset, in_place } => {
                            let seq = m.next.saturating_add_signed(offset);
                            let d = body(seq, len_of(seq, salt));
                            let want = m.admit(seq).map(|fresh| {
                                if fresh { m.store(seq, d.clone()) } else { Pushed::Duplicate }
                            });
                            prop_assert_eq!(s.push(seq, &d, in_place), want, "push {}", seq);
                        }
                        Op::PushAbs(seq) => {
                            let d = body(seq, len_of(seq, salt));
                            let want = m.admit(seq).map(|fresh| {
                                if fresh { m.store(seq, d.clone()) } else { Pushed::Duplicate }
                            });
                            prop_assert_eq!(s.push(seq, &d, false), want, "push {}", seq);
                        }
                        Op::Pop => prop_assert_eq!(s.pop(), m.pop()),
                        Op::PopAll => loop {
                            let got = s.pop();
                            prop_assert_eq!(&got, &m.pop());
                            if got.is_none() { break; }
                        },
                        Op::ExpectUntil(k) => {
                            let end = m.next.saturating_add_signed(k);
                            prop_assert_eq!(s.expect_until(end), m.expect_until(end));
                        }
                        Op::Tick(ms) => {
                            now += Duration::from_millis(ms);
                            loop {
                                let got = s.poll_timeout(now);
                                prop_assert_eq!(got, m.poll_timeout(now));
                                if got.is_none() { break; }
                            }
                        }
                        Op::Skip => prop_assert_eq!(s.skip_gap(), m.skip_gap()),
                    }
                    check_same(&*s, &m)?;
                }
                Ok(())
            })();
        });
        result?;
    }

    #[test]
    fn a_full_store_refuses_only_when_it_must(
        kind in kind(),
        max_bytes in 1usize..200,
        salt in any::<u64>(),
        ops in proptest::collection::vec(op(12), 1..300),
    ) {
        let config = Config { max_slots: 12, max_bytes, start: Some(0), ..Config::default() };
        let mut result = Ok(());
        with_kind(kind, config, |s| {
            result = (|| {
                for op in &ops {
                    match *op {
                        Op::Push { offset, in_place } => {
                            let seq = s.next().saturating_add_signed(offset);
                            let d = body(seq, len_of(seq, salt));
                            let before = (s.held(), s.store_bytes(), s.gaps(), s.end());
                            let stats = s.stats();
                            let claim = if in_place { d.len() + 3 } else { d.len() };
                            match s.push(seq, &d, in_place) {
                                Err(PushError::BytesFull { used, max_bytes, .. }) => {
                                    prop_assert_eq!(used, before.1);
                                    prop_assert_eq!((s.held(), s.store_bytes(), s.gaps(), s.end()), before);
                                    prop_assert_eq!(s.stats().rejected_bytes, stats.rejected_bytes + 1);
                                    // A BipBuffer with one region refuses when neither
                                    // side of it takes the claim (free < 2 * claim); with two,
                                    // the end of the first is lost (less than one claim).
                                    let slack = if s.bip() { MAX_LEN + 3 } else { 0 };
                                    prop_assert!(used + claim + slack > max_bytes,
                                        "refused {} bytes with {} of {} used", claim, used, max_bytes);
                                }
                                _ => prop_assert!(s.store_bytes() <= s.max_bytes()),
                            }
                        }
                        Op::Pop | Op::PopAll => while s.pop().is_some() {},
                        Op::Skip => { s.skip_gap(); }
                        _ => {}
                    }
                }
                Ok(())
            })();
        });
        result?;
    }

    #[test]
    fn lossy_reordered_streams_are_delivered_exactly_once_in_order(
        kind in kind(),
        n in 1u64..1500,
        max_slots in 4usize..64,
        drop_pct in 0u32..30,
        dup_pct in 0u32..30,
        reorder_pct in 0u32..50,
        distance in 1usize..20,
        depth in 1u64..8,
        salt in any::<u64>(),
        in_place in any::<bool>(),
    ) {
        // The wire: every datagram, some dropped, some twice, some swapped with a later one.
        let mut rng = salt | 1;
        let mut roll = |pct: u32| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % 100) < u64::from(pct)
        };
        let mut wire: Vec<u64> = Vec::new();
        for seq in 0..n {
            if !roll(drop_pct) {
                wire.push(seq);
            }
            if roll(dup_pct) {
                wire.push(seq);
            }
        }
        for i in 0..wire.len() {
            if roll(reorder_pct) {
                let j = (i + 1 + (salt as usize + i) % distance).min(wire.len() - 1);
                wire.swap(i, j);
            }
        }
        let config = Config {
            max_slots,
            max_bytes: 4 * 2 * max_slots * (MAX_LEN + 3),
            start: Some(0),
            gap_depth: Some(depth),
            ..Config::default()
        };
        let mut result = Ok(());
        with_kind(kind, config, |s| {
            result = (|| {
                let mut out = Vec::new();
                let now = Instant::now();
                let pop_all = |s: &mut dyn Driver, out: &mut Vec<u64>| -> Result<(), TestCaseError> {
                    while let Some((seq, d)) = s.pop() {
                        prop_assert_eq!(d, body(seq, len_of(seq, salt)));
                        out.push(seq);
                    }
                    Ok(())
                };
                // Recovery: every timed-out gap is pushed again from the source.
                let recover = |s: &mut dyn Driver| -> Result<(), TestCaseError> {
                    while let Some(g) = s.poll_timeout(now) {
                        for seq in g.start..g.end {
                            prop_assert!(s.push(seq, &body(seq, len_of(seq, salt)), false).is_ok());
                        }
                    }
                    Ok(())
                };
                for &seq in &wire {
                    let d = body(seq, len_of(seq, salt));
                    loop {
                        match s.push(seq, &d, in_place) {
                            Ok(_) => break,
                            Err(PushError::SlotsFull { .. }) => {
                                // Too far ahead: recover the first gap now (or, when nothing
                                // is held, the window's worth the datagram jumped over).
                                if s.gaps().is_empty() {
                                    let end = s.next() + max_slots as u64;
                                    prop_assert!(s.expect_until(end).is_ok());
                                }
                                let g = s.gaps()[0];
                                for seq in g.start..g.end {
                                    prop_assert!(s.push(seq, &body(seq, len_of(seq, salt)), false).is_ok());
                                }
                                pop_all(s, &mut out)?;
                            }
                            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
                        }
                    }
                    recover(s)?;
                    pop_all(s, &mut out)?;
                }
                // The feed's last heartbeat: everything below n exists.
                prop_assert!(s.expect_until(n).is_ok());
                let mut guard = 0;
                while s.next() < n {
                    guard += 1;
                    prop_assert!(guard < 10_000);
                    for g in s.gaps() {
                        for seq in g.start..g.end {
                            prop_assert!(s.push(seq, &body(seq, len_of(seq, salt)), false).is_ok());
                        }
                    }
                    pop_all(s, &mut out)?;
                }
                prop_assert_eq!(out, (0..n).collect::<Vec<_>>());
                prop_assert_eq!(s.held(), 0);
                prop_assert_eq!(s.store_bytes(), 0);
                Ok(())
            })();
        });
        result?;
    }
}
