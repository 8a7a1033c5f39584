//! `Sequencer`: datagrams pushed in any order, released in sequence order, with duplicates
//! dropped, gaps reported, and memory bounded in slots and bytes.
//!
//! # Rules
//!
//! * **Positions.** `next` is the next sequence number to release; `end` is one past the highest
//!   stored or announced one. Every sequence number in `[next, end)` is either held or in
//!   exactly one open gap; below `next` everything was released (or skipped).
//! * **Slots.** A datagram is held only while `seq - next < max_slots`, in slot
//!   `seq mod ring` of a ring of `max_slots` rounded up to a power of two: no search, no map,
//!   and a duplicate is one flag test. A sequence number further ahead is refused
//!   ([`PushError::SlotsFull`]); the caller recovers or skips the gap first.
//! * **Bytes.** The store is an arrival-ordered log (see [`Store`]): a datagram is claimed and
//!   written in place, committed as one record, and located again by that record. Released
//!   datagrams leave the log from the front only, so one released behind an older held one
//!   keeps its bytes until that one goes too; the log is bounded by `max_bytes` and by the
//!   store's size ([`PushError::BytesFull`]). Nothing ever moves inside a `BipBuffer` or
//!   `MirroredBuffer`. A log entry lives from commit to reclaim: at most `max_slots` held
//!   ones plus at most `max_slots - 1` released ones behind the oldest held one (they all lie
//!   in one window), so the log's index is a ring allocated once with `2 * max_slots`
//!   entries (rounded up to a power of two).
//! * **Release.** [`Sequencer::pop`] hands out the datagram at `next` borrowed from the store;
//!   it is released by the next call that takes `&mut self` (so the borrow cannot outlive it).
//! * **Gaps.** A push or announcement beyond `end` opens the gap `[end, seq)` and reports it
//!   once, in its result. [`Sequencer::poll_timeout`] reports each gap (or what is left of it)
//!   once more, as timed out, after a configured time or depth; it never drops anything:
//!   [`Sequencer::skip_gap`] gives up on the gap that blocks release.
//! * **Allocation.** The store, the slot ring, the log index and the gap list are allocated by
//!   the constructor; nothing after that allocates (tested with a counting allocator).
//! * **Bad input.** Sequence numbers come from the network: `u64::MAX` (no successor) and
//!   anything past the window are refused with an error, never with a panic or an overflow.
//!
//! [`Arbiter`] puts several redundant lines (A/B feeds) in front of one sequencer, with
//! per-line statistics.

mod arbiter;
mod gaps;
mod store;

use std::error::Error;
use std::fmt;
use std::time::{Duration, Instant};

use crate::BipBuffer;

pub use arbiter::{Arbiter, ArbiterStats, LineStats};
pub use gaps::Gap;
use gaps::Gaps;
pub use store::Store;

/// What a [`Sequencer`] may hold and when a gap counts as timed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Most datagrams held at once, and the window: a datagram is held only while its sequence
    /// number is less than `next + max_slots`. Clamped to `1..=2^30`.
    pub max_slots: usize,
    /// Most bytes kept in the store: held datagrams, and released ones that still sit behind
    /// an older held one. [`Sequencer::new`] makes a `BipBuffer` of this size.
    pub max_bytes: usize,
    /// The first sequence number to release; `None`: the first one pushed or announced.
    pub start: Option<u64>,
    /// A gap times out this long after [`Sequencer::poll_timeout`] first saw it.
    pub gap_timeout: Option<Duration>,
    /// A gap times out once the newest sequence number is at least this far past its first
    /// missing one (with `max_slots` or more it can only time out by time).
    pub gap_depth: Option<u64>,
}

impl Default for Config {
    /// 1024 slots, 1 MiB, starting at the first datagram, no timeout.
    fn default() -> Config {
        Config {
            max_slots: 1024,
            max_bytes: 1 << 20,
            start: None,
            gap_timeout: None,
            gap_depth: None,
        }
    }
}

