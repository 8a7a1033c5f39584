//! `Notify`: wake one task or all waiting tasks, without sending data.
//!
//! Rules:
//! - `permit` is set only while no waiter is queued: `notify_one` hands its notification to the
//!   oldest waiter if there is one, and stores it otherwise; a first poll takes a stored permit
//!   before it would queue.
//! - `generation` counts `notify_waiters` calls. A `Notified` records it when it is created, so it
//!   is completed by any `notify_waiters` that happens after its creation, even before its first
//!   poll; queued waiters are woken directly.
//! - A `Notified` chosen by `notify_one` (`notify_last`) but dropped before it saw the
//!   notification passes it on the same way (to the oldest (newest) remaining waiter, or back into
//!   the permit). One woken by `notify_waiters` passes nothing.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::wait_list::{WaitList, WaiterKey};

/// How a waiter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wakeup {
    /// By `notify_one`: passed on to the oldest waiter if dropped unseen.
    One,
    /// By `notify_last`: passed on to the newest waiter if dropped unseen.
    Last,
    All,
}

/// Notifies one task, or all waiting tasks, of an event; the local counterpart of
/// `tokio::sync::Notify`.
///
/// A `Notify` carries no data: it is a way for one task to tell others "something changed, look
/// again". Share it between tasks with an `Rc<Notify>` (or a reference, where lifetimes allow).
///
/// - [`notify_one`](Notify::notify_one) wakes the task that has waited longest. If no task waits,
///   it stores a single permit, and the next [`notified`](Notify::notified) future completes at
///   once; permits do not add up.
/// - [`notify_waiters`](Notify::notify_waiters) wakes every task waiting now (every `Notified`
///   created before the call) and stores nothing.
///
/// `Notify` is `!Send` and `!Sync`: it belongs to the thread that created it.
///
/// # Examples
///
/// A stored permit lets a notification sent before the wait start be seen:
///
/// ```
/// use sonic_rt::sync::Notify;
/// use std::rc::Rc;
///
/// sonic_rt::block_on(async {
///     let notify = Rc::new(Notify::new());
///     let waiter = sonic_rt::spawn({
///         let notify = Rc::clone(&notify);
///         async move {
///             notify.notified().await;
///             "woken"
///         }
///     });
///     notify.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Notify {
    permit: Cell<bool>,
    generation: Cell<u64>,
    waiters: WaitList<Wakeup>,
    _not_send: PhantomData<*const ()>,
}

impl Notify {
    /// Creates a `Notify` with no stored permit and no waiters.
    ///
    /// It is a `const fn`, so a `Notify` can live in a `thread_local!` without lazy set-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_one(); // stored as a permit: nobody waits yet
    /// ```
    pub const fn new() -> Notify {
        Notify {
            permit: Cell::new(false),
            generation: Cell::new(0),
            waiters: WaitList::new(),
            _not_send: PhantomData,
        }
    }

    /// Returns a future that completes when this `Notify` is notified.
    ///
    /// The future completes when a permit is available at its first poll (taking it), when
    /// [`notify_one`](Notify::notify_one) chooses it while it waits, or when
    /// [`notify_waiters`](Notify::notify_waiters) is called any time after this method returned.
    /// Waiters are served in the order of their first poll.
    ///
    /// Cancellation safe: dropping the future gives up its place in the queue, and a notification
    /// it had been handed by `notify_one` but not yet observed goes to the next waiter.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            state: State::Init {
                generation: self.generation.get(),
            },
        }
    }

    /// Wakes the task that has waited longest, or stores a permit if no task waits.
    ///
    /// At most one permit is stored: calling this twice with nobody waiting lets one later
    /// `notified()` complete at once, not two.
    pub fn notify_one(&self) {
        if !self.waiters.wake_one(Wakeup::One) {
            self.permit.set(true);
        }
    }

    /// Wakes the task that started waiting most recently, or stores a permit if no task waits.
    ///
    /// Like [`notify_one`](Notify::notify_one) in every other way, including the single stored
    /// permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Notify;
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    ///
    /// let notify = Notify::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut first = pin!(notify.notified());
    /// let mut second = pin!(notify.notified());
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// assert!(second.as_mut().poll(&mut cx).is_pending());
    /// notify.notify_last();
    /// assert!(second.as_mut().poll(&mut cx).is_ready());
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// ```
    pub fn notify_last(&self) {
        if !self.waiters.wake_last(Wakeup::Last) {
            self.permit.set(true);
        }
    }

    /// Wakes every task that waits now, and every `Notified` created before this call even if it
    /// was never polled. Stores no permit and leaves a stored permit alone.
    pub fn notify_waiters(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        self.waiters.wake_all(Wakeup::All);
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &self.permit.get())
            .field("waiters", &self.waiters)
            .finish()
    }
}

