//! `JoinSet`: joining in completion order, ids, abort, drop, detach, try_join_next, shutdown,
//! join_all, the cooperative budget, cancel safety, and sets that outlive their runtime.

mod common;

use common::DropCounter;
use futures_util::FutureExt;
use sonic_rt::sync::oneshot;
use sonic_rt::task::{self, JoinSet, LocalSet};
use sonic_rt::time::{self, sleep};
use sonic_rt::{select, Runtime};
use sonic_test_support::each_mode;
use std::cell::Cell;
use std::future::{pending, poll_fn};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

fn join_next_returns_every_output_then_none(rt: &Runtime) {
    rt.block_on(async {
        let mut set = JoinSet::new();
        assert!(set.join_next().await.is_none());
        for i in 0..10 {
            set.spawn(async move { i });
            assert_eq!(set.len(), 1 + i);
        }
        let mut seen = [false; 10];
        while let Some(res) = set.join_next().await {
            seen[res.unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
    assert_eq!(rt.live_tasks(), 0);
}

fn join_next_follows_completion_order(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let mut set = JoinSet::new();
        for i in 0..5u64 {
            set.spawn(async move {
                sleep(Duration::from_secs(10 - i)).await;
                i
            });
        }
        let mut order = Vec::new();
        while let Some(res) = set.join_next().await {
            order.push(res.unwrap());
        }
        assert_eq!(order, [4, 3, 2, 1, 0]);
    });
}

fn join_next_with_id_gives_the_task_ids(rt: &Runtime) {
    rt.block_on(async {
        let mut set = JoinSet::new();
        let ok = set.spawn(async { task::id() }).id();
        let failed = set.spawn(async { panic!("boom") }).id();
        let mut got = Vec::new();
        while let Some(res) = set.join_next_with_id().await {
            match res {
                Ok((id, inner)) => {
                    assert_eq!(id, inner);
                    got.push(id);
                }
                Err(err) => {
                    assert!(err.is_panic());
                    got.push(err.id());
                }
            }
        }
        got.sort();
        let mut want = vec![ok, failed];
        want.sort();
        assert_eq!(got, want);
    });
}

fn abort_handle_cancels_one_task(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let mut set = JoinSet::new();
        let (mut cancelled, mut completed) = (0, 0);
        for i in 0..16u64 {
            let abort = set.spawn(async move {
                sleep(Duration::from_secs(i)).await;
                i
            });
            if i % 2 == 1 {
                abort.abort();
            }
        }
        while let Some(res) = set.join_next().await {
            match res {
                Ok(i) => {
                    assert_eq!(i % 2, 0);
                    completed += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        assert_eq!((cancelled, completed), (8, 8));
    });
}

fn abort_all_keeps_tasks_in_the_set_until_joined(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let mut set = JoinSet::new();
        for _ in 0..5 {
            set.spawn(pending::<()>());
        }
        for _ in 0..5 {
            set.spawn(sleep(Duration::from_secs(1)));
        }
        sleep(Duration::from_secs(2)).await;
        set.abort_all();
        assert_eq!(set.len(), 10);
        let (mut ok, mut cancelled) = (0, 0);
        while let Some(res) = set.join_next().await {
            match res {
                Ok(()) => ok += 1,
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        // The five sleepers had finished before the abort: they keep their output.
        assert_eq!((ok, cancelled), (5, 5));
        assert!(set.is_empty());
    });
}

fn dropping_the_set_aborts_every_task(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let mut receivers = Vec::new();
        for _ in 0..16 {
            let (tx, rx) = oneshot::channel::<()>();
            receivers.push(rx);
            let token = drops.token();
            set.spawn(async move {
                let _token = token;
                pending::<()>().await;
                drop(tx);
            });
        }
        task::yield_now().await;
        drop(set);
        // Aborted: the futures are dropped the next time the runtime runs its tasks.
        task::yield_now().await;
        assert_eq!(drops.get(), 16);
        for rx in receivers {
            // The sender was dropped with the aborted task's future.
            assert!(rx.await.is_err());
        }
    });
    assert_eq!(drops.get(), 16);
    assert_eq!(rt.live_tasks(), 0);
}

fn detach_all_lets_tasks_run_on_and_empties_the_set(rt: &Runtime) {
    rt.block_on(async {
        let ran = Rc::new(Cell::new(0));
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel::<()>();
        let r = ran.clone();
        set.spawn(async move {
            rx.await.unwrap();
            r.set(r.get() + 1);
            1
        });
        set.detach_all();
        assert_eq!(set.len(), 0);
        assert!(set.join_next().await.is_none());
        // A new task takes the detached one's slot; the detached one finishing later must not
        // be mistaken for it.
        let (tx2, rx2) = oneshot::channel::<()>();
        set.spawn(async move {
            rx2.await.unwrap();
            2
        });
        tx.send(()).unwrap();
        while ran.get() == 0 {
            task::yield_now().await;
        }
        assert!(
            set.try_join_next().is_none(),
            "the detached task is not in the set"
        );
        assert_eq!(set.len(), 1);
        tx2.send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 2);
        assert!(set.join_next().await.is_none());
    });
}

