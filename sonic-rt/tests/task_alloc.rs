//! Counting-allocator proofs for the task surface: once warmed up, spawning into a `JoinSet` and
//! joining allocates the task and nothing else; a task-local scope and an unconstrained poll
//! allocate nothing.

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_rt::task::{self, JoinSet};
use sonic_test_support::{allocations, assert_steady_state_alloc_free};

sonic_rt::task_local! {
    static KEY: u64;
}

/// Runs `round` 200 times to warm up, then 2000 times, and returns the allocations per round.
macro_rules! allocations_per_round {
    ($round:expr) => {{
        for _ in 0..200 {
            $round;
        }
        let before = allocations();
        for _ in 0..2000 {
            $round;
        }
        (allocations() - before) as f64 / 2000.0
    }};
}

#[test]
fn join_set_spawn_and_join_allocate_only_the_task() {
    for busy in [false, true] {
        let rt = sonic_test_support::rt(busy);
        // Joined from the block_on future and from a task (a task's waker is a task waker).
        rt.block_on(async {
            let mut set = JoinSet::new();
            let per_round = allocations_per_round!({
                set.spawn(async { 1u64 });
                assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
            });
            assert_eq!(per_round, 1.0, "busy_poll={busy}: block_on joins");
        });
        rt.block_on(rt.spawn(async move {
            let mut set = JoinSet::new();
            // Eight in flight: joins are woken by finishing tasks, not found by a scan.
            let per_round = allocations_per_round!({
                for i in 0..8u64 {
                    set.spawn(async move {
                        task::yield_now().await;
                        i
                    });
                }
                let mut sum = 0;
                while let Some(res) = set.join_next().await {
                    sum += res.unwrap();
                }
                assert_eq!(sum, 28);
            });
            assert_eq!(per_round, 8.0, "busy_poll={busy}: task joins");
        }))
        .unwrap();
    }
}

#[test]
fn task_local_scope_and_unconstrained_allocate_nothing() {
    let rt = sonic_test_support::rt(false);
    rt.block_on(async {
        assert_steady_state_alloc_free!("task-local scope", {
            let v = KEY
                .scope(7, async {
                    task::yield_now().await;
                    KEY.get()
                })
                .await;
            assert_eq!(v, 7);
        });
        assert_steady_state_alloc_free!("unconstrained", {
            task::unconstrained(task::consume_budget()).await;
        });
    });
}
