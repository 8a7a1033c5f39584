//! `Interval`: ticks at a fixed period.

use super::{sleep_until, Instant, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What an [`Interval`] does when ticks were missed (the task was busy for over a period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after another, then keep the original schedule.
    #[default]
    Burst,
    /// Start a new schedule one period after the late tick.
    Delay,
    /// Drop the missed ticks and keep to the original schedule's next future tick.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after `scheduled`, which fired late (`now >= due`, where `due` is
    /// `scheduled + period`). Saturates instead of overflowing.
    fn next_tick(
        self,
        due: Instant,
        scheduled: Instant,
        now: Instant,
        period: Duration,
    ) -> Instant {
        match self {
            MissedTickBehavior::Burst => due,
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                // The first tick of the original schedule after `now`. `period` is at most
                // `now - scheduled` here, so the remainder fits in a u64 of nanoseconds.
                let behind = now.duration_since(scheduled).as_nanos();
                let into = u64::try_from(behind % period.as_nanos()).unwrap_or(0);
                now.saturating_add(period.saturating_sub(Duration::from_nanos(into)))
            }
        }
    }
}

/// Ticks every `period`, the first tick at once. A period too long to represent
/// (`Duration::MAX`) saturates: the ticks after the first come "never" (in about 30 years).
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// sonic_rt::block_on(async {
///     let mut iv = sonic_rt::time::interval(Duration::from_micros(100));
///     let first = iv.tick().await;
///     let second = iv.tick().await;
///     assert!(second - first >= Duration::from_micros(100));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "sonic_rt::time::interval: period must be non-zero"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// The stream of ticks made by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    ///
    /// A tick that is already due (a missed tick the [`MissedTickBehavior`] fires at once, or the
    /// first tick of [`interval`]) is `Ready` without waiting for a turn of the loop.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = match scheduled.checked_add(self.period) {
            Some(next) if now < next => next,
            Some(next) => self.missed.next_tick(next, scheduled, now, self.period),
            // The schedule ran off the end of time: wait "forever".
            None => scheduled.saturating_add(self.period),
        };
        // This task is the one polling: a tick already due needs no wake-up, only the fired
        // state that the next `poll_tick` sees.
        drop(self.delay.reset_inner(next));
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now. Ignores the
    /// [`MissedTickBehavior`]; the same as `reset_at(Instant::now() + period)`.
    pub fn reset(&mut self) {
        self.reset_at(Instant::now().saturating_add(self.period));
    }

    /// Restarts the schedule with a tick now: the next `tick` completes at once and the ticks
    /// after it follow one period apart. The same as `reset_at(Instant::now())`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use sonic_rt::time::{self, Instant};
    ///
    /// #[sonic_rt::main(start_paused)]
    /// async fn main() {
    ///     let start = Instant::now();
    ///     let mut iv = time::interval(Duration::from_millis(100));
    ///     iv.tick().await; // at once
    ///     time::sleep(Duration::from_millis(50)).await;
    ///     iv.reset_immediately();
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(50));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(150));
    /// }
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick `after` from now (saturating: `Duration::MAX`
    /// waits about 30 years, where tokio's panics). The same as `reset_at(Instant::now() +
    /// after)`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use sonic_rt::time::{self, Instant};
    ///
    /// #[sonic_rt::main(start_paused)]
    /// async fn main() {
    ///     let start = Instant::now();
    ///     let mut iv = time::interval(Duration::from_millis(100));
    ///     iv.tick().await;
    ///     time::sleep(Duration::from_millis(50)).await;
    ///     iv.reset_after(Duration::from_millis(20));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(70));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(170));
    /// }
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule with the next tick at `deadline`; the ticks after it follow one
    /// period apart. A deadline in the future may be further away than a period. A deadline in
    /// the past ticks at once, and the ticks it missed are handled by the
    /// [`MissedTickBehavior`]. Ticks missed before this call are forgotten.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use sonic_rt::time::{self, Instant};
    ///
    /// #[sonic_rt::main(start_paused)]
    /// async fn main() {
    ///     let start = Instant::now();
    ///     let mut iv = time::interval(Duration::from_millis(100));
    ///     iv.tick().await;
    ///     iv.reset_at(start + Duration::from_millis(250));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(250));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(350));
    /// }
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset_mut(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current missed-tick behaviour.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the missed-tick behaviour.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