fn try_join_next_takes_finished_tasks_without_waiting(rt: &Runtime) {
    rt.block_on(async {
        let mut set = JoinSet::new();
        let mut senders = Vec::new();
        for i in 0..100 {
            let (tx, rx) = oneshot::channel::<()>();
            senders.push(tx);
            set.spawn(async move {
                rx.await.unwrap();
                i
            });
        }
        assert!(set.try_join_next().is_none());
        task::yield_now().await;
        assert!(set.try_join_next().is_none(), "nothing has finished");
        for tx in senders {
            tx.send(()).unwrap();
        }
        task::yield_now().await;
        task::yield_now().await;
        let mut sum = 0;
        while let Some(res) = set.try_join_next() {
            sum += res.unwrap();
        }
        assert_eq!(sum, 99 * 100 / 2);
        assert!(set.is_empty());
    });
}

fn shutdown_aborts_and_empties_the_set(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..8 {
            let token = drops.token();
            set.spawn(async move {
                let _token = token;
                pending::<()>().await
            });
        }
        set.spawn(async {});
        task::yield_now().await;
        set.shutdown().await;
        assert!(set.is_empty());
        assert_eq!(drops.get(), 8);
    });
}

fn join_all_gives_outputs_and_resumes_a_panic(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let mut set = JoinSet::new();
        for i in 0..3u64 {
            set.spawn(async move {
                sleep(Duration::from_secs(3 - i)).await;
                i
            });
        }
        assert_eq!(set.join_all().await, [2, 1, 0]);

        let (tx, rx) = oneshot::channel::<()>();
        let mut set = JoinSet::new();
        set.spawn(async move {
            sleep(Duration::from_secs(2)).await;
            tx.send(()).unwrap();
        });
        set.spawn(async {
            sleep(Duration::from_secs(1)).await;
            panic!("boom");
        });
        let err = task::spawn(set.join_all()).await.unwrap_err();
        assert!(err.is_panic());
        // The other task was aborted when the set dropped with the panic.
        assert!(rx.await.is_err());
    });
}

fn join_next_spends_the_budget(rt: &Runtime) {
    const N: usize = 1000;
    rt.block_on(rt.spawn(async {
        let done = Rc::new(Cell::new(0));
        let mut set = JoinSet::new();
        for _ in 0..N {
            let done = done.clone();
            set.spawn(async move { done.set(done.get() + 1) });
        }
        while done.get() < N {
            task::yield_now().await;
        }
        let (mut joined, mut yielded) = (0, 0);
        loop {
            match set.join_next().now_or_never() {
                Some(Some(res)) => {
                    res.unwrap();
                    joined += 1;
                }
                Some(None) => break,
                None => {
                    yielded += 1;
                    task::yield_now().await;
                }
            }
        }
        assert_eq!(joined, N);
        assert!(yielded >= N / 128 - 1, "yielded {yielded} times");
    }))
    .unwrap();
}