/// What a successful push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Stored; it will be released in order.
    Stored,
    /// Stored, and it is the first sign that the sequence numbers in the gap are missing.
    /// Each gap is reported this way once.
    StoredAfterGap(Gap),
    /// A copy of a datagram already held or released (or of one given up by
    /// [`Sequencer::skip_gap`]): dropped and counted.
    Duplicate,
}

/// Why a datagram was refused. The sequencer is unchanged (the refusal is counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// `seq` is `max_slots` or more past `next`: holding it would exceed the slot bound.
    SlotsFull {
        /// The refused sequence number.
        seq: u64,
        /// The next sequence number to release.
        next: u64,
        /// The slot bound.
        max_slots: usize,
    },
    /// The store has no room for `len` contiguous bytes.
    BytesFull {
        /// Bytes asked for.
        len: usize,
        /// Bytes in the store (held, and released behind an older held datagram).
        used: usize,
        /// The byte bound.
        max_bytes: usize,
    },
    /// `u64::MAX` has no successor, so it cannot be sequenced.
    NoSuccessor,
    /// [`Sequencer::commit`] of more bytes than claimed, or with no pending claim.
    NotClaimed {
        /// Bytes committed.
        len: usize,
        /// Bytes claimed (0: no claim).
        claimed: usize,
    },
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PushError::SlotsFull {
                seq,
                next,
                max_slots,
            } => write!(
                f,
                "sequencer full: sequence number {seq} is {} past the next to release ({next}) \
                 and at most {max_slots} are held; recover or skip the gap first",
                seq - next
            ),
            PushError::BytesFull {
                len,
                used,
                max_bytes,
            } => write!(
                f,
                "sequencer full: no room for {len} bytes ({used} of {max_bytes} bytes in use)"
            ),
            PushError::NoSuccessor => {
                f.write_str("sequence number u64::MAX has no successor and cannot be sequenced")
            }
            PushError::NotClaimed { len, claimed } => {
                write!(f, "commit of {len} bytes with {claimed} bytes claimed")
            }
        }
    }
}

impl Error for PushError {}

/// Counters since the sequencer was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Datagrams stored.
    pub stored: u64,
    /// Datagrams released by [`Sequencer::pop`].
    pub released: u64,
    /// Datagrams dropped as duplicates.
    pub duplicates: u64,
    /// Gaps opened (each reported once).
    pub gaps: u64,
    /// Sequence numbers in those gaps when they opened.
    pub missing: u64,
    /// Datagrams that arrived inside an open gap (late, reordered, or recovered).
    pub filled: u64,
    /// Gaps (or what was left of them) reported as timed out.
    pub timed_out: u64,
    /// Sequence numbers given up by [`Sequencer::skip_gap`].
    pub skipped: u64,
    /// Refusals: [`PushError::SlotsFull`].
    pub rejected_slots: u64,
    /// Refusals: [`PushError::BytesFull`].
    pub rejected_bytes: u64,
    /// Refusals: [`PushError::NoSuccessor`].
    pub rejected_invalid: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// Where the store put the bytes.
    loc: usize,
    len: usize,
    /// The log entry's id (its position counted from the first entry ever).
    entry: u64,
    held: bool,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    len: usize,
    released: bool,
}

