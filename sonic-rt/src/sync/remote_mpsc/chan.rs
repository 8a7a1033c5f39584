//! The state shared by the handles of one channel, bounded or not.
//!
//! Rules:
//! - Values go through the lock-free [`Queue`]; the receiver is woken through [`RxWake`] only
//!   when it waits, so a sender to a busy receiver makes no read-modify-write beyond its claim
//!   in the queue (and, bounded, its slot), and no syscall.
//! - `senders` counts the live `Sender`s / `UnboundedSender`s. A sender's pushes come before
//!   its decrement, and every write to the count is a read-modify-write, so a receiver that
//!   reads 0 (acquire) sees every value ever pushed: the queue is then final. The last sender
//!   wakes the receiver.
//! - Bounded channels count free slots in `sem` (`permits << 2 | QUEUED | CLOSED`). A slot is
//!   taken (lock-free compare-and-swap) before a value is pushed, and given back when the
//!   receiver pops the value or a permit is dropped unused. `QUEUED` is set, only under the
//!   waiters' mutex, when a sender queues to wait, in the same compare-and-swap that takes every
//!   free slot (a sender that wants several, `reserve_many`, keeps the free ones and waits for
//!   the rest); it is cleared under the mutex when the queue of waiting senders empties. So
//!   `permits > 0` only while nobody waits: a release with nobody waiting is one
//!   compare-and-swap, a release that finds `QUEUED` hands its slots to the oldest waiters
//!   under the mutex (a waiter that needs more than is given keeps them and stays first), and a
//!   newcomer never jumps the queue (it sees no free slot while anyone waits).
//! - A waiter owns the slots handed to it. If it fails (the receiver closed) or is dropped, it
//!   gives them back, which wakes a closed receiver waiting for every slot, as in tokio.
//! - Closing: a bounded channel sets `CLOSED` in `sem` (no slot is handed out after it, and
//!   permits already handed out may still send: the receiver ends only when every slot is
//!   back); an unbounded one closes the queue's tail (its position is the end of the stream).
//!   Either way every waiting sender and every `closed()` waiter is woken, and a waiter that
//!   checks under the mutex after the close sees it.
//! - Wakers are woken after the mutex is released (a [`WakeBatch`]), never under it.
//! - Receiving a value spends one unit of the task's cooperative budget, as in tokio.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::primitives::{
    lock, requeued_self, spin_wait, Arc, AtomicUsize, Mutex, Ordering, Padded,
};
use super::queue::Queue;
use super::rx_wake::{Registered, RxWake};
use super::waiters::{Done, Key, Outcome, WaitQueue, WakeBatch};
use crate::executor::budget;
use crate::sync::mpsc::error::{SendError, TryRecvError};

const CLOSED: usize = 1;
const QUEUED: usize = 2;
const PERMIT_SHIFT: usize = 2;
const ONE: usize = 1 << PERMIT_SHIFT;

/// The largest capacity of a bounded channel (tokio's limit too).
pub(super) const MAX_CAPACITY: usize = usize::MAX >> 3;

/// Why a slot could not be taken at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TryAcquireError {
    Full,
    Closed,
}

/// The receiver is closed or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Closed;

struct Waiters {
    /// Bounded senders waiting for a slot.
    send: WaitQueue,
    /// `closed()` futures.
    closed: WaitQueue,
}

pub(super) struct Chan<T> {
    queue: Queue<T>,
    rx_wake: Padded<RxWake>,
    sem: Padded<AtomicUsize>,
    /// The capacity of a bounded channel; 0 for an unbounded one.
    bound: usize,
    senders: AtomicUsize,
    weak_senders: AtomicUsize,
    waiters: Mutex<Waiters>,
}

