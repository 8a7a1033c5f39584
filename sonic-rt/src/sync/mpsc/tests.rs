use std::cell::Cell;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::error::{SendError, TryRecvError, TrySendError};
use super::*;
use crate::sync::test_util::{poll_once, Tracked, WakeCounter};

fn poll_recv<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

fn poll_urecv<T>(rx: &mut UnboundedReceiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

// ---- bounded: basics ----

#[test]
#[should_panic(expected = "greater than 0")]
fn zero_capacity_panics() {
    let _ = channel::<u8>(0);
}

#[test]
fn try_send_fills_then_reports_full_and_values_come_out_in_order() {
    let (tx, mut rx) = channel(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
    for n in 0..3 {
        tx.try_send(n).unwrap();
    }
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.len(), 3);
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    for n in 0..3 {
        assert_eq!(rx.try_recv(), Ok(n));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
    assert_eq!(rx.capacity(), 3);
}

#[test]
fn receiver_is_woken_once_per_wait_and_not_when_not_waiting() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(8);
    // Not waiting: sends wake nobody.
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(counter.count(), 0);
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(1)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(2)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    tx.try_send(3).unwrap();
    tx.try_send(4).unwrap();
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(3)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(4)));
}

#[test]
fn send_future_waits_for_room() {
    let (tx_count, tx_waker) = WakeCounter::new();
    let (rx_count, rx_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    assert!(poll_once(pin!(tx.send(1)), &tx_waker).is_ready());
    let mut send = pin!(tx.send(2));
    assert_eq!(poll_once(send.as_mut(), &tx_waker), Poll::Pending);
    assert_eq!(poll_once(send.as_mut(), &tx_waker), Poll::Pending);
    assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Ready(Some(1)));
    assert_eq!(tx_count.count(), 1);
    // The freed slot went to the waiting sender, not to the free count.
    assert_eq!(tx.capacity(), 0);
    assert_eq!(poll_once(send.as_mut(), &tx_waker), Poll::Ready(Ok(())));
    assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Ready(Some(2)));
    assert_eq!(rx_count.count(), 0);
}

