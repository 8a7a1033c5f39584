//! `Arbiter`: several redundant lines (A/B, or N) feeding one [`Sequencer`]; the first copy of
//! each sequence number wins, and each line gets its own statistics.
//!
//! # Rules
//!
//! * Every datagram goes through the sequencer, which decides first arrival or duplicate; a
//!   line's counters change only for datagrams the sequencer accepted (stored or duplicate),
//!   so a hostile sequence number cannot move a line's position.
//! * A line's own gaps: each line remembers one past the highest sequence number it delivered;
//!   a datagram beyond that shows the line skipped the numbers in between (one gap, counted
//!   once), one below it arrived late on that line.
//! * Who delivered what: a ring of bit masks (bit `l` = line `l` delivered it), one per
//!   sequence number over a horizon of the sequencer's ring size (`max_slots` rounded up to a
//!   power of two). When a newer sequence number pushes one out of the horizon, it has been
//!   released (or skipped) already, since the window is no wider than the horizon; its mask is
//!   then final: one bit counts a *sole delivery* for that line (a gap only that line filled),
//!   no bit counts a number *no line delivered* (recovered or skipped). A copy arriving more
//!   than a horizon late is counted as a duplicate but no longer changes the masks.
//! * Up to 32 lines (a `u32` mask); the constructor allocates everything.

use super::{Config, PushError, Pushed, Sequencer, Store};
use crate::BipBuffer;

/// Counters of one line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineStats {
    /// Datagrams the sequencer accepted from this line (first arrivals plus duplicates).
    pub received: u64,
    /// Datagrams this line delivered first (the copy that was stored and released).
    pub first: u64,
    /// Datagrams that were already held or released when this line's copy came.
    pub duplicates: u64,
    /// Times this line skipped over sequence numbers (its own gaps).
    pub gaps: u64,
    /// Sequence numbers in those gaps.
    pub missing: u64,
    /// Datagrams below this line's highest one when they came (reordered on this line).
    pub late: u64,
    /// Sequence numbers only this line delivered: gaps of every other line that this one
    /// filled. The last horizon's worth are counted as they stand (see the module rules).
    pub sole: u64,
    /// Datagrams the sequencer refused (window or store full, invalid sequence number).
    pub rejected: u64,
}

/// Counters not tied to one line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArbiterStats {
    /// Sequence numbers released (or skipped) that no line delivered.
    pub lost_on_all: u64,
    /// Datagrams stored by [`Arbiter::push_recovered`].
    pub recovered: u64,
    /// Datagrams [`Arbiter::push_recovered`] brought that a line had delivered meanwhile.
    pub recovered_duplicates: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Line {
    /// One past the highest sequence number this line delivered (`None`: nothing yet).
    end: Option<u64>,
    stats: LineStats,
}

/// Arbitrates redundant lines carrying the same sequenced datagrams into one [`Sequencer`]:
/// the first copy of each sequence number is stored, later ones are dropped, and each line
/// keeps its own counters ([`LineStats`]): what it received, delivered first, duplicated, its
/// own gaps, and the gaps of the others that only it filled.
///
/// Datagrams recovered out of band (a TCP retransmission) go in with
/// [`push_recovered`](Self::push_recovered); everything else (pop, timeouts, skip,
/// announcements) is the sequencer's, through [`sequencer_mut`](Self::sequencer_mut).
///
/// # Examples
///
/// ```
/// use sonic_buf::sequencer::{Arbiter, Config};
///
/// const A: usize = 0;
/// const B: usize = 1;
/// let mut arb = Arbiter::new(2, Config { start: Some(1), ..Config::default() });
/// arb.push(A, 1, b"one").unwrap();
/// arb.push(B, 1, b"one").unwrap(); // duplicate
/// arb.push(B, 2, b"two").unwrap(); // A lost it
/// arb.push(A, 3, b"three").unwrap();
/// arb.push(B, 3, b"three").unwrap();
/// let mut out = Vec::new();
/// while let Some((seq, _)) = arb.pop() {
///     out.push(seq);
/// }
/// assert_eq!(out, [1, 2, 3]);
/// let (a, b) = (arb.line_stats(A), arb.line_stats(B));
/// assert_eq!((a.first, a.duplicates, a.gaps, a.missing), (2, 0, 1, 1));
/// assert_eq!((b.first, b.duplicates, b.sole), (1, 2, 1)); // only B delivered 2
/// ```
#[derive(Debug)]
pub struct Arbiter<S: Store = BipBuffer> {
    seq: Sequencer<S>,
    lines: Box<[Line]>,
    seen: Box<[u32]>,
    /// `seen` covers `[seen_lo, seen_lo + seen.len())`; `None` until the first datagram.
    seen_lo: Option<u64>,
    stats: ArbiterStats,
}

impl Arbiter<BipBuffer> {
    /// `lines` lines (clamped to `1..=32`) into a sequencer keeping datagrams in a `BipBuffer`
    /// of `config.max_bytes`.
    pub fn new(lines: usize, config: Config) -> Arbiter<BipBuffer> {
        Arbiter::with_sequencer(lines, Sequencer::new(config))
    }
}

impl<S: Store> Arbiter<S> {
    /// `lines` lines (clamped to `1..=32`) into `seq`, which should be fresh: what it holds
    /// already was delivered by no line.
    pub fn with_sequencer(lines: usize, seq: Sequencer<S>) -> Arbiter<S> {
        let horizon = seq.max_slots().next_power_of_two();
        Arbiter {
            lines: vec![Line::default(); lines.clamp(1, 32)].into_boxed_slice(),
            seen: vec![0; horizon].into_boxed_slice(),
            seen_lo: None,
            seq,
            stats: ArbiterStats::default(),
        }
    }