// Unwind safe, as tokio's channel: user code (a value's `Drop`, a waker) runs only between the
// channel's steps, never inside one, so a panic that unwinds through a handle leaves the queue,
// the slot count and the waiter lists consistent. The interior mutability that would otherwise
// make the handles `!RefUnwindSafe` (the queue's cells, the receiver's waker slot) is the
// synchronisation itself. tokio's own tests assert these impls for every handle.
impl<T> std::panic::RefUnwindSafe for Chan<T> {}
impl<T> std::panic::UnwindSafe for Chan<T> {}

impl<T> Chan<T> {
    /// A channel with one sender, and its one receiver; `bound` is the capacity of a bounded
    /// channel (at least 1).
    pub(super) fn with_receiver(bound: Option<usize>) -> (Arc<Chan<T>>, RxChan<T>) {
        let chan = Arc::new(Chan::new(bound));
        (Arc::clone(&chan), RxChan(chan))
    }

    fn new(bound: Option<usize>) -> Chan<T> {
        let bound = bound.unwrap_or(0);
        Chan {
            queue: Queue::new(),
            rx_wake: Padded(RxWake::new()),
            sem: Padded(AtomicUsize::new(bound << PERMIT_SHIFT)),
            bound,
            senders: AtomicUsize::new(1),
            weak_senders: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters {
                send: WaitQueue::new(),
                closed: WaitQueue::new(),
            }),
        }
    }

    fn is_bounded(&self) -> bool {
        self.bound != 0
    }

    // ---- senders ----

    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a sender unless all are gone (upgrading a weak sender).
    pub(super) fn try_add_sender(&self) -> bool {
        let mut count = self.senders.load(Ordering::Relaxed);
        loop {
            if count == 0 {
                return false;
            }
            match self.senders.compare_exchange_weak(
                count,
                count + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => count = now,
            }
        }
    }

    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.rx_wake.wake();
        }
    }

    pub(super) fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Relaxed)
    }

    pub(super) fn add_weak_sender(&self) {
        self.weak_senders.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_weak_sender(&self) {
        self.weak_senders.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn weak_sender_count(&self) -> usize {
        self.weak_senders.load(Ordering::Relaxed)
    }

    /// True once the receiver was closed or dropped: sends fail.
    pub(super) fn is_rx_closed(&self) -> bool {
        if self.is_bounded() {
            self.sem.load(Ordering::Acquire) & CLOSED != 0
        } else {
            self.queue.is_closed()
        }
    }

    // ---- sending ----

    /// Pushes a value of an unbounded channel.
    pub(super) fn send_unbounded(&self, value: T) -> Result<(), SendError<T>> {
        self.queue.push(value).map_err(SendError)?;
        self.rx_wake.wake();
        Ok(())
    }

    /// Pushes a value for which a slot was taken (bounded channels never close their queue).
    pub(super) fn send_with_permit(&self, value: T) {
        if self.queue.push(value).is_err() {
            unreachable!("a bounded channel's queue is never closed");
        }
        self.rx_wake.wake();
    }

    /// Free slots of a bounded channel.
    pub(super) fn permits(&self) -> usize {
        self.sem.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// The capacity of a bounded channel.
    pub(super) fn bound(&self) -> usize {
        self.bound
    }

    /// Takes `n` slots now, or says why not. Never jumps the queue: while senders wait, no slot
    /// is free. Taking 0 slots succeeds unless the receiver is closed.
    pub(super) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.sem.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state >> PERMIT_SHIFT < n {
                return Err(TryAcquireError::Full);
            }
            match self.sem.compare_exchange_weak(
                state,
                state - n * ONE,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }
    }

    /// Waits FIFO for `n` slots (`n` at most the capacity, or it would wait forever).
    pub(super) fn acquire(&self, n: usize) -> Acquire<'_, T> {
        debug_assert!(n <= self.bound, "acquiring more slots than the capacity");
        Acquire {
            chan: self,
            n,
            state: AcquireState::Idle,
        }
    }

    /// Takes `n` slots under the mutex, or takes the free ones and queues `waker` to wait for
    /// the rest.
    fn acquire_or_queue(&self, n: usize, waker: &Waker) -> Result<Option<Key>, Closed> {
        let waker = waker.clone();
        let mut waiters = lock(&self.waiters);
        let mut state = self.sem.load(Ordering::Acquire);
        let taken = loop {
            if state & CLOSED != 0 {
                drop(waiters);
                drop(waker);
                return Err(Closed);
            }
            let free = state >> PERMIT_SHIFT;
            // Enough freed since the lock-free attempt (nobody waits while slots are free), or
            // every free slot taken and `QUEUED` set, in one step (the module rules).
            let (next, taken) = if free >= n {
                (state - n * ONE, n)
            } else {
                (QUEUED, free)
            };
            if next == state {
                break 0; // Already queued behind others, with no slot free.
            }
            match self
                .sem
                .compare_exchange_weak(state, next, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) if taken == n => {
                    drop(waiters);
                    drop(waker);
                    return Ok(None);
                }
                Ok(_) => break taken,
                Err(now) => state = now,
            }
        };
        Ok(Some(waiters.send.push(waker, n - taken)))
    }

    /// Gives back `n` slots taken by senders (a permit dropped unused, an acquire that gave
    /// up); wakes the receiver if it is closed, since it waits for every slot to come back.
    pub(super) fn release(&self, n: usize) {
        if self.release_slots(n) {
            self.rx_wake.wake();
        }
    }

    /// Gives back `n` slots: to the oldest waiting senders, or as free slots. Returns whether the
    /// channel is closed.
    fn release_slots(&self, n: usize) -> bool {
        if n == 0 || !self.is_bounded() {
            return false;
        }
        let mut state = self.sem.load(Ordering::Relaxed);
        loop {
            if state & QUEUED != 0 {
                return self.release_to_waiters(n);
            }
            match self.sem.compare_exchange_weak(
                state,
                state + n * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return state & CLOSED != 0,
                Err(now) => state = now,
            }
        }
    }

    #[cold]
    fn release_to_waiters(&self, mut n: usize) -> bool {
        let mut batch = WakeBatch::new();
        loop {
            let closed = {
                let mut waiters = lock(&self.waiters);
                while !batch.is_full() {
                    match waiters.send.grant_front(&mut n) {
                        Some(waker) => batch.push(waker),
                        None => break,
                    }
                }
                if waiters.send.is_empty() {
                    // Nobody waits any more: the rest become free slots, in one step with
                    // clearing `QUEUED` (the invariant of the module doc).
                    let left = std::mem::take(&mut n);
                    let mut state = self.sem.load(Ordering::Relaxed);
                    loop {
                        match self.sem.compare_exchange_weak(
                            state,
                            (state & !QUEUED) + left * ONE,
                            Ordering::Release,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => break state & CLOSED != 0,
                            Err(now) => state = now,
                        }
                    }
                } else {
                    self.sem.load(Ordering::Relaxed) & CLOSED != 0
                }
            };
            batch.wake_all();
            if n == 0 {
                return closed;
            }
        }
    }

    /// Completes when the receiver is closed or dropped.
    pub(super) fn closed(&self) -> ClosedFuture<'_, T> {
        ClosedFuture {
            chan: self,
            key: None,
        }
    }

    // ---- receiving: only the receiver calls these (`# Safety` of each) ----

    /// The receiver's side of the channel.
    ///
    /// # Safety
    /// The caller is the channel's one receiver, and nothing pops at the same time (the
    /// `Receiver` passes `&mut self` for what pops and `&self` only for what reads).
    unsafe fn rx(&self) -> Rx<'_, T> {
        Rx(self)
    }

    /// # Safety
    /// The caller is the channel's one receiver, with exclusive access to it.
    unsafe fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: caller's contract.
        let rx = unsafe { self.rx() };
        loop {
            if rx.head_ready() {
                // A receiver that always finds a value would otherwise never yield.
                ready!(budget::poll_proceed(cx));
                let value = rx.pop();
                debug_assert!(value.is_some());
                self.release_slots(1);
                return Poll::Ready(value);
            }
            if rx.is_finished() {
                return Poll::Ready(None);
            }
            if rx.wait(cx) {
                return Poll::Pending;
            }
        }
    }

    /// # Safety
    /// As [`Chan::poll_recv`].
    unsafe fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        // SAFETY: caller's contract.
        let rx = unsafe { self.rx() };
        loop {
            if rx.head_ready() {
                ready!(budget::poll_proceed(cx));
                let mut taken = 0;
                while taken < limit {
                    match rx.pop() {
                        Some(value) => buffer.push(value),
                        None => break,
                    }
                    taken += 1;
                }
                self.release_slots(taken);
                return Poll::Ready(taken);
            }
            if rx.is_finished() {
                return Poll::Ready(0);
            }
            if rx.wait(cx) {
                return Poll::Pending;
            }
        }
    }

    /// # Safety
    /// As [`Chan::poll_recv`].
    unsafe fn try_recv(&self) -> Result<T, TryRecvError> {
        // SAFETY: caller's contract.
        let rx = unsafe { self.rx() };
        let mut round = 0;
        loop {
            if let Some(value) = rx.pop() {
                self.release_slots(1);
                return Ok(value);
            }
            if rx.is_finished() {
                return Err(TryRecvError::Disconnected);
            }
            if rx.len() == 0 {
                return Err(TryRecvError::Empty);
            }
            // A sender claimed the next position and is writing it: wait for it (a few
            // instructions), as tokio's `try_recv` does, rather than report a false `Empty`.
            spin_wait(&mut round);
        }
    }

    /// The number of values buffered (and being written).
    ///
    /// # Safety
    /// The caller is the channel's receiver (shared access is enough).
    unsafe fn len(&self) -> usize {
        // SAFETY: caller's contract.
        unsafe { self.rx() }.len()
    }

    /// The receiver's view: closed by `close`, or every sender gone.
    pub(super) fn is_closed_for_rx(&self) -> bool {
        self.is_rx_closed() || self.senders.load(Ordering::Acquire) == 0
    }

    /// Stops new sends and fails every waiting sender; buffered values (and, bounded, values of
    /// permits already handed out) can still be received.
    pub(super) fn close(&self) {
        let was_open = if self.is_bounded() {
            self.sem.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED == 0
        } else {
            self.queue.close()
        };
        if !was_open {
            return;
        }
        let mut batch = WakeBatch::new();
        loop {
            let more = {
                let mut waiters = lock(&self.waiters);
                while !batch.is_full() {
                    let waker = match waiters.send.pop_front(Outcome::Closed) {
                        Some(waker) => waker,
                        None => match waiters.closed.pop_front(Outcome::Closed) {
                            Some(waker) => waker,
                            None => break,
                        },
                    };
                    batch.push(waker);
                }
                if waiters.send.is_empty() {
                    self.sem.fetch_and(!QUEUED, Ordering::AcqRel);
                }
                !(waiters.send.is_empty() && waiters.closed.is_empty())
            };
            batch.wake_all();
            if !more {
                return;
            }
        }
    }

    /// The receiver is dropped: closes the channel, forgets its waker and drops what is
    /// buffered (values of permits sent later are dropped with the channel). Calling it again,
    /// or receiving after it, does no harm (the channel is closed and empty).
    ///
    /// # Safety
    /// As [`Chan::poll_recv`].
    unsafe fn drop_rx(&self) {
        self.close();
        // SAFETY: caller's contract.
        let rx = unsafe { self.rx() };
        rx.clear_waker();
        // Each value drops after the queue has moved on: its destructor may use this channel's
        // senders.
        while let Some(value) = rx.pop() {
            self.release_slots(1);
            drop(value);
        }
    }
}

