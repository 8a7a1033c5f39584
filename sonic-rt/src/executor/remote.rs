//! The part of a runtime other threads may reach: the remote queue and the reactor notifier.
//!
//! Rules (the park protocol):
//! - A remote producer pushes under the lock, sets `has_remote`, then swaps `parked` to false
//!   and notifies the poller if it was set.
//! - The owner sets `parked` before a blocking wait and then reads `has_remote`; if set, it does
//!   not block. Each side puts a `SeqCst` fence between its write and its read (the
//!   store-buffering pattern), so at least one of them sees the other: either the owner skips
//!   the wait or the producer wakes it. Wakes on the owner thread never come here.
//! - Every write to `parked` and `has_remote` is a swap, so each flag's history is one chain
//!   of read-modify-writes and the fences alone order the two chains. (On x86 the swaps cost what
//!   the `SeqCst` stores they replace did. loom models fences exactly but treats `SeqCst`
//!   accesses as acquire/release and leaves plain stores unordered against concurrent swaps;
//!   with either it reports lost wake-ups that C11 rules out, so the code says what loom can
//!   check.)
//! - The owner clears `has_remote` (a swap) before it takes the queue under the lock, so an
//!   item pushed after the take sets the flag again: nothing is left behind unseen.
//! - `closed` is set under the lock, so after `close` no push succeeds and every item pushed
//!   before it is handed back.
//! - `has_remote` is only ever set with an item pushed before it. The owner clears the flag
//!   when it takes the queue, so a signal without an item would be consumed unseen: a wake of
//!   the `block_on` future that landed between the owner's look at its flag and that take slept
//!   forever. Such a wake therefore queues a [`Remote::Root`] (`wake_root`), at most one at a
//!   time (`root_queued`, under the lock: true exactly while one is queued), so wakes that come
//!   faster than the owner turns cannot grow the queue.
//!
//! Model-checked with loom (`executor/loom_tests.rs`), generic over the notifier for that.

use super::cell::TaskRef;
use crate::loom::{fence, AtomicBool, Mutex, Ordering};
use crate::reactor::Notifier;
use crate::runtime::metrics::RuntimeMetrics;
use crate::runtime::Identity;
use std::fmt;

pub(crate) enum Remote {
    /// A task woken from another thread (a counted reference).
    Wake(TaskRef),
    /// A closure handed over by a [`Handle`](crate::Handle).
    Run(Box<dyn FnOnce() + Send + 'static>),
    /// The `block_on` future was woken from another thread; its own flag says so, the item only
    /// makes the owner's turn see work and not sleep.
    Root,
}

/// Ends the owner's blocking wait (the reactor's eventfd / EVFILT_USER; a model in loom tests).
pub(crate) trait Notify {
    fn notify(&self);
}

impl Notify for Notifier {
    fn notify(&self) {
        Notifier::notify(self);
    }
}

/// The items under the lock.
struct Queue {
    items: Vec<Remote>,
    /// A [`Remote::Root`] is among `items`.
    root_queued: bool,
}

/// The runtime's remote queue, as the rest of the crate knows it.
pub(crate) type Shared = RemoteQueue<Notifier>;

/// Room for this many items in each of the two buffers the queue swaps (the one other threads
/// push into and the owner's), reserved up front so that a producer thread does not allocate
/// when, late in a steady state, its wake and a root wake land in one interval for the first
/// time. A burst larger than this grows the buffer once, as a `Vec` does.
pub(crate) const BATCH: usize = 64;

pub(crate) struct RemoteQueue<N> {
    queue: Mutex<Queue>,
    has_remote: AtomicBool,
    parked: AtomicBool,
    closed: AtomicBool,
    notifier: N,
    /// The metrics the owner published last, for `Handle::metrics` on other threads (see
    /// `runtime/metrics.rs`). A std mutex, not loom's: no protocol depends on it.
    published: std::sync::Mutex<RuntimeMetrics>,
    /// The runtime's id and name, for `Handle::id`/`name` on any thread (set at build, never
    /// changed).
    identity: Identity,
}

impl<N: Notify> RemoteQueue<N> {
    /// A queue with an anonymous identity (the loom models).
    #[cfg(all(test, sonic_loom))]
    pub(crate) fn new(notifier: N) -> RemoteQueue<N> {
        RemoteQueue::with_identity(notifier, Identity::new(None))
    }

