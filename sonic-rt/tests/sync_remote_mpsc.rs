//! `sync::remote_mpsc` with real `std::thread` producers (and consumers), on both loop modes:
//! a thread feeding a task, several threads, a task of another runtime, a receiver moved to a
//! thread, closing across threads, the cooperative budget, and `reserve_many` across threads.

mod common;

use sonic_rt::sync::remote_mpsc::{self, error::SendError};
use sonic_rt::task::yield_now;
use sonic_rt::{spawn, Runtime};
use sonic_test_support::each_mode;
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

const N: u64 = 20_000;

fn a_thread_feeds_a_task_in_order(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::channel::<u64>(16);
    let (utx, mut urx) = remote_mpsc::unbounded_channel::<u64>();
    let feed = thread::spawn(move || {
        for seq in 0..N {
            tx.blocking_send(seq).unwrap();
            utx.send(seq).unwrap();
        }
    });
    rt.block_on(async {
        for seq in 0..N {
            assert_eq!(rx.recv().await, Some(seq));
            assert_eq!(urx.recv().await, Some(seq));
        }
        assert_eq!(rx.recv().await, None);
        assert_eq!(urx.recv().await, None);
    });
    feed.join().unwrap();
}

fn several_threads_feed_one_task_each_in_its_own_order(rt: &Runtime) {
    const THREADS: usize = 4;
    let per_thread = N / 4;
    let (tx, mut rx) = remote_mpsc::channel::<(usize, u64)>(8);
    let (utx, mut urx) = remote_mpsc::unbounded_channel::<(usize, u64)>();
    let feeds: Vec<_> = (0..THREADS)
        .map(|id| {
            let (tx, utx) = (tx.clone(), utx.clone());
            thread::spawn(move || {
                for seq in 0..per_thread {
                    tx.blocking_send((id, seq)).unwrap();
                    utx.send((id, seq)).unwrap();
                }
            })
        })
        .collect();
    drop((tx, utx));
    rt.block_on(async {
        let mut next = [0; THREADS];
        while let Some((id, seq)) = rx.recv().await {
            assert_eq!(seq, next[id]);
            next[id] += 1;
        }
        assert_eq!(next, [per_thread; THREADS]);
        let mut next = [0; THREADS];
        let mut buf = Vec::with_capacity(64);
        while urx.recv_many(&mut buf, 64).await > 0 {
            for (id, seq) in buf.drain(..) {
                assert_eq!(seq, next[id]);
                next[id] += 1;
            }
        }
        assert_eq!(next, [per_thread; THREADS]);
    });
    for feed in feeds {
        feed.join().unwrap();
    }
}

fn a_trickle_reaches_a_runtime_that_sleeps_between_values(rt: &Runtime) {
    // Paced so that a parked runtime is asleep in the kernel when most values arrive: each one
    // must come with a wake that ends the wait (the pause paces, it synchronizes nothing).
    let (tx, mut rx) = remote_mpsc::unbounded_channel::<u32>();
    let feed = thread::spawn(move || {
        for n in 0..200 {
            thread::sleep(Duration::from_micros(200));
            tx.send(n).unwrap();
        }
    });
    rt.block_on(async {
        for n in 0..200 {
            assert_eq!(rx.recv().await, Some(n));
        }
        assert_eq!(rx.recv().await, None);
    });
    feed.join().unwrap();
}

fn a_full_channel_blocks_a_thread_until_the_task_makes_room(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::channel::<u64>(1);
    let feed = thread::spawn(move || {
        for seq in 0..2_000 {
            tx.blocking_send(seq).unwrap();
        }
    });
    rt.block_on(async {
        for seq in 0..2_000 {
            if seq % 7 == 0 {
                yield_now().await; // let the thread find the channel full
            }
            assert_eq!(rx.recv().await, Some(seq));
        }
        assert_eq!(rx.recv().await, None);
    });
    feed.join().unwrap();
}

fn a_task_of_another_runtime_sends_with_await(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::channel::<u64>(1);
    let other = thread::spawn(move || {
        sonic_test_support::rt(false).block_on(async move {
            for seq in 0..5_000 {
                tx.send(seq).await.unwrap();
            }
        });
    });
    rt.block_on(async {
        for seq in 0..5_000 {
            assert_eq!(rx.recv().await, Some(seq));
        }
        assert_eq!(rx.recv().await, None);
    });
    other.join().unwrap();
}

fn the_receiver_can_move_to_a_thread(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::channel::<u64>(4);
    let worker = thread::spawn(move || {
        let mut sum = 0;
        while let Some(n) = rx.blocking_recv() {
            sum += n;
        }
        sum
    });
    rt.block_on(async move {
        for n in 0..N {
            tx.send(n).await.unwrap();
        }
    });
    assert_eq!(worker.join().unwrap(), N * (N - 1) / 2);
}

