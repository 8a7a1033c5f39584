//! The per-runtime half: one self-pipe per runtime that listens, a dispatcher task that wakes
//! listeners, and per-signal generations.
//!
//! Rules:
//! - A `Driver` belongs to one runtime (found through a thread-local list keyed by a `Weak` of
//!   the runtime's core, so a dropped runtime's address can never be mistaken for a new one).
//!   Listeners hold it by `Rc`; the list holds it by `Weak`, so it is dropped with its last
//!   listener, which unregisters the pipe and aborts the dispatcher.
//! - `sync(signal)` folds the global counter into the runtime's *generation* of that signal: if
//!   the counter moved since the last look, the generation goes up by one (deliveries in between
//!   coalesce, as with every Unix signal) and all the signal's waiters are woken.
//! - A listener remembers the generation it last saw. A new listener starts from the current
//!   generation *without* syncing first (tokio's semantics): a delivery the runtime has not
//!   processed yet (it arrived while the runtime was busy) is seen by a listener created
//!   afterwards; one the runtime already processed is not. Once a signal was listened for on a
//!   runtime, the dispatcher keeps folding its deliveries in even while it has no listener, so
//!   deliveries made while the runtime runs idle are dropped, as tokio's driver drops them.
//! - When the driver goes (its last listener dropped), the global counters it had folded in
//!   are kept for its runtime in `SEEN`; a later driver of the same runtime starts from them, so
//!   a delivery made in between (a second Ctrl-C while the program was busy after its first
//!   `ctrl_c()` returned) is seen by the next listener, not lost.
//! - The dispatcher task owns the pipe's read end as an `io::Async`; each wake-up drains the
//!   pipe and syncs every signal that has listeners. Listeners also sync when polled, so a
//!   delivery is never missed even if the dispatcher has not run yet.

use super::registry::{self, Pipe, NSIG};
use crate::executor::join::JoinHandle;
use crate::io::Async;
use crate::runtime::core::Core;
use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::{Rc, Weak};
use std::task::Waker;

/// Per signal, the global counter a runtime's driver had folded in (`None`: never listened for).
type SeenCounts = Box<[Option<usize>]>;

