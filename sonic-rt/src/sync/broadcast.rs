//! A multi-producer, multi-consumer channel in which every receiver gets every value: the local
//! counterpart of `tokio::sync::broadcast`, with its names and its lag rules.
//!
//! The channel keeps the last `capacity` values (rounded up to a power of two, as tokio does) in
//! a ring. Each receiver reads at its own position; a value is dropped once every receiver that
//! existed when it was sent has received it (each receiver gets a clone, as in tokio). A sender never waits: when the ring is full it overwrites the oldest value, and a
//! receiver that had not read it yet gets [`RecvError::Lagged`]`(n)` with the number of values it
//! missed, then continues from the oldest value still kept.
//!
//! Rules the implementation keeps:
//! - Slot `i` holds the value sent at position `pos` with `pos % capacity == i`, the number of
//!   receivers yet to read it (`remaining`), and the position itself, so a reader tells "my value"
//!   (`pos == next`), "not sent yet" (`pos + capacity == next`) and "overwritten" (anything else)
//!   apart, exactly as tokio's does.
//! - A receiver created by `subscribe` / `resubscribe` starts at the next position to be sent;
//!   it was not counted in earlier values' `remaining`. A dropped receiver reads (and so
//!   releases) every value it was counted in.
//! - Values are cloned and dropped only after the `RefCell` borrow of their slot ended (a clone
//!   reads under a shared borrow: a `Clone` impl that sends into the same channel panics).
//! - Receivers waiting for a value queue in a slab-backed wait list; a send wakes them all. A
//!   `Recv` future dropped while it waits leaves the list (it was handed nothing to pass on).
//! - `recv` spends one unit of cooperative budget whenever it completes (a value, a lag report
//!   or the end), as tokio's does; when the budget is spent it yields before reading anything.
//! - Nothing allocates after `channel`: the ring is allocated once and the wait list reuses its
//!   slots.
//!
//! # Examples
//!
//! ```
//! use sonic_rt::sync::broadcast;
//!
//! sonic_rt::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     let first = sonic_rt::spawn(async move {
//!         (rx1.recv().await.unwrap(), rx1.recv().await.unwrap())
//!     });
//!     let second = sonic_rt::spawn(async move {
//!         (rx2.recv().await.unwrap(), rx2.recv().await.unwrap())
//!     });
//!     tx.send(10).unwrap();
//!     tx.send(20).unwrap();
//!     assert_eq!(first.await.unwrap(), (10, 20));
//!     assert_eq!(second.await.unwrap(), (10, 20));
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::notify::Notify;
use super::wait_list::{WaitList, WaiterKey};
use crate::executor::budget;

pub mod error {
    //! The errors of the broadcast channel.

    use std::error::Error;
    use std::fmt;

    /// The error of [`Sender::send`](super::Sender::send): no receiver exists. Holds the value.
    #[derive(Debug)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T: fmt::Debug> Error for SendError<T> {}

    /// The error of [`Receiver::recv`](super::Receiver::recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and this receiver has read every value.
        Closed,
        /// The receiver fell behind: this many values were overwritten before it read them. The
        /// next `recv` returns the oldest value still in the channel.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl Error for RecvError {}

    /// The error of [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// No value to read now; one may still come.
        Empty,
        /// Every sender is gone and this receiver has read every value.
        Closed,
        /// The receiver fell behind by this many values; see [`RecvError::Lagged`].
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

/// The most receivers one channel may have (tokio's limit).
const MAX_RECEIVERS: usize = usize::MAX >> 2;

struct Slot<T> {
    /// The position of the value sent into this slot last.
    pos: Cell<u64>,
    /// Receivers that have yet to read it.
    remaining: Cell<usize>,
    value: RefCell<Option<T>>,
}

struct Shared<T> {
    ring: Box<[Slot<T>]>,
    mask: u64,
    /// The position the next value is sent at.
    tail: Cell<u64>,
    receivers: Cell<usize>,
    /// No value can come (every sender gone) or nobody can read (every receiver gone).
    closed: Cell<bool>,
    senders: Cell<usize>,
    weak_senders: Cell<usize>,
    waiters: WaitList<()>,
    /// Woken when the last receiver leaves, for `Sender::closed`.
    receivers_gone: Notify,
}

/// Creates a broadcast channel that keeps the last `capacity` values (rounded up to a power of
/// two), and its first receiver.
///
/// # Panics
///
/// Panics if `capacity` is 0 or greater than `usize::MAX / 2`.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let sender = Sender::new(capacity);
    let receiver = sender.subscribe();
    (sender, receiver)
}