fn try_join_next_spends_no_budget(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        let mut set = JoinSet::new();
        for i in 0..1000 {
            set.spawn(async move { i });
        }
        task::yield_now().await;
        task::yield_now().await;
        poll_fn(|_| {
            let mut n = 0;
            while let Some(res) = set.try_join_next() {
                res.unwrap();
                n += 1;
            }
            assert_eq!(n, 1000);
            Poll::Ready(())
        })
        .await;
    }))
    .unwrap();
}

fn join_next_is_cancel_safe(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let mut set = JoinSet::new();
        set.spawn(async {
            sleep(Duration::from_secs(2)).await;
            7
        });
        select! {
            _ = set.join_next() => panic!("the task is still sleeping"),
            _ = sleep(Duration::from_secs(1)) => {}
        }
        assert_eq!(set.len(), 1);
        assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
    });
}

fn join_next_in_a_task_is_woken_by_a_finishing_task(rt: &Runtime) {
    let out = rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let joiner = task::spawn(async move {
            let mut set = JoinSet::new();
            set.spawn(async move { rx.await.unwrap() + 1 });
            set.join_next().await.unwrap().unwrap()
        });
        task::yield_now().await;
        tx.send(41).unwrap();
        joiner.await.unwrap()
    });
    assert_eq!(out, 42);
}

fn panicking_task_gives_a_panic_error(rt: &Runtime) {
    rt.block_on(async {
        let mut set = JoinSet::<()>::new();
        set.spawn(async { panic!("in the set") });
        let err = set.join_next().await.unwrap().unwrap_err();
        assert!(err.is_panic());
        assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "in the set");
    });
}

fn collect_and_extend_spawn_each_future(rt: &Runtime) {
    rt.block_on(async {
        let mut set: JoinSet<usize> = (0..5).map(|i| async move { i }).collect();
        set.extend((5..10).map(|i| async move { i }));
        assert_eq!(set.len(), 10);
        let mut seen = [false; 10];
        while let Some(res) = set.join_next().await {
            seen[res.unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s));
    });
}

fn spawn_local_goes_into_the_current_local_set(rt: &Runtime) {
    let drops = DropCounter::default();
    let local = LocalSet::new();
    let token = drops.token();
    let mut set = local.block_on(rt, async move {
        let mut set = JoinSet::new();
        set.spawn_local(async move {
            let _token = token;
            pending::<Rc<i32>>().await
        });
        set.spawn_local(async { Rc::new(5) });
        let five = set.join_next().await.unwrap().unwrap();
        assert_eq!(*five, 5);
        set
    });
    // The pending task belongs to the LocalSet too: dropping the set drops its future.
    drop(local);
    assert_eq!(drops.get(), 1);
    let err = rt.block_on(set.join_next()).unwrap().unwrap_err();
    assert!(err.is_cancelled());
}

fn spawn_local_on_a_set_that_is_not_running(rt: &Runtime) {
    let local = LocalSet::new();
    let mut set = JoinSet::new();
    for i in 0..8 {
        let rc = Rc::new(i);
        set.spawn_local_on(async move { *rc }, &local);
    }
    assert!(set.try_join_next().is_none());
    let sum = local.block_on(rt, async move {
        let mut sum = 0;
        while let Some(res) = set.join_next().await {
            sum += res.unwrap();
        }
        sum
    });
    assert_eq!(sum, 28);
}

