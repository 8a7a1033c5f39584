//! Executor behaviour: task order, JoinHandle (await, abort, panic, detach), shutdown.

mod common;

use sonic_test_support::each_mode;

use common::DropCounter;
use sonic_rt::task::yield_now;
use sonic_rt::{spawn, Runtime};
use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

fn tasks_run_in_spawn_order(rt: &Runtime) {
    let order = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let order = order.clone();
                spawn(async move { order.borrow_mut().push(i) })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
}

fn join_returns_output_of_many_tasks(rt: &Runtime) {
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| {
                spawn(async move {
                    if i % 3 == 0 {
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 999 * 1000 / 2);
    assert_eq!(rt.live_tasks(), 0);
}

fn abort_pending_task_drops_its_future(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let token = drops.token();
        let h = spawn(async move {
            let _t = token;
            pending::<()>().await
        });
        yield_now().await; // let it start
        assert!(!h.is_finished());
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(!err.is_panic());
    });
    assert_eq!(drops.get(), 1);
}

fn abort_before_first_poll(rt: &Runtime) {
    let polled = Rc::new(Cell::new(false));
    rt.block_on(async {
        let p = polled.clone();
        let h = spawn(async move { p.set(true) });
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert!(!polled.get(), "an aborted task must not be polled");
}

fn task_aborting_itself_is_cancelled_after_its_poll(rt: &Runtime) {
    rt.block_on(async {
        let slot: Rc<RefCell<Option<sonic_rt::task::AbortHandle>>> = Rc::default();
        let s = slot.clone();
        let h = spawn(async move {
            yield_now().await;
            s.borrow().as_ref().unwrap().abort();
            yield_now().await;
            unreachable!("polled after aborting itself");
        });
        *slot.borrow_mut() = Some(h.abort_handle());
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

fn abort_after_completion_keeps_output(rt: &Runtime) {
    rt.block_on(async {
        let h = spawn(async { 5 });
        while !h.is_finished() {
            yield_now().await;
        }
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    });
}

fn panic_becomes_join_error_and_runtime_survives(rt: &Runtime) {
    rt.block_on(async {
        let h = spawn(async {
            yield_now().await;
            panic!("boom in task");
        });
        let err = h.await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("boom in task"), "{err}");
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in task"));
        // The runtime keeps going.
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    });
}

fn detached_task_keeps_running(rt: &Runtime) {
    let done = Rc::new(Cell::new(false));
    rt.block_on(async {
        let d = done.clone();
        drop(spawn(async move {
            for _ in 0..3 {
                yield_now().await;
            }
            d.set(true);
        }));
        for _ in 0..10 {
            yield_now().await;
        }
    });
    assert!(done.get());
}

fn detached_output_is_dropped(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let token = drops.token();
        drop(spawn(async move { token }));
        for _ in 0..3 {
            yield_now().await;
        }
    });
    assert_eq!(
        drops.get(),
        1,
        "output of a detached task must be dropped once"
    );
}

fn runtime_drop_drops_every_task(_rt: &Runtime) {
    let drops = DropCounter::default();
    {
        let rt = common::rt(false);
        let d = drops.clone();
        rt.block_on(async move {
            for _ in 0..100 {
                let t = d.token();
                drop(spawn(async move {
                    let _t = t;
                    pending::<()>().await
                }));
            }
            // One task whose destructor spawns another task: that one is dropped too.
            let t = d.token();
            let inner = d.clone();
            struct SpawnOnDrop(DropCounter);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let t = self.0.token();
                    drop(spawn(async move {
                        let _t = t;
                        pending::<()>().await
                    }));
                }
            }
            let s = SpawnOnDrop(inner);
            drop(spawn(async move {
                let _t = t;
                let _s = s;
                pending::<()>().await
            }));
            yield_now().await;
        });
        assert_eq!(rt.live_tasks(), 101);
        assert_eq!(drops.get(), 0);
    }
    assert_eq!(drops.get(), 102);
}

fn join_handle_after_runtime_drop_is_cancelled(_rt: &Runtime) {
    let rt = common::rt(false);
    let h = rt.spawn(pending::<u8>());
    drop(rt);
    assert!(h.is_finished());
    let mut h = pin!(h);
    let mut cx = Context::from_waker(Waker::noop());
    match h.as_mut().poll(&mut cx) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        other => panic!("expected a cancelled JoinError, got {other:?}"),
    }
}

