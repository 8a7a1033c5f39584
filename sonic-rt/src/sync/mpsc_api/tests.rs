//! Tests of behaviour both bounded channels share, as macros that each channel's unit tests
//! expand (`super::channel` is the channel under test; the tests drive futures by hand).

/// `reserve_many` / `try_reserve_many` / `PermitIterator`, with tokio's semantics: the edge
/// cases (`n = 0`, `n` above the capacity, a closed channel), FIFO with the other waiting
/// senders, the slots a waiter holds coming back when it fails or is cancelled, and the
/// iterator giving back what it has not yielded.
macro_rules! bounded_reserve_many_tests {
    () => {
        mod reserve_many {
            use std::pin::pin;
            use std::task::{Context, Poll, Waker};

            use super::super::{channel, Receiver};
            use $crate::sync::mpsc::error::{SendError, TryRecvError};
            use $crate::sync::test_util::{poll_once, WakeCounter};

            fn recv_now<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Option<T>> {
                rx.poll_recv(&mut Context::from_waker(waker))
            }

            #[test]
            fn takes_free_slots_and_waits_at_the_head_for_the_rest() {
                let (many_count, many_waker) = WakeCounter::new();
                let (one_count, one_waker) = WakeCounter::new();
                let (tx, mut rx) = channel(3);
                tx.try_send(0).unwrap();
                tx.try_send(1).unwrap();
                let mut many = pin!(tx.reserve_many(3));
                let mut one = pin!(tx.reserve());
                assert!(poll_once(many.as_mut(), &many_waker).is_pending());
                assert_eq!(tx.capacity(), 0); // the free slot went to `many`
                assert!(poll_once(one.as_mut(), &one_waker).is_pending());
                // A newcomer does not jump the queue, not even for one slot.
                assert!(tx.try_reserve().unwrap_err().is_full());
                assert!(tx.try_reserve_many(1).unwrap_err().is_full());

                // The first slot back goes to `many`, which still needs one: nobody is woken.
                assert_eq!(rx.try_recv(), Ok(0));
                assert_eq!((many_count.count(), one_count.count()), (0, 0));
                assert_eq!(tx.capacity(), 0);
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!((many_count.count(), one_count.count()), (1, 0));
                let Poll::Ready(Ok(permits)) = poll_once(many.as_mut(), &many_waker) else {
                    panic!("reserve_many should have its three slots")
                };
                assert_eq!(permits.len(), 3);
                assert_eq!(permits.size_hint(), (3, Some(3)));
                for (n, permit) in (10..).zip(permits) {
                    permit.send(n);
                }
                assert_eq!(rx.try_recv(), Ok(10));
                assert_eq!(one_count.count(), 1);
                assert!(matches!(
                    poll_once(one.as_mut(), &one_waker),
                    Poll::Ready(Ok(_))
                ));
            }

            #[test]
            fn edge_cases_follow_tokio() {
                let (_count, waker) = WakeCounter::new();
                let (tx, rx) = channel::<u8>(2);
                // More than the capacity can never succeed.
                assert!(matches!(
                    poll_once(pin!(tx.reserve_many(3)), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
                assert!(matches!(
                    poll_once(pin!(tx.reserve_many(usize::MAX)), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
                assert!(tx.try_reserve_many(3).unwrap_err().is_full());
                assert!(tx.try_reserve_many(usize::MAX).unwrap_err().is_full());
                // Zero succeeds, even on a full channel.
                assert_eq!(tx.try_reserve_many(0).unwrap().len(), 0);
                tx.try_send(1).unwrap();
                tx.try_send(2).unwrap();
                assert!(tx.try_reserve_many(0).unwrap().next().is_none());
                let Poll::Ready(Ok(mut none)) = poll_once(pin!(tx.reserve_many(0)), &waker) else {
                    panic!("reserve_many(0) should succeed")
                };
                assert!(none.next().is_none());
                drop(rx);
                // Closed: zero fails too; more than the capacity is still `Full`.
                assert!(tx.try_reserve_many(0).unwrap_err().is_closed());
                assert!(tx.try_reserve_many(1).unwrap_err().is_closed());
                assert!(tx.try_reserve_many(3).unwrap_err().is_full());
                assert!(matches!(
                    poll_once(pin!(tx.reserve_many(0)), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
                assert!(matches!(
                    poll_once(pin!(tx.reserve_many(2)), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
            }

            #[test]
            fn try_reserve_many_takes_n_slots_and_unused_ones_come_back() {
                for n in 1..=8 {
                    for k in 0..n {
                        let (tx, mut rx) = channel::<usize>(n);
                        let mut permits = tx.try_reserve_many(n).unwrap();
                        assert_eq!((permits.len(), tx.capacity()), (n, 0));
                        assert!(tx.try_reserve_many(1).unwrap_err().is_full());
                        for permit in permits.by_ref().take(k) {
                            permit.send(k);
                        }
                        assert_eq!(permits.len(), n - k);
                        drop(permits);
                        assert_eq!(tx.capacity(), n - k);
                        assert!(tx.try_reserve_many(n - k + 1).unwrap_err().is_full());
                        drop(tx.try_reserve_many(n - k).unwrap());
                        for _ in 0..k {
                            assert_eq!(rx.try_recv(), Ok(k));
                        }
                        assert_eq!(tx.capacity(), n);
                    }
                }
            }

            #[test]
            fn cancelled_while_waiting_gives_back_the_slots_it_was_handed() {
                let (rx_count, rx_waker) = WakeCounter::new();
                let (_count, waker) = WakeCounter::new();
                let (tx, mut rx) = channel::<u8>(2);
                let permit = tx.try_reserve().unwrap();
                {
                    let mut many = pin!(tx.reserve_many(2));
                    assert!(poll_once(many.as_mut(), &waker).is_pending());
                    assert_eq!(tx.capacity(), 0);
                    rx.close();
                    assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Pending);
                    drop(permit);
                    assert_eq!(rx_count.count(), 1); // woken, but `many` still holds a slot
                    assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Pending);
                }
                assert_eq!(rx_count.count(), 2);
                assert_eq!(tx.capacity(), 2);
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Ready(None));
            }

            #[test]
            fn failed_by_close_gives_back_the_slots_it_was_handed() {
                let (rx_count, rx_waker) = WakeCounter::new();
                let (count, waker) = WakeCounter::new();
                let (tx, mut rx) = channel::<u8>(2);
                let permit = tx.try_reserve().unwrap();
                let mut many = pin!(tx.reserve_many(2));
                assert!(poll_once(many.as_mut(), &waker).is_pending());
                rx.close();
                assert_eq!(count.count(), 1); // the close fails the waiter
                drop(permit);
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Pending);
                assert!(matches!(
                    poll_once(many.as_mut(), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
                assert_eq!(rx_count.count(), 1);
                assert_eq!(tx.capacity(), 2);
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Ready(None));
            }

            #[test]
            fn handed_its_slots_before_close_fails_and_gives_them_back() {
                let (rx_count, rx_waker) = WakeCounter::new();
                let (_count, waker) = WakeCounter::new();
                let (tx, mut rx) = channel::<u8>(2);
                tx.try_send(0).unwrap();
                tx.try_send(1).unwrap();
                let mut many = pin!(tx.reserve_many(2));
                assert!(poll_once(many.as_mut(), &waker).is_pending());
                assert_eq!(rx.try_recv(), Ok(0));
                assert_eq!(rx.try_recv(), Ok(1)); // both slots handed to `many`
                rx.close();
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Pending);
                assert!(matches!(
                    poll_once(many.as_mut(), &waker),
                    Poll::Ready(Err(SendError(())))
                ));
                assert_eq!(rx_count.count(), 1);
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Ready(None));
            }

            #[test]
            fn cancelled_it_passes_its_slots_to_the_waiters_behind_it() {
                let (_count, waker) = WakeCounter::new();
                let (one_count, one_waker) = WakeCounter::new();
                let (tx, mut rx) = channel(3);
                tx.try_send(0).unwrap();
                let mut one = pin!(tx.send(9));
                {
                    let mut many = pin!(tx.reserve_many(3));
                    // It holds the two free slots, and `one` queues behind it.
                    assert!(poll_once(many.as_mut(), &waker).is_pending());
                    assert!(poll_once(one.as_mut(), &one_waker).is_pending());
                    assert_eq!(tx.capacity(), 0);
                }
                // Its two slots went on: one to the sender behind it, one back to the channel.
                assert_eq!(one_count.count(), 1);
                assert!(poll_once(one.as_mut(), &one_waker).is_ready());
                assert_eq!(tx.capacity(), 1);
                assert_eq!(rx.try_recv(), Ok(0));
                assert_eq!(rx.try_recv(), Ok(9));
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                assert_eq!(tx.capacity(), 3);
            }

            #[test]
            fn a_dropped_permit_iterator_hands_its_slots_to_the_next_waiter() {
                let (count, waker) = WakeCounter::new();
                let (tx, _rx) = channel::<u8>(3);
                let mut permits = tx.try_reserve_many(3).unwrap();
                let first = permits.next().unwrap();
                assert_eq!(permits.len(), 2);
                let mut next = pin!(tx.reserve_many(2));
                assert!(poll_once(next.as_mut(), &waker).is_pending());
                drop(permits); // two slots back: exactly what `next` waits for
                assert_eq!(count.count(), 1);
                let Poll::Ready(Ok(held)) = poll_once(next.as_mut(), &waker) else {
                    panic!("the two slots should have gone to the waiter")
                };
                assert_eq!(held.len(), 2);
                drop(first);
                assert_eq!(tx.capacity(), 1);
            }

            #[test]
            fn dropping_the_last_permit_iterator_wakes_a_closed_receiver() {
                let (rx_count, rx_waker) = WakeCounter::new();
                let (tx, mut rx) = channel::<u8>(4);
                let permits = tx.try_reserve_many(2).unwrap();
                rx.close();
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Pending);
                drop(permits);
                assert_eq!(rx_count.count(), 1);
                assert_eq!(recv_now(&mut rx, &rx_waker), Poll::Ready(None));
            }
        }
    };
}

pub(crate) use bounded_reserve_many_tests;