    /// Number of lines.
    pub fn lines(&self) -> usize {
        self.lines.len()
    }

    /// Pushes a copy of `data`, received on `line`, as sequence number `seq`.
    ///
    /// # Panics
    /// If `line >= self.lines()`.
    pub fn push(&mut self, line: usize, seq: u64, data: &[u8]) -> Result<Pushed, PushError> {
        let r = self.seq.push(seq, data);
        self.account(line, seq, r)
    }

    /// Claims room for a datagram received in place; see [`Sequencer::claim`].
    pub fn claim(&mut self, max_len: usize) -> Result<&mut [u8], PushError> {
        self.seq.claim(max_len)
    }

    /// Stores the claimed datagram, received on `line`; see [`Sequencer::commit`].
    ///
    /// # Panics
    /// If `line >= self.lines()`.
    pub fn commit(&mut self, line: usize, seq: u64, len: usize) -> Result<Pushed, PushError> {
        let r = self.seq.commit(seq, len);
        self.account(line, seq, r)
    }

    /// Pushes a datagram that came from no line (a retransmission that filled a gap).
    pub fn push_recovered(&mut self, seq: u64, data: &[u8]) -> Result<Pushed, PushError> {
        let r = self.seq.push(seq, data);
        match r {
            Ok(Pushed::Duplicate) => self.stats.recovered_duplicates += 1,
            Ok(_) => self.stats.recovered += 1,
            Err(_) => {}
        }
        r
    }

    /// The next datagram in sequence; see [`Sequencer::pop`].
    pub fn pop(&mut self) -> Option<(u64, &[u8])> {
        self.seq.pop()
    }

    /// The sequencer (positions, gaps, its own counters).
    pub fn sequencer(&self) -> &Sequencer<S> {
        &self.seq
    }

    /// The sequencer, for timeouts, skips and announcements. Datagrams pushed through it
    /// directly count as delivered by no line.
    pub fn sequencer_mut(&mut self) -> &mut Sequencer<S> {
        &mut self.seq
    }

    /// Counters of `line`, with the sole deliveries of the sequence numbers still inside the
    /// horizon counted as they stand.
    ///
    /// # Panics
    /// If `line >= self.lines()`.
    pub fn line_stats(&self, line: usize) -> LineStats {
        let mut s = self.lines[line].stats;
        let bit = 1u32 << line;
        s.sole += self.live().filter(|&m| m == bit).count() as u64;
        s
    }

    /// Counters not tied to a line, with the horizon counted as it stands.
    pub fn stats(&self) -> ArbiterStats {
        let mut s = self.stats;
        s.lost_on_all += self.live().filter(|&m| m == 0).count() as u64;
        s
    }

    /// The masks of the released sequence numbers still inside the horizon.
    fn live(&self) -> impl Iterator<Item = u32> + '_ {
        // Nothing delivered yet: nothing to count (not even the numbers below the start).
        let lo = self.seen_lo.unwrap_or(u64::MAX);
        let hi = self
            .seq
            .next()
            .min(lo.saturating_add(self.seen.len() as u64));
        let mask = self.seen.len() as u64 - 1;
        (lo..hi.max(lo)).map(move |q| self.seen[(q & mask) as usize])
    }

    fn account(
        &mut self,
        line: usize,
        seq: u64,
        r: Result<Pushed, PushError>,
    ) -> Result<Pushed, PushError> {
        let l = &mut self.lines[line];
        let pushed = match r {
            Ok(p) => p,
            Err(e) => {
                l.stats.rejected += 1;
                return Err(e);
            }
        };
        l.stats.received += 1;
        if pushed == Pushed::Duplicate {
            l.stats.duplicates += 1;
        } else {
            l.stats.first += 1;
        }
        // Accepted, so seq < u64::MAX.
        match l.end {
            Some(end) if seq < end => l.stats.late += 1,
            Some(end) => {
                if seq > end {
                    l.stats.gaps += 1;
                    l.stats.missing += seq - end;
                }
                l.end = Some(seq + 1);
            }
            None => l.end = Some(seq + 1),
        }
        self.mark(line, seq);
        Ok(pushed)
    }

    /// Records that `line` delivered `seq`, moving the horizon up first if needed.
    fn mark(&mut self, line: usize, seq: u64) {
        let h = self.seen.len() as u64;
        let mask = h - 1;
        let lo = *self.seen_lo.get_or_insert(self.seq.next().min(seq));
        if seq < lo {
            return;
        }
        if seq - lo >= h {
            let new_lo = seq - h + 1;
            // Settle what leaves: at most a whole horizon's worth.
            let leaving = (new_lo - lo).min(h);
            for q in lo..lo + leaving {
                let m = std::mem::take(&mut self.seen[(q & mask) as usize]);
                self.settle(m);
            }
            if new_lo - lo > h {
                // Numbers beyond a whole horizon were never in it: delivered by no line.
                self.stats.lost_on_all += new_lo - lo - h;
            }
            self.seen_lo = Some(new_lo);
        }
        self.seen[(seq & mask) as usize] |= 1 << line;
    }

    fn settle(&mut self, m: u32) {
        if m == 0 {
            self.stats.lost_on_all += 1;
        } else if m.count_ones() == 1 {
            self.lines[m.trailing_zeros() as usize].stats.sole += 1;
        }
    }
}