    pub(crate) fn with_identity(notifier: N, identity: Identity) -> RemoteQueue<N> {
        RemoteQueue {
            queue: Mutex::new(Queue {
                items: Vec::with_capacity(BATCH),
                root_queued: false,
            }),
            has_remote: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            notifier,
            published: std::sync::Mutex::new(RuntimeMetrics::default()),
            identity,
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
            queue.items.push(item);
        }
        self.unpark();
        Ok(())
    }

    pub(crate) fn wake_remote(&self, task: TaskRef) {
        // If the runtime is gone the reference is simply released.
        drop(self.push(Remote::Wake(task)));
    }

    /// Wakes the `block_on` future from another thread: sets its flag `woken` and, unless the
    /// flag was set already (that wake is still to be seen, and the swap orders this one before
    /// the owner's clearing of it), queues a [`Remote::Root`].
    pub(crate) fn wake_root(&self, woken: &AtomicBool) {
        if woken.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if self.closed.load(Ordering::Relaxed) {
                return; // the runtime is gone: nobody to wake
            }
            if !queue.root_queued {
                queue.root_queued = true;
                queue.items.push(Remote::Root);
            }
        }
        self.unpark();
    }

    /// Tells the owner there is remote work and ends its wait if it is parked. Only after a
    /// push (see the rules).
    fn unpark(&self) {
        self.has_remote.swap(true, Ordering::Release);
        fence(Ordering::SeqCst);
        if self.parked.swap(false, Ordering::AcqRel) {
            self.notifier.notify();
        }
    }

    /// Owner: about to block. Returns false if remote work is already waiting.
    pub(crate) fn park(&self) -> bool {
        self.parked.swap(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.has_remote.load(Ordering::Acquire) {
            self.parked.swap(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Owner: the blocking wait is over.
    pub(crate) fn unparked(&self) {
        self.parked.swap(false, Ordering::Relaxed);
    }

    /// Owner: a plain load, so the common case (nothing remote) costs no read-modify-write and
    /// touches no buffer. A `true` is confirmed by [`RemoteQueue::take`].
    pub(crate) fn may_have_remote(&self) -> bool {
        self.has_remote.load(Ordering::Relaxed)
    }

    /// Owner: swaps the queued items into `out` (keeping both vectors' capacity).
    pub(crate) fn take(&self, out: &mut Vec<Remote>) -> bool {
        if !self.has_remote.swap(false, Ordering::AcqRel) {
            return false;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut queue.items, out);
        queue.root_queued = false;
        true
    }

    /// Owner, at shutdown: refuse further items and hand back what is queued.
    pub(crate) fn close(&self) -> Vec<Remote> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        self.closed.store(true, Ordering::Relaxed);
        std::mem::take(&mut queue.items)
    }

    /// Remote wakes and posts queued and not yet taken by the owner (a root wake's marker is
    /// not counted).
    pub(crate) fn depth(&self) -> usize {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.items.len() - usize::from(queue.root_queued)
    }

    /// The runtime's id and name.
    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Owner: makes `metrics` what other threads' `Handle::metrics` return.
    pub(crate) fn publish(&self, metrics: &RuntimeMetrics) {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone_from(metrics);
    }

    /// The metrics the owner published last, with the remote queue's depth now.
    pub(crate) fn published(&self) -> RuntimeMetrics {
        let mut m = self
            .published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        m.remote_queue_depth = self.depth();
        m
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

impl<N> fmt::Debug for RemoteQueue<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteQueue")
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}