#[test]
fn waiting_senders_are_served_fifo_and_newcomers_queue_behind() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut s1 = pin!(tx.send(1));
    let mut s2 = pin!(tx.send(2));
    let mut s3 = pin!(tx.send(3));
    assert!(poll_once(s1.as_mut(), &waker).is_pending());
    assert!(poll_once(s2.as_mut(), &waker).is_pending());
    assert!(poll_once(s3.as_mut(), &waker).is_pending());

    assert_eq!(rx.try_recv(), Ok(0)); // slot handed to s1
    assert_eq!(tx.try_send(99), Err(TrySendError::Full(99)));
    assert!(poll_once(s3.as_mut(), &waker).is_pending());
    assert!(poll_once(s2.as_mut(), &waker).is_pending());
    assert!(poll_once(s1.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll_once(s3.as_mut(), &waker).is_pending());
    assert!(poll_once(s2.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(poll_once(s3.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(tx.capacity(), 1);
}

// ---- bounded: cancellation ----

#[test]
fn dropped_queued_sender_leaves_the_queue() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut b = pin!(tx.send(2));
    {
        let mut a = pin!(tx.send(1));
        assert!(poll_once(a.as_mut(), &a_waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((a_count.count(), b_count.count()), (0, 1));
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropped_sender_that_was_handed_a_slot_passes_it_on() {
    let (a_count, a_waker) = WakeCounter::new();
    let (b_count, b_waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut b = pin!(tx.send(2));
    {
        let mut a = pin!(tx.send(1));
        assert!(poll_once(a.as_mut(), &a_waker).is_pending());
        assert!(poll_once(b.as_mut(), &b_waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!((a_count.count(), b_count.count()), (1, 0));
        // `a` never looks at its slot.
    }
    assert_eq!(b_count.count(), 1);
    assert!(poll_once(b.as_mut(), &b_waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn dropped_sender_that_was_handed_a_slot_frees_it_if_nobody_waits() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    {
        let mut a = pin!(tx.send(1));
        assert!(poll_once(a.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(tx.capacity(), 0);
    }
    assert_eq!(tx.capacity(), 1);
    tx.try_send(5).unwrap();
}

#[test]
fn waiter_slots_are_reused_in_steady_state() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    for n in 1..200 {
        let mut send = pin!(tx.send(n));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(n - 1));
        assert!(poll_once(send.as_mut(), &waker).is_ready());
    }
    assert_eq!(rx.chan.send_waiters_slot_count(), 1);
}

// ---- bounded: closing ----

#[test]
fn close_fails_waiting_and_later_sends_but_keeps_buffered_values() {
    let (counter, waker) = WakeCounter::new();
    let drops = Rc::new(Cell::new(0));
    let (tx, mut rx) = channel(1);
    tx.try_send(Tracked::new(0, &drops)).unwrap();
    let mut waiting = pin!(tx.send(Tracked::new(1, &drops)));
    assert!(poll_once(waiting.as_mut(), &waker).is_pending());

    rx.close();
    assert_eq!(counter.count(), 1);
    assert!(tx.is_closed() && rx.is_closed());
    match poll_once(waiting.as_mut(), &waker) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value.id, 1),
        other => panic!("expected a send error, got {other:?}"),
    }
    assert!(tx
        .try_send(Tracked::new(2, &drops))
        .unwrap_err()
        .is_closed());
    assert!(tx.try_reserve().unwrap_err().is_closed());
    assert_eq!(drops.get(), 2);

    assert_eq!(rx.try_recv().map(|v| v.id), Ok(0));
    assert_eq!(rx.try_recv().map(|v| v.id), Err(TryRecvError::Disconnected));
    assert_eq!(
        poll_recv(&mut rx, &waker).map(|v| v.map(|v| v.id)),
        Poll::Ready(None)
    );
    assert_eq!(drops.get(), 3);
}

#[test]
fn sender_closed_future_completes_on_close() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(1);
    let tx2 = tx.clone();
    let mut closed = pin!(tx.closed());
    let mut closed2 = pin!(tx2.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    assert!(poll_once(closed2.as_mut(), &waker).is_pending());
    rx.close();
    assert_eq!(counter.count(), 2);
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
    assert!(poll_once(closed2.as_mut(), &waker).is_ready());
    assert!(poll_once(pin!(tx.closed()), &waker).is_ready());
}

#[test]
fn permit_reserved_before_close_still_sends_and_receiver_waits_for_it() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    permit.send(7);
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(7)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(None));
}

#[test]
fn unused_permit_after_close_ends_the_stream() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    drop(permit);
    assert_eq!(counter.count(), 1);
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(None));
}

#[test]
fn last_sender_drop_wakes_receiver_after_buffered_values() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(1)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    tx2.try_send(2).unwrap();
    drop(tx2);
    assert_eq!(counter.count(), 1);
    assert!(rx.is_closed());
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(Some(2)));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn receiver_drop_drops_buffered_values_exactly_once() {
    let drops = Rc::new(Cell::new(0));
    let (tx, mut rx) = channel(4);
    for id in 0..4 {
        tx.try_send(Tracked::new(id, &drops)).unwrap();
    }
    let first = rx.try_recv().unwrap();
    drop(rx);
    assert_eq!(drops.get(), 3);
    let back = tx
        .try_send(Tracked::new(9, &drops))
        .unwrap_err()
        .into_inner();
    assert_eq!((back.id, drops.get()), (9, 3));
    drop((first, back));
    drop(tx);
    assert_eq!(drops.get(), 5);
}

#[test]
fn permit_send_after_receiver_drop_drops_the_value() {
    let drops = Rc::new(Cell::new(0));
    let (tx, rx) = channel(1);
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    permit.send(Tracked::new(1, &drops));
    assert_eq!(drops.get(), 1);
}

#[test]
fn sender_handed_a_slot_before_receiver_drop_gets_its_value_back() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut send = pin!(tx.send(1));
    assert!(poll_once(send.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // slot handed to `send`
    drop(rx);
    assert_eq!(
        poll_once(send.as_mut(), &waker),
        Poll::Ready(Err(SendError(1)))
    );
}

#[test]
fn values_whose_destructor_uses_the_channel_are_dropped_safely() {
    struct Message {
        _reply: Option<UnboundedSender<Message>>,
        drops: Rc<Cell<usize>>,
    }
    impl Drop for Message {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let (tx, rx) = unbounded_channel();
    for _ in 0..3 {
        let msg = Message {
            _reply: Some(tx.clone()),
            drops: Rc::clone(&drops),
        };
        tx.send(msg).unwrap();
    }
    drop(tx);
    // Dropping the buffered messages drops the last senders while the receiver is being dropped.
    drop(rx);
    assert_eq!(drops.get(), 3);
}

// ---- bounded: permits, weak senders, batches, stream ----

#[test]
fn reserve_future_and_permits_account_for_capacity() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    let Poll::Ready(Ok(p1)) = poll_once(pin!(tx.reserve()), &waker) else {
        panic!()
    };
    let p2 = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert!(poll_once(pin!(tx.reserve()), &waker).is_pending());
    drop(p1);
    assert_eq!(tx.capacity(), 1);
    p2.send("x");
    assert_eq!(rx.try_recv(), Ok("x"));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn owned_permits_send_and_release() {
    let (tx, mut rx) = channel(1);
    let permit = tx.try_reserve_owned().unwrap();
    let tx = match permit.send(1).try_reserve_owned() {
        Err(TrySendError::Full(tx)) => tx,
        other => panic!("expected Full, got {:?}", other.map(|_| ())),
    };
    assert_eq!(rx.try_recv(), Ok(1));
    let tx = tx.try_reserve_owned().unwrap().release();
    assert_eq!(tx.capacity(), 1);
    let (_counter, waker) = WakeCounter::new();
    let Poll::Ready(Ok(permit)) = poll_once(pin!(tx.reserve_owned()), &waker) else {
        panic!()
    };
    drop(permit); // drops the sender too
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn weak_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = channel::<u8>(1);
    let weak = tx.downgrade();
    let strong = weak.upgrade().unwrap();
    assert!(strong.same_channel(&tx));
    drop((tx, strong));
    assert!(weak.upgrade().is_none());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn recv_many_takes_up_to_limit() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(8);
    let mut sent = 0..5;
    sent.by_ref().for_each(|n| tx.try_send(n).unwrap());
    let mut buf = Vec::new();
    let cx = &mut Context::from_waker(&waker);
    assert_eq!(rx.poll_recv_many(cx, &mut buf, 0), Poll::Ready(0));
    assert_eq!(rx.poll_recv_many(cx, &mut buf, 3), Poll::Ready(3));
    assert_eq!(rx.poll_recv_many(cx, &mut buf, 3), Poll::Ready(2));
    assert_eq!(buf, [0, 1, 2, 3, 4]);
    assert_eq!(tx.capacity(), 8);
    assert_eq!(rx.poll_recv_many(cx, &mut buf, 3), Poll::Pending);
    drop(tx);
    assert_eq!(counter.count(), 1);
    assert_eq!(rx.poll_recv_many(cx, &mut buf, 3), Poll::Ready(0));
}

#[test]
fn recv_many_hands_freed_slots_to_waiting_senders() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut a = pin!(tx.send(2));
    let mut b = pin!(tx.send(3));
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    let mut buf = Vec::new();
    assert_eq!(
        poll_once(pin!(rx.recv_many(&mut buf, 10)), &waker),
        Poll::Ready(2)
    );
    assert_eq!(counter.count(), 2);
    assert!(poll_once(a.as_mut(), &waker).is_ready());
    assert!(poll_once(b.as_mut(), &waker).is_ready());
    assert_eq!(rx.len(), 2);
}

#[test]
fn receiver_is_a_stream() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    tx.try_send(1).unwrap();
    drop(tx);
    let cx = &mut Context::from_waker(&waker);
    assert_eq!(rx.size_hint(), (1, None));
    assert_eq!(Pin::new(&mut rx).poll_next(cx), Poll::Ready(Some(1)));
    assert_eq!(Pin::new(&mut rx).poll_next(cx), Poll::Ready(None));
}

#[test]
fn recv_future_is_cancellation_safe() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(2);
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut(), &waker).is_pending());
    }
    tx.try_send(1).unwrap();
    // The dropped future's waker was still registered: one spurious wake is allowed, no loss.
    assert!(counter.count() <= 1);
    assert_eq!(poll_once(pin!(rx.recv()), &waker), Poll::Ready(Some(1)));
}

// ---- unbounded ----

#[test]
fn unbounded_send_recv_in_order() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    assert_eq!(poll_urecv(&mut rx, &waker), Poll::Pending);
    for n in 0..100 {
        tx.send(n).unwrap();
    }
    assert_eq!(counter.count(), 1);
    assert_eq!(rx.len(), 100);
    for n in 0..100 {
        assert_eq!(poll_urecv(&mut rx, &waker), Poll::Ready(Some(n)));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn unbounded_senders_close_the_channel() {
    let (counter, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    tx2.send(1).unwrap();
    drop(tx2);
    assert_eq!(poll_urecv(&mut rx, &waker), Poll::Ready(Some(1)));
    assert_eq!(poll_urecv(&mut rx, &waker), Poll::Pending);
    let weak = tx.downgrade();
    drop(tx);
    assert_eq!(counter.count(), 1);
    assert!(weak.upgrade().is_none());
    assert!(rx.is_closed());
    assert_eq!(poll_urecv(&mut rx, &waker), Poll::Ready(None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn unbounded_close_and_drop() {
    let (counter, waker) = WakeCounter::new();
    let drops = Rc::new(Cell::new(0));
    let (tx, mut rx) = unbounded_channel();
    let mut closed = pin!(tx.closed());
    assert!(poll_once(closed.as_mut(), &waker).is_pending());
    tx.send(Tracked::new(0, &drops)).unwrap();
    tx.send(Tracked::new(1, &drops)).unwrap();
    rx.close();
    assert_eq!(counter.count(), 1);
    assert!(tx.is_closed());
    assert!(poll_once(closed.as_mut(), &waker).is_ready());
    let back = tx.send(Tracked::new(2, &drops)).unwrap_err().0;
    assert_eq!(back.id, 2);
    assert_eq!(rx.try_recv().map(|v| v.id), Ok(0));
    drop(rx);
    assert_eq!(drops.get(), 2);
    drop(back);
    assert_eq!(drops.get(), 3);
}

#[test]
fn unbounded_recv_many_and_stream() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = unbounded_channel();
    (0..4).for_each(|n| tx.send(n).unwrap());
    let mut buf = Vec::new();
    assert_eq!(
        poll_once(pin!(rx.recv_many(&mut buf, 3)), &waker),
        Poll::Ready(3)
    );
    assert_eq!(buf, [0, 1, 2]);
    drop(tx);
    let cx = &mut Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut rx).poll_next(cx), Poll::Ready(Some(3)));
    assert_eq!(Pin::new(&mut rx).poll_next(cx), Poll::Ready(None));
}

#[test]
fn unbounded_buffer_stops_growing_in_steady_state() {
    let (tx, mut rx) = unbounded_channel();
    for round in 0..50 {
        for n in 0..16 {
            tx.send(round * 16 + n).unwrap();
        }
        for n in 0..16 {
            assert_eq!(rx.try_recv(), Ok(round * 16 + n));
        }
    }
    assert!(rx.chan.queue_capacity() >= 16 && rx.chan.queue_capacity() < 64);
}

#[test]
fn error_types_format() {
    assert_eq!(format!("{:?}", SendError(1)), "SendError(..)");
    assert_eq!(SendError(1).to_string(), "sending on a closed channel");
    assert_eq!(format!("{:?}", TrySendError::Full(1)), "Full(..)");
    assert!(TrySendError::from(SendError(2)).is_closed());
    assert_eq!(
        TryRecvError::Disconnected.to_string(),
        "the channel is empty and closed"
    );
}

#[test]
fn wakes_may_reenter_the_channel() {
    use crate::sync::test_util::reentrant_waker;

    // The receiver's wake sends again.
    let (tx, mut rx) = channel(4);
    let (waker, guard) = reentrant_waker({
        let tx = tx.clone();
        move || tx.try_send(100).unwrap()
    });
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Pending);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(100));
    drop(guard);

    // A waiting sender's wake tries to send while its slot is being handed over.
    let outcome = Rc::new(Cell::new(None));
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let (waker, _guard) = reentrant_waker({
        let (tx, outcome) = (tx.clone(), Rc::clone(&outcome));
        move || outcome.set(Some(tx.try_send(7).map_err(|e| e.is_full())))
    });
    let mut send = pin!(tx.send(1));
    assert!(poll_once(send.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(outcome.get(), Some(Err(true))); // the slot was already promised
    assert!(poll_once(send.as_mut(), &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
}

// ---- reservations in flight when the receiver closes (tokio's rules) ----

/// A full channel of capacity 1 with `reserve`-like future `waiting` queued, whose slot is then
/// handed to it by a receive, after which the receiver closes before `waiting` runs.
fn hand_slot_then_close<F: std::future::Future>(
    tx: &Sender<u8>,
    rx: &mut Receiver<u8>,
    mut waiting: Pin<&mut F>,
    waker: &Waker,
) {
    tx.try_send(0).unwrap();
    assert!(poll_once(waiting.as_mut(), waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // the freed slot goes to `waiting`
    assert_eq!(tx.capacity(), 0);
    rx.close();
}

#[test]
fn reserve_handed_a_slot_before_close_fails_and_gives_the_slot_back() {
    let (rx_count, rx_waker) = WakeCounter::new();
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(1);
    let mut reserve = pin!(tx.reserve());
    hand_slot_then_close(&tx, &mut rx, reserve.as_mut(), &waker);
    // The receiver waits for the slot that is still out.
    assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Pending);
    assert!(matches!(
        poll_once(reserve.as_mut(), &waker),
        Poll::Ready(Err(SendError(())))
    ));
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx_count.count(), 1);
    assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Ready(None));
}

#[test]
fn send_handed_a_slot_before_close_fails_with_its_value() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(1);
    let mut send = pin!(tx.send(7));
    hand_slot_then_close(&tx, &mut rx, send.as_mut(), &waker);
    assert_eq!(
        poll_once(send.as_mut(), &waker),
        Poll::Ready(Err(SendError(7)))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn reserve_owned_and_reserve_many_handed_slots_before_close_fail() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(1);
    let mut owned = pin!(tx.clone().reserve_owned());
    hand_slot_then_close(&tx, &mut rx, owned.as_mut(), &waker);
    assert!(matches!(
        poll_once(owned.as_mut(), &waker),
        Poll::Ready(Err(SendError(())))
    ));

    let (tx, mut rx) = channel::<u8>(1);
    let mut many = pin!(tx.reserve_many(1));
    hand_slot_then_close(&tx, &mut rx, many.as_mut(), &waker);
    assert!(matches!(
        poll_once(many.as_mut(), &waker),
        Poll::Ready(Err(SendError(())))
    ));
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn cancelled_reserve_handed_a_slot_before_close_wakes_the_closed_receiver() {
    let (rx_count, rx_waker) = WakeCounter::new();
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(1);
    {
        let mut reserve = pin!(tx.reserve());
        hand_slot_then_close(&tx, &mut rx, reserve.as_mut(), &waker);
        assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Pending);
    }
    assert_eq!(rx_count.count(), 1);
    assert_eq!(poll_recv(&mut rx, &rx_waker), Poll::Ready(None));
}

#[test]
fn every_sender_method_fails_after_close_but_earlier_permits_still_send() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel::<u8>(4);
    let permit = tx.try_reserve().unwrap();
    let owned = tx.clone().try_reserve_owned().unwrap();
    let mut batch = tx.try_reserve_many(2).unwrap();
    rx.close();
    assert!(tx.is_closed() && rx.is_closed());

    assert!(tx.try_send(1).unwrap_err().is_closed());
    assert!(tx.try_reserve().unwrap_err().is_closed());
    assert!(tx.try_reserve_many(0).unwrap_err().is_closed());
    assert!(tx.clone().try_reserve_owned().unwrap_err().is_closed());
    assert_eq!(
        poll_once(pin!(tx.send(1)), &waker),
        Poll::Ready(Err(SendError(1)))
    );
    assert!(matches!(
        poll_once(pin!(tx.reserve()), &waker),
        Poll::Ready(Err(_))
    ));
    assert!(matches!(
        poll_once(pin!(tx.reserve_many(0)), &waker),
        Poll::Ready(Err(_))
    ));
    assert!(matches!(
        poll_once(pin!(tx.clone().reserve_owned()), &waker),
        Poll::Ready(Err(_))
    ));
    assert!(poll_once(pin!(tx.closed()), &waker).is_ready());

    // Reserved before the close: they still deliver, and the receiver drains them.
    permit.send(10);
    let _sender = owned.send(11);
    batch.next().unwrap().send(12);
    assert_eq!(rx.try_recv(), Ok(10));
    assert_eq!(rx.try_recv(), Ok(11));
    assert_eq!(rx.try_recv(), Ok(12));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty)); // one slot of `batch` is still out
    drop(batch);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn every_sender_method_fails_after_receiver_drop() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, rx) = channel::<u8>(2);
    let drops = Rc::new(Cell::new(0));
    let (ttx, trx) = channel(2);
    let early = ttx.try_reserve().unwrap();
    drop((rx, trx));
    assert!(tx.is_closed());
    assert!(tx.try_send(1).unwrap_err().is_closed());
    assert!(tx.try_reserve().unwrap_err().is_closed());
    assert!(tx.try_reserve_many(1).unwrap_err().is_closed());
    assert!(tx.clone().try_reserve_owned().unwrap_err().is_closed());
    assert_eq!(
        poll_once(pin!(tx.send(1)), &waker),
        Poll::Ready(Err(SendError(1)))
    );
    assert!(matches!(
        poll_once(pin!(tx.reserve_many(2)), &waker),
        Poll::Ready(Err(_))
    ));
    // A permit from before the drop "sends": nobody will receive, so the value is dropped.
    early.send(Tracked::new(1, &drops));
    assert_eq!(drops.get(), 1);
    assert_eq!(ttx.capacity(), 2);
}

