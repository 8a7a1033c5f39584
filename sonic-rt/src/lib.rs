//! # sonic-rt
//!
//! A single-thread async runtime for the lowest latency and jitter: one thread owns every task,
//! socket and timer, so nothing is shared and nothing is locked. Tasks need not be `Send`.
//!
//! - An executor whose wakers push onto a local run queue (no lock, no syscall) and whose
//!   cross-thread wakes go through a small remote queue and an eventfd/EVFILT_USER.
//! - A reactor on epoll (Linux) or kqueue (macOS/BSD): edge-triggered, each fd registered once,
//!   event tokens carrying a generation so a stale event never reaches a reused slot.
//! - Timers with nanosecond deadlines (`epoll_pwait2`, never rounded up to a millisecond),
//!   cancelled in O(log n) on drop, reset without allocating; a pausable clock for tests.
//! - A busy-poll mode that never sleeps in the kernel, for a thread pinned to an isolated core.
//! - Nothing slow on the loop thread: [`spawn_blocking`] runs blocking work on a per-runtime
//!   pool, [`fs`] does file I/O through one io_uring per runtime (Linux) or that pool,
//!   [`process`] waits for children through a pidfd, and [`io::stdin`] and friends read pipes
//!   and ttys through the reactor.
//!
//! The API follows tokio's names, so a tokio user feels at home.
//!
//! ```
//! use std::time::Duration;
//! use sonic_rt::time::{sleep, timeout};
//!
//! let rt = sonic_rt::Builder::new().busy_poll(false).build().unwrap();
//! rt.block_on(async {
//!     let task = sonic_rt::spawn(async {
//!         sleep(Duration::from_micros(100)).await;
//!         "done"
//!     });
//!     assert_eq!(timeout(Duration::from_secs(1), task).await.unwrap().unwrap(), "done");
//! });
//! ```
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

pub use blocking::spawn_blocking;
pub use runtime::{block_on, Builder, EnterGuard, Handle, PostError, Runtime};
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
