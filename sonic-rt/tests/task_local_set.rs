//! `LocalSet` and `task::spawn_local`: run_until, block_on, enter, awaiting a set, tasks spawned
//! before any runtime exists, and dropping a set (its tasks' futures are dropped at once).

mod common;

use common::DropCounter;
use sonic_rt::sync::oneshot;
use sonic_rt::task::{self, LocalSet};
use sonic_rt::time::{self, sleep};
use sonic_rt::{select, Runtime};
use sonic_test_support::each_mode;
use std::cell::Cell;
use std::future::{pending, ready};
use std::panic::catch_unwind;
use std::rc::Rc;
use std::time::Duration;

fn spawn_local_inside_run_until_runs(rt: &Runtime) {
    let out = rt.block_on(async {
        LocalSet::new()
            .run_until(async {
                let data = Rc::new(20);
                let d = data.clone();
                task::spawn_local(async move { *d + 1 }).await.unwrap() + *data
            })
            .await
    });
    assert_eq!(out, 41);
}

fn nested_spawn_local_stays_in_the_set(rt: &Runtime) {
    let drops = DropCounter::default();
    let local = LocalSet::new();
    let token = drops.token();
    local.block_on(rt, async move {
        task::spawn_local(async move {
            // Spawned from a task of the set: in the set too.
            task::spawn_local(async move {
                let _token = token;
                pending::<()>().await
            });
        })
        .await
        .unwrap();
        task::yield_now().await;
    });
    assert_eq!(drops.get(), 0);
    drop(local);
    assert_eq!(drops.get(), 1, "the nested task belonged to the set");
}

fn tasks_spawned_before_a_runtime_exists_start_when_driven() {
    let ran = Rc::new(Cell::new(false));
    let local = LocalSet::new();
    let r = ran.clone();
    let early = local.spawn_local(async move {
        r.set(true);
        "early"
    });
    assert!(!ran.get());
    let rt = common::rt(false);
    let out = local.block_on(&rt, early).unwrap();
    assert_eq!(out, "early");
    assert!(ran.get());
}

fn enter_outside_a_runtime_then_block_on() {
    let local = LocalSet::new();
    let join = {
        let _guard = local.enter();
        task::spawn_local(async { true })
    };
    let rt = common::rt(true);
    assert!(local.block_on(&rt, async move { join.await.unwrap() }));
}

fn awaiting_the_set_waits_for_every_task(rt: &Runtime) {
    let (a, b, c) = (
        Rc::new(Cell::new(false)),
        Rc::new(Cell::new(false)),
        Rc::new(Cell::new(false)),
    );
    rt.block_on(async {
        let local = LocalSet::new();
        let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
        local.spawn_local(async move {
            task::spawn_local(async move {
                task::yield_now().await;
                c2.set(true);
            });
            task::yield_now().await;
            a2.set(true);
        });
        local.spawn_local(async move {
            sleep(Duration::from_millis(1)).await;
            b2.set(true);
        });
        local.await;
    });
    assert!(a.get() && b.get() && c.get());
}

fn awaiting_an_empty_set_completes_at_once(rt: &Runtime) {
    rt.block_on(LocalSet::new());
}

fn dropping_the_set_drops_task_futures_at_once(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let local = LocalSet::new();
        let token = drops.token();
        let (started_tx, started_rx) = oneshot::channel();
        let handle = local.spawn_local(async move {
            let _token = token;
            started_tx.send(()).unwrap();
            pending::<()>().await
        });
        local.run_until(started_rx).await.unwrap();
        assert_eq!(drops.get(), 0);
        drop(local);
        // No turn of the runtime in between: dropped by the drop itself, as in tokio.
        assert_eq!(drops.get(), 1);
        assert!(handle.await.unwrap_err().is_cancelled());
    });
    assert_eq!(rt.live_tasks(), 0, "the cancelled task was released");
}

fn dropping_the_set_outside_the_runtime_drops_task_futures(rt: &Runtime) {
    // tokio's `drop_cancels_tasks`: the set is dropped between two `block_on`s.
    let rc1 = Rc::new(());
    let rc2 = rc1.clone();
    let (started_tx, started_rx) = oneshot::channel();
    let local = LocalSet::new();
    local.spawn_local(async move {
        let _rc2 = rc2;
        started_tx.send(()).unwrap();
        pending::<()>().await;
    });
    local.block_on(rt, async { started_rx.await.unwrap() });
    drop(local);
    assert_eq!(Rc::strong_count(&rc1), 1);
    assert_eq!(rt.live_tasks(), 0);
}

fn dropping_a_set_never_driven_cancels_its_tasks(rt: &Runtime) {
    let drops = DropCounter::default();
    let local = LocalSet::new();
    let token = drops.token();
    let polled = Rc::new(Cell::new(false));
    let p = polled.clone();
    let handle = local.spawn_local(async move {
        p.set(true);
        let _token = token;
    });
    drop(local);
    assert_eq!(drops.get(), 1);
    assert!(!polled.get());
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
}

fn a_task_spawned_while_the_set_drops_is_dropped_too(rt: &Runtime) {
    struct SpawnOnDrop(Option<common::DropToken>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let token = self.0.take();
            task::spawn_local(async move {
                let _token = token;
                pending::<()>().await
            });
        }
    }
    let drops = DropCounter::default();
    rt.block_on(async {
        let local = LocalSet::new();
        let guard = SpawnOnDrop(Some(drops.token()));
        local.spawn_local(async move {
            let _guard = guard;
            pending::<()>().await
        });
        task::yield_now().await;
        drop(local);
        assert_eq!(drops.get(), 1);
    });
    // The task spawned by the destructor was still queued: it is released when the runtime
    // next runs its queue.
    rt.run_pending().unwrap();
    assert_eq!(rt.live_tasks(), 0);
}

