//! The per-fd state the reactor shares with the I/O object that owns the fd.
//!
//! Rules: only the owner thread touches a `ScheduledIo` (it is `!Sync` by construction). The
//! reactor sets readiness bits from events; the I/O object clears them when a call would block.

use super::poller::Event;
use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;
const SHUTDOWN: u8 = 1 << 5;

/// Which half of a source a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// Bits that mean "an I/O call in this direction will not block".
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }

    /// Bits cleared when a call in this direction would block.
    fn clear_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ScheduledIo {
    token: Cell<u64>,
    readiness: Cell<u8>,
    reader: RefCell<Option<Waker>>,
    writer: RefCell<Option<Waker>>,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        // Optimistic: a new source is assumed ready, so the first call goes straight to the
        // kernel; edge-triggered registration also reports the initial state.
        ScheduledIo {
            token: Cell::new(0),
            readiness: Cell::new(READABLE | WRITABLE),
            reader: RefCell::new(None),
            writer: RefCell::new(None),
        }
    }

    pub(crate) fn token(&self) -> u64 {
        self.token.get()
    }

    pub(crate) fn set_token(&self, token: u64) {
        self.token.set(token);
    }

    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness.get() & dir.ready_mask() != 0
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.readiness.get() & SHUTDOWN != 0
    }

    /// Ready now, or stores the waker (cloning only when it changed) and returns `Pending`.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        let slot = match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        };
        let mut slot = slot.borrow_mut();
        match &*slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub(crate) fn clear_readiness(&self, dir: Direction) {
        self.readiness.set(self.readiness.get() & !dir.clear_mask());
    }

    pub(crate) fn set_readiness(&self, event: &Event, wake: &mut Vec<Waker>) {
        let mut bits = 0;
        if event.readable {
            bits |= READABLE;
        }
        if event.writable {
            bits |= WRITABLE;
        }
        if event.read_closed {
            bits |= READ_CLOSED;
        }
        if event.write_closed {
            bits |= WRITE_CLOSED;
        }
        if event.error {
            bits |= ERROR;
        }
        self.readiness.set(self.readiness.get() | bits);
        if bits & Direction::Read.ready_mask() != 0 {
            wake.extend(self.reader.borrow_mut().take());
        }
        if bits & Direction::Write.ready_mask() != 0 {
            wake.extend(self.writer.borrow_mut().take());
        }
    }

    /// The source is gone: wake both waiters so they observe it instead of hanging.
    pub(crate) fn shutdown(&self) {
        self.readiness.set(self.readiness.get() | SHUTDOWN);
        let r = self.reader.borrow_mut().take();
        let w = self.writer.borrow_mut().take();
        if let Some(r) = r {
            r.wake();
        }
        if let Some(w) = w {
            w.wake();
        }
    }
}