/// Releases datagrams in sequence order whatever order they arrive in: the receive side of a
/// sequenced feed (market data over UDP multicast), where datagrams come out of order, twice,
/// or not at all.
///
/// * **Push** a datagram with its sequence number, copied ([`push`](Self::push)) or received
///   straight into the store ([`claim`](Self::claim), then [`commit`](Self::commit)).
///   Duplicates are dropped and counted; the first sign of missing sequence numbers is reported
///   as a [`Gap`].
/// * **Pop** ([`pop`](Self::pop)) releases the datagrams that are next in sequence, borrowed from
///   the store.
/// * **Gaps** time out after a configured time or depth ([`poll_timeout`](Self::poll_timeout)):
///   the moment to ask for a retransmission, whose datagrams are pushed like any other. If that
///   fails, [`skip_gap`](Self::skip_gap) gives up on them.
/// * **Bounds.** At most `max_slots` datagrams in a window of `max_slots` sequence numbers, and
///   `max_bytes` bytes; beyond either a push fails with a [`PushError`] and nothing grows.
///
/// The datagrams live in a [`Store`]: a [`BipBuffer`] by default, also `ByteBuffer` or
/// `MirroredBuffer` ([`with_store`](Self::with_store)). This is the Rust form of the Go sonic
/// library's `SlotSequencer`, without its sorted-slice inserts and moves of the saved bytes.
///
/// # Examples
///
/// ```
/// use sonic_buf::sequencer::{Config, Gap, Pushed, Sequencer};
///
/// let mut seq = Sequencer::new(Config { start: Some(1), ..Config::default() });
/// assert_eq!(seq.push(1, b"one"), Ok(Pushed::Stored));
/// assert_eq!(seq.push(3, b"three"), Ok(Pushed::StoredAfterGap(Gap { start: 2, end: 3 })));
/// assert_eq!(seq.push(1, b"one"), Ok(Pushed::Duplicate));
/// assert_eq!(seq.pop(), Some((1, &b"one"[..])));
/// assert_eq!(seq.pop(), None); // 2 is missing
/// assert_eq!(seq.push(2, b"two"), Ok(Pushed::Stored)); // fills the gap
/// assert_eq!(seq.pop(), Some((2, &b"two"[..])));
/// assert_eq!(seq.pop(), Some((3, &b"three"[..])));
/// assert_eq!(seq.stats().duplicates, 1);
/// ```
///
/// Receiving straight into the store:
///
/// ```
/// use sonic_buf::sequencer::{Config, Pushed, Sequencer};
///
/// let mut seq = Sequencer::new(Config { start: Some(7), ..Config::default() });
/// let space = seq.claim(1500)?; // where `recv` would write
/// space[..9].copy_from_slice(b"\0\0\0\0\0\0\0\x07!");
/// let n = 9; // what `recv` returned
/// let number = u64::from_be_bytes(space[..8].try_into().unwrap());
/// assert_eq!(seq.commit(number, n)?, Pushed::Stored);
/// assert_eq!(seq.pop().unwrap().1, b"\0\0\0\0\0\0\0\x07!");
/// # Ok::<(), sonic_buf::sequencer::PushError>(())
/// ```
#[derive(Debug)]
pub struct Sequencer<S: Store = BipBuffer> {
    store: S,
    slots: Box<[Slot]>,
    mask: u64,
    max_slots: usize,
    max_bytes: usize,
    /// The log index: a ring of one entry per record in the store, entry `id` at
    /// `id & log_mask`; ids `log_head..log_tail` are live, oldest first.
    log: Box<[Entry]>,
    log_mask: u64,
    log_head: u64,
    log_tail: u64,
    /// Stream offsets of the log's front and back (bytes released / committed, wrapping).
    front: usize,
    back: usize,
    claimed: usize,
    popped: Option<usize>,
    started: bool,
    next: u64,
    end: u64,
    held: usize,
    held_bytes: usize,
    gaps: Gaps,
    gap_timeout: Option<Duration>,
    gap_depth: Option<u64>,
    stats: SequencerStats,
}

impl Sequencer<BipBuffer> {
    /// A sequencer keeping datagrams in a `BipBuffer` of `config.max_bytes`.
    pub fn new(config: Config) -> Sequencer<BipBuffer> {
        Sequencer::with_store(BipBuffer::new(config.max_bytes), config)
    }
}

impl<S: Store> Sequencer<S> {
    const MAX_SLOTS: usize = 1 << 30;

