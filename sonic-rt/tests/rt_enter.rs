//! Entering a runtime is not running it, as in tokio: `block_on` works under an `EnterGuard`,
//! guards of several runtimes nest (the one entered before comes back when a guard drops), a
//! guard dropped out of order panics instead of leaving a dangling runtime current, and
//! `block_on` inside a running runtime is still refused. tokio's rt_handle.rs `basic_enter`
//! and its `enter` + `block_on` use. Both loop modes.

use sonic_rt::{Builder, Handle, Runtime};
use sonic_test_support::each_mode;
use std::panic::{catch_unwind, AssertUnwindSafe};

each_mode!(
    block_on_runs_under_an_enter_guard,
    guards_of_two_runtimes_nest_and_restore,
);

/// A panic's message, whether it was a literal or formatted.
fn message(err: &(dyn std::any::Any + Send)) -> String {
    match err.downcast_ref::<&str>() {
        Some(s) => s.to_string(),
        None => err.downcast_ref::<String>().cloned().unwrap_or_default(),
    }
}

fn block_on_runs_under_an_enter_guard(rt: &Runtime) {
    let _guard = rt.enter();
    // A task spawned while only entered runs once the runtime runs.
    let task = sonic_rt::spawn(async { 20 + 1 });
    assert_eq!(rt.block_on(async { task.await.unwrap() * 2 }), 42);
    // Still entered after block_on returned.
    assert_eq!(Handle::current().id(), rt.handle().id());
}

fn guards_of_two_runtimes_nest_and_restore(rt: &Runtime) {
    let second = Builder::new().build().unwrap();
    let outer = rt.enter();
    {
        let _inner = second.enter();
        assert_eq!(Handle::current().id(), second.handle().id());
        assert_eq!(second.block_on(async { 7 }), 7);
    }
    assert_eq!(Handle::current().id(), rt.handle().id());
    drop(outer);
    assert!(Handle::try_current().is_err());
}

#[test]
fn a_guard_dropped_out_of_order_panics() {
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let first = a.enter();
    let second = b.enter();
    let err = catch_unwind(AssertUnwindSafe(|| drop(first))).unwrap_err();
    let msg = message(&*err);
    assert!(msg.contains("dropped out of order"), "{msg}");
    // The later guard is still current and still valid; dropping it restores the first
    // runtime, whose reference the out-of-order guard kept.
    assert_eq!(Handle::current().id(), b.handle().id());
    drop(second);
    assert_eq!(Handle::current().id(), a.handle().id());
}

#[test]
fn block_on_inside_a_running_runtime_is_still_refused() {
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let err = catch_unwind(AssertUnwindSafe(|| {
        a.block_on(async { b.block_on(async {}) })
    }))
    .unwrap_err();
    let msg = message(&*err);
    assert!(msg.contains("within a runtime"), "{msg}");
    // Both runtimes stay usable after the refused call.
    assert_eq!(b.block_on(async { 1 }), 1);
    assert_eq!(a.block_on(async { 2 }), 2);
}

/// Out of order is seen even when every guard entered the same runtime (tokio's
/// `interleave_enter_same_rt`).
#[test]
fn guards_of_one_runtime_dropped_out_of_order_panic() {
    let rt = Runtime::new().unwrap();
    let outer = rt.enter();
    let second = rt.enter();
    let third = rt.enter();
    let err = catch_unwind(AssertUnwindSafe(|| drop(second))).unwrap_err();
    assert!(message(&*err).contains("dropped out of order"));
    drop(third);
    assert_eq!(Handle::current().id(), rt.handle().id());
    // The guard dropped out of order keeps its place (and its reference), so the outer one is
    // now out of order too; tokio reports every such drop the same way.
    let err = catch_unwind(AssertUnwindSafe(|| drop(outer))).unwrap_err();
    assert!(message(&*err).contains("dropped out of order"));
}