fn a_destructor_that_joins_its_own_set_early_finds_nothing(rt: &Runtime) {
    use std::cell::RefCell;
    // The task reports to the set before its future's destructor runs; that destructor finds
    // the task not complete yet, and the owner still gets the output afterwards.
    struct JoinOnDrop(Rc<RefCell<JoinSet<u32>>>, Rc<Cell<Option<bool>>>);
    impl Drop for JoinOnDrop {
        fn drop(&mut self) {
            let found = self.0.borrow_mut().try_join_next().is_some();
            self.1.set(Some(found));
        }
    }
    rt.block_on(async {
        let set = Rc::new(RefCell::new(JoinSet::new()));
        let seen = Rc::new(Cell::new(None));
        let guard = JoinOnDrop(set.clone(), seen.clone());
        // A hand-written future: its fields drop with it, after it returned `Ready`.
        struct Ready5(#[allow(dead_code)] JoinOnDrop);
        impl std::future::Future for Ready5 {
            type Output = u32;
            fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<u32> {
                Poll::Ready(5)
            }
        }
        set.borrow_mut().spawn(Ready5(guard));
        // A lost key would leave the owner waiting forever: fail after a minute instead.
        let join = poll_fn(|cx| set.borrow_mut().poll_join_next(cx));
        let out = time::timeout(Duration::from_secs(60), join).await.unwrap();
        assert_eq!(seen.get(), Some(false));
        assert_eq!(out.unwrap().unwrap(), 5);
        assert!(set.borrow_mut().try_join_next().is_none());
        assert!(set.borrow().is_empty());
    });
}

each_mode!(
    spawn_blocking_jobs_join_like_tasks,
    a_destructor_that_joins_its_own_set_early_finds_nothing,
    join_next_returns_every_output_then_none,
    join_next_follows_completion_order,
    join_next_with_id_gives_the_task_ids,
    abort_handle_cancels_one_task,
    abort_all_keeps_tasks_in_the_set_until_joined,
    dropping_the_set_aborts_every_task,
    detach_all_lets_tasks_run_on_and_empties_the_set,
    try_join_next_takes_finished_tasks_without_waiting,
    shutdown_aborts_and_empties_the_set,
    join_all_gives_outputs_and_resumes_a_panic,
    join_next_spends_the_budget,
    try_join_next_spends_no_budget,
    join_next_is_cancel_safe,
    join_next_in_a_task_is_woken_by_a_finishing_task,
    panicking_task_gives_a_panic_error,
    collect_and_extend_spawn_each_future,
    spawn_local_goes_into_the_current_local_set,
    spawn_local_on_a_set_that_is_not_running,
);

#[test]
fn a_set_outlives_the_runtime_its_tasks_ran_on() {
    let mut set = JoinSet::new();
    {
        let rt = common::rt(false);
        let _enter = rt.enter();
        set.spawn(async { 1 });
        set.spawn(pending::<i32>());
        drop(_enter);
        drop(rt);
    }
    let rt = common::rt(false);
    let mut cancelled = 0;
    while let Some(res) = rt.block_on(set.join_next()) {
        assert!(res.unwrap_err().is_cancelled());
        cancelled += 1;
    }
    assert_eq!(cancelled, 2);
}

#[test]
fn spawn_outside_a_runtime_panics_and_leaves_the_set_empty() {
    let mut set = JoinSet::new();
    let res = catch_unwind(AssertUnwindSafe(|| set.spawn(async { 1 })));
    assert!(res.is_err());
    assert_eq!(set.len(), 0);
    assert!(set.try_join_next().is_none());
}

/// tokio's `JoinSet::spawn_blocking`: jobs on the blocking pool join like tasks, a panic is a
/// `JoinError`, and aborting resolves the job's entry at once.
fn spawn_blocking_jobs_join_like_tasks(rt: &Runtime) {
    rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..4u32 {
            set.spawn_blocking(move || i * i);
        }
        let mut got = Vec::new();
        while let Some(res) = set.join_next().await {
            got.push(res.unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, [0, 1, 4, 9]);

        set.spawn_blocking(|| panic!("a blocking job panics"));
        let err = set.join_next().await.unwrap().unwrap_err();
        assert!(err.is_panic());

        let (release, wait) = std::sync::mpsc::channel::<()>();
        let handle = set.spawn_blocking(move || {
            let _ = wait.recv();
            7
        });
        handle.abort();
        let err = set.join_next().await.unwrap().unwrap_err();
        assert!(err.is_cancelled());
        let _ = release.send(()); // the job may have been dropped unrun
    });
}