    /// A sequencer keeping datagrams in `store` (emptied first). The bytes held are bounded by
    /// both `config.max_bytes` and what the store can hold (a `ByteBuffer`'s limit).
    ///
    /// ```
    /// use sonic_buf::sequencer::{Config, Sequencer};
    /// use sonic_buf::ByteBuffer;
    ///
    /// let store = ByteBuffer::with_capacity(64 * 1024).with_limit(64 * 1024);
    /// let mut seq = Sequencer::with_store(store, Config::default());
    /// seq.push(5, b"first").unwrap();
    /// assert_eq!(seq.pop(), Some((5, &b"first"[..])));
    /// ```
    pub fn with_store(mut store: S, config: Config) -> Sequencer<S> {
        store.reset();
        let max_slots = config.max_slots.clamp(1, Self::MAX_SLOTS);
        let ring = max_slots.next_power_of_two();
        let max_bytes = config.max_bytes.min(store.max_bytes());
        Sequencer {
            store,
            slots: vec![Slot::default(); ring].into_boxed_slice(),
            mask: ring as u64 - 1,
            max_slots,
            max_bytes,
            log: vec![
                Entry {
                    len: 0,
                    released: true
                };
                (2 * max_slots).next_power_of_two()
            ]
            .into_boxed_slice(),
            log_mask: (2 * max_slots).next_power_of_two() as u64 - 1,
            log_head: 0,
            log_tail: 0,
            front: 0,
            back: 0,
            claimed: 0,
            popped: None,
            started: config.start.is_some(),
            next: config.start.unwrap_or(0),
            end: config.start.unwrap_or(0),
            held: 0,
            held_bytes: 0,
            gaps: Gaps::with_capacity(max_slots + 1),
            gap_timeout: config.gap_timeout,
            gap_depth: config.gap_depth,
            stats: SequencerStats::default(),
        }
    }

    /// Stores a copy of `data` as sequence number `seq`. A duplicate is dropped before any copy.
    /// Replaces a pending [`claim`](Self::claim).
    pub fn push(&mut self, seq: u64, data: &[u8]) -> Result<Pushed, PushError> {
        self.settle();
        self.cancel_claim();
        if !self.admit(seq)? {
            return Ok(Pushed::Duplicate);
        }
        let space = self.claim_space(data.len())?;
        space.copy_from_slice(data);
        self.claimed = 0;
        Ok(self.store_record(seq, data.len()))
    }

    /// Claims `max_len` contiguous bytes in the store for a datagram to be written in place
    /// (a `recv` straight into the store); [`commit`](Self::commit) then stores it under its
    /// sequence number, which may be read from those very bytes. A later claim or push replaces
    /// the claim; until then it holds the room.
    pub fn claim(&mut self, max_len: usize) -> Result<&mut [u8], PushError> {
        self.settle();
        self.cancel_claim();
        self.claim_space(max_len)
    }

    /// Stores the first `len` bytes of the pending [`claim`](Self::claim) as sequence number
    /// `seq`, or drops them (a duplicate, or an error); either way the claim ends.
    pub fn commit(&mut self, seq: u64, len: usize) -> Result<Pushed, PushError> {
        self.settle();
        let claimed = self.claimed;
        if claimed == 0 || len > claimed {
            self.cancel_claim();
            return Err(PushError::NotClaimed { len, claimed });
        }
        let fresh = self.admit(seq);
        if !matches!(fresh, Ok(true)) {
            self.cancel_claim();
            return fresh.map(|_| Pushed::Duplicate);
        }
        let used = self.store_bytes();
        if used + len > self.max_bytes {
            self.cancel_claim();
            self.stats.rejected_bytes += 1;
            return Err(PushError::BytesFull {
                len,
                used,
                max_bytes: self.max_bytes,
            });
        }
        self.claimed = 0;
        Ok(self.store_record(seq, len))
    }

    /// The next datagram in sequence, if it is here: its sequence number and bytes, borrowed
    /// from the store until the next call that changes the sequencer.
    pub fn pop(&mut self) -> Option<(u64, &[u8])> {
        self.settle();
        if !self.started || self.next == self.end {
            return None;
        }
        let i = (self.next & self.mask) as usize;
        let s = self.slots[i];
        if !s.held {
            return None;
        }
        let seq = self.next;
        self.next += 1;
        self.popped = Some(i);
        self.stats.released += 1;
        Some((seq, self.store.record(s.loc, s.len, self.front)))
    }

