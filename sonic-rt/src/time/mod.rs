//! Time: sleeps, timeouts and intervals with nanosecond deadlines, and a clock that tests can
//! pause and move by hand.
//!
//! Deadlines are never rounded up to a millisecond: the reactor waits with `epoll_pwait2`
//! (a timerfd on older kernels) or kqueue's nanosecond timespec, and busy-poll mode reads the
//! clock on every turn.

pub(crate) mod clock;
pub mod error;
mod instant;
mod interval;
pub(crate) mod queue;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
/// `std::time::Duration`, re-exported as tokio's `time::Duration` is.
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};

use crate::context;

/// Pauses the current runtime's clock. While paused, time moves only by [`advance`], or jumps to
/// the next timer when the runtime has nothing else to do (so sleeping tests finish at once).
///
/// "Nothing else to do" means no task is ready *and* no I/O event is waiting: before it jumps,
/// the runtime polls its sockets without blocking, as tokio does, so a loopback round trip
/// under a paused clock completes before a timer of the same test fires.
///
/// # Panics
/// Outside a sonic runtime.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use sonic_rt::time::{self, Instant};
/// sonic_rt::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
pub fn pause() {
    context::expect_current("sonic_rt::time::pause")
        .clock
        .pause();
}

/// Resumes the real clock after [`pause`].
///
/// # Panics
/// Outside a sonic runtime.
pub fn resume() {
    context::expect_current("sonic_rt::time::resume")
        .clock
        .resume();
}

/// Moves a paused clock forward by `duration` and lets the timers that became due fire. A
/// duration too long to represent moves the clock about 30 years.
///
/// # Panics
/// Outside a sonic runtime, or if the clock is not paused.
pub async fn advance(duration: Duration) {
    let core = context::expect_current("sonic_rt::time::advance");
    assert!(
        core.clock.advance(duration),
        "sonic_rt::time::advance: the clock is not paused"
    );
    drop(core);
    crate::task::yield_now().await;
}
