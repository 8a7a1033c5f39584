//! `select!`, `join!`, `try_join!` and `pin!` on a real runtime, in both loop modes.
// The expansions hold their own `unsafe` pin projections; they must still compile in a crate
// that forbids unsafe code (lints are not reported inside an external macro's expansion).
#![forbid(unsafe_code)]

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::{mpsc, oneshot};
use sonic_rt::task::{consume_budget, yield_now};
use sonic_rt::time::{sleep, Instant};
use sonic_rt::Runtime;
use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, ready, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

each_mode!(
    select_first_ready_wins_and_others_drop,
    select_pattern_mismatch_disables_branch,
    select_precondition_and_else,
    select_biased_polls_in_order,
    select_unbiased_spreads_start,
    select_in_loop_with_pinned_future,
    select_handler_controls_flow,
    select_futures_dropped_before_handler,
    join_waits_for_all_concurrently,
    try_join_stops_at_first_error,
    pin_forms,
    macro_locals_do_not_capture_user_names,
    select_ref_mut_patterns_bind_into_the_output,
    select_branch_temporaries_live_as_long_as_the_futures,
    select_with_only_else_runs_it,
    select_accepts_tokio_branch_forms,
    select_loop_over_ready_branches_lets_other_tasks_run,
    select_loop_over_ready_branches_lets_a_timer_fire,
    join_biased_polls_in_written_order_every_time,
    join_unbiased_starts_one_branch_later_each_poll,
    try_join_biased_polls_in_order_and_stops_at_error,
    join_and_try_join_accept_uninhabited_outputs,
);

/// Counts polls and drops of a wrapped future.
struct Probe<F> {
    inner: F,
    polls: Rc<Cell<u32>>,
    drops: Rc<Cell<u32>>,
}

impl<F: Future + Unpin> Future for Probe<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F> Drop for Probe<F> {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

fn probe<F>(inner: F) -> (Probe<F>, Rc<Cell<u32>>, Rc<Cell<u32>>) {
    let polls = Rc::new(Cell::new(0));
    let drops = Rc::new(Cell::new(0));
    (
        Probe {
            inner,
            polls: polls.clone(),
            drops: drops.clone(),
        },
        polls,
        drops,
    )
}

fn select_first_ready_wins_and_others_drop(rt: &Runtime) {
    rt.block_on(async {
        let (slow, _, slow_drops) = probe(Box::pin(sleep(Duration::from_secs(10))));
        let (tx, rx) = oneshot::channel::<&str>();
        let _detached = sonic_rt::spawn(async move {
            sleep(Duration::from_millis(2)).await;
            tx.send("fast").unwrap();
        });
        let t0 = Instant::now();
        let got = sonic_rt::select! {
            _ = slow => "slow",
            Ok(v) = rx => v,
        };
        assert_eq!(got, "fast");
        assert_eq!(slow_drops.get(), 1, "the losing future is dropped");
        assert!(t0.elapsed() < Duration::from_secs(5));
    });
}

fn select_pattern_mismatch_disables_branch(rt: &Runtime) {
    rt.block_on(async {
        // `rx` resolves at once with Err (its sender is gone): `Ok(v)` does not match, so the
        // branch is disabled and the sleep wins.
        let (tx, rx) = oneshot::channel::<u32>();
        drop(tx);
        let (never_polled_again, polls, _) = probe(Box::pin(async { Some(1) }));
        let got = sonic_rt::select! {
            Ok(v) = rx => v,
            None = never_polled_again => 99, // Some(1) does not match None: disabled too
            _ = sleep(Duration::from_millis(1)) => 7,
        };
        assert_eq!(got, 7);
        assert_eq!(polls.get(), 1, "a completed branch is not polled again");

        // Every branch mismatches: else runs.
        let got = sonic_rt::select! {
            Some(v) = ready(None::<u32>) => v,
            Err(()) = ready(Ok::<u32, ()>(3)) => 0,
            else => 42,
        };
        assert_eq!(got, 42);
    });
}

fn select_precondition_and_else(rt: &Runtime) {
    rt.block_on(async {
        let (future_polled, polls, drops) = probe(Box::pin(ready(1)));
        let enabled = false;
        let got = sonic_rt::select! {
            v = future_polled, if enabled => v,
            else => -1,
        };
        assert_eq!(got, -1);
        assert_eq!(
            polls.get(),
            0,
            "a disabled branch's future is created but never polled"
        );
        assert_eq!(drops.get(), 1);

        let got = sonic_rt::select! {
            v = ready(5), if !enabled => v,
            v = pending::<i32>() => v,
        };
        assert_eq!(got, 5);
    });
}

fn select_biased_polls_in_order(rt: &Runtime) {
    rt.block_on(async {
        for _ in 0..50 {
            let got = sonic_rt::select! {
                biased;
                v = ready(1) => v,
                v = ready(2) => v,
                v = ready(3) => v,
            };
            assert_eq!(got, 1);
        }
    });
}

fn select_unbiased_spreads_start(rt: &Runtime) {
    rt.block_on(async {
        let mut wins = [0u32; 3];
        for _ in 0..600 {
            let i: usize = sonic_rt::select! {
                v = ready(0) => v,
                v = ready(1) => v,
                v = ready(2) => v,
            };
            wins[i] += 1;
        }
        for w in wins {
            assert!(w > 100, "every branch should win sometimes: {wins:?}");
        }
    });
}

fn select_in_loop_with_pinned_future(rt: &Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let _detached = sonic_rt::spawn(async move {
            for i in 0..5 {
                tx.send(i).unwrap();
                sleep(Duration::from_micros(200)).await;
            }
        });
        let deadline = sleep(Duration::from_secs(5));
        sonic_rt::pin!(deadline);
        let mut got = Vec::new();
        loop {
            sonic_rt::select! {
                msg = rx.recv() => match msg {
                    Some(v) => got.push(v),
                    None => break,
                },
                _ = &mut deadline => panic!("timed out"),
            }
        }
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(!deadline.is_elapsed(), "the pinned sleep survived the loop");
    });
}