/// The receiver's hold on its channel: the receiver-only operations of [`Chan`] as safe methods.
/// There is one per channel (only [`Chan::with_receiver`] makes one: the field is private to
/// this module), and what pops takes `&mut self`, so each operation's `# Safety` (the one
/// receiver, exclusively) holds by construction.
pub(super) struct RxChan<T>(Arc<Chan<T>>);

impl<T> RxChan<T> {
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: the one receiver (type doc), exclusively (`&mut self`).
        unsafe { self.0.poll_recv(cx) }
    }

    pub(super) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        // SAFETY: as above.
        unsafe { self.0.poll_recv_many(cx, buffer, limit) }
    }

    pub(super) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // SAFETY: as above.
        unsafe { self.0.try_recv() }
    }

    pub(super) fn len(&self) -> usize {
        // SAFETY: the one receiver, shared: `len` only reads the consumer's position, and
        // nothing pops meanwhile (that takes `&mut self`).
        unsafe { self.0.len() }
    }

    /// Closes the channel and drops what is buffered (the receiver's `Drop`).
    pub(super) fn drop_rx(&mut self) {
        // SAFETY: the one receiver (type doc), exclusively (`&mut self`).
        unsafe { self.0.drop_rx() }
    }
}

impl<T> std::ops::Deref for RxChan<T> {
    type Target = Chan<T>;

