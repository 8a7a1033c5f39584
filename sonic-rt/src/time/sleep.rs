//! `Sleep`: a future that completes at a deadline.

use super::Instant;
use crate::context;
use crate::runtime::core::Core;
use crate::slab::Key;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Waits until `duration` has elapsed. Sub-millisecond durations are honoured: the deadline is
/// never rounded up to a millisecond. A duration too long to represent (`Duration::MAX`) waits
/// for about 30 years, as in tokio.
///
/// The deadline is fixed when `sleep` is called. A sleep is bound to the runtime that first
/// polls it, so it may be created before a runtime is entered (tokio panics there; see the
/// migration guide).
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
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`. A deadline that has passed completes on the first poll.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It registers with the runtime's timer queue on its first poll; dropping it cancels the timer
/// in O(log n), and [`Sleep::reset`] moves it without allocating. It is `Unpin`.
///
/// A deadline at or before the runtime clock as read in the current loop iteration is due at
/// once: the first poll, or a reset into the past, completes without waiting for the next turn
/// of the loop. (The runtime reads its clock at most once per iteration for this; timers whose
/// deadline falls later are fired by the next turn, never early.)
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

    /// Whether the sleep has completed: its timer fired, or a poll found the deadline passed.
    /// `false` before the first poll, as in tokio (the timer does not exist yet).
    pub fn is_elapsed(&self) -> bool {
        match &self.entry {
            Some((core, key)) => core.timers.borrow().is_fired(*key),
            None => false,
        }
    }

    /// Moves the deadline. Works before or after the sleep fired; allocates nothing. A deadline
    /// that is already due completes the sleep at once (its task is woken), without waiting for
    /// the next turn of the loop.
    ///
    /// Takes `Pin<&mut Self>` like tokio's; since `Sleep` is `Unpin`, `Pin::new(&mut sleep)`
    /// works, as does [`Sleep::reset_mut`].
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_mut(deadline);
    }

    /// [`Sleep::reset`] without the `Pin`.
    pub fn reset_mut(&mut self, deadline: Instant) {
        if let Some(waker) = self.reset_inner(deadline) {
            waker.wake();
        }
    }

    /// Moves the deadline; returns the waker to wake if the new deadline is already due (the
    /// caller may be the task itself, which has no use for the wake: see `Interval`).
    pub(crate) fn reset_inner(&mut self, deadline: Instant) -> Option<Waker> {
        self.deadline = deadline;
        let (core, key) = self.entry.as_ref()?;
        let ns = core.clock.to_ns(deadline.into_std());
        if core.clock.has_passed(deadline.into_std()) {
            return core.timers.borrow_mut().expire(*key, ns);
        }
        core.timers.borrow_mut().reset(*key, ns);
        None
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
        // A deadline already due completes now; its entry is created fired, so `is_elapsed`
        // and a later `reset` behave as for a timer that fired.
        let due = core.clock.has_passed(this.deadline.into_std());
        let key = {
            let mut timers = core.timers.borrow_mut();
            if due {
                timers.insert_fired(deadline, None)
            } else {
                timers.insert(deadline, cx.waker().clone())
            }
        };
        this.entry = Some((core, key));
        if due {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
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
