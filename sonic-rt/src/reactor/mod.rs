//! The reactor: one OS poller, a slab of I/O sources, and the turn that turns kernel events into
//! task wake-ups.
//!
//! Rules:
//! - Every fd is registered once, edge-triggered, for read and write; nothing calls the kernel
//!   again until the source is dropped (no re-arming).
//! - An event's token is the source's slab key (index + generation). An event whose generation no
//!   longer matches (the source was dropped and its slot reused) is dropped, never delivered.
//! - A source caches readiness. The event sets bits; an I/O call that hits `EAGAIN` clears them.
//!   Both happen on the owner thread between reactor turns, so no event can slip in between a
//!   failed call and the clear: a later edge always produces a later event.
//! - Wakers are collected during the turn and woken after the reactor is released, so a waker
//!   may re-enter the runtime freely.

mod poller;
mod source;
mod waiters;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod kqueue;

pub(crate) use poller::{Events, Notifier, Poller};
pub(crate) use source::{Direction, Readiness, ScheduledIo};
pub(crate) use source::{ERROR, PRIORITY, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};

use crate::slab::{Key, Slab};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

pub(crate) struct Reactor {
    poller: Poller,
    events: Events,
    sources: Slab<Rc<ScheduledIo>>,
}

impl Reactor {
    pub(crate) fn new(event_capacity: usize) -> io::Result<(Reactor, Notifier)> {
        let (poller, notifier) = Poller::new()?;
        let reactor = Reactor {
            poller,
            events: Events::with_capacity(event_capacity),
            sources: Slab::new(),
        };
        Ok((reactor, notifier))
    }

    /// Registers `fd` (already non-blocking) for edge-triggered read and write readiness.
    pub(crate) fn register(&mut self, fd: RawFd) -> io::Result<Rc<ScheduledIo>> {
        let io = Rc::new(ScheduledIo::new());
        let key = self
            .sources
            .insert(io.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "too many I/O sources"))?;
        io.set_token(key.to_u64());
        if let Err(e) = self.poller.register(fd, key.to_u64()) {
            self.sources.remove(key);
            return Err(e);
        }
        Ok(io)
    }

    /// Removes `fd` from the poller and frees its slot. Pending wakers are woken so no task waits
    /// forever on a source that is gone.
    pub(crate) fn deregister(&mut self, fd: RawFd, io: &ScheduledIo) -> io::Result<()> {
        let res = self.poller.deregister(fd);
        self.release(io);
        res
    }

    /// Frees the slot of `io` without telling the poller (the fd is already closed or gone).
    pub(crate) fn release(&mut self, io: &ScheduledIo) {
        self.sources.remove(Key::from_u64(io.token()));
        io.shutdown();
    }

    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Waits for events (`None` blocks, `Some(ZERO)` only polls), sets readiness and moves the
    /// wakers to wake into `wake`. Returns the number of events delivered to live sources, and
    /// whether the cross-thread notifier fired.
    pub(crate) fn turn(
        &mut self,
        timeout: Option<Duration>,
        wake: &mut Vec<Waker>,
    ) -> io::Result<(usize, bool)> {
        match self.poller.wait(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok((0, false)),
            Err(e) => return Err(e),
        }
        let mut delivered = 0;
        let mut notified = false;
        for event in self.events.iter() {
            if event.token == poller::NOTIFY_TOKEN {
                notified = true;
                continue;
            }
            if event.token == poller::TIMER_TOKEN {
                continue;
            }
            // A stale token (slot freed and maybe reused) misses here and is dropped.
            if let Some(io) = self.sources.get(Key::from_u64(event.token)) {
                io.set_readiness(&event, wake);
                delivered += 1;
            }
        }
        if notified {
            self.poller.drain_notifications();
        }
        Ok((delivered, notified))
    }

    #[cfg(test)]
    pub(crate) fn poller(&self) -> &Poller {
        &self.poller
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn stale_event_for_reused_slot_is_dropped() {
        let (mut reactor, _notifier) = Reactor::new(64).unwrap();
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let old = reactor.register(a.as_raw_fd()).unwrap();
        let old_token = old.token();
        let mut wake = Vec::new();
        reactor.turn(Some(Duration::ZERO), &mut wake).unwrap();

        // Free the slot while the fd stays registered in the kernel (as if it were closed with a
        // duplicate still open), then let a new source reuse the slot.
        reactor.release(&old);
        let (b, _b_peer) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let new = reactor.register(b.as_raw_fd()).unwrap();
        assert_eq!(
            Key::from_u64(new.token()).index,
            Key::from_u64(old_token).index
        );
        reactor.turn(Some(Duration::ZERO), &mut wake).unwrap();
        new.clear_readiness(Direction::Read);

        // The old fd becomes readable: the kernel reports the old token, which must not reach
        // the new source.
        use std::io::Write;
        a_peer.write_all(b"x").unwrap();
        let (delivered, _) = reactor
            .turn(Some(Duration::from_millis(100)), &mut wake)
            .unwrap();
        assert_eq!(delivered, 0, "stale event delivered");
        assert!(!new.is_ready(Direction::Read));
        reactor.poller().deregister(a.as_raw_fd()).unwrap();
    }
}
