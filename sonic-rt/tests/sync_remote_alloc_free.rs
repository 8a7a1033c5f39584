//! Proves that `sync::remote_mpsc` allocates nothing per message once warmed up, on both sides:
//! the counting allocator counts per thread, so the producer thread and the runtime thread
//! each count their own rounds. Bounded: values handed over one at a time, and senders that
//! wait for room every time. Unbounded: bursts that span several blocks (emptied blocks are
//! reused, so a backlog no larger than before allocates nothing).

mod common;

use sonic_rt::sync::remote_mpsc;
use sonic_test_support::allocations;
use std::thread;

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

const WARMUP: u64 = 200;
const ROUNDS: u64 = 2000;

/// Runs `round(i)` for the warm-up rounds, then returns how many allocations the measured rounds
/// made on this thread, with the backtraces of the first ones (empty when none).
fn measured(mut round: impl FnMut(u64)) -> Counted {
    for i in 0..WARMUP {
        round(i);
    }
    let before = allocations();
    sonic_test_support::trace_allocations(true);
    for i in WARMUP..WARMUP + ROUNDS {
        round(i);
    }
    sonic_test_support::trace_allocations(false);
    Counted(
        allocations() - before,
        sonic_test_support::traced_allocations(),
    )
}

/// An allocation count, and where the first ones happened; compares equal to a count.
struct Counted(u64, String);

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} allocations; the first ones:\n{}", self.0, self.1)
    }
}

impl PartialEq<u64> for Counted {
    fn eq(&self, n: &u64) -> bool {
        self.0 == *n
    }
}

#[test]
fn bounded_hand_offs_between_a_thread_and_a_task_allocate_nothing() {
    for busy_poll in [false, true] {
        let (tx, mut rx) = remote_mpsc::channel::<u64>(1);
        let (back_tx, mut back_rx) = remote_mpsc::channel::<u64>(1);
        let thread_side = thread::spawn(move || {
            measured(|i| {
                tx.blocking_send(i).unwrap();
                assert_eq!(back_rx.blocking_recv(), Some(i));
            })
        });
        let rt = common::rt(busy_poll);
        let task_side = rt.block_on(async move {
            let mut allocs = 0;
            for i in 0..WARMUP + ROUNDS {
                if i == WARMUP {
                    allocs = allocations();
                }
                assert_eq!(rx.recv().await, Some(i));
                back_tx.send(i).await.unwrap();
            }
            allocations() - allocs
        });
        assert_eq!(task_side, 0, "runtime thread, busy_poll = {busy_poll}");
        assert_eq!(
            thread_side.join().unwrap(),
            0,
            "producer thread, busy_poll = {busy_poll}"
        );
    }
}

#[test]
fn unbounded_hand_offs_between_a_thread_and_a_task_allocate_nothing() {
    for busy_poll in [false, true] {
        let (tx, mut rx) = remote_mpsc::unbounded_channel::<u64>();
        let (back_tx, mut back_rx) = remote_mpsc::unbounded_channel::<u64>();
        let thread_side = thread::spawn(move || {
            measured(|i| {
                tx.send(i).unwrap();
                assert_eq!(back_rx.blocking_recv(), Some(i));
            })
        });
        let task_side = common::rt(busy_poll).block_on(async move {
            let mut allocs = 0;
            for i in 0..WARMUP + ROUNDS {
                if i == WARMUP {
                    allocs = allocations();
                }
                assert_eq!(rx.recv().await, Some(i));
                back_tx.send(i).unwrap();
            }
            allocations() - allocs
        });
        assert_eq!(task_side, 0, "runtime thread, busy_poll = {busy_poll}");
        assert_eq!(
            thread_side.join().unwrap(),
            0,
            "producer thread, busy_poll = {busy_poll}"
        );
    }
}

#[test]
fn senders_blocked_on_a_full_channel_allocate_nothing() {
    for busy_poll in [false, true] {
        let (tx, mut rx) = remote_mpsc::channel::<u64>(1);
        // Two threads that nearly always find the channel full, so every send queues and is
        // handed a slot by the receiver.
        let feeds: Vec<_> = (0..2)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || measured(|i| tx.blocking_send(i).unwrap()))
            })
            .collect();
        drop(tx);
        let task_side = common::rt(busy_poll).block_on(async move {
            let mut allocs = 0;
            let mut received = 0;
            while rx.recv().await.is_some() {
                received += 1;
                if received == 2 * WARMUP {
                    allocs = allocations();
                }
            }
            assert_eq!(received, 2 * (WARMUP + ROUNDS));
            allocations() - allocs
        });
        assert_eq!(task_side, 0, "runtime thread, busy_poll = {busy_poll}");
        for feed in feeds {
            assert_eq!(
                feed.join().unwrap(),
                0,
                "producer thread, busy_poll = {busy_poll}"
            );
        }
    }
}

#[test]
fn unbounded_bursts_reuse_their_blocks() {
    const BURST: u64 = 64; // two blocks of 32
    for busy_poll in [false, true] {
        let (tx, mut rx) = remote_mpsc::unbounded_channel::<u64>();
        let (ack_tx, mut ack_rx) = remote_mpsc::unbounded_channel::<()>();
        let thread_side = thread::spawn(move || {
            measured(|_| {
                for n in 0..BURST {
                    tx.send(n).unwrap();
                }
                ack_rx.blocking_recv().unwrap();
            })
        });
        let task_side = common::rt(busy_poll).block_on(async move {
            let mut allocs = 0;
            let mut buf = Vec::with_capacity(BURST as usize);
            for round in 0..WARMUP + ROUNDS {
                if round == WARMUP {
                    allocs = allocations();
                }
                while buf.len() < BURST as usize {
                    rx.recv_many(&mut buf, BURST as usize).await;
                }
                assert!(buf.iter().copied().eq(0..BURST));
                buf.clear();
                ack_tx.send(()).unwrap();
            }
            allocations() - allocs
        });
        assert_eq!(task_side, 0, "runtime thread, busy_poll = {busy_poll}");
        assert_eq!(
            thread_side.join().unwrap(),
            0,
            "producer thread, busy_poll = {busy_poll}"
        );
    }
}