/// Sends values to every receiver of a broadcast channel; `Clone` for more senders. The channel
/// closes for the receivers when the last sender is dropped.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Creates a channel with no receiver yet (make them with [`subscribe`](Sender::subscribe));
    /// see [`channel`].
    ///
    /// # Panics
    ///
    /// As [`channel`].
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let capacity = capacity.next_power_of_two();
        let ring = (0..capacity)
            .map(|i| Slot {
                // "Not sent yet" for the first round: pos + capacity == i.
                pos: Cell::new((i as u64).wrapping_sub(capacity as u64)),
                remaining: Cell::new(0),
                value: RefCell::new(None),
            })
            .collect();
        Sender {
            shared: Rc::new(Shared {
                ring,
                mask: capacity as u64 - 1,
                tail: Cell::new(0),
                receivers: Cell::new(0),
                closed: Cell::new(true),
                senders: Cell::new(1),
                weak_senders: Cell::new(0),
                waiters: WaitList::new(),
                receivers_gone: Notify::new(),
            }),
        }
    }

    /// Sends `value` to every current receiver and returns how many there are.
    ///
    /// Never waits: if the ring is full, the oldest value is overwritten (receivers that had not
    /// read it will see [`RecvError::Lagged`]). Fails, giving the value back, if no receiver
    /// exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_rt::sync::broadcast::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// for n in 0..3 {
    ///     tx.send(n).unwrap();
    /// }
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// drop(rx);
    /// assert!(tx.send(3).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let shared = &*self.shared;
        let receivers = shared.receivers.get();
        if receivers == 0 {
            return Err(SendError(value));
        }
        let pos = shared.tail.get();
        shared.tail.set(pos.wrapping_add(1));
        let slot = &shared.ring[(pos & shared.mask) as usize];
        slot.pos.set(pos);
        slot.remaining.set(receivers);
        let overwritten = slot.value.replace(Some(value));
        if !shared.waiters.is_empty() {
            shared.waiters.wake_all(());
        }
        // Dropped last: its destructor may use the channel.
        drop(overwritten);
        Ok(receivers)
    }

    /// Creates a receiver that gets every value sent from now on. It reopens a channel whose
    /// receivers were all gone.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::new(Rc::clone(&self.shared))
    }

    /// Makes a [`WeakSender`]: a handle that does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared
            .weak_senders
            .set(self.shared.weak_senders.get() + 1);
        WeakSender {
            shared: Rc::clone(&self.shared),
        }
    }

    /// The number of values that some receiver has not read yet (at most the capacity).
    pub fn len(&self) -> usize {
        let shared = &*self.shared;
        let capacity = shared.ring.len();
        let oldest = (shared.tail.get() & shared.mask) as usize;
        // Values read by everyone form a prefix of the ring from the oldest; find its end.
        let (mut low, mut high) = (0, capacity);
        while low < high {
            let mid = low + (high - low) / 2;
            if shared.ring[(oldest + mid) & (capacity - 1)].remaining.get() == 0 {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        capacity - low
    }

    /// Returns true if every receiver has read every value.
    pub fn is_empty(&self) -> bool {
        let shared = &*self.shared;
        let newest = shared.tail.get().wrapping_sub(1) & shared.mask;
        shared.ring[newest as usize].remaining.get() == 0
    }

    /// The number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.get()
    }

    /// Returns true if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.receivers_gone.notified();
            if self.shared.receivers.get() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// The number of [`Sender`]s.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.get()
    }

    /// The number of [`WeakSender`]s.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.get()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.set(self.shared.senders.get() + 1);
        Sender {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let left = self.shared.senders.get() - 1;
        self.shared.senders.set(left);
        if left == 0 {
            self.shared.closed.set(true);
            self.shared.waiters.wake_all(());
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast::Sender")
    }
}

