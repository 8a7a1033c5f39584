#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

pub mod blocking;
mod context;
mod executor;
#[cfg(unix)]
pub mod fs;
pub mod io;
mod loom;
mod macros;
#[cfg(unix)]
pub mod process;
mod reactor;
mod runtime;
#[cfg(unix)]
pub mod signal;
mod slab;
#[cfg(unix)]
pub mod stdio;
pub mod sync;
pub mod task;
pub mod time;
mod trace;

pub use blocking::spawn_blocking;
pub use runtime::{
    block_on, Builder, EnterGuard, Handle, Id as RuntimeId, PostError, Runtime, RuntimeFlavor,
    RuntimeMetrics, SlowPoll, TryCurrentError,
};
pub use task::{spawn, spawn_local, JoinHandle};

#[doc(hidden)]
pub use macros::__private;
/// Runs an `async fn main` on a sonic runtime: `#[sonic_rt::main]` where a tokio program has
/// `#[tokio::main]`.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// #[sonic_rt::main(busy_poll = false, event_interval = 32)]
/// async fn main() -> std::io::Result<()> {
///     let task = sonic_rt::spawn(async { 21 * 2 });
///     sonic_rt::time::sleep(Duration::from_micros(50)).await;
///     assert_eq!(task.await.unwrap(), 42);
///     Ok(())
/// }
/// ```
pub use sonic_macros::main;
/// Runs an `async fn` test on its own sonic runtime: `#[sonic_rt::test]` where a tokio test
/// has `#[tokio::test]`. `#[sonic_rt::test(start_paused)]` starts with a paused clock, so long
/// sleeps finish at once.
///
/// ```
/// #[sonic_rt::test(start_paused)]
/// async fn an_hour_passes_at_once() {
///     sonic_rt::time::sleep(std::time::Duration::from_secs(3600)).await;
/// }
/// ```
pub use sonic_macros::test;

/// The README's code examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
