//! The per-fd state the reactor shares with the I/O object that owns the fd.
//!
//! Rules:
//! - Only the owner thread touches a `ScheduledIo` (it is `!Sync` by construction).
//! - The reactor sets readiness bits from events; the I/O object clears them when a call would
//!   block.
//! - Each direction has two kinds of waiter, as in tokio. The `poll_*` path (`AsyncRead`,
//!   `AsyncWrite`, `poll_read_with`...) has one waker slot, and each poll replaces it: only the
//!   most recent poller is woken, as tokio documents for `poll_read_ready`. Async fns
//!   (`readable`, `read_with`, `accept`, `recv_from`...) park a [`Readiness`] in the direction's
//!   [`WaiterList`], so every one of them is woken. The list's nodes live in the futures: one
//!   waiter or many, parking allocates nothing.
//! - An event wakes every waiter of each direction it reports. Those that then find nothing
//!   (another task took it) see `WouldBlock`, clear the readiness and park again.
//! - Every event advances the source's tick (tokio's `Tick`). Readiness observed at one tick and
//!   cleared later (an `AsyncFd` guard may be held across an await) is cleared only if no event
//!   came in between (`clear_bits_at`): such an event may report data that arrived after the
//!   observer drained the fd, and edge-triggered registration would not report it again.

use super::poller::Event;
use super::waiters::{Waiter, WaiterList};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

// The readiness bits; `io::Ready` uses the same values (all but `SHUTDOWN`).
pub(crate) const READABLE: u8 = 1 << 0;
pub(crate) const WRITABLE: u8 = 1 << 1;
pub(crate) const READ_CLOSED: u8 = 1 << 2;
pub(crate) const WRITE_CLOSED: u8 = 1 << 3;
pub(crate) const ERROR: u8 = 1 << 4;
const SHUTDOWN: u8 = 1 << 5;
/// Urgent data (`EPOLLPRI`); reported with `READABLE` too, as mio does.
pub(crate) const PRIORITY: u8 = 1 << 6;

/// Which half of a source a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// Bits that mean "an I/O call in this direction will not block". A pending error counts
    /// for reads only, as in tokio (its reads wait for `READABLE | ERROR`, its writes for
    /// `WRITABLE`): a UDP socket's ICMP error is picked up by the next receive. A failed or
    /// reset TCP connection also reports a hang-up, which is `WRITE_CLOSED`.
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | SHUTDOWN,
        }
    }

    /// Bits cleared when a call in this direction would block. For reads that includes
    /// `ERROR`, as in tokio: a receive that would block has already returned (and so cleared)
    /// any pending error, and an `ERROR` left set would keep the direction "ready" forever, so
    /// a waiting receive would call the kernel in a loop instead of waiting.
    fn clear_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE,
        }
    }
}

/// The waiters of one direction.
#[derive(Debug)]
struct Waiters {
    /// The `poll_*` path's waker: the most recent poller's.
    slot: RefCell<Option<Waker>>,
    /// Every async fn waiting now.
    list: WaiterList,
}

impl Waiters {
    const fn new() -> Waiters {
        Waiters {
            slot: RefCell::new(None),
            list: WaiterList::new(),
        }
    }

    /// Moves every waker into `wake`, leaving no waiter.
    fn take_all(&self, wake: &mut Vec<Waker>) {
        wake.extend(self.slot.borrow_mut().take());
        self.list.drain_into(wake);
    }