thread_local! {
    /// The drivers of this thread's runtimes.
    static DRIVERS: RefCell<Vec<(Weak<Core>, Weak<Driver>)>> = const { RefCell::new(Vec::new()) };
    /// For runtimes whose driver is gone: the counters it had folded in, per signal (`None`:
    /// never listened for there).
    static SEEN: RefCell<Vec<(Weak<Core>, SeenCounts)>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Entry {
    /// Listeners of this signal on this runtime.
    listeners: Cell<usize>,
    /// Whether this signal was ever listened for on this runtime (its deliveries are folded
    /// in from then on, listeners or not).
    active: Cell<bool>,
    /// The global counter as of the last sync.
    seen_count: Cell<usize>,
    /// Bumped once per sync that found new deliveries.
    generation: Cell<u64>,
    /// One slot per listener (indexed by its key); `None` when not waiting.
    waiters: RefCell<Vec<Option<Waker>>>,
    free_keys: RefCell<Vec<usize>>,
}

pub(crate) struct Driver {
    core: Weak<Core>,
    entries: Box<[Entry]>,
    _pipe: Pipe,
    dispatcher: JoinHandle<()>,
}

impl Driver {
    /// The current runtime's driver, created (with its pipe and dispatcher task) if needed.
    pub(crate) fn current() -> io::Result<Rc<Driver>> {
        let core = crate::context::current().ok_or_else(|| {
            io::Error::other("sonic_rt::signal must be used inside a sonic runtime")
        })?;
        let found = DRIVERS.with(|list| {
            let mut list = list.borrow_mut();
            list.retain(|(_, d)| d.strong_count() > 0);
            list.iter()
                .find(|(c, _)| std::ptr::eq(c.as_ptr(), Rc::as_ptr(&core)))
                .and_then(|(_, d)| d.upgrade())
        });
        if let Some(driver) = found {
            return Ok(driver);
        }
        let (pipe, read) = Pipe::new()?;
        let read = Async::new(read)?;
        let seen = SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            seen.retain(|(c, _)| c.strong_count() > 0);
            let i = seen
                .iter()
                .position(|(c, _)| std::ptr::eq(c.as_ptr(), Rc::as_ptr(&core)))?;
            Some(seen.swap_remove(i).1)
        });
        let entries: Box<[Entry]> = (0..NSIG)
            .map(|i| {
                let e = Entry::default();
                if let Some(count) = seen.as_ref().and_then(|s| s[i]) {
                    e.active.set(true);
                    e.seen_count.set(count);
                }
                e
            })
            .collect();
        let driver = Rc::new_cyclic(|weak: &Weak<Driver>| {
            let weak = weak.clone();
            let dispatcher = crate::task::spawn(dispatch(read, weak));
            Driver {
                core: Rc::downgrade(&core),
                entries,
                _pipe: pipe,
                dispatcher,
            }
        });
        DRIVERS.with(|list| {
            list.borrow_mut()
                .push((Rc::downgrade(&core), Rc::downgrade(&driver)))
        });
        Ok(driver)
    }

    /// Adds a listener of `signum`; returns its key and the generation it starts from.
    pub(crate) fn add_listener(&self, signum: usize) -> (usize, u64) {
        let e = &self.entries[signum];
        if !e.active.get() {
            // First listener of this signal on this runtime: earlier deliveries are nobody's
            // business (with no handler installed they would have ended the process).
            e.active.set(true);
            e.seen_count.set(registry::count(signum));
        }
        e.listeners.set(e.listeners.get() + 1);
        // No sync: deliveries this runtime has not processed yet are for this listener too.
        let key = match e.free_keys.borrow_mut().pop() {
            Some(k) => k,
            None => {
                let mut w = e.waiters.borrow_mut();
                w.push(None);
                w.len() - 1
            }
        };
        (key, e.generation.get())
    }

    pub(crate) fn remove_listener(&self, signum: usize, key: usize) {
        let e = &self.entries[signum];
        let waker = e.waiters.borrow_mut()[key].take();
        e.free_keys.borrow_mut().push(key);
        e.listeners.set(e.listeners.get() - 1);
        drop(waker);
    }

    /// The generation of `signum` after folding in new deliveries.
    pub(crate) fn generation(&self, signum: usize) -> u64 {
        self.sync(signum);
        self.entries[signum].generation.get()
    }

    /// Stores the waker of listener `key`, to be woken at the next generation.
    pub(crate) fn register(&self, signum: usize, key: usize, waker: &Waker) {
        let mut w = self.entries[signum].waiters.borrow_mut();
        match &mut w[key] {
            Some(old) if old.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    fn sync(&self, signum: usize) {
        let e = &self.entries[signum];
        let now = registry::count(signum);
        if now == e.seen_count.get() {
            return;
        }
        e.seen_count.set(now);
        e.generation.set(e.generation.get() + 1);
        // Wake one at a time with the list released: a wake may re-enter (poll_recv on the
        // `block_on` future's waker path does not, but a custom waker could).
        let len = e.waiters.borrow().len();
        for i in 0..len {
            let waker = e.waiters.borrow_mut().get_mut(i).and_then(Option::take);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    fn sync_all(&self) {
        for (signum, e) in self.entries.iter().enumerate() {
            if e.active.get() {
                self.sync(signum);
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The dispatcher holds only a `Weak`; stop it so the read end is deregistered now.
        self.dispatcher.abort();
        // Keep what this runtime has processed, for its next driver (module rules).
        if self.core.strong_count() > 0 {
            let seen: SeenCounts = self
                .entries
                .iter()
                .map(|e| e.active.get().then(|| e.seen_count.get()))
                .collect();
            let core = self.core.clone();
            let _ = SEEN.try_with(|s| s.borrow_mut().push((core, seen)));
        }
    }
}

/// The dispatcher task: wait for a byte, drain, sync every listened-to signal.
async fn dispatch(read: Async<OwnedFd>, driver: Weak<Driver>) {
    let mut buf = [0u8; 64];
    loop {
        let res = read
            .read_with(|fd| {
                // SAFETY: reads into a live local buffer of the given length from an fd owned
                // by `read`.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await;
        match res {
            Ok(0) => return, // the write end is gone: the driver was dropped
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        match driver.upgrade() {
            Some(d) => d.sync_all(),
            None => return,
        }
    }
}
