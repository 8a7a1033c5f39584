//! A task's destructor (or a join waker) that reaches back into its own task: through its own
//! `JoinHandle`, its `AbortHandle` or its waker, at every point where the runtime drops a stage
//! (completion, abort, panic, runtime shutdown). The stage must be dropped exactly once, and a
//! handle must never read a stage that is being dropped. Miri runs this file (see .ci/run).

mod common;

use common::{DropCounter, DropToken};
use sonic_rt::task::{yield_now, AbortHandle, JoinHandle};
use sonic_rt::{spawn, Runtime};
use sonic_test_support::each_mode;
use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Wake, Waker};

/// What the task's destructor does with its own handle.
#[derive(Clone, Copy, Debug)]
enum OnDrop {
    /// Drops its own `JoinHandle` (a registry the task holds owns it).
    DropHandle,
    /// Polls its own `JoinHandle` once (it must not see a half-dropped stage), then drops it.
    PollHandle,
    /// Aborts itself through an `AbortHandle`, then drops the `JoinHandle`.
    AbortThenDrop,
    /// Wakes itself, then drops the `JoinHandle`.
    WakeThenDrop,
}

/// Held by the task's future: when dropped, it reaches the task's own handle.
struct Reacher {
    handle: Rc<RefCell<Option<JoinHandle<u32>>>>,
    abort: Rc<RefCell<Option<AbortHandle>>>,
    waker: Rc<RefCell<Option<Waker>>>,
    what: OnDrop,
    polled_ready: Rc<Cell<bool>>,
    _token: DropToken,
}

impl Drop for Reacher {
    fn drop(&mut self) {
        let handle = self.handle.borrow_mut().take();
        let Some(mut handle) = handle else { return };
        match self.what {
            OnDrop::DropHandle => {}
            OnDrop::PollHandle => {
                let mut cx = Context::from_waker(Waker::noop());
                // The stage is being dropped right now: the output cannot be there yet.
                self.polled_ready
                    .set(pin!(&mut handle).poll(&mut cx).is_ready());
            }
            OnDrop::AbortThenDrop => {
                if let Some(a) = self.abort.borrow_mut().take() {
                    a.abort();
                }
            }
            OnDrop::WakeThenDrop => {
                if let Some(w) = self.waker.borrow_mut().take() {
                    w.wake();
                }
            }
        }
        drop(handle);
    }
}

struct Setup {
    drops: DropCounter,
    polled_ready: Rc<Cell<bool>>,
    abort: AbortHandle,
}

/// Spawns a task that holds a `Reacher` to its own handle and then either finishes (`finish`),
/// panics (`panic`) or stays pending.
fn spawn_reaching_task(what: OnDrop, finish: bool, panic: bool) -> Setup {
    let drops = DropCounter::default();
    let handle = Rc::new(RefCell::new(None));
    let abort_slot = Rc::new(RefCell::new(None));
    let waker_slot = Rc::new(RefCell::new(None));
    let polled_ready = Rc::new(Cell::new(false));
    let reacher = Reacher {
        handle: handle.clone(),
        abort: abort_slot.clone(),
        waker: waker_slot.clone(),
        what,
        polled_ready: polled_ready.clone(),
        _token: drops.token(),
    };
    let ws = waker_slot.clone();
    let h = spawn(async move {
        let _reacher = reacher;
        std::future::poll_fn(|cx| {
            *ws.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        })
        .await;
        yield_now().await;
        if panic {
            panic!("task panics while holding its own handle");
        }
        if !finish {
            pending::<()>().await;
        }
        7u32
    });
    let abort = h.abort_handle();
    *abort_slot.borrow_mut() = Some(h.abort_handle());
    *handle.borrow_mut() = Some(h);
    Setup {
        drops,
        polled_ready,
        abort,
    }
}

const ALL: [OnDrop; 4] = [
    OnDrop::DropHandle,
    OnDrop::PollHandle,
    OnDrop::AbortThenDrop,
    OnDrop::WakeThenDrop,
];