// ---- reserve_many ----

crate::sync::mpsc_api::bounded_reserve_many_tests!();

// ---- counts and identity ----

#[test]
fn sender_counts_track_strong_and_weak_handles() {
    let (tx, rx) = channel::<u8>(1);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    let tx2 = tx.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 2));
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 2));
    drop((weak2, tx2));
    assert_eq!((weak.strong_count(), weak.weak_count()), (1, 1));
    drop(tx);
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (0, 1));
    assert!(weak.upgrade().is_none());

    let (utx, urx) = unbounded_channel::<u8>();
    let uweak = utx.downgrade();
    let _utx2 = uweak.upgrade().unwrap();
    assert_eq!((utx.strong_count(), utx.weak_count()), (2, 1));
    assert_eq!((uweak.strong_count(), uweak.weak_count()), (2, 1));
    drop(uweak);
    assert_eq!((urx.sender_strong_count(), urx.sender_weak_count()), (2, 0));
}

#[test]
fn owned_permits_know_their_channel() {
    let (tx, _rx) = channel::<u8>(4);
    let (other, _other_rx) = channel::<u8>(4);
    let a = tx.clone().try_reserve_owned().unwrap();
    let b = tx.clone().try_reserve_owned().unwrap();
    let c = other.clone().try_reserve_owned().unwrap();
    assert!(a.same_channel(&b) && !a.same_channel(&c));
    assert!(a.same_channel_as_sender(&tx) && !a.same_channel_as_sender(&other));
}