fn closing_from_the_task_fails_a_blocked_thread_sender(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::channel::<u32>(1);
    let (ready_tx, mut ready_rx) = remote_mpsc::unbounded_channel::<()>();
    let feed = thread::spawn(move || {
        tx.blocking_send(1).unwrap();
        ready_tx.send(()).unwrap();
        // The channel is full: this waits until the task closes it.
        let refused = tx.blocking_send(2);
        (refused, tx.is_closed())
    });
    rt.block_on(async {
        ready_rx.recv().await.unwrap();
        // Let the thread queue up for room (not required: a send after the close fails too).
        for _ in 0..10 {
            yield_now().await;
        }
        rx.close();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
    let (refused, closed) = feed.join().unwrap();
    assert!(matches!(refused, Err(SendError(2))));
    assert!(closed);
}

fn closed_completes_on_another_runtime_when_the_receiver_drops(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::unbounded_channel::<u32>();
    let watcher = thread::spawn(move || {
        sonic_test_support::rt(false).block_on(async move {
            tx.send(1).unwrap();
            tx.closed().await;
            tx.send(2)
        })
    });
    rt.block_on(async move {
        assert_eq!(rx.recv().await, Some(1));
        drop(rx);
    });
    assert!(matches!(watcher.join().unwrap(), Err(SendError(2))));
}

fn a_flood_of_values_does_not_starve_other_tasks(rt: &Runtime) {
    let (tx, mut rx) = remote_mpsc::unbounded_channel::<u32>();
    thread::spawn(move || {
        for n in 0..1_000 {
            tx.send(n).unwrap();
        }
    })
    .join()
    .unwrap();
    rt.block_on(async {
        let ticks = Rc::new(Cell::new(0));
        let ticker = {
            let ticks = ticks.clone();
            spawn(async move {
                loop {
                    ticks.set(ticks.get() + 1);
                    yield_now().await;
                }
            })
        };
        let mut received = 0;
        let mut ticks_seen_while_draining = 0;
        while rx.recv().await.is_some() {
            received += 1;
            ticks_seen_while_draining = ticks.get();
        }
        assert_eq!(received, 1_000);
        // The receiver never had to wait, yet the ticker ran: the budget made it yield.
        assert!(ticks_seen_while_draining > 0);
        ticker.abort();
    });
}

fn slots_a_thread_gives_back_complete_a_waiting_reserve_many(rt: &Runtime) {
    // The thread's slots come back in two steps: the first leaves the task's `reserve_many`
    // partly served (no wake), the second completes it and must wake the task across threads
    // (on a parked runtime, through its eventfd).
    let (tx, mut rx) = remote_mpsc::channel::<u32>(4);
    let held = tx.try_reserve_many(3).unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut held = held;
            go_rx.recv().unwrap();
            drop(held.next());
            assert_eq!(held.len(), 2);
            drop(held);
        });
        rt.block_on(async {
            let mut many = pin!(tx.reserve_many(4));
            // Its first poll takes the free slot and queues for the three the thread holds.
            let first = poll_fn(|cx| Poll::Ready(many.as_mut().poll(cx))).await;
            assert!(first.is_pending());
            assert_eq!(tx.capacity(), 0);
            go_tx.send(()).unwrap();
            let permits = many.await.unwrap();
            assert_eq!(permits.len(), 4);
            for (n, permit) in (0..).zip(permits) {
                permit.send(n);
            }
            for n in 0..4 {
                assert_eq!(rx.recv().await, Some(n));
            }
        });
    });
    assert_eq!(tx.capacity(), 4);
}

fn threads_reserving_batches_feed_a_task_in_order(rt: &Runtime) {
    // Batches up to the whole capacity from tasks of other runtimes, against a thread sending
    // one value at a time: nobody deadlocks or starves, each thread's values keep their order,
    // and every slot comes back.
    const CAP: usize = 4;
    const THREADS: usize = 3;
    const ROUNDS: usize = 500;
    let (tx, mut rx) = remote_mpsc::channel::<(usize, usize)>(CAP);
    let feeds: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                if id == 0 {
                    for seq in 0..ROUNDS {
                        tx.blocking_send((id, seq)).unwrap();
                    }
                    return ROUNDS;
                }
                sonic_test_support::rt(id == 1).block_on(async move {
                    let mut seq = 0;
                    for round in 0..ROUNDS {
                        let n = 1 + (round + id) % CAP;
                        let permits = tx.reserve_many(n).await.unwrap();
                        assert_eq!(permits.len(), n);
                        for permit in permits {
                            permit.send((id, seq));
                            seq += 1;
                        }
                    }
                    seq
                })
            })
        })
        .collect();
    drop(tx);
    let next = rt.block_on(async {
        let mut next = [0; THREADS];
        while let Some((id, seq)) = rx.recv().await {
            assert_eq!(seq, next[id]);
            next[id] += 1;
        }
        next
    });
    let sent: Vec<usize> = feeds.into_iter().map(|f| f.join().unwrap()).collect();
    assert_eq!(next.to_vec(), sent);
    assert_eq!(rx.capacity(), CAP);
}

each_mode!(
    a_thread_feeds_a_task_in_order,
    several_threads_feed_one_task_each_in_its_own_order,
    a_trickle_reaches_a_runtime_that_sleeps_between_values,
    a_full_channel_blocks_a_thread_until_the_task_makes_room,
    a_task_of_another_runtime_sends_with_await,
    the_receiver_can_move_to_a_thread,
    closing_from_the_task_fails_a_blocked_thread_sender,
    closed_completes_on_another_runtime_when_the_receiver_drops,
    a_flood_of_values_does_not_starve_other_tasks,
    slots_a_thread_gives_back_complete_a_waiting_reserve_many,
    threads_reserving_batches_feed_a_task_in_order,
);

#[test]
#[should_panic(expected = "cannot block the thread that runs a sonic runtime")]
fn blocking_send_on_the_runtime_thread_panics() {
    let (tx, _rx) = remote_mpsc::channel::<u8>(1);
    common::rt(true).block_on(async move {
        let _ = tx.blocking_send(1);
    });
}

#[test]
#[should_panic(expected = "cannot block the thread that runs a sonic runtime")]
fn blocking_recv_on_the_runtime_thread_panics() {
    let (_tx, mut rx) = remote_mpsc::unbounded_channel::<u8>();
    common::rt(false).block_on(async move {
        let _ = rx.blocking_recv();
    });
}
