//! Unit tests driven by hand (no runtime), with std threads where threads matter; they run
//! under Miri too (`cargo +nightly miri test -p sonic-rt --lib remote_mpsc`).

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::error::{SendError, TryRecvError, TrySendError};
use super::queue::BLOCK_CAP;
use super::*;
use crate::sync::test_util::{poll_once, WakeCounter};

/// Fewer values under Miri, which is slow.
const MANY: usize = if cfg!(miri) { 70 } else { 2000 };

fn recv_now<T>(rx: &mut UnboundedReceiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

fn brecv_now<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

/// Counts its drops in a shared atomic (values must be `Send` to cross threads).
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn values_keep_their_order_across_block_boundaries() {
    let (tx, mut rx) = unbounded_channel();
    let n = BLOCK_CAP * 3 + 5;
    for i in 0..n {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), n);
    for i in 0..n {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Interleaved: the head catches up with the tail inside and at the end of blocks.
    for i in 0..n {
        tx.send(i).unwrap();
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert!(rx.is_empty());
}

#[test]
fn a_waiting_receiver_is_woken_once_and_a_busy_one_never() {
    let (count, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    assert_eq!(recv_now(&mut rx, &waker), Poll::Pending);
    tx.send(1).unwrap();
    assert_eq!(count.count(), 1);
    // Not waiting any more (it was woken and has not polled since): no second wake.
    tx.send(2).unwrap();
    assert_eq!(count.count(), 1);
    assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(Some(1)));
    assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(Some(2)));
    // Busy: it finds values whenever it looks, and senders never wake it.
    for i in 0..10 {
        tx.send(i).unwrap();
        assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(Some(i)));
    }
    assert_eq!(count.count(), 1);
    assert_eq!(recv_now(&mut rx, &waker), Poll::Pending);
    tx.send(3).unwrap();
    assert_eq!(count.count(), 2);
}

