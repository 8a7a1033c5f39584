//! The part of a runtime other threads may reach: the remote queue and the reactor notifier.
//!
//! Rules (the park protocol):
//! - A remote producer pushes under the lock, sets `has_remote`, then swaps `parked` to false
//!   and notifies the poller if it was set.
//! - The owner sets `parked` before a blocking wait and then reads `has_remote`; if set, it does
//!   not block. Both sides use `SeqCst`, so at least one of them sees the other: either the owner
//!   skips the wait or the producer wakes it. Wakes on the owner thread never come here.

use crate::executor::cell::TaskRef;
use crate::reactor::Notifier;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub(crate) enum Remote {
    /// A task woken from another thread (a counted reference).
    Wake(TaskRef),
    /// A closure handed over by a [`Handle`](crate::Handle).
    Run(Box<dyn FnOnce() + Send + 'static>),
}

pub(crate) struct Shared {
    queue: Mutex<Vec<Remote>>,
    has_remote: AtomicBool,
    parked: AtomicBool,
    closed: AtomicBool,
    notifier: Notifier,
}

impl Shared {
    pub(crate) fn new(notifier: Notifier) -> Shared {
        Shared {
            queue: Mutex::new(Vec::new()),
            has_remote: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            notifier,
        }
    }

    /// Queues `item` for the owner thread and wakes it if it sleeps. Gives the item back if the
    /// runtime is gone.
    pub(crate) fn push(&self, item: Remote) -> Result<(), Remote> {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if self.closed.load(Ordering::Relaxed) {
                return Err(item);
            }
            queue.push(item);
        }
        self.unpark();
        Ok(())
    }

    pub(crate) fn wake_remote(&self, task: TaskRef) {
        // If the runtime is gone the reference is simply released.
        drop(self.push(Remote::Wake(task)));
    }

    /// Tells the owner there is remote work and ends its wait if it is parked.
    pub(crate) fn unpark(&self) {
        self.has_remote.store(true, Ordering::SeqCst);
        if self.parked.swap(false, Ordering::SeqCst) {
            self.notifier.notify();
        }
    }

    /// Owner: about to block. Returns false if remote work is already waiting.
    pub(crate) fn park(&self) -> bool {
        self.parked.store(true, Ordering::SeqCst);
        if self.has_remote.load(Ordering::SeqCst) {
            self.parked.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub(crate) fn unparked(&self) {
        self.parked.store(false, Ordering::Relaxed);
    }

    /// Owner: a plain load, so the common case (nothing remote) costs no read-modify-write and
    /// touches no buffer. A `true` is confirmed by [`Shared::take`].
    pub(crate) fn may_have_remote(&self) -> bool {
        self.has_remote.load(Ordering::Relaxed)
    }

    /// Owner: swaps the queued items into `out` (keeping both vectors' capacity).
    pub(crate) fn take(&self, out: &mut Vec<Remote>) -> bool {
        if !self.has_remote.swap(false, Ordering::SeqCst) {
            return false;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut *queue, out);
        true
    }

    /// Owner, at shutdown: refuse further items and hand back what is queued.
    pub(crate) fn close(&self) -> Vec<Remote> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        self.closed.store(true, Ordering::Relaxed);
        std::mem::take(&mut *queue)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("closed", &self.is_closed())
            .finish()
    }
}