fn abort_before_the_set_runs_means_never_polled() {
    let local = LocalSet::new();
    let polled = Rc::new(Cell::new(false));
    let p = polled.clone();
    let handle = local.spawn_local(async move { p.set(true) });
    handle.abort();
    let rt = common::rt(false);
    let err = local.block_on(&rt, handle).unwrap_err();
    assert!(err.is_cancelled());
    assert!(!polled.get());
}

fn spawning_from_outside_wakes_a_pending_run_until(rt: &Runtime) {
    rt.block_on(async {
        let local = LocalSet::new();
        let ret = select! {
            _ = local.run_until(pending::<()>()) => unreachable!(),
            ret = async { local.spawn_local(ready(7)).await.unwrap() } => ret,
        };
        assert_eq!(ret, 7);
    });
}

fn timers_work_in_set_tasks(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let local = LocalSet::new();
        let (tx, rx) = oneshot::channel();
        local
            .run_until(async move {
                task::spawn_local(async move {
                    sleep(Duration::from_secs(5)).await;
                    tx.send(()).unwrap();
                });
                rx.await.unwrap();
            })
            .await;
    });
}

fn spawn_local_without_a_set_spawns_on_the_runtime(rt: &Runtime) {
    // tokio panics here; every sonic runtime runs `!Send` tasks, so sonic spawns.
    let out = rt.block_on(async {
        let rc = Rc::new(3);
        task::spawn_local(async move { *rc }).await.unwrap()
    });
    assert_eq!(out, 3);
}

fn set_tasks_run_without_the_set_being_driven(rt: &Runtime) {
    // The difference from tokio that the type documents: a task spawned into a set inside a
    // runtime is a runtime task.
    rt.block_on(async {
        let local = LocalSet::new();
        let handle = local.spawn_local(async { 5 });
        assert_eq!(handle.await.unwrap(), 5);
    });
}

fn run_until_leaves_unfinished_tasks_in_the_set(rt: &Runtime) {
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    local.block_on(rt, async move {
        task::spawn_local(async move {
            rx.await.unwrap();
            d.set(true);
        });
    });
    assert!(!done.get());
    tx.send(()).unwrap();
    rt.block_on(local);
    assert!(done.get());
}

each_mode!(
    spawn_local_inside_run_until_runs,
    nested_spawn_local_stays_in_the_set,
    awaiting_the_set_waits_for_every_task,
    awaiting_an_empty_set_completes_at_once,
    dropping_the_set_drops_task_futures_at_once,
    dropping_the_set_outside_the_runtime_drops_task_futures,
    dropping_a_set_never_driven_cancels_its_tasks,
    a_task_spawned_while_the_set_drops_is_dropped_too,
    spawning_from_outside_wakes_a_pending_run_until,
    timers_work_in_set_tasks,
    spawn_local_without_a_set_spawns_on_the_runtime,
    set_tasks_run_without_the_set_being_driven,
    run_until_leaves_unfinished_tasks_in_the_set,
);

#[test]
fn tasks_spawned_before_a_runtime_exists_start_when_driven_test() {
    tasks_spawned_before_a_runtime_exists_start_when_driven();
}

#[test]
fn enter_outside_a_runtime_then_block_on_test() {
    enter_outside_a_runtime_then_block_on();
}

#[test]
fn abort_before_the_set_runs_means_never_polled_test() {
    abort_before_the_set_runs_means_never_polled();
}

#[test]
fn spawn_local_outside_a_set_and_a_runtime_panics() {
    let err = catch_unwind(|| drop(task::spawn_local(async {}))).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or(err.downcast_ref::<&str>().copied());
    assert!(
        msg.unwrap()
            .contains("`spawn_local` called from outside of a `task::LocalSet`"),
        "{msg:?}"
    );
}

#[test]
fn a_set_driven_after_its_runtime_was_dropped_keeps_working() {
    let local = LocalSet::new();
    {
        let rt = common::rt(false);
        local.block_on(&rt, async {
            task::spawn_local(pending::<()>());
        });
    }
    // The first runtime dropped the pending task; a new runtime drives the set again.
    let rt = common::rt(true);
    let out = local.block_on(&rt, async { task::spawn_local(async { 9 }).await.unwrap() });
    assert_eq!(out, 9);
    rt.block_on(local);
}

#[test]
fn a_set_and_runtime_kept_in_a_thread_local_work_and_drop_at_thread_exit() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Token;
    impl Drop for Token {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    struct RtAndSet {
        rt: Runtime,
        local: LocalSet,
    }
    thread_local! {
        static CURRENT: RtAndSet = RtAndSet { rt: common::rt(false), local: LocalSet::new() };
    }
    std::thread::spawn(|| {
        CURRENT.with(|c| {
            c.local.block_on(&c.rt, async {
                task::spawn_local(async {
                    let _token = Token;
                    pending::<()>().await
                });
                task::yield_now().await;
            });
        });
        assert_eq!(DROPS.load(Ordering::SeqCst), 0);
    })
    .join()
    .unwrap();
    // The thread-local (set, then runtime) was dropped at thread exit, with the task.
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}
