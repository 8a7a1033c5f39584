//! `task::unconstrained` and `task::coop`: a future polled without budget, and the task's budget
//! left as it was around it.

mod common;

use sonic_rt::sync::mpsc;
use sonic_rt::task::{self, coop, unconstrained};
use sonic_rt::Runtime;
use sonic_test_support::each_mode;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

fn receives_yield_once_the_budget_is_spent(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for _ in 0..1000 {
            tx.send(()).unwrap();
        }
        poll_fn(|cx| {
            for _ in 0..1000 {
                if rx.poll_recv(cx).is_pending() {
                    return Poll::Ready(());
                }
            }
            panic!("1000 receives in one poll never yielded");
        })
        .await;
    }))
    .unwrap();
}

fn unconstrained_receives_never_yield(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        unconstrained(poll_fn(|cx| {
            for i in 0..1000 {
                assert_eq!(rx.poll_recv(cx), Poll::Ready(Some(i)));
            }
            Poll::Ready(())
        }))
        .await;
    }))
    .unwrap();
}

fn unconstrained_leaves_the_task_budget_as_it_was(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        poll_fn(|cx| {
            for _ in 0..100 {
                assert!(task::poll_proceed(cx).is_ready());
            }
            let inner = pin!(unconstrained(poll_fn(|cx| {
                for _ in 0..1000 {
                    assert!(task::poll_proceed(cx).is_ready());
                }
                assert!(coop::has_budget_remaining());
                Poll::Ready(())
            })));
            assert!(inner.poll(cx).is_ready());
            // 128 - 100 left, as before the unconstrained future.
            let mut left = 0;
            while left < 1000 && task::poll_proceed(cx).is_ready() {
                left += 1;
            }
            assert_eq!(left, 28);
            assert!(!coop::has_budget_remaining());
            Poll::Ready(())
        })
        .await;
    }))
    .unwrap();
}

fn consume_budget_loop_yields_unless_unconstrained(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        let mut counted = pin!(async {
            for _ in 0..1000 {
                coop::consume_budget().await;
            }
        });
        let yielded = poll_fn(|cx| Poll::Ready(counted.as_mut().poll(cx).is_pending())).await;
        assert!(yielded, "a consume_budget loop yields within one poll");
        task::yield_now().await;
        let mut free = pin!(unconstrained(async {
            for _ in 0..1000 {
                coop::consume_budget().await;
            }
        }));
        let done = poll_fn(|cx| Poll::Ready(free.as_mut().poll(cx).is_ready())).await;
        assert!(done, "unconstrained: 1000 units in one poll");
    }))
    .unwrap();
}

each_mode!(
    receives_yield_once_the_budget_is_spent,
    unconstrained_receives_never_yield,
    unconstrained_leaves_the_task_budget_as_it_was,
    consume_budget_loop_yields_unless_unconstrained,
);

#[test]
fn outside_a_task_the_budget_is_unlimited() {
    assert!(coop::has_budget_remaining());
}