/// The case: the runtime is dropped while the task is pending.
fn shutdown_drops_a_self_reaching_future_once(_rt: &Runtime) {
    for what in ALL {
        let rt = common::rt(false);
        let s = rt.block_on(async {
            let s = spawn_reaching_task(what, false, false);
            for _ in 0..3 {
                yield_now().await;
            }
            s
        });
        assert_eq!(rt.live_tasks(), 1, "{what:?}");
        drop(rt);
        assert_eq!(
            s.drops.get(),
            1,
            "{what:?}: the future must be dropped exactly once"
        );
        assert!(
            !s.polled_ready.get(),
            "{what:?}: read a stage being dropped"
        );
        assert!(s.abort.is_finished(), "{what:?}");
    }
}

fn abort_drops_a_self_reaching_future_once(rt: &Runtime) {
    for what in ALL {
        let s = rt.block_on(async {
            let s = spawn_reaching_task(what, false, false);
            yield_now().await;
            s.abort.abort();
            for _ in 0..5 {
                yield_now().await;
            }
            s
        });
        assert_eq!(s.drops.get(), 1, "{what:?}");
        assert!(!s.polled_ready.get(), "{what:?}");
        assert!(s.abort.is_finished(), "{what:?}");
        assert_eq!(rt.live_tasks(), 0, "{what:?}");
    }
}

fn completion_drops_a_self_reaching_future_once(rt: &Runtime) {
    for what in ALL {
        let s = rt.block_on(async {
            let s = spawn_reaching_task(what, true, false);
            for _ in 0..5 {
                yield_now().await;
            }
            s
        });
        assert_eq!(s.drops.get(), 1, "{what:?}");
        assert!(!s.polled_ready.get(), "{what:?}");
        assert!(s.abort.is_finished(), "{what:?}");
        assert_eq!(rt.live_tasks(), 0, "{what:?}");
    }
}

fn panic_drops_a_self_reaching_future_once(rt: &Runtime) {
    for what in ALL {
        let s = rt.block_on(async {
            let s = spawn_reaching_task(what, true, true);
            for _ in 0..5 {
                yield_now().await;
            }
            s
        });
        assert_eq!(s.drops.get(), 1, "{what:?}");
        assert!(!s.polled_ready.get(), "{what:?}");
        assert_eq!(rt.live_tasks(), 0, "{what:?}");
    }
}

thread_local! {
    /// The handle the join waker below drops (a `Waker` must be `Send`, a `JoinHandle` is not).
    static HANDLE_TO_DROP: RefCell<Option<JoinHandle<DropToken>>> = const { RefCell::new(None) };
    static JOIN_WOKEN: Cell<bool> = const { Cell::new(false) };
}

/// A join waker that drops the `JoinHandle` it was polled for, from inside `wake`.
struct DropHandleOnWake;

impl Wake for DropHandleOnWake {
    fn wake(self: std::sync::Arc<Self>) {
        JOIN_WOKEN.with(|w| w.set(true));
        drop(HANDLE_TO_DROP.with(|h| h.borrow_mut().take()));
    }
}

/// The join waker fires when the task completes; dropping the handle inside it must drop the
/// output exactly once (not while the runtime still owns the stage, not never).
fn join_waker_dropping_its_handle_drops_output_once(rt: &Runtime) {
    let drops = DropCounter::default();
    let token = drops.token();
    rt.block_on(async {
        let h = spawn(async move {
            yield_now().await;
            token
        });
        JOIN_WOKEN.with(|w| w.set(false));
        let waker = Waker::from(std::sync::Arc::new(DropHandleOnWake));
        let mut h = h;
        assert!(pin!(&mut h)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        HANDLE_TO_DROP.with(|slot| *slot.borrow_mut() = Some(h));
        while !JOIN_WOKEN.with(|w| w.get()) {
            yield_now().await;
        }
        assert_eq!(drops.get(), 1, "output dropped once, when the handle went");
    });
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.live_tasks(), 0);
}

each_mode!(
    shutdown_drops_a_self_reaching_future_once,
    abort_drops_a_self_reaching_future_once,
    completion_drops_a_self_reaching_future_once,
    panic_drops_a_self_reaching_future_once,
    join_waker_dropping_its_handle_drops_output_once,
);