    /// Announces that every sequence number below `end` exists (a heartbeat's "next sequence
    /// number"), so missing ones at the tail show as a gap without waiting for a later datagram.
    /// Returns the gap it opened, if any.
    pub fn expect_until(&mut self, end: u64) -> Result<Option<Gap>, PushError> {
        self.settle();
        if !self.started {
            self.started = true;
            self.next = end;
            self.end = end;
            return Ok(None);
        }
        if end <= self.end {
            return Ok(None);
        }
        if end - self.next > self.max_slots as u64 {
            self.stats.rejected_slots += 1;
            return Err(PushError::SlotsFull {
                seq: end - 1,
                next: self.next,
                max_slots: self.max_slots,
            });
        }
        let gap = Gap {
            start: self.end,
            end,
        };
        self.open_gap(gap);
        self.end = end;
        Ok(Some(gap))
    }

    /// Reports the next gap that timed out: open for `gap_timeout` since the first call that saw
    /// it (call this after every batch of pushes; `now` is that time), or with the newest
    /// sequence number `gap_depth` or more past its start. Each gap is reported once; the range
    /// is what is still missing of it. Call until `None`.
    pub fn poll_timeout(&mut self, now: Instant) -> Option<Gap> {
        if !self.started || self.end == 0 {
            return None;
        }
        let g = self
            .gaps
            .expire(now, self.gap_timeout, self.gap_depth, self.end - 1)?;
        self.stats.timed_out += 1;
        Some(g)
    }

    /// Gives up on the gap that blocks release (the first one, once every datagram before it
    /// was popped): its sequence numbers are counted as skipped, a late copy of one is a
    /// duplicate, and [`pop`](Self::pop) continues after it. `None` if no gap blocks.
    pub fn skip_gap(&mut self) -> Option<Gap> {
        self.settle();
        let g = self.gaps.first()?;
        if g.start != self.next {
            return None;
        }
        self.gaps.pop_first();
        self.next = g.end;
        self.stats.skipped += g.len();
        Some(g)
    }

    /// Drops every held datagram and open gap and starts again at `start` (`None`: at the next
    /// datagram pushed). Counters are kept.
    pub fn reset(&mut self, start: Option<u64>) {
        self.popped = None;
        self.claimed = 0;
        self.store.reset();
        for s in self.slots.iter_mut() {
            s.held = false;
        }
        self.log_head = 0;
        self.log_tail = 0;
        self.front = 0;
        self.back = 0;
        self.held = 0;
        self.held_bytes = 0;
        self.gaps.clear();
        self.started = start.is_some();
        self.next = start.unwrap_or(0);
        self.end = self.next;
    }

    /// The next sequence number to release.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// One past the highest sequence number stored or announced.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Datagrams held (not yet released).
    pub fn held(&self) -> usize {
        self.held - usize::from(self.popped.is_some())
    }

