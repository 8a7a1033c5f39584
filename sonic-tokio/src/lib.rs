#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod net;
pub mod runtime;

/// tokio's `task`: spawning, [`LocalSet`](task::LocalSet), [`JoinSet`](task::JoinSet),
/// [`JoinHandle`](task::JoinHandle), `spawn_blocking`, `yield_now`, `task_local!`, cooperative
/// budget. sonic-rt's task module: `spawn` takes `!Send` futures too, and `spawn_local`
/// outside a `LocalSet` spawns on the runtime (tokio panics there).
pub mod task {
    pub use crate::task_local;
    pub use sonic_rt::task::*;
}

/// tokio's `time`: sonic-rt's timers (`sleep`, `timeout`, `interval`, `Instant`, `Duration`,
/// `pause`/`advance`).
pub mod time {
    pub use sonic_rt::time::*;
}

pub mod sync;

/// tokio's `io`: tokio's own traits and utilities (`AsyncRead`, `AsyncWriteExt`, `BufReader`,
/// `copy`, `copy_bidirectional`, `duplex`, `split`...: the `tokio` crate built with `io-util`
/// only, no runtime), plus sonic-rt's [`stdin`](io::stdin), [`stdout`](io::stdout),
/// [`stderr`](io::stderr) and readiness types [`Interest`](io::Interest), [`Ready`](io::Ready),
/// and sonic-rt's [`unix::AsyncFd`](io::unix::AsyncFd).
pub mod io {
    pub use sonic_rt::io::{stderr, stdin, stdout, Interest, Ready, Stderr, Stdin, Stdout};
    pub use tokio::io::*;

    /// tokio's `io::unix`: [`AsyncFd`](unix::AsyncFd) and its ready guards, sonic-rt's
    /// [`sonic_rt::io::unix`] (tokio's semantics; the `AsyncFd` is `!Send`).
    pub mod unix {
        pub use sonic_rt::io::unix::*;
    }
}

/// tokio's `fs`: sonic-rt's files (io_uring on Linux, the blocking pool elsewhere).
pub mod fs {
    pub use sonic_rt::fs::*;
}

/// tokio's `process`: sonic-rt's child processes.
pub mod process {
    pub use sonic_rt::process::*;
}

/// tokio's `signal`: `ctrl_c` and `unix::signal`.
pub mod signal {
    pub use sonic_rt::signal::*;
}

pub use sonic_rt::{join, pin, select, spawn, task_local, try_join};

/// Runs `async fn main` on a sonic runtime: tokio's `#[tokio::main]`.
///
/// Options: `flavor = "current_thread"` (the default; `"multi_thread"` and `worker_threads`
/// are compile errors that name it), `start_paused = true`, `crate = "path"` (where this crate
/// is, as tokio's option), and sonic-rt's own (`busy_poll`, `pin_to_core = N`, ...). The
/// expansion goes through the name your Cargo.toml gives this crate, so after
/// `tokio = { package = "sonic-tokio", ... }` the attribute is `#[tokio::main]`.
///
/// # Examples
/// ```
/// #[sonic_tokio::main(flavor = "current_thread")]
/// async fn main() {
///     let task = sonic_tokio::spawn(async { 21 * 2 });
///     assert_eq!(task.await.unwrap(), 42);
/// }
/// ```
pub use sonic_tokio_macros::main;

/// Runs an `async fn` test on its own sonic runtime: tokio's `#[tokio::test]`. Same options as
/// [`main`](macro@main); `start_paused = true` needs no cargo feature.
///
/// ```
/// #[sonic_tokio::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     sonic_tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
/// }
/// ```
pub use sonic_tokio_macros::test;

/// Not public API: what the attribute macros expand to.
#[doc(hidden)]
pub mod __private {
    pub use sonic_rt;
    pub use sonic_rt::{main as sonic_main, test as sonic_test};
}