    fn deref(&self) -> &Chan<T> {
        &self.0
    }
}

impl<T> fmt::Debug for RxChan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// The receiver's side of a [`Chan`]: made only by [`Chan::rx`], whose caller promises to be
/// the one receiver, so the consumer-only operations are safe through it.
struct Rx<'a, T>(&'a Chan<T>);

impl<T> Rx<'_, T> {
    fn head_ready(&self) -> bool {
        // SAFETY: an `Rx` exists only for the receiver (`Chan::rx`).
        unsafe { self.0.queue.head_ready() }
    }

    fn pop(&self) -> Option<T> {
        // SAFETY: as above.
        unsafe { self.0.queue.pop() }
    }

    fn len(&self) -> usize {
        // SAFETY: as above.
        unsafe { self.0.queue.len() }
    }

    fn clear_waker(&self) {
        // SAFETY: as above.
        unsafe { self.0.rx_wake.clear() }
    }

    /// True when no value is buffered and none can come any more. Meaningful after the head
    /// was found not ready.
    fn is_finished(&self) -> bool {
        let chan = self.0;
        if chan.senders.load(Ordering::Acquire) == 0 {
            // Every push is visible now (module rules): the queue is final.
            return !self.head_ready();
        }
        if chan.is_bounded() {
            // Closed and every slot back: every value sent was received.
            let state = chan.sem.load(Ordering::Acquire);
            state & CLOSED != 0 && state >> PERMIT_SHIFT == chan.bound
        } else {
            // SAFETY: as above.
            unsafe { chan.queue.is_drained() }
        }
    }

    /// Publishes the receiver's waker. Returns true if the receiver should return `Pending`,
    /// false if an event came meanwhile (look again).
    fn wait(&self, cx: &mut Context<'_>) -> bool {
        // SAFETY: as above (the receiver alone registers).
        match unsafe { self.0.rx_wake.register(cx.waker()) } {
            Registered::Busy => {
                cx.waker().wake_by_ref();
                requeued_self();
                true
            }
            Registered::Waiting if self.head_ready() || self.is_finished() => {
                // SAFETY: as above.
                unsafe { self.0.rx_wake.retract() };
                false
            }
            Registered::Waiting => true,
        }
    }
}