/// A sender that does not keep the channel open: once every [`Sender`] is gone,
/// [`upgrade`](WeakSender::upgrade) fails.
pub struct WeakSender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// Returns a [`Sender`] if at least one is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let senders = self.shared.senders.get();
        if senders == 0 {
            return None;
        }
        self.shared.senders.set(senders + 1);
        Some(Sender {
            shared: Rc::clone(&self.shared),
        })
    }

    /// The number of [`Sender`]s.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.get()
    }

    /// The number of [`WeakSender`]s.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.get()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.shared
            .weak_senders
            .set(self.shared.weak_senders.get() + 1);
        WeakSender {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared
            .weak_senders
            .set(self.shared.weak_senders.get() - 1);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast::WeakSender")
    }
}

/// Receives every value sent into a broadcast channel after it was created.
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The position of the next value to read.
    next: u64,
}

/// Where a receiver stands, looked at without changing anything.
enum Peek {
    /// Its next value is in the ring.
    Ready,
    /// Nothing to read yet.
    Empty,
    /// Nothing to read, and nothing will come.
    Closed,
    /// Its next value was overwritten; the oldest kept one is at this position.
    Lagged(u64),
}

impl<T> Receiver<T> {
    fn new(shared: Rc<Shared<T>>) -> Receiver<T> {
        let receivers = shared.receivers.get();
        assert!(receivers != MAX_RECEIVERS, "max receivers");
        if receivers == 0 {
            // The first receiver (again): the channel can carry values.
            shared.closed.set(false);
        }
        shared.receivers.set(receivers + 1);
        let next = shared.tail.get();
        Receiver { shared, next }
    }

    fn slot(&self) -> &Slot<T> {
        &self.shared.ring[(self.next & self.shared.mask) as usize]
    }

    fn peek(&self) -> Peek {
        let slot_pos = self.slot().pos.get();
        if slot_pos == self.next {
            return Peek::Ready;
        }
        let capacity = self.shared.ring.len() as u64;
        if slot_pos.wrapping_add(capacity) == self.next {
            return if self.shared.closed.get() {
                Peek::Closed
            } else {
                Peek::Empty
            };
        }
        Peek::Lagged(self.shared.tail.get().wrapping_sub(capacity))
    }

    /// Reads this receiver's next value (which `peek` found ready): a clone, as tokio gives
    /// every receiver. The value in the ring is dropped once its last reader has cloned it. The
    /// position moves on first, so a panicking `Clone` skips the value rather than looping on it.
    fn take(&mut self) -> Option<T>
    where
        T: Clone,
    {
        let slot = &self.shared.ring[(self.next & self.shared.mask) as usize];
        self.next = self.next.wrapping_add(1);
        let remaining = slot.remaining.get() - 1;
        slot.remaining.set(remaining);
        // Drops the value if this was its last reader, also when `clone` panics.
        let release = ReleaseIfLast {
            slot,
            last: remaining == 0,
        };
        let value = slot.value.borrow().clone();
        drop(release);
        value
    }

    /// Gives up this receiver's share of its next value (which `peek` found ready).
    fn skip(&mut self) {
        let slot = &self.shared.ring[(self.next & self.shared.mask) as usize];
        self.next = self.next.wrapping_add(1);
        let remaining = slot.remaining.get() - 1;
        slot.remaining.set(remaining);
        drop(ReleaseIfLast {
            slot,
            last: remaining == 0,
        });
    }