#[test]
fn after_close_receives_drain_what_is_left_then_report_the_end() {
    let (_counter, waker) = WakeCounter::new();
    let (tx, mut rx) = channel(4);
    let (utx, mut urx) = unbounded_channel();
    for n in 1..=3 {
        tx.try_send(n).unwrap();
        utx.send(n).unwrap();
    }
    rx.close();
    urx.close();
    assert!(rx.is_closed() && urx.is_closed());
    assert_eq!((rx.len(), urx.len()), (3, 3));
    assert_eq!((rx.try_recv(), urx.try_recv()), (Ok(1), Ok(1)));
    let mut buf = vec![0];
    assert_eq!(rx.recv_many(&mut buf, 8).now_or_panic(&waker), 2);
    assert_eq!(urx.recv_many(&mut buf, 8).now_or_panic(&waker), 2);
    assert_eq!(buf, [0, 2, 3, 2, 3]);
    // Drained: the end, and the buffer is left as it is.
    assert_eq!(rx.recv_many(&mut buf, 8).now_or_panic(&waker), 0);
    assert_eq!(urx.recv_many(&mut buf, 8).now_or_panic(&waker), 0);
    assert_eq!(buf.len(), 5);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(urx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(poll_recv(&mut rx, &waker), Poll::Ready(None));
    assert_eq!(poll_urecv(&mut urx, &waker), Poll::Ready(None));
    // The capacity is all back.
    assert_eq!((tx.capacity(), rx.capacity(), rx.max_capacity()), (4, 4, 4));
}

/// Polls a future that must be ready at once.
trait NowOrPanic: std::future::Future + Sized {
    fn now_or_panic(self, waker: &Waker) -> Self::Output {
        match poll_once(pin!(self), waker) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }
}

impl<F: std::future::Future> NowOrPanic for F {}