#[test]
fn the_newest_waker_is_the_one_woken() {
    let (first, first_waker) = WakeCounter::new();
    let (second, second_waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    assert_eq!(recv_now(&mut rx, &first_waker), Poll::Pending);
    assert_eq!(recv_now(&mut rx, &second_waker), Poll::Pending);
    tx.send(()).unwrap();
    assert_eq!((first.count(), second.count()), (0, 1));
}

#[test]
fn the_last_sender_gone_wakes_the_receiver_and_ends_the_stream() {
    let (count, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel::<u8>();
    let tx2 = tx.clone();
    assert_eq!(recv_now(&mut rx, &waker), Poll::Pending);
    tx.send(7).unwrap();
    drop(tx);
    assert_eq!(count.count(), 1);
    assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(Some(7)));
    assert_eq!(recv_now(&mut rx, &waker), Poll::Pending);
    assert!(!rx.is_closed());
    drop(tx2);
    assert_eq!(count.count(), 2);
    assert!(rx.is_closed());
    assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn bounded_capacity_is_taken_by_sends_and_given_back_by_receives() {
    let (tx, mut rx) = channel(2);
    assert_eq!((tx.capacity(), tx.max_capacity()), (2, 2));
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert_eq!((tx.capacity(), rx.len()), (0, 2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.capacity(), 1);
    let permit = tx.try_reserve().unwrap();
    assert!(tx.try_reserve().unwrap_err().is_full());
    drop(permit);
    assert_eq!(tx.capacity(), 1);
    tx.try_reserve().unwrap().send(3);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn waiting_senders_get_slots_first_come_first_served() {
    let (rx_count, rx_waker) = WakeCounter::new();
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut a = pin!(tx.send(1));
    let mut b = pin!(tx.send(2));
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    // A newcomer does not jump the queue.
    assert!(tx.try_send(9).unwrap_err().is_full());
    assert_eq!(brecv_now(&mut rx, &rx_waker), Poll::Ready(Some(0)));
    assert_eq!((a_count.count(), b_count.count()), (1, 0));
    assert!(poll_once(a.as_mut(), &a_waker).is_ready());
    assert_eq!(brecv_now(&mut rx, &rx_waker), Poll::Ready(Some(1)));
    assert_eq!(b_count.count(), 1);
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert_eq!(brecv_now(&mut rx, &rx_waker), Poll::Ready(Some(2)));
    assert_eq!(rx_count.count(), 0);
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn a_cancelled_waiter_passes_its_slot_on() {
    let (_count, waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut b = pin!(tx.send(2));
    {
        let mut a = pin!(tx.send(1));
        assert!(poll_once(a.as_mut(), &waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // the slot goes to `a`, which never looks
    }
    assert_eq!(b_count.count(), 1);
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    // A waiter that gives up while queued leaves nobody behind.
    tx.try_send(3).unwrap();
    {
        let mut c = pin!(tx.send(4));
        assert!(poll_once(c.as_mut(), &waker).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.capacity(), 1);
    tx.try_send(5).unwrap();
}

#[test]
fn close_fails_waiting_and_later_sends_but_the_buffer_drains() {
    let (count, waker) = WakeCounter::new();
    let (closed_count, closed_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(1).unwrap();
    let mut waiting = pin!(tx.send(2));
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &closed_waker).is_pending());
    rx.close();
    assert_eq!((count.count(), closed_count.count()), (1, 1));
    assert!(matches!(
        poll_once(waiting.as_mut(), &waker),
        Poll::Ready(Err(SendError(2)))
    ));
    assert!(poll_once(closed.as_mut(), &closed_waker).is_ready());
    assert!(tx.is_closed() && rx.is_closed());
    assert!(tx.try_send(3).unwrap_err().is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn after_close_a_permit_handed_out_before_still_sends_and_recv_waits_for_it() {
    let (count, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(brecv_now(&mut rx, &waker), Poll::Pending);
    permit.send(5);
    assert_eq!(count.count(), 1);
    assert_eq!(brecv_now(&mut rx, &waker), Poll::Ready(Some(5)));
    assert_eq!(brecv_now(&mut rx, &waker), Poll::Ready(None));
    // An unused permit ends the wait too, when it comes back.
    let (tx, mut rx) = channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(brecv_now(&mut rx, &waker), Poll::Pending);
    drop(permit);
    assert_eq!(count.count(), 2);
    assert_eq!(brecv_now(&mut rx, &waker), Poll::Ready(None));
}

#[test]
fn unbounded_close_stops_sends_and_the_receiver_drains_then_ends() {
    let (_count, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    rx.close();
    assert!(tx.is_closed() && rx.is_closed());
    assert!(matches!(tx.send(3), Err(SendError(3))));
    let mut buf = Vec::new();
    {
        let mut many = pin!(rx.recv_many(&mut buf, 10));
        assert_eq!(poll_once(many.as_mut(), &waker), Poll::Ready(2));
    }
    assert_eq!(buf, [1, 2]);
    assert_eq!(recv_now(&mut rx, &waker), Poll::Ready(None));
}

#[test]
fn dropping_the_receiver_drops_buffered_values_and_late_permit_values_drop_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(4);
    tx.try_send(Counted(drops.clone())).unwrap();
    tx.try_send(Counted(drops.clone())).unwrap();
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert!(tx.try_send(Counted(drops.clone())).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 4);

    let (tx, rx) = unbounded_channel();
    for _ in 0..BLOCK_CAP + 3 {
        tx.send(Counted(drops.clone())).unwrap();
    }
    drop(tx);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 4 + BLOCK_CAP + 3);
}

#[test]
fn values_never_received_are_dropped_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = unbounded_channel();
    for _ in 0..2 * BLOCK_CAP + 1 {
        tx.send(Counted(drops.clone())).unwrap();
    }
    // The receiver took a few, so the head is inside a block.
    drop(rx.try_recv().unwrap());
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2 * BLOCK_CAP + 1);
    drop(tx);
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    let (tx, rx) = unbounded_channel::<u8>();
    let weak = tx.downgrade();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    let tx2 = weak.upgrade().unwrap();
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 1));
    drop((tx, tx2));
    assert!(weak.upgrade().is_none());
    assert!(rx.is_closed());
    let (btx, brx) = channel::<u8>(1);
    let bweak = btx.downgrade();
    assert!(bweak.upgrade().unwrap().same_channel(&btx));
    drop(btx);
    assert!(bweak.upgrade().is_none());
    assert_eq!(brx.sender_weak_count(), 1);
}

#[test]
fn owned_permits_send_or_release_and_give_the_sender_back() {
    let (tx, mut rx) = channel(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    let tx = match tx.try_reserve_owned() {
        Err(TrySendError::Full(tx)) => tx,
        other => panic!("expected Full, got {other:?}"),
    };
    let tx2 = permit.send(1);
    assert!(tx2.same_channel(&tx));
    assert_eq!(rx.try_recv(), Ok(1));
    let permit = tx.try_reserve_owned().unwrap();
    assert_eq!(rx.capacity(), 0);
    let _tx = permit.release();
    assert_eq!(rx.capacity(), 1);
}

#[test]
fn threads_send_concurrently_and_each_keeps_its_order() {
    const THREADS: usize = 3;
    let per_thread = MANY / THREADS;
    let (tx, mut rx) = channel::<(usize, usize)>(8);
    let (utx, mut urx) = unbounded_channel::<(usize, usize)>();
    let producers: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            let utx = utx.clone();
            std::thread::spawn(move || {
                for seq in 0..per_thread {
                    tx.blocking_send((id, seq)).unwrap();
                    utx.send((id, seq)).unwrap();
                }
            })
        })
        .collect();
    drop((tx, utx));
    let mut next = [0; THREADS];
    while let Some((id, seq)) = rx.blocking_recv() {
        assert_eq!(seq, next[id]);
        next[id] += 1;
    }
    assert_eq!(next, [per_thread; THREADS]);
    let mut next = [0; THREADS];
    let mut buf = Vec::new();
    while urx.blocking_recv_many(&mut buf, 7) > 0 {
        for (id, seq) in buf.drain(..) {
            assert_eq!(seq, next[id]);
            next[id] += 1;
        }
    }
    assert_eq!(next, [per_thread; THREADS]);
    for p in producers {
        p.join().unwrap();
    }
}

#[test]
fn a_blocked_sender_thread_is_released_by_close() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0u8).unwrap();
    let sender = std::thread::spawn(move || tx.blocking_send(1));
    // Wait (without a timing assumption) until the thread is queued for room.
    while rx.chan.send_waiter_slots() == 0 {
        std::thread::yield_now();
    }
    rx.close();
    assert!(matches!(sender.join().unwrap(), Err(SendError(1))));
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn waiting_senders_reuse_their_slots() {
    let (_count, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0u32).unwrap();
    for i in 1..50 {
        let mut send = pin!(tx.send(i));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(i - 1));
        assert!(poll_once(send.as_mut(), &waker).is_ready());
    }
    assert_eq!(rx.chan.send_waiter_slots(), 1);
}

// ---- reserve_many ----

crate::sync::mpsc_api::bounded_reserve_many_tests!();

#[test]
fn threads_reserving_batches_and_single_slots_all_get_through() {
    // Batches up to the whole capacity, from several threads, against single sends: nobody
    // deadlocks or starves, every value arrives once, and every slot comes back.
    const CAP: usize = 4;
    const THREADS: usize = 3;
    let rounds = MANY / 20;
    let (tx, mut rx) = channel::<(usize, usize)>(CAP);
    let producers: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut seq = 0;
                for round in 0..rounds {
                    if id == 0 {
                        tx.blocking_send((id, seq)).unwrap();
                        seq += 1;
                        continue;
                    }
                    let n = 1 + (round + id) % CAP;
                    let permits = super::blocking::block_on("test", tx.reserve_many(n)).unwrap();
                    assert_eq!(permits.len(), n);
                    for permit in permits {
                        permit.send((id, seq));
                        seq += 1;
                    }
                }
                seq
            })
        })
        .collect();
    drop(tx);
    let mut next = [0; THREADS];
    while let Some((id, seq)) = rx.blocking_recv() {
        assert_eq!(seq, next[id]);
        next[id] += 1;
    }
    let sent: Vec<usize> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    assert_eq!(next.to_vec(), sent);
    assert_eq!(rx.capacity(), CAP);
}
