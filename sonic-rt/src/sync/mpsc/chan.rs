//! The state shared by all handles of one mpsc channel, bounded or not.
//!
//! Rules:
//! - `senders` counts the live `Sender`s / `UnboundedSender`s (weak senders and permits are not
//!   senders). When it drops to zero the receiver is woken; it drains what is buffered and then
//!   sees the end of the stream.
//! - Bounded channels count free slots in `permits`. Slots are taken before values are pushed
//!   (by `try_acquire` or an `Acquire` future, one or several at once) and given back when the
//!   receiver pops a value, or when a permit is dropped unused. Invariant: `permits > 0` only
//!   while no sender is queued in `send_waiters`, because `release` hands slots to the oldest
//!   queued senders before it counts them as free. That makes waiting senders FIFO and keeps a
//!   newcomer from jumping the queue. A sender that wants several slots takes the free ones when
//!   it queues and waits at the head for the rest; senders behind it wait too.
//! - Closing the receiver (`close` or drop) fails every queued sender and every later acquire,
//!   including an `Acquire` that was handed its slots but had not yet seen them: it gives them
//!   back and fails, as tokio's does. Permits already handed out may still send after `close`
//!   (the receiver drains them); the receiver sees the end only when the buffer is empty and
//!   every permit is back. After the receiver is dropped, values are dropped instead of buffered.
//! - Buffered values and wakers are dropped only after the `RefCell` borrow of the queue ended.
//! - Receiving a ready value spends one unit of the task's cooperative budget; when it is spent,
//!   the receiver yields (its task is rescheduled) before taking the value, so a flood of values
//!   cannot starve other tasks or timers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::error::{SendError, TryRecvError};
use crate::executor::budget;
use crate::sync::wait_list::{WaitList, WaiterKey};
use crate::sync::waker_slot::WakerSlot;
use crate::sync::Notify;

/// Bounded channels allocate their whole buffer up front, up to this many values; beyond it the
/// buffer grows on demand (and then stays grown, so the steady state still allocates nothing).
const PREALLOCATE_MAX: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RxState {
    Open,
    /// `Receiver::close` was called; the receiver can still drain.
    Closed,
    Dropped,
}

/// What a queued sender is told when it is woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grant {
    Permit,
    Closed,
}

/// Why a slot could not be taken at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TryAcquireError {
    Full,
    Closed,
}

/// The receiver is closed or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Closed;

pub(super) struct Chan<T> {
    queue: RefCell<VecDeque<T>>,
    rx_waker: WakerSlot,
    rx_state: Cell<RxState>,
    senders: Cell<usize>,
    /// Live `WeakSender`s / `WeakUnboundedSender`s (for `weak_count` only).
    weak_senders: Cell<usize>,
    /// Woken (`notify_waiters`) when the receiver closes, for `Sender::closed`.
    closed: Notify,
    /// `Some(capacity)` for a bounded channel.
    bound: Option<usize>,
    permits: Cell<usize>,
    send_waiters: WaitList<Grant>,
}

impl<T> Chan<T> {
    /// A channel with one sender; `bound` is the capacity of a bounded channel.
    pub(super) fn new(bound: Option<usize>) -> Chan<T> {
        let queue = match bound {
            Some(capacity) => VecDeque::with_capacity(capacity.min(PREALLOCATE_MAX)),
            None => VecDeque::new(),
        };
        Chan {
            queue: RefCell::new(queue),
            rx_waker: WakerSlot::new(),
            rx_state: Cell::new(RxState::Open),
            senders: Cell::new(1),
            weak_senders: Cell::new(0),
            closed: Notify::new(),
            bound,
            permits: Cell::new(bound.unwrap_or(0)),
            send_waiters: WaitList::new(),
        }
    }

    // ---- senders ----

    pub(super) fn add_sender(&self) {
        self.senders.set(self.senders.get() + 1);
    }

    /// Adds a sender unless all are gone (for upgrading a weak sender).
    pub(super) fn try_add_sender(&self) -> bool {
        let alive = self.senders.get() > 0;
        if alive {
            self.add_sender();
        }
        alive
    }

