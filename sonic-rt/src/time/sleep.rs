//! `Sleep`: a future that completes at a deadline.

use super::Instant;
use crate::context;
use crate::runtime::core::Core;
use crate::slab::Key;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed. Sub-millisecond durations are honoured: the deadline is
/// never rounded up to a millisecond.
///
/// # Panics
/// When polled outside a sonic runtime.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// sonic_rt::block_on(async {
///     sonic_rt::time::sleep(Duration::from_micros(50)).await;
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    Sleep::new(deadline)
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It registers with the runtime's timer queue on its first poll; dropping it cancels the timer
/// in O(log n), and [`Sleep::reset`] moves it without allocating. It is `Unpin`.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    entry: Option<(Rc<Core>, Key)>,
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            entry: None,
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached (as seen by the timer queue or the clock).
    pub fn is_elapsed(&self) -> bool {
        match &self.entry {
            Some((core, key)) => core.timers.borrow().is_fired(*key),
            None => Instant::now() >= self.deadline,
        }
    }

    /// Moves the deadline. Works before or after the sleep fired; allocates nothing.
    ///
    /// Takes `Pin<&mut Self>` like tokio's; since `Sleep` is `Unpin`, `Pin::new(&mut sleep)`
    /// works, as does [`Sleep::reset_mut`].
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_mut(deadline);
    }

    /// [`Sleep::reset`] without the `Pin`.
    pub fn reset_mut(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some((core, key)) = &self.entry {
            let ns = core.clock.to_ns(deadline.into_std());
            core.timers.borrow_mut().reset(*key, ns);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some((core, key)) = &this.entry {
            let mut timers = core.timers.borrow_mut();
            if timers.is_fired(*key) {
                return Poll::Ready(());
            }
            timers.set_waker(*key, cx.waker());
            return Poll::Pending;
        }
        let core = context::expect_current("sonic_rt::time::sleep");
        let deadline = core.clock.to_ns(this.deadline.into_std());
        // Compared with the turn's last clock reading (never later than now), so an expired
        // deadline completes without a clock read and a live one is never taken as expired.
        if core.last_now_ns() >= deadline {
            return Poll::Ready(());
        }
        let key = core
            .timers
            .borrow_mut()
            .insert(deadline, cx.waker().clone());
        this.entry = Some((core, key));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((core, key)) = self.entry.take() {
            core.timers.borrow_mut().remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}