fn select_handler_controls_flow(rt: &Runtime) {
    async fn first_even(values: &[u32]) -> Option<u32> {
        for &v in values {
            sonic_rt::select! {
                x = ready(v) => {
                    if x % 2 == 1 {
                        continue;
                    }
                    // An await inside a handler, then an early return.
                    sonic_rt::task::yield_now().await;
                    return Some(x);
                }
            }
        }
        None
    }
    rt.block_on(async {
        assert_eq!(first_even(&[1, 3, 4, 5]).await, Some(4));
        assert_eq!(first_even(&[1]).await, None);
        let r: Result<u32, &str> = async {
            let v = sonic_rt::select! {
                r = ready(Err::<u32, &str>("e")) => r?,
            };
            Ok(v)
        }
        .await;
        assert_eq!(r, Err("e"));
    });
}

fn select_futures_dropped_before_handler(rt: &Runtime) {
    rt.block_on(async {
        let mut buf = Vec::new();
        // Both futures borrow `buf` mutably-ish through the closure; the handler may use it
        // because the futures are gone by then.
        let got = sonic_rt::select! {
            n = async { buf.push(1); buf.len() } => { buf.push(2); n }
        };
        assert_eq!(got, 1);
        assert_eq!(buf, vec![1, 2]);
    });
}

fn join_waits_for_all_concurrently(rt: &Runtime) {
    rt.block_on(async {
        let t0 = Instant::now();
        let (a, b, c) = sonic_rt::join!(
            async {
                sleep(Duration::from_millis(30)).await;
                1
            },
            async {
                sleep(Duration::from_millis(30)).await;
                "b"
            },
            ready(3.5),
        );
        assert_eq!((a, b, c), (1, "b", 3.5));
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(30));
        assert!(
            took < Duration::from_millis(59),
            "ran one after the other: {took:?}"
        );

        // A finished branch is not polled again.
        let (p, polls, _) = probe(Box::pin(ready(())));
        let ((), ()) = sonic_rt::join!(p, sleep(Duration::from_millis(2)));
        assert_eq!(polls.get(), 1);

        let () = sonic_rt::join!();
        let (single,) = sonic_rt::join!(ready(9));
        assert_eq!(single, 9);
    });
}