    pub(super) fn sender_count(&self) -> usize {
        self.senders.get()
    }

    pub(super) fn add_weak_sender(&self) {
        self.weak_senders.set(self.weak_senders.get() + 1);
    }

    pub(super) fn drop_weak_sender(&self) {
        self.weak_senders.set(self.weak_senders.get() - 1);
    }

    pub(super) fn weak_sender_count(&self) -> usize {
        self.weak_senders.get()
    }

    pub(super) fn drop_sender(&self) {
        let left = self.senders.get() - 1;
        self.senders.set(left);
        if left == 0 {
            self.rx_waker.wake();
        }
    }

    /// True once the receiver was closed or dropped: sends fail.
    pub(super) fn is_rx_closed(&self) -> bool {
        self.rx_state.get() != RxState::Open
    }

    /// Completes when the receiver is closed or dropped.
    pub(super) async fn closed(&self) {
        let notified = self.closed.notified();
        if !self.is_rx_closed() {
            notified.await;
        }
    }

    // ---- sending ----

    /// Pushes a value without a permit (unbounded channels).
    pub(super) fn send_unbounded(&self, value: T) -> Result<(), SendError<T>> {
        if self.is_rx_closed() {
            return Err(SendError(value));
        }
        self.push(value);
        Ok(())
    }

    /// Pushes a value for which a slot was acquired. The value is dropped if the receiver is gone.
    pub(super) fn send_with_permit(&self, value: T) {
        if self.rx_state.get() == RxState::Dropped {
            self.release(1);
            drop(value);
        } else {
            self.push(value);
        }
    }

    fn push(&self, value: T) {
        self.queue.borrow_mut().push_back(value);
        self.rx_waker.wake();
    }

    /// Free slots of a bounded channel.
    pub(super) fn permits(&self) -> usize {
        self.permits.get()
    }

    /// Capacity of a bounded channel.
    pub(super) fn bound(&self) -> usize {
        self.bound.expect("capacity of an unbounded channel")
    }

    /// Takes `n` slots now, or says why not. Never jumps the queue: while senders wait,
    /// `permits` is zero. Taking 0 slots succeeds unless the receiver is closed.
    pub(super) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireError> {
        if self.is_rx_closed() {
            return Err(TryAcquireError::Closed);
        }
        let free = self.permits.get();
        if free < n {
            return Err(TryAcquireError::Full);
        }
        self.permits.set(free - n);
        Ok(())
    }

