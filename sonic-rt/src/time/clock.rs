//! The runtime's clock: the monotonic clock, or a paused one that tests move by hand.
//!
//! Rules:
//! - Every reading the runtime takes anyway (`Instant::now`, creating a `sleep`, a loop turn
//!   with timers queued) is remembered: `last` is a lower bound on "now" that costs nothing
//!   to consult. It is *fresh* until the next reactor turn ends (time may have passed in the
//!   kernel), and a stale bound is refreshed by one reading when a timer needs it.
//! - So a timer whose deadline is at or before the clock as read in the current loop iteration
//!   is due at once (`Clock::has_passed`), with at most one extra reading per iteration: creating
//!   and polling timers on the hot path reads the clock no more often than before.
//! - Deadlines are nanoseconds since `epoch`; arithmetic saturates, it never panics.

use std::cell::Cell;
use std::time::{Duration, Instant as StdInstant};

/// About 30 years: where a deadline that cannot be represented is put (tokio's "far future";
/// a longer span overflows `Instant` on some platforms).
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86400 * 365 * 30);

pub(crate) struct Clock {
    /// Deadlines are stored as nanoseconds since this instant.
    epoch: StdInstant,
    paused_at: Cell<Option<StdInstant>>,
    /// The latest reading: never later than now. Kept as an `Instant` so that a reading costs
    /// no conversion.
    last: Cell<StdInstant>,
    /// Whether `last` was read since the last reactor turn ended.
    fresh: Cell<bool>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let epoch = StdInstant::now();
        Clock {
            epoch,
            paused_at: Cell::new(start_paused.then_some(epoch)),
            last: Cell::new(epoch),
            fresh: Cell::new(false),
        }
    }

    /// Reads the clock (and remembers the reading as the new lower bound).
    #[inline]
    pub(crate) fn now(&self) -> StdInstant {
        let now = self.paused_at.get().unwrap_or_else(StdInstant::now);
        self.last.set(now);
        self.fresh.set(true);
        now
    }

    /// [`Clock::now`] in nanoseconds since the epoch.
    pub(crate) fn now_ns(&self) -> u64 {
        self.to_ns(self.now())
    }

    /// The latest reading: no later than now, and free.
    pub(crate) fn last_ns(&self) -> u64 {
        self.to_ns(self.last.get())
    }

    /// Whether `deadline` is due: compared with this loop iteration's reading, taking one if
    /// none was taken since the last reactor turn.
    #[inline]
    pub(crate) fn has_passed(&self, deadline: StdInstant) -> bool {
        deadline <= self.last.get() || (!self.fresh.get() && self.read_and_compare(deadline))
    }

    /// The rare half of `has_passed`, kept out of line so the hot callers stay small.
    #[cold]
    #[inline(never)]
    fn read_and_compare(&self, deadline: StdInstant) -> bool {
        deadline <= self.now()
    }

    /// A reactor turn ended: time may have passed since the last reading.
    pub(crate) fn mark_stale(&self) {
        self.fresh.set(false);
    }

    /// Nanoseconds since the epoch; instants before it count as the epoch (already due), and
    /// instants more than 584 years after it as `u64::MAX`.
    pub(crate) fn to_ns(&self, t: StdInstant) -> u64 {
        t.saturating_duration_since(self.epoch)
            .as_nanos()
            .min(u64::MAX as u128) as u64
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused_at.get().is_some()
    }

    pub(crate) fn pause(&self) {
        if self.paused_at.get().is_none() {
            self.paused_at.set(Some(StdInstant::now()));
        }
    }

    pub(crate) fn resume(&self) {
        self.paused_at.set(None);
        // The real clock may be behind a paused clock that was advanced: restart the lower
        // bound from a real reading so it stays a lower bound.
        self.now();
    }

    /// Moves a paused clock forward (saturating far in the future instead of overflowing).
    /// Returns false if the clock is not paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        match self.paused_at.get() {
            Some(t) => {
                self.paused_at.set(Some(saturating_add(t, by)));
                true
            }
            None => false,
        }
    }

    /// Moves a paused clock to `ns` since the epoch, never backwards.
    pub(crate) fn advance_to_ns(&self, ns: u64) {
        if let Some(t) = self.paused_at.get() {
            let target = saturating_add(self.epoch, Duration::from_nanos(ns));
            if target > t {
                self.paused_at.set(Some(target));
            }
        }
    }
}

/// `t + d`, or about 30 years after `t` where that overflows (or `t` itself, where even that
/// does).
pub(crate) fn saturating_add(t: StdInstant, d: Duration) -> StdInstant {
    t.checked_add(d)
        .or_else(|| t.checked_add(FAR_FUTURE))
        .unwrap_or(t)
}