    /// Wakes every waiter now, one at a time (nothing borrowed while a waker runs).
    fn wake_all(&self) {
        let slot = self.slot.borrow_mut().take();
        if let Some(w) = slot {
            w.wake();
        }
        while let Some(w) = self.list.pop_front() {
            if let Some(w) = w {
                w.wake();
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct ScheduledIo {
    token: Cell<u64>,
    /// What events reported (and no operation has disproved since): what the readiness API
    /// (`readable`, `ready`, `poll_read_ready`, `try_io`) sees, as in tokio.
    readiness: Cell<u8>,
    /// `READABLE`/`WRITABLE` assumed without an event: a new source's. Operations (reads,
    /// writes, `async_io`) try the kernel at once while a direction's bit is here, which saves
    /// the wait for the registration's first event; the readiness API ignores these bits, so
    /// it reports nothing before an event says so, as tokio's does. The first `WouldBlock` in
    /// a direction clears its bit for good.
    assumed: Cell<u8>,
    /// Counts events (wrapping); see the module's rules.
    tick: Cell<u32>,
    reader: Waiters,
    writer: Waiters,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        // Edge-triggered registration reports the initial state as the first event.
        ScheduledIo {
            token: Cell::new(0),
            readiness: Cell::new(0),
            assumed: Cell::new(READABLE | WRITABLE),
            tick: Cell::new(0),
            reader: Waiters::new(),
            writer: Waiters::new(),
        }
    }

    /// Whether an operation on `mask`'s side(s) should try the kernel before waiting because
    /// nothing has disproved the assumption that a new source is ready (see `assumed`).
    #[inline]
    pub(crate) fn assumed_ready_for(&self, mask: u8) -> bool {
        self.assumed.get() & mask != 0
    }

    /// An operation tried on the strength of an assumed bit in `mask` did not block: the bit
    /// becomes ordinary readiness, as it would be in tokio after the wait for the first event
    /// (which our operation skipped), so `try_*` and `ready` see it until a `WouldBlock`.
    #[inline]
    pub(crate) fn confirm_assumed(&self, mask: u8) {
        let bits = self.assumed.get() & mask;
        if bits != 0 {
            self.assumed.set(self.assumed.get() & !bits);
            self.readiness.set(self.readiness.get() | bits);
        }
    }

    fn waiters(&self, dir: Direction) -> &Waiters {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    pub(crate) fn token(&self) -> u64 {
        self.token.get()
    }

    pub(crate) fn set_token(&self, token: u64) {
        self.token.set(token);
    }

    #[cfg(test)]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness.get() & dir.ready_mask() != 0
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.readiness.get() & SHUTDOWN != 0
    }

    /// The cached readiness bits (those above; `SHUTDOWN` included).
    pub(crate) fn readiness(&self) -> u8 {
        self.readiness.get()
    }

    /// Whether any of `mask` is set, or the source is shut down (every wait ends then).
    pub(crate) fn is_ready_for(&self, mask: u8) -> bool {
        self.readiness.get() & (mask | SHUTDOWN) != 0
    }

    /// Clears the bits of `mask` that an operation that would block disproves: the closed bits
    /// and `SHUTDOWN` stay (they never go back), as in tokio's `clear_readiness`.
    pub(crate) fn clear_bits(&self, mask: u8) {
        let clearable = mask & (READABLE | WRITABLE | ERROR | PRIORITY);
        self.readiness.set(self.readiness.get() & !clearable);
        self.assumed.set(self.assumed.get() & !clearable);
    }

    /// The tick of the latest event (see the module's rules).
    pub(crate) fn tick(&self) -> u32 {
        self.tick.get()
    }

    /// [`clear_bits`](ScheduledIo::clear_bits), if no event came since `tick`: readiness seen
    /// then and disproved later must not erase what a newer event reported.
    pub(crate) fn clear_bits_at(&self, tick: u32, mask: u8) {
        if self.tick.get() == tick {
            self.clear_bits(mask);
        }
    }

    /// The `poll_*` path: ready now, or stores the waker in the direction's one slot (cloning
    /// only when it changed, replacing any other poller's) and returns `Pending`.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_ready_for(dir, dir.ready_mask(), cx)
    }

    /// [`poll_ready`](ScheduledIo::poll_ready), ready only on the bits of `mask` (or at
    /// shutdown): `AsyncFd`'s `poll_read_ready` is tokio's, which a pending error alone does
    /// not satisfy. `mask` must be bits whose events wake `dir`'s waiters.
    #[inline]
    pub(crate) fn poll_ready_for(
        &self,
        dir: Direction,
        mask: u8,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if self.is_ready_for(mask) {
            return Poll::Ready(());
        }
        let mut slot = self.waiters(dir).slot.borrow_mut();
        match &*slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub(crate) fn clear_readiness(&self, dir: Direction) {
        self.readiness.set(self.readiness.get() & !dir.clear_mask());
        self.assumed.set(self.assumed.get() & !dir.clear_mask());
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
        if event.priority {
            bits |= PRIORITY;
        }
        self.readiness.set(self.readiness.get() | bits);
        self.tick.set(self.tick.get().wrapping_add(1));
        if bits & (Direction::Read.ready_mask() | PRIORITY) != 0 {
            self.reader.take_all(wake);
        }
        if bits & Direction::Write.ready_mask() != 0 {
            self.writer.take_all(wake);
        }
    }

    /// The source is gone: wake every waiter so they observe it instead of hanging.
    pub(crate) fn shutdown(&self) {
        self.assumed.set(0);
        self.readiness.set(self.readiness.get() | SHUTDOWN);
        self.reader.wake_all();
        self.writer.wake_all();
    }
}

/// One async fn's wait for one direction of a source: a node of the direction's waiter list,
/// stored in the waiting future. Poll it pinned; dropping it leaves the list.
pub(crate) struct Readiness<'a> {
    io: &'a ScheduledIo,
    dir: Direction,
    /// The bits that end this wait (besides `SHUTDOWN`).
    mask: u8,
    node: Waiter,
}

impl<'a> Readiness<'a> {
    #[inline]
    pub(crate) fn new(io: &'a ScheduledIo, dir: Direction) -> Readiness<'a> {
        Readiness::with_mask(io, dir, dir.ready_mask())
    }

    /// A wait in `dir`'s list that ends only when one of `mask` is set (or at shutdown): for
    /// `Async::ready`, whose interest may be narrower than the direction (`ERROR` alone, say).
    /// `mask` must be bits whose events wake `dir`'s list (`READABLE`, `READ_CLOSED`, `ERROR`
    /// and `PRIORITY` wake the reader list; `WRITABLE` and `WRITE_CLOSED` the writer list), or
    /// the wait would miss its event.
    #[inline]
    pub(crate) fn with_mask(io: &'a ScheduledIo, dir: Direction, mask: u8) -> Readiness<'a> {
        Readiness {
            io,
            dir,
            mask,
            node: Waiter::new(),
        }
    }

    /// Ready now (one of the mask's bits set, or the source shut down), or parks this waiter at
    /// the back of the list (or, already parked, updates its waker) and returns `Pending`. An
    /// event unlinks it; a later poll links it again if the readiness has been cleared
    /// meanwhile (or the event was for bits outside the mask).
    #[inline]
    pub(crate) fn poll_ready(self: Pin<&Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_ref();
        let list = &this.io.waiters(this.dir).list;
        if this.io.is_ready_for(this.mask) {
            // Normally unlinked already (the event that set the bits took it out).
            // SAFETY: the node is live; if linked, then in the list of its own source and
            // direction (the only one it is ever pushed on).
            unsafe { list.remove(&this.node) };
            return Poll::Ready(());
        }
        this.node.set_waker(cx.waker());
        if !this.node.is_linked() {
            // SAFETY: `self` is pinned, so the node stays where it is until `Readiness` drops,
            // and that drop removes it from this list. It is unlinked (checked above) and live.
            unsafe { list.push_back(NonNull::from(&this.node)) };
        }
        Poll::Pending
    }
}

impl Drop for Readiness<'_> {
    #[inline]
    fn drop(&mut self) {
        // A cancelled waiter leaves the list; the node's waker is dropped after this.
        // SAFETY: the node is live; if linked, then in this source's list for `dir`.
        unsafe { self.io.waiters(self.dir).list.remove(&self.node) };
    }
}

impl fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("dir", &self.dir)
            .field("node", &self.node)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{poll_fn, Future};
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// As `Async::readable` holds it: pinned in an async fn's state.
    async fn readable(io: &ScheduledIo) {
        let waiter = pin!(Readiness::new(io, Direction::Read));
        poll_fn(|cx| waiter.as_ref().poll_ready(cx)).await
    }

    #[test]
    fn an_event_wakes_every_live_waiter_and_none_cancelled() {
        let io = ScheduledIo::new();
        io.clear_readiness(Direction::Read);
        let counts: Vec<_> = (0..4)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let mut futs: Vec<_> = (0..3).map(|_| Box::pin(readable(&io))).collect();
        for (f, w) in futs.iter_mut().zip(&wakers) {
            assert!(f.as_mut().poll(&mut Context::from_waker(w)).is_pending());
        }
        // A poll-path waiter too, and one waiter cancelled.
        assert!(io
            .poll_ready(Direction::Read, &mut Context::from_waker(&wakers[3]))
            .is_pending());
        drop(futs.remove(1));
        assert_eq!(
            Arc::strong_count(&counts[1]),
            2,
            "the cancelled waiter kept its waker"
        );

        // A write event wakes nobody waiting to read.
        let mut wake = Vec::new();
        let writable = Event {
            writable: true,
            ..Event::default()
        };
        io.set_readiness(&writable, &mut wake);
        assert!(wake.is_empty());

        let readable = Event {
            readable: true,
            ..Event::default()
        };
        io.set_readiness(&readable, &mut wake);
        assert_eq!(wake.len(), 3);
        for w in wake.drain(..) {
            w.wake();
        }
        let woken: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::Relaxed)).collect();
        assert_eq!(woken, [1, 0, 1, 1]);
        for mut f in futs {
            assert!(f
                .as_mut()
                .poll(&mut Context::from_waker(&wakers[0]))
                .is_ready());
        }
    }