    /// Waits FIFO for `n` slots (`n` at most the capacity, or it would wait forever).
    pub(super) fn acquire(&self, n: usize) -> Acquire<'_, T> {
        debug_assert!(n <= self.bound(), "acquiring more slots than the capacity");
        Acquire {
            chan: self,
            n,
            state: AcquireState::Idle,
        }
    }

    /// Gives back `n` slots: they go to the oldest queued senders, or become free.
    pub(super) fn release(&self, n: usize) {
        if self.bound.is_none() || n == 0 {
            return;
        }
        let left = self.send_waiters.assign(n, Grant::Permit);
        self.permits.set(self.permits.get() + left);
        if self.is_rx_closed() {
            // A closed receiver waits for every outstanding permit before it sees the end.
            self.rx_waker.wake();
        }
    }

    // ---- receiving ----

    /// True when no value can arrive any more. Meaningful only with the queue empty.
    fn is_finished(&self) -> bool {
        let permits_all_back = match self.bound {
            Some(bound) => self.permits.get() == bound,
            None => true,
        };
        self.senders.get() == 0 || (self.is_rx_closed() && permits_all_back)
    }

    fn pop(&self) -> Option<T> {
        let value = self.queue.borrow_mut().pop_front();
        if value.is_some() {
            self.release(1);
        }
        value
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.len() > 0 {
            // A receiver that always finds a value would otherwise never yield.
            ready!(budget::poll_proceed(cx));
            return Poll::Ready(self.pop());
        }
        if self.is_finished() {
            return Poll::Ready(None);
        }
        self.rx_waker.register(cx.waker());
        Poll::Pending
    }

    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        if self.len() > 0 {
            ready!(budget::poll_proceed(cx));
        }
        let taken = {
            let mut queue = self.queue.borrow_mut();
            let taken = queue.len().min(limit);
            buffer.extend(queue.drain(..taken));
            taken
        };
        if taken > 0 {
            self.release(taken);
            return Poll::Ready(taken);
        }
        if self.is_finished() {
            return Poll::Ready(0);
        }
        self.rx_waker.register(cx.waker());
        Poll::Pending
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.pop() {
            Some(value) => Ok(value),
            None if self.is_finished() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.borrow().len()
    }

    /// The receiver's view: closed by `close`, or every sender gone.
    pub(super) fn is_closed_for_rx(&self) -> bool {
        self.is_rx_closed() || self.senders.get() == 0
    }

    /// Stops new sends; buffered values and outstanding permits can still be received.
    pub(super) fn close(&self) {
        if self.rx_state.get() != RxState::Open {
            return;
        }
        self.rx_state.set(RxState::Closed);
        self.send_waiters.wake_all(Grant::Closed);
        self.closed.notify_waiters();
    }

    /// Closes the channel for good and drops what is buffered.
    pub(super) fn drop_rx(&self) {
        self.close();
        self.rx_state.set(RxState::Dropped);
        self.rx_waker.clear();
        let buffered = mem::take(&mut *self.queue.borrow_mut());
        self.release(buffered.len());
        // The values drop here, after the borrow ended: their destructors may use this channel.
        drop(buffered);
    }
}

#[cfg(test)]
impl<T> Chan<T> {
    pub(super) fn send_waiters_slot_count(&self) -> usize {
        self.send_waiters.slot_count()
    }

    pub(super) fn queue_capacity(&self) -> usize {
        self.queue.borrow().capacity()
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Chan");
        s.field("rx_state", &self.rx_state.get())
            .field("senders", &self.senders.get());
        if let Ok(queue) = self.queue.try_borrow() {
            s.field("len", &queue.len());
        }
        if let Some(bound) = self.bound {
            s.field("capacity", &bound)
                .field("permits", &self.permits.get());
        }
        s.finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum AcquireState {
    Idle,
    Waiting(WaiterKey),
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
        let chan = this.chan;
        let n = this.n;
        // (all slots granted, slots this future holds now)
        let (granted, held) = match mem::replace(&mut this.state, AcquireState::Done) {
            AcquireState::Idle => match chan.try_acquire(n) {
                Ok(()) => (true, n),
                Err(TryAcquireError::Closed) => (false, 0),
                Err(TryAcquireError::Full) => {
                    // Take the free slots now (nobody is queued, or there would be none) and
                    // wait at the back for the rest.
                    let taken = chan.permits.replace(0);
                    let key = chan.send_waiters.park_for(cx.waker(), n - taken);
                    this.state = AcquireState::Waiting(key);
                    return Poll::Pending;
                }
            },
            AcquireState::Waiting(key) => match chan.send_waiters.poll(key, cx.waker()) {
                Ok(woken) => (woken.outcome == Some(Grant::Permit), n - woken.unfilled),
                Err(key) => {
                    this.state = AcquireState::Waiting(key);
                    return Poll::Pending;
                }
            },
            AcquireState::Done => panic!("`Acquire` polled after completion"),
        };
        if !granted || chan.is_rx_closed() {
            // Failed, or handed its slots just before the receiver was closed or dropped: a
            // reservation never succeeds on a closed channel. Give back what it holds (this
            // also wakes a closed receiver waiting for every slot to come back).
            chan.release(held);
            return Poll::Ready(Err(Closed));
        }
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        if let AcquireState::Waiting(key) = mem::replace(&mut self.state, AcquireState::Done) {
            let woken = self.chan.send_waiters.cancel(key);
            self.chan.release(self.n - woken.unfilled);
        }
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