fn yield_now_interleaves_tasks(rt: &Runtime) {
    let log = Rc::new(RefCell::new(String::new()));
    rt.block_on(async {
        let mk = |c: char| {
            let log = log.clone();
            spawn(async move {
                for _ in 0..3 {
                    log.borrow_mut().push(c);
                    yield_now().await;
                }
            })
        };
        let (a, b) = (mk('a'), mk('b'));
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(*log.borrow(), "ababab");
}

fn spawn_from_inside_tasks(rt: &Runtime) {
    let n = rt.block_on(async {
        let h = spawn(async {
            spawn(async { spawn(async { 3 }).await.unwrap() + 2 })
                .await
                .unwrap()
        });
        h.await.unwrap()
    });
    assert_eq!(n, 5);
}

fn task_ids_are_distinct_and_seen_from_inside(rt: &Runtime) {
    rt.block_on(async {
        assert_eq!(
            sonic_rt::task::try_id(),
            None,
            "block_on's future is not a task"
        );
        let handles: Vec<_> = (0..5)
            .map(|_| {
                spawn(async {
                    let before = sonic_rt::task::id();
                    yield_now().await;
                    assert_eq!(sonic_rt::task::id(), before, "an id is stable across polls");
                    before
                })
            })
            .collect();
        let ids: Vec<_> = handles.iter().map(|h| h.id()).collect();
        for (h, id) in handles.into_iter().zip(&ids) {
            assert_eq!(h.abort_handle().id(), *id);
            assert_eq!(h.await.unwrap(), *id);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "ids are unique: {ids:?}");
        assert_eq!(sonic_rt::task::try_id(), None, "reset after each poll");
    });
}

/// Records, when dropped, the current task id and whether a panic is unwinding.
struct DropProbe(Rc<Cell<Option<DropSeen>>>);

/// The current task id and `thread::panicking()`, as a destructor saw them.
type DropSeen = (Option<sonic_rt::task::Id>, bool);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0
            .set(Some((sonic_rt::task::try_id(), std::thread::panicking())));
    }
}

fn join_error_reads_like_tokio(rt: &Runtime) {
    rt.block_on(async {
        let h = spawn(async { panic!("boom") });
        let id = h.id();
        let e = h.await.unwrap_err();
        assert_eq!(e.id(), id);
        assert_eq!(
            e.to_string(),
            format!("task {id} panicked with message \"boom\"")
        );
        assert_eq!(
            format!("{e:?}"),
            format!("JoinError::Panic(Id({id}), \"boom\", ...)")
        );

        let h = spawn(async { std::panic::panic_any(17u8) });
        let id = h.id();
        let e = h.await.unwrap_err();
        assert_eq!(e.to_string(), format!("task {id} panicked"));
        assert_eq!(format!("{e:?}"), format!("JoinError::Panic(Id({id}), ...)"));

        let h = spawn(pending::<()>());
        let id = h.id();
        h.abort();
        let e = h.await.unwrap_err();
        assert!(e.is_cancelled());
        assert_eq!(e.to_string(), format!("task {id} was cancelled"));
        assert_eq!(format!("{e:?}"), format!("JoinError::Cancelled(Id({id}))"));
        let io: std::io::Error = e.into();
        assert!(io.to_string().contains("was cancelled"), "{io}");
    });
}

/// As in tokio: a panicking task's future is dropped while the panic unwinds (its destructors
/// see `thread::panicking()`), and as the current task.
fn panicking_task_drops_its_future_during_the_unwind(rt: &Runtime) {
    let seen = Rc::new(Cell::new(None));
    let probe = DropProbe(seen.clone());
    let id = rt.block_on(async move {
        let h = spawn(async move {
            let _probe = probe;
            yield_now().await;
            panic!("boom");
        });
        let id = h.id();
        assert!(h.await.unwrap_err().is_panic());
        id
    });
    assert_eq!(seen.get(), Some((Some(id), true)));
}