#[cfg(test)]
impl<T> Chan<T> {
    pub(super) fn send_waiter_slots(&self) -> usize {
        lock(&self.waiters).send.slot_count()
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Chan");
        s.field("senders", &self.sender_count())
            .field("rx_closed", &self.is_rx_closed());
        if self.is_bounded() {
            s.field("capacity", &self.bound)
                .field("permits", &self.permits());
        }
        s.field("rx", &*self.rx_wake).finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum AcquireState {
    Idle,
    Waiting(Key),
    Done,
}

/// Waits for `n` free slots of a bounded channel, FIFO among waiting senders.
///
/// Cancellation safe: dropped while queued, it leaves the queue and gives back the slots it had
/// been handed so far; dropped after all its slots were handed to it but before it saw them, it
/// hands them on.
#[must_use = "futures do nothing unless awaited"]
pub(super) struct Acquire<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
    state: AcquireState,
}

impl<T> Future for Acquire<'_, T> {
    type Output = Result<(), Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let this = self.get_mut();
        let (chan, n) = (this.chan, this.n);
        match std::mem::replace(&mut this.state, AcquireState::Done) {
            AcquireState::Idle => match chan.try_acquire(n) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => Poll::Ready(Err(Closed)),
                Err(TryAcquireError::Full) => match chan.acquire_or_queue(n, cx.waker()) {
                    Ok(None) => Poll::Ready(Ok(())),
                    Ok(Some(key)) => {
                        this.state = AcquireState::Waiting(key);
                        Poll::Pending
                    }
                    Err(Closed) => Poll::Ready(Err(Closed)),
                },
            },
            AcquireState::Waiting(key) => {
                let polled = lock(&chan.waiters).send.poll(&key, cx.waker());
                match polled {
                    Ok(Done {
                        outcome: Outcome::Granted,
                        ..
                    }) if !chan.is_rx_closed() => Poll::Ready(Ok(())),
                    Ok(Done { unfilled, .. }) => {
                        // The receiver closed while it waited, or just after its slots were
                        // handed to it (a reservation never succeeds on a closed channel): the
                        // slots it holds go back, which wakes a receiver waiting for them.
                        chan.release(n - unfilled);
                        Poll::Ready(Err(Closed))
                    }
                    Err(stale) => {
                        this.state = AcquireState::Waiting(key);
                        drop(stale);
                        Poll::Pending
                    }
                }
            }
            AcquireState::Done => panic!("`Acquire` polled after completion"),
        }
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        let AcquireState::Waiting(key) = std::mem::replace(&mut self.state, AcquireState::Done)
        else {
            return;
        };
        let cancelled = {
            let mut waiters = lock(&self.chan.waiters);
            let cancelled = waiters.send.cancel(key);
            if waiters.send.is_empty() {
                self.chan.sem.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            cancelled
        };
        drop(cancelled.waker);
        // The slots it holds (all of them if it was chosen but gone before it looked) go to the
        // next waiters, or back to a closed receiver waiting for them.
        self.chan.release(self.n - cancelled.unfilled);
    }
}

