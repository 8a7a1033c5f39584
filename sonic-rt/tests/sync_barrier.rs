//! `sync::Barrier` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::Barrier;
use sonic_rt::task::yield_now;
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::rc::Rc;

fn each_round_releases_all_tasks_together_with_one_leader(rt: &Runtime) {
    rt.block_on(async {
        const TASKS: usize = 10;
        const ROUNDS: usize = 5;
        let barrier = Rc::new(Barrier::new(TASKS));
        let arrived = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (barrier, arrived) = (Rc::clone(&barrier), Rc::clone(&arrived));
                spawn(async move {
                    let mut leads = 0;
                    for round in 0..ROUNDS {
                        for _ in 0..i % 3 {
                            yield_now().await;
                        }
                        arrived.set(arrived.get() + 1);
                        let result = barrier.wait().await;
                        // Nobody passes before everyone of this round has arrived.
                        assert!(arrived.get() >= (round + 1) * TASKS);
                        leads += result.is_leader() as usize;
                    }
                    leads
                })
            })
            .collect();
        let mut leaders = 0;
        for task in tasks {
            leaders += task.await.unwrap();
        }
        assert_eq!(leaders, ROUNDS);
    });
}

each_mode!(each_round_releases_all_tasks_together_with_one_leader);