fn try_join_stops_at_first_error(rt: &Runtime) {
    rt.block_on(async {
        let ok: Result<(u8, &str), String> =
            sonic_rt::try_join!(async { Ok(1) }, async { Ok("x") });
        assert_eq!(ok, Ok((1, "x")));

        let (slow, _, drops) = probe(Box::pin(async {
            sleep(Duration::from_secs(10)).await;
            Ok::<u8, String>(0)
        }));
        let t0 = Instant::now();
        let err: Result<(u8, u8), String> = sonic_rt::try_join!(slow, async {
            sleep(Duration::from_millis(1)).await;
            Err("failed".to_string())
        });
        assert_eq!(err, Err("failed".to_string()));
        assert_eq!(drops.get(), 1);
        assert!(t0.elapsed() < Duration::from_secs(5));
    });
}

fn pin_forms(rt: &Runtime) {
    rt.block_on(async {
        let a = ready(1);
        let b = ready(2);
        sonic_rt::pin!(a, b);
        assert_eq!(a.as_mut().await + b.as_mut().await, 3);
        sonic_rt::pin! {
            let c = ready(3);
            let d = poll_fn(|_| Poll::Ready(4));
        }
        assert_eq!(c.await + d.await, 7);
    });
}

fn macro_locals_do_not_capture_user_names(rt: &Runtime) {
    rt.block_on(async {
        // Names the expansions use for their own locals, as user variables.
        let (out, disabled, cx, value, pending, start, branch, fut0, i, next, done, out0) =
            (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        let (init, state, fut) = (100, 200, 300);
        let got = sonic_rt::select! {
            v = ready(out + disabled + cx) => v + value + pending,
            v = ready(start + branch) => v + fut0 + i,
        };
        assert!(got == 15 || got == 30, "{got}");
        let got = sonic_rt::select! {
            v = ready(init + state), if fut == 300 => v + fut,
        };
        assert_eq!(got, 600);
        let (a, b) = sonic_rt::join!(ready(next), ready(done + out0));
        assert_eq!((a, b), (10, 23));
        let (a, b) = sonic_rt::join!(ready(state), ready(fut + init));
        assert_eq!((a, b), (200, 400));
        let r: Result<(i32,), ()> = sonic_rt::try_join!(ready(Ok(i)));
        assert_eq!(r, Ok((9,)));
    });
}

fn select_ref_mut_patterns_bind_into_the_output(rt: &Runtime) {
    rt.block_on(async {
        // `ref mut` (tokio issue 4182): the handler changes the output in place.
        let got = sonic_rt::select! {
            Some(ref mut s) = async { Some(String::from("a")) } => {
                s.push('b');
                s.clone()
            }
        };
        assert_eq!(got, "ab");

        let got = sonic_rt::select! {
            (ref mut a, b) = ready((1, 2)) => {
                *a += b;
                *a
            },
            _ = pending::<()>() => 0,
        };
        assert_eq!(got, 3);

        let got = sonic_rt::select! {
            Some(mut s) = ready(Some(String::from("x"))) => {
                s.push('y');
                s
            },
            else => String::new(),
        };
        assert_eq!(got, "xy");

        let got = sonic_rt::select! {
            Some(ref s) = ready(Some(String::from("abc"))) => s.len(),
        };
        assert_eq!(got, 3);

        // `mut` on a binding of a pinned future's output (tokio issue 2857).
        let ok = async { 1 };
        sonic_rt::pin!(ok);
        let got = sonic_rt::select! {
            mut a = &mut ok => {
                a += 1;
                a
            }
        };
        assert_eq!(got, 2);
    });
}

fn select_branch_temporaries_live_as_long_as_the_futures(rt: &Runtime) {
    rt.block_on(async {
        // `&mut <temporary>`: Rust extends the temporary to the end of the enclosing block
        // when the expression is an operand of a tuple in a `let`, which is how tokio's
        // expansion stores the branch expressions (tokio issue 6721).
        sonic_rt::select! {
            () = &mut ready(()) => {},
        }
        let got = sonic_rt::select! {
            v = &mut ready(7) => v,
            _ = &mut sleep(Duration::from_secs(5)) => 0,
        };
        assert_eq!(got, 7);
        let got = sonic_rt::select! {
            _ = &mut pending::<()>() => 0,
            _ = &mut sleep(Duration::from_millis(1)) => 1,
        };
        assert_eq!(got, 1);
    });
}

fn select_with_only_else_runs_it(rt: &Runtime) {
    rt.block_on(async {
        let got = sonic_rt::select! {
            else => 7,
        };
        assert_eq!(got, 7);
        let got = sonic_rt::select! {
            biased;
            else => {
                let x = 4;
                x * 2
            }
        };
        assert_eq!(got, 8);
        let got = sonic_rt::select! { else => "no comma" };
        assert_eq!(got, "no comma");
    });
}

async fn never() -> std::convert::Infallible {
    pending().await
}

fn select_accepts_tokio_branch_forms(rt: &Runtime) {
    struct NotAFuture;
    impl std::future::IntoFuture for NotAFuture {
        type Output = u8;
        type IntoFuture = std::future::Ready<u8>;
        fn into_future(self) -> Self::IntoFuture {
            ready(5)
        }
    }
    macro_rules! select_all_ready {
        ($($i:literal)*) => {
            sonic_rt::select! { biased; $(x = ready($i) => x,)* }
        };
    }
    rt.block_on(async {
        // A branch whose output is uninhabited: no unreachable-code warning (`-D warnings`).
        let got = sonic_rt::select! {
            _ = never() => 0,
            v = async { 1 } => v,
        };
        assert_eq!(got, 1);
        // `IntoFuture`.
        let got = sonic_rt::select! {
            v = NotAFuture => v,
        };
        assert_eq!(got, 5);
        // Nested.
        let got = sonic_rt::select! {
            v = async {
                sonic_rt::select! {
                    v = ready(2) => v * 10,
                    _ = pending::<()>() => 0,
                }
            } => v + 1,
            _ = pending::<()>() => 0,
        };
        assert_eq!(got, 21);
        // A precondition that disables a branch whose future is never polled.
        sonic_rt::select! {
            _ = sleep(Duration::from_millis(10)), if false => panic!("precondition ignored"),
            _ = async { 1u32 } => {}
        }
        // 9, 17, 33 and 64 branches: every mask width.
        assert_eq!(select_all_ready!(1 2 3 4 5 6 7 8 9), 1);
        assert_eq!(
            select_all_ready!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17),
            1
        );
        assert_eq!(
            select_all_ready!(
                1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
                31 32 33
            ),
            1
        );
        let last = sonic_rt::select! {
            biased;
            _ = pending::<()>(), if true => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            _ = pending::<()>() => 0, _ = pending::<()>() => 0, _ = pending::<()>() => 0,
            v = ready(64) => v, // the 64th branch: the mask's top bit
        };
        assert_eq!(last, 64);
    });
}