impl<T> fmt::Debug for Acquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("n", &self.n)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Completes when the receiver is closed or dropped (`Sender::closed`).
#[must_use = "futures do nothing unless awaited"]
pub(super) struct ClosedFuture<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
}

impl<T> Future for ClosedFuture<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let chan = this.chan;
        match this.key.take() {
            None => {
                if chan.is_rx_closed() {
                    return Poll::Ready(());
                }
                let waker = cx.waker().clone();
                let mut waiters = lock(&chan.waiters);
                // Checked again under the mutex: a close either happened before (seen here)
                // or will find this waiter queued.
                if chan.is_rx_closed() {
                    drop(waiters);
                    drop(waker);
                    return Poll::Ready(());
                }
                this.key = Some(waiters.closed.push(waker, 0));
                Poll::Pending
            }
            Some(key) => {
                let polled = lock(&chan.waiters).closed.poll(&key, cx.waker());
                match polled {
                    Ok(_) => Poll::Ready(()),
                    Err(stale) => {
                        this.key = Some(key);
                        drop(stale);
                        Poll::Pending
                    }
                }
            }
        }
    }
}

impl<T> Drop for ClosedFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let cancelled = lock(&self.chan.waiters).closed.cancel(key);
            drop(cancelled.waker);
        }
    }
}

impl<T> fmt::Debug for ClosedFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedFuture")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