    /// Bytes of the datagrams held.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes - self.popped.map_or(0, |i| self.slots[i].len)
    }

    /// Bytes in the store: held datagrams, and released ones still behind an older held one.
    pub fn store_bytes(&self) -> usize {
        self.back.wrapping_sub(self.front)
    }

    /// How full the store is: [`store_bytes`](Self::store_bytes) over
    /// [`max_bytes`](Self::max_bytes), from 0 to 1 (the Go `SlotSequencer`'s `FillPct`).
    pub fn fill_ratio(&self) -> f64 {
        if self.max_bytes == 0 {
            1.0
        } else {
            self.store_bytes() as f64 / self.max_bytes as f64
        }
    }

    /// The slot bound.
    pub fn max_slots(&self) -> usize {
        self.max_slots
    }

    /// The byte bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The open gaps, lowest first: what is still missing.
    pub fn gaps(&self) -> impl ExactSizeIterator<Item = Gap> + '_ {
        self.gaps.iter()
    }

    /// Counters since the sequencer was built.
    pub fn stats(&self) -> SequencerStats {
        self.stats
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Whether `seq` is held right now (stored, not yet released).
    pub fn is_held(&self, seq: u64) -> bool {
        seq >= self.next
            && seq - self.next < self.max_slots as u64
            && self.slots[(seq & self.mask) as usize].held
    }

    // ---- internals ----------------------------------------------------------------------------

    /// Checks `seq`: `Ok(true)` to store it, `Ok(false)` for a duplicate (counted).
    fn admit(&mut self, seq: u64) -> Result<bool, PushError> {
        if seq == u64::MAX {
            self.stats.rejected_invalid += 1;
            return Err(PushError::NoSuccessor);
        }
        if !self.started {
            self.started = true;
            self.next = seq;
            self.end = seq;
        }
        if seq < self.next {
            self.stats.duplicates += 1;
            return Ok(false);
        }
        if seq - self.next >= self.max_slots as u64 {
            self.stats.rejected_slots += 1;
            return Err(PushError::SlotsFull {
                seq,
                next: self.next,
                max_slots: self.max_slots,
            });
        }
        if self.slots[(seq & self.mask) as usize].held {
            self.stats.duplicates += 1;
            return Ok(false);
        }
        Ok(true)
    }

    fn claim_space(&mut self, len: usize) -> Result<&mut [u8], PushError> {
        let used = self.store_bytes();
        let err = PushError::BytesFull {
            len,
            used,
            max_bytes: self.max_bytes,
        };
        if len > self.max_bytes - used {
            self.stats.rejected_bytes += 1;
            return Err(err);
        }
        match self.store.claim_whole(len) {
            Some(space) => {
                self.claimed = len;
                Ok(space)
            }
            None => {
                self.stats.rejected_bytes += 1;
                Err(err)
            }
        }
    }

    fn cancel_claim(&mut self) {
        if self.claimed > 0 {
            self.store.cancel_claim();
            self.claimed = 0;
        }
    }

    /// Commits the claimed bytes as `seq` (admitted) and updates the gaps.
    fn store_record(&mut self, seq: u64, len: usize) -> Pushed {
        let loc = self.store.commit_record(len, self.back);
        self.back = self.back.wrapping_add(len);
        let entry = self.log_tail;
        debug_assert!(entry - self.log_head <= self.log_mask);
        self.log[(entry & self.log_mask) as usize] = Entry {
            len,
            released: false,
        };
        self.log_tail += 1;
        self.slots[(seq & self.mask) as usize] = Slot {
            loc,
            len,
            entry,
            held: true,
        };
        self.held += 1;
        self.held_bytes += len;
        self.stats.stored += 1;
        let pushed = if seq >= self.end {
            let gap = Gap {
                start: self.end,
                end: seq,
            };
            self.end = seq + 1;
            if gap.is_empty() {
                Pushed::Stored
            } else {
                self.open_gap(gap);
                Pushed::StoredAfterGap(gap)
            }
        } else {
            self.gaps.fill(seq);
            self.stats.filled += 1;
            Pushed::Stored
        };
        #[cfg(debug_assertions)]
        self.gaps.check(self.next, self.end);
        pushed
    }

    fn open_gap(&mut self, gap: Gap) {
        self.gaps.open(gap);
        self.stats.gaps += 1;
        self.stats.missing += gap.len();
    }

    /// Releases the datagram handed out by the last `pop`, then drops released records from the
    /// front of the log.
    fn settle(&mut self) {
        let Some(i) = self.popped.take() else {
            return;
        };
        let s = &mut self.slots[i];
        s.held = false;
        self.held -= 1;
        self.held_bytes -= s.len;
        self.log[(s.entry & self.log_mask) as usize].released = true;
        while self.log_head < self.log_tail {
            let e = self.log[(self.log_head & self.log_mask) as usize];
            if !e.released {
                break;
            }
            self.store.release_oldest(e.len);
            self.front = self.front.wrapping_add(e.len);
            self.log_head += 1;
        }
    }
}