    /// Reads the next value or reports why not, after `peek` said what is there.
    fn read(&mut self, peek: Peek) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        match peek {
            Peek::Ready => self.take().ok_or(TryRecvError::Closed),
            Peek::Empty => Err(TryRecvError::Empty),
            Peek::Closed => Err(TryRecvError::Closed),
            Peek::Lagged(oldest) => {
                let missed = oldest.wrapping_sub(self.next);
                self.next = oldest;
                Err(TryRecvError::Lagged(missed))
            }
        }
    }

    /// The number of values sent that this receiver has not read, including values it lagged
    /// behind (so it can exceed the capacity).
    pub fn len(&self) -> usize {
        self.shared.tail.get().wrapping_sub(self.next) as usize
    }

    /// Returns true if this receiver has read every value sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns true if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }

    /// The number of [`Sender`]s.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.senders.get()
    }

    /// The number of [`WeakSender`]s.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.weak_senders.get()
    }

    /// Returns true if every [`Sender`] is gone (values may still be waiting to be read).
    pub fn is_closed(&self) -> bool {
        self.shared.senders.get() == 0
    }
}

impl<T: Clone> Receiver<T> {
    /// Creates a new receiver of the same channel that starts at the next value sent (not at
    /// this receiver's position).
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::new(Rc::clone(&self.shared))
    }

    /// Receives the next value, waiting for one.
    ///
    /// Fails with [`RecvError::Lagged`]`(n)` if `n` values were overwritten before this receiver
    /// read them (the next call returns the oldest value kept), and with [`RecvError::Closed`]
    /// once every sender is gone and every value was read. Cancellation safe: no value is lost.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Receives the next value if there is one now; fails like [`recv`](Receiver::recv), or with
    /// [`TryRecvError::Empty`].
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let peek = self.peek();
        self.read(peek)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let left = shared.receivers.get() - 1;
        shared.receivers.set(left);
        if left == 0 {
            shared.closed.set(true);
            shared.receivers_gone.notify_waiters();
        }
        // Release this receiver's share of every value it was counted in.
        let tail = shared.tail.get();
        while self.next != tail {
            match self.peek() {
                Peek::Ready => self.skip(),
                Peek::Lagged(oldest) => self.next = oldest,
                Peek::Empty | Peek::Closed => break,
            }
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast::Receiver")
    }
}

/// Drops the value of `slot` when dropped, if `last`: its last reader is done with it.
struct ReleaseIfLast<'a, T> {
    slot: &'a Slot<T>,
    last: bool,
}

impl<T> Drop for ReleaseIfLast<'_, T> {
    fn drop(&mut self) {
        if self.last {
            let value = self.slot.value.borrow_mut().take();
            // Dropped after the borrow ended: its destructor may use the channel.
            drop(value);
        }
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// Its place in the wait list while it waits.
    key: Option<WaiterKey>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self.get_mut();
        let waiters = &this.receiver.shared.waiters;
        let peek = this.receiver.peek();
        if let Peek::Empty = peek {
            this.key = Some(match this.key.take() {
                None => waiters.park(cx.waker()),
                // Still queued (updates the waker), or woken for a value since taken by
                // nobody else (values are never taken from a receiver): queue again.
                Some(key) => match waiters.poll(key, cx.waker()) {
                    Err(key) => key,
                    Ok(_) => waiters.park(cx.waker()),
                },
            });
            return Poll::Pending;
        }
        if budget::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(key) = this.key.take() {
            waiters.cancel(key);
        }
        Poll::Ready(this.receiver.read(peek).map_err(|error| match error {
            TryRecvError::Lagged(n) => RecvError::Lagged(n),
            TryRecvError::Closed | TryRecvError::Empty => RecvError::Closed,
        }))
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receiver.shared.waiters.cancel(key);
        }
    }
}

#[cfg(test)]
mod tests;
