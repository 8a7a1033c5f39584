//! `sync::OnceCell` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::OnceCell;
use sonic_rt::task::yield_now;
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::rc::Rc;

fn concurrent_initialisers_run_once_and_share_the_value(rt: &Runtime) {
    rt.block_on(async {
        let cell = Rc::new(OnceCell::new());
        let runs = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (cell, runs) = (Rc::clone(&cell), Rc::clone(&runs));
                spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            runs.set(runs.get() + 1);
                            yield_now().await;
                            yield_now().await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let values: Vec<_> = {
            let mut values = Vec::new();
            for task in tasks {
                values.push(task.await.unwrap());
            }
            values
        };
        assert_eq!(runs.get(), 1);
        assert!(values.iter().all(|v| *v == values[0]));
        assert_eq!(cell.get(), Some(&values[0]));
    });
}

fn an_aborted_initialiser_hands_over_to_a_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let cell = Rc::new(OnceCell::new());
        let first = {
            let cell = Rc::clone(&cell);
            spawn(async move { *cell.get_or_init(std::future::pending::<&'static str>).await })
        };
        yield_now().await;
        let second = {
            let cell = Rc::clone(&cell);
            spawn(async move { *cell.get_or_init(|| async { "second" }).await })
        };
        yield_now().await;
        assert!(!cell.initialized());
        first.abort();
        assert!(first.await.is_err());
        assert_eq!(second.await.unwrap(), "second");
    });
}

fn a_failed_initialiser_hands_over_to_a_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let cell = Rc::new(OnceCell::<u32>::new());
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let cell = Rc::clone(&cell);
                spawn(async move {
                    cell.get_or_try_init(|| async move {
                        yield_now().await;
                        if i == 0 {
                            Err("first fails")
                        } else {
                            Ok(i)
                        }
                    })
                    .await
                    .copied()
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(results, [Err("first fails"), Ok(1), Ok(1)]);
    });
}

each_mode!(
    concurrent_initialisers_run_once_and_share_the_value,
    an_aborted_initialiser_hands_over_to_a_waiting_task,
    a_failed_initialiser_hands_over_to_a_waiting_task,
);