#[derive(Debug)]
enum State {
    /// Not polled yet; `generation` is the `notify_waiters` count when the future was created.
    Init {
        generation: u64,
    },
    /// Queued; the key names its slot in the wait list.
    Waiting(WaiterKey),
    Done,
}

/// The future returned by [`Notify::notified`]: completes when the `Notify` is notified.
///
/// Dropping it before completion is safe and loses no `notify_one` notification.
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    state: State,
}

impl Notified<'_> {
    /// Starts waiting without polling: from now on this future is in the queue, so a
    /// [`notify_one`](Notify::notify_one) picks it (and it completes at its next poll) instead of
    /// storing a permit. Returns true if it is already notified (a stored permit was taken, a
    /// [`notify_waiters`](Notify::notify_waiters) came after its creation, or it was chosen while
    /// queued).
    ///
    /// Needed where a task checks a condition between starting to wait and polling, so that a
    /// notification sent in between is not lost; no waker is registered until the first poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::Notify;
    /// use std::pin::pin;
    ///
    /// sonic_rt::block_on(async {
    ///     let notify = Notify::new();
    ///     let mut first = pin!(notify.notified());
    ///     let mut second = pin!(notify.notified());
    ///     assert!(!first.as_mut().enable());
    ///     assert!(!second.as_mut().enable());
    ///     notify.notify_one();
    ///     notify.notify_one(); // two waiters queued: no permit is stored, both are notified
    ///     assert!(first.as_mut().enable());
    ///     first.await;
    ///     second.await;
    /// });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        let notify = this.notify;
        match mem::replace(&mut this.state, State::Done) {
            State::Init { generation } => {
                if notify.generation.get() != generation || notify.permit.replace(false) {
                    return true;
                }
                // Queued with a waker that does nothing until the first poll stores the real one.
                this.state = State::Waiting(notify.waiters.park(Waker::noop()));
                false
            }
            State::Waiting(key) => match notify.waiters.try_take(key) {
                Ok(_) => true,
                Err(key) => {
                    this.state = State::Waiting(key);
                    false
                }
            },
            State::Done => true,
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let notify = this.notify;
        match mem::replace(&mut this.state, State::Done) {
            State::Init { generation } => {
                if notify.generation.get() != generation || notify.permit.replace(false) {
                    return Poll::Ready(());
                }
                this.state = State::Waiting(notify.waiters.park(cx.waker()));
                Poll::Pending
            }
            State::Waiting(key) => match notify.waiters.poll(key, cx.waker()) {
                Ok(_) => Poll::Ready(()),
                Err(key) => {
                    this.state = State::Waiting(key);
                    Poll::Pending
                }
            },
            State::Done => Poll::Ready(()),
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let State::Waiting(key) = mem::replace(&mut self.state, State::Done) {
            match self.notify.waiters.cancel(key).outcome {
                Some(Wakeup::One) => self.notify.notify_one(),
                Some(Wakeup::Last) => self.notify.notify_last(),
                Some(Wakeup::All) | None => {}
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
