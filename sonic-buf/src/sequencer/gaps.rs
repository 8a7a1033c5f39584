//! The open gaps of a [`Sequencer`](super::Sequencer): ranges of missing sequence numbers, in
//! order, each with the time it was first seen.
//!
//! # Rules
//!
//! * Gaps are disjoint, sorted, and lie in `[next, end)`; every sequence number there is either
//!   held or in exactly one gap.
//! * A gap opens only at the high end (a datagram or an announcement beyond `end`), so gaps are
//!   also sorted by the time they opened; a fill inside a gap shrinks or splits it, and the two
//!   halves keep the time.
//! * Hence both "has a timestamp" and "was reported as timed out" hold for a prefix of the list:
//!   `stamped` and `expired` count those prefixes, and removals and splits keep the counts
//!   right. Checking for timeouts looks at one gap, the first not yet expired.
//! * Each gap holds at least one sequence number of the window `[next, next + max_slots)`, so
//!   there are at most `max_slots` of them: the list is allocated once, with that capacity.

use std::collections::VecDeque;
use std::time::Instant;

/// A range of missing sequence numbers: `start..end` (`end` excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gap {
    /// The first missing sequence number.
    pub start: u64,
    /// One past the last missing sequence number.
    pub end: u64,
}

impl Gap {
    /// How many sequence numbers are missing.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Never true for a reported gap (kept for the `len`/`is_empty` pair).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `seq` is in the range.
    pub fn contains(&self, seq: u64) -> bool {
        self.start <= seq && seq < self.end
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    gap: Gap,
    opened: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Gaps {
    list: VecDeque<Entry>,
    stamped: usize,
    expired: usize,
}

impl Gaps {
    pub(super) fn with_capacity(n: usize) -> Gaps {
        Gaps {
            list: VecDeque::with_capacity(n),
            stamped: 0,
            expired: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        self.list.clear();
        self.stamped = 0;
        self.expired = 0;
    }

    pub(super) fn first(&self) -> Option<Gap> {
        self.list.front().map(|e| e.gap)
    }

    pub(super) fn iter(&self) -> impl ExactSizeIterator<Item = Gap> + '_ {
        self.list.iter().map(|e| e.gap)
    }

    /// Appends a gap above every other one.
    pub(super) fn open(&mut self, gap: Gap) {
        debug_assert!(self.list.back().is_none_or(|e| e.gap.end <= gap.start));
        debug_assert!(self.list.len() < self.list.capacity());
        self.list.push_back(Entry { gap, opened: None });
    }

    /// Removes `seq` from the gap that holds it (the caller knows one does).
    pub(super) fn fill(&mut self, seq: u64) {
        let i = self.list.partition_point(|e| e.gap.end <= seq);
        let e = &mut self.list[i];
        debug_assert!(e.gap.contains(seq));
        let Gap { start, end } = e.gap;
        if start == seq && end == seq + 1 {
            self.remove(i);
        } else if start == seq {
            e.gap.start += 1;
        } else if end == seq + 1 {
            e.gap.end -= 1;
        } else {
            e.gap.end = seq;
            let right = Entry {
                gap: Gap {
                    start: seq + 1,
                    end,
                },
                opened: e.opened,
            };
            self.list.insert(i + 1, right);
            // Both halves share the prefix membership of the original.
            if i < self.stamped {
                self.stamped += 1;
            }
            if i < self.expired {
                self.expired += 1;
            }
        }
    }

    fn remove(&mut self, i: usize) {
        self.list.remove(i);
        if i < self.stamped {
            self.stamped -= 1;
        }
        if i < self.expired {
            self.expired -= 1;
        }
    }

    /// Removes and returns the first gap.
    pub(super) fn pop_first(&mut self) -> Option<Gap> {
        let g = self.list.front()?.gap;
        self.remove(0);
        Some(g)
    }

    /// Gives every gap seen for the first time the time `now`; then, if the first gap not yet
    /// reported is older than `timeout` or starts at least `depth` below `newest`, marks it
    /// reported and returns it.
    pub(super) fn expire(
        &mut self,
        now: Instant,
        timeout: Option<std::time::Duration>,
        depth: Option<u64>,
        newest: u64,
    ) -> Option<Gap> {
        for e in self.list.range_mut(self.stamped..) {
            e.opened = Some(now);
        }
        self.stamped = self.list.len();
        let e = self.list.get(self.expired)?;
        let aged = timeout.is_some_and(|t| {
            e.opened
                .is_some_and(|at| now.saturating_duration_since(at) >= t)
        });
        let deep = depth.is_some_and(|d| newest.saturating_sub(e.gap.start) >= d);
        if aged || deep {
            self.expired += 1;
            Some(e.gap)
        } else {
            None
        }
    }

    #[cfg(debug_assertions)]
    pub(super) fn check(&self, next: u64, end: u64) {
        let mut lo = next;
        for e in &self.list {
            assert!(e.gap.start >= lo && e.gap.start < e.gap.end && e.gap.end <= end);
            lo = e.gap.end;
        }
        assert!(self.expired <= self.stamped && self.stamped <= self.list.len());
    }
}
