//! `#[sonic_rt::test]` and `#[sonic_rt::main]` used the way applications use them, plus the
//! trybuild compile-fail cases in `tests/ui/` (run with the rest of the suite).

use std::time::Duration;

#[sonic_rt::test]
async fn test_attribute_runs_on_a_sonic_runtime() {
    let h = sonic_rt::spawn(async { 2 });
    assert_eq!(h.await.unwrap(), 2);
}

#[sonic_rt::test]
async fn test_returning_result_can_use_question_mark() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "17".parse()?;
    assert_eq!(n, 17);
    Ok(())
}

#[sonic_rt::test(busy_poll, event_interval = 7, task_budget = 16, event_capacity = 8)]
async fn test_with_busy_poll_options() {
    sonic_rt::time::sleep(Duration::from_micros(100)).await;
}

#[sonic_rt::test(start_paused)]
async fn test_start_paused_jumps_over_long_sleeps() {
    let t0 = std::time::Instant::now();
    sonic_rt::time::sleep(Duration::from_secs(3600)).await;
    assert!(t0.elapsed() < Duration::from_secs(60));
}

#[sonic_rt::test(busy_poll = false, start_paused = false, spin_before_park_us = 10)]
async fn test_explicit_false_flags() {
    sonic_rt::task::yield_now().await;
}

/// Compiled, not run: CPU 0 may not be allowed to this process everywhere.
#[allow(dead_code)]
#[sonic_rt::main(pin_to_core = 0)]
async fn pinned_to_core_zero() {}

#[sonic_rt::test(flavor = "current_thread", crate = "sonic_rt")]
async fn test_tokio_flavor_and_crate_path_accepted() {}

#[sonic_rt::test]
#[should_panic(expected = "inside the test")]
async fn test_should_panic_is_kept() {
    panic!("inside the test");
}

mod renamed {
    // A crate path through a re-export, as a facade crate would have.
    pub use sonic_rt as rt;

    #[rt::test(crate = "crate::renamed::rt")]
    async fn crate_option_reaches_a_renamed_path() {
        rt::task::yield_now().await;
    }
}

/// `#[sonic_rt::main]` on a function other than the binary's `main`: it becomes a plain `fn`.
#[sonic_rt::main(busy_poll)]
async fn entry_point() -> u32 {
    sonic_rt::spawn(async { 40 }).await.unwrap() + 2
}

/// `#[main]` on a function other than `main` may take arguments, `self` included (tokio's
/// macros_test.rs `trait_method`): the body runs on a new runtime with them.
trait Doubles {
    fn doubled(self, by: u32) -> u32;
}

impl Doubles for u32 {
    #[sonic_rt::main]
    async fn doubled(self, by: u32) -> u32 {
        sonic_rt::task::yield_now().await;
        self * by
    }
}

#[sonic_rt::main]
async fn parse_sum(a: &str, b: &str) -> Result<u32, std::num::ParseIntError> {
    sonic_rt::task::yield_now().await;
    Ok(a.parse::<u32>()? + b.parse::<u32>()?)
}

#[test]
fn main_attribute_on_functions_with_arguments() {
    assert_eq!(21u32.doubled(2), 42);
    assert_eq!(parse_sum("40", "2"), Ok(42));
    assert!(parse_sum("x", "2").is_err());
}

#[test]
fn main_attribute_makes_a_blocking_fn() {
    assert_eq!(entry_point(), 42);
}

#[test]
#[cfg_attr(miri, ignore)]
fn compile_errors_on_misuse() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