/// The loop of tokio's `select_is_budget_aware`: one branch spends budget, the other is always
/// ready and spends none, so only `select!`'s own budget check can make the task yield.
async fn spin_until(done: &Cell<bool>, what: &str) {
    let t0 = Instant::now();
    let mut rounds = 0u64;
    while !done.get() {
        sonic_rt::select! {
            () = consume_budget() => {},
            () = ready(()) => {},
        }
        rounds += 1;
        if rounds % 1024 == 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "{what} never ran: the select! loop did not yield in {rounds} rounds"
            );
        }
    }
}

fn select_loop_over_ready_branches_lets_other_tasks_run(rt: &Runtime) {
    rt.block_on(async {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let _other = sonic_rt::spawn(async move { flag.set(true) });
        spin_until(&ran, "the other task").await;
    });
    // Also as a spawned task (its budget comes from the executor, not from `block_on`).
    rt.block_on(async {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let spinner = sonic_rt::spawn(async move { spin_until(&flag, "the other task").await });
        let flag = ran.clone();
        let _other = sonic_rt::spawn(async move { flag.set(true) });
        spinner.await.unwrap();
    });
}

fn select_loop_over_ready_branches_lets_a_timer_fire(rt: &Runtime) {
    rt.block_on(async {
        let fired = Rc::new(Cell::new(false));
        let flag = fired.clone();
        let _timer = sonic_rt::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            flag.set(true);
        });
        spin_until(&fired, "the 1 ms timer").await;
    });
}