    #[test]
    fn error_readiness_is_for_reads_and_a_read_that_would_block_clears_it() {
        let io = ScheduledIo::new();
        io.clear_readiness(Direction::Read);
        io.clear_readiness(Direction::Write);
        let mut wake = Vec::new();
        let error = Event {
            error: true,
            ..Event::default()
        };
        io.set_readiness(&error, &mut wake);
        assert!(io.is_ready(Direction::Read), "a receive picks the error up");
        assert!(
            !io.is_ready(Direction::Write),
            "writes wait for room, as in tokio"
        );
        // A writer's would-block leaves the error for the reader.
        io.clear_readiness(Direction::Write);
        assert!(io.is_ready(Direction::Read));
        // A receive that would block has consumed the error: left set, it would make every
        // later receive run again at once, forever.
        io.clear_readiness(Direction::Read);
        assert!(!io.is_ready(Direction::Read));
    }

    #[test]
    fn shutdown_wakes_every_waiter() {
        let io = ScheduledIo::new();
        io.clear_readiness(Direction::Write);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut a = Box::pin(async {
            let waiter = pin!(Readiness::new(&io, Direction::Write));
            poll_fn(|cx| waiter.as_ref().poll_ready(cx)).await
        });
        let mut b = Box::pin(readable(&io));
        io.clear_readiness(Direction::Read);
        let mut cx = Context::from_waker(&waker);
        assert!(a.as_mut().poll(&mut cx).is_pending());
        assert!(b.as_mut().poll(&mut cx).is_pending());
        io.shutdown();
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(b.as_mut().poll(&mut cx).is_ready());
    }
}