/// A future dropped by abort, by shutdown, and an output dropped with its handle: each drop runs
/// as its task (`task::try_id()`), not while panicking.
fn destructors_run_as_their_task(_rt: &Runtime) {
    let rt = common::rt(false);
    let (aborted, at_shutdown, output) = (
        Rc::new(Cell::new(None)),
        Rc::new(Cell::new(None)),
        Rc::new(Cell::new(None)),
    );
    let (p1, p2, p3) = (
        DropProbe(aborted.clone()),
        DropProbe(at_shutdown.clone()),
        DropProbe(output.clone()),
    );
    let (id1, id2, id3) = rt.block_on(async move {
        let h1 = spawn(async move {
            let _p = p1;
            pending::<()>().await
        });
        let h2 = spawn(async move {
            let _p = p2;
            pending::<()>().await
        });
        let h3 = spawn(async move { p3 });
        yield_now().await;
        let ids = (h1.id(), h2.id(), h3.id());
        h1.abort();
        assert!(h1.await.unwrap_err().is_cancelled());
        while !h3.is_finished() {
            yield_now().await;
        }
        drop(h3); // drops the unclaimed output
        drop(h2); // detached: dropped at shutdown
        ids
    });
    drop(rt);
    assert_eq!(aborted.get(), Some((Some(id1), false)));
    assert_eq!(output.get(), Some((Some(id3), false)));
    assert_eq!(at_shutdown.get(), Some((Some(id2), false)));
}

each_mode!(
    task_ids_are_distinct_and_seen_from_inside,
    join_error_reads_like_tokio,
    panicking_task_drops_its_future_during_the_unwind,
    destructors_run_as_their_task,
);

#[test]
fn task_id_outside_a_task_panics_clearly() {
    let msg = panic_message(|| {
        let _ = sonic_rt::task::id();
    });
    assert!(msg.contains("outside a task"), "{msg}");
    assert_eq!(sonic_rt::task::try_id(), None);
}

each_mode!(
    tasks_run_in_spawn_order,
    join_returns_output_of_many_tasks,
    abort_pending_task_drops_its_future,
    abort_before_first_poll,
    task_aborting_itself_is_cancelled_after_its_poll,
    abort_after_completion_keeps_output,
    panic_becomes_join_error_and_runtime_survives,
    detached_task_keeps_running,
    detached_output_is_dropped,
    runtime_drop_drops_every_task,
    join_handle_after_runtime_drop_is_cancelled,
    yield_now_interleaves_tasks,
    spawn_from_inside_tasks,
);

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn spawn_outside_runtime_panics_clearly() {
    let msg = panic_message(|| drop(spawn(async {})));
    assert!(msg.contains("inside a sonic runtime"), "{msg}");
}

#[test]
fn nested_block_on_panics_clearly() {
    let rt = common::rt(false);
    let msg = rt.block_on(async {
        panic_message(|| {
            let inner = common::rt(false);
            inner.block_on(async {});
        })
    });
    assert!(msg.contains("within a runtime"), "{msg}");
    // The outer runtime is still usable afterwards.
    assert_eq!(rt.block_on(async { 1 }), 1);
}

#[test]
fn block_on_panic_propagates_and_runtime_is_reusable() {
    let rt = common::rt(false);
    let msg = panic_message(|| rt.block_on(async { panic!("main future panicked") }));
    assert!(msg.contains("main future panicked"));
    assert_eq!(rt.block_on(async { spawn(async { 9 }).await.unwrap() }), 9);
}

#[test]
fn runtime_and_join_handle_are_not_send() {
    // Compile-time checks: these would fail to compile if the types became Send.
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    let _ = <Runtime as AmbiguousIfSend<_>>::some_item;
    let _ = <sonic_rt::JoinHandle<()> as AmbiguousIfSend<_>>::some_item;
    let _ = <sonic_rt::io::Async<std::os::unix::net::UnixStream> as AmbiguousIfSend<_>>::some_item;
    fn send_sync<T: Send + Sync>() {}
    send_sync::<sonic_rt::task::JoinError>(); // so io::Error::other and anyhow take it
    send_sync::<sonic_rt::Handle>();
    send_sync::<Waker>();
}
