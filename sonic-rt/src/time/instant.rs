//! `Instant`: a point on the runtime's clock (which may be paused in tests).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the runtime's monotonic clock, like `std::time::Instant`, except that
/// [`Instant::now`] follows a paused clock (see [`pause`](super::pause)) inside a runtime.
///
/// `instant + duration` panics on overflow, as with std's and tokio's `Instant`; use
/// [`Instant::checked_add`] for durations that may be huge. sonic's own timers never overflow:
/// [`sleep`](super::sleep), [`timeout`](super::timeout) and [`interval`](super::interval) with
/// `Duration::MAX` saturate to about 30 years from now.
///
/// # Examples
/// ```
/// use sonic_rt::time::{Instant, sleep};
/// use std::time::Duration;
/// sonic_rt::block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_micros(200)).await;
///     assert!(start.elapsed() >= Duration::from_micros(200));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// Now, on the current runtime's clock (the monotonic clock outside a runtime).
    pub fn now() -> Instant {
        let std = crate::context::with_current(|core| match core {
            Some(core) => core.clock.now(),
            None => std::time::Instant::now(),
        });
        Instant { std }
    }

    /// Wraps a `std::time::Instant`.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std::time::Instant` this wraps.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Like [`Instant::duration_since`], `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Like [`Instant::duration_since`].
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time since `self`, on the runtime clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.std.checked_add(d).map(Instant::from_std)
    }

    /// `self - d`, or `None` on underflow.
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.std.checked_sub(d).map(Instant::from_std)
    }

    /// `self + d`, or (where that overflows) an instant about 30 years from now and not before
    /// `self`: waiting for it means waiting forever. Time arithmetic inside sonic uses this, so
    /// `Duration::MAX` periods and timeouts saturate instead of panicking.
    pub(crate) fn saturating_add(self, d: Duration) -> Instant {
        match self.std.checked_add(d) {
            Some(std) => Instant { std },
            None => Instant::far_future().max(self),
        }
    }

    /// An instant so far away that waiting for it means waiting forever (about 30 years).
    pub(crate) fn far_future() -> Instant {
        Instant::from_std(super::clock::saturating_add(
            Instant::now().std,
            super::clock::FAR_FUTURE,
        ))
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant { std }
    }
}

impl From<Instant> for std::time::Instant {
    fn from(i: Instant) -> std::time::Instant {
        i.std
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant { std: self.std + d }
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.std += d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant { std: self.std - d }
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        self.std -= d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
