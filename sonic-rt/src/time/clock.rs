//! The runtime's clock: the monotonic clock, or a paused one that tests move by hand.

use std::cell::Cell;
use std::time::{Duration, Instant as StdInstant};

pub(crate) struct Clock {
    /// Deadlines are stored as nanoseconds since this instant.
    epoch: StdInstant,
    paused_at: Cell<Option<StdInstant>>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let epoch = StdInstant::now();
        Clock {
            epoch,
            paused_at: Cell::new(start_paused.then_some(epoch)),
        }
    }

    pub(crate) fn now(&self) -> StdInstant {
        self.paused_at.get().unwrap_or_else(StdInstant::now)
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.to_ns(self.now())
    }

    /// Nanoseconds since the epoch; instants before it count as the epoch (already due).
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
    }

    /// Moves a paused clock forward. Returns false if the clock is not paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        match self.paused_at.get() {
            Some(t) => {
                self.paused_at.set(Some(t + by));
                true
            }
            None => false,
        }
    }

    /// Moves a paused clock to `ns` since the epoch, never backwards.
    pub(crate) fn advance_to_ns(&self, ns: u64) {
        if let Some(t) = self.paused_at.get() {
            let target = self.epoch + Duration::from_nanos(ns);
            if target > t {
                self.paused_at.set(Some(target));
            }
        }
    }
}