/// A future that records `id` each time it is polled, three times, yielding in between.
async fn record_polls(id: u32, log: &RefCell<Vec<u32>>) -> u32 {
    for _ in 0..3 {
        log.borrow_mut().push(id);
        yield_now().await;
    }
    id
}

fn join_biased_polls_in_written_order_every_time(rt: &Runtime) {
    rt.block_on(async {
        let log = RefCell::new(Vec::new());
        let got = sonic_rt::join!(
            biased;
            record_polls(0, &log),
            record_polls(1, &log),
            record_polls(2, &log),
        );
        assert_eq!(got, (0, 1, 2));
        assert_eq!(*log.borrow(), [0, 1, 2, 0, 1, 2, 0, 1, 2]);

        let (single,) = sonic_rt::join!(biased; ready(1));
        assert_eq!(single, 1);
        let () = sonic_rt::join!(biased;);
    });
}

fn join_unbiased_starts_one_branch_later_each_poll(rt: &Runtime) {
    rt.block_on(async {
        let log = RefCell::new(Vec::new());
        let got = sonic_rt::join!(
            record_polls(0, &log),
            record_polls(1, &log),
            record_polls(2, &log),
        );
        assert_eq!(got, (0, 1, 2));
        assert_eq!(*log.borrow(), [0, 1, 2, 1, 2, 0, 2, 0, 1]);
    });
}

fn try_join_biased_polls_in_order_and_stops_at_error(rt: &Runtime) {
    rt.block_on(async {
        let log = RefCell::new(Vec::new());
        let got: Result<_, &str> = sonic_rt::try_join!(
            biased;
            async { Ok(record_polls(0, &log).await) },
            async { Ok(record_polls(1, &log).await) },
        );
        assert_eq!(got, Ok((0, 1)));
        assert_eq!(*log.borrow(), [0, 1, 0, 1, 0, 1]);

        log.borrow_mut().clear();
        let (slow, _, drops) = probe(Box::pin(async {
            sleep(Duration::from_secs(10)).await;
            Ok::<u32, &str>(0)
        }));
        let got: Result<(u32, u32, u32), &str> = sonic_rt::try_join!(
            biased;
            async { Ok(record_polls(0, &log).await) },
            async {
                yield_now().await;
                Err("second")
            },
            slow,
        );
        assert_eq!(got, Err("second"));
        assert_eq!(drops.get(), 1, "the other futures are dropped");
        assert_eq!(
            *log.borrow(),
            [0, 0],
            "stopped at the error, on the second poll"
        );

        let ok: Result<(), ()> = sonic_rt::try_join!(biased;);
        assert_eq!(ok, Ok(()));
    });
}

// An uninhabited output must not make the caller's code "unreachable" (tokio issue 7031).
#[deny(unreachable_code)]
fn join_and_try_join_accept_uninhabited_outputs(rt: &Runtime) {
    use std::convert::Infallible;
    rt.block_on(async {
        async fn first_poll_pends(fut: impl Future) -> bool {
            let mut fut = std::pin::pin!(fut);
            poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
        }
        assert!(
            first_poll_pends(async {
                let _ = sonic_rt::join!(pending::<Infallible>(), async { 1 });
            })
            .await
        );
        assert!(
            first_poll_pends(async {
                let _ = sonic_rt::join!(biased; async { 1 }, pending::<Infallible>());
            })
            .await
        );

        let r = sonic_rt::try_join!(async { Err::<Infallible, _>(1) }, async { Ok(2) });
        assert_eq!(r, Err(1));
        let r = sonic_rt::try_join!(biased; async { Ok::<_, i32>(1) }, async {
            Err::<Infallible, _>(2)
        });
        assert_eq!(r, Err(2));
        let r = sonic_rt::try_join!(async { Ok::<_, Infallible>(1) }, async { Ok(2) });
        assert_eq!(r, Ok((1, 2)));
    });
}
