//! Unix signals on the reactor: [`ctrl_c`] and [`unix::signal`].
//!
//! ```no_run
//! #[sonic_rt::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = sonic_rt::spawn(async { /* serve */ });
//!     sonic_rt::signal::ctrl_c().await?;
//!     server.abort(); // graceful shutdown starts here
//!     Ok(())
//! }
//! ```
//!
//! # How it works
//!
//! A process-wide handler, installed once per signal through `signal-hook-registry` (tokio's
//! choice: it chains to a handler other code installed before), does two async-signal-safe
//! things: it bumps an atomic delivery counter for the signal, then writes one byte to the
//! non-blocking self-pipe of every runtime that listens for any signal. Each such runtime
//! registers its pipe's read end with its reactor (through [`io::Async`](crate::io::Async)) and
//! runs a small dispatcher task that drains the pipe and wakes every listener whose signal's
//! counter moved. Listeners also compare the counter when polled, so nothing depends on the
//! order in which the dispatcher and the listeners run. This is the classic self-pipe trick,
//! the design tokio (and async-signal) use too.
//!
//! Consequences worth knowing:
//! - Several listeners of one signal, on one runtime or on many runtimes in many threads, each
//!   see each delivery. As in tokio, a listener created after a delivery sees it if the runtime
//!   had not processed it yet (it came while the runtime was busy: a Ctrl-C pressed while the
//!   program works is seen by the `ctrl_c()` it awaits next), and does not if the runtime had.
//! - Deliveries coalesce: two signals between two `recv`s are reported once.
//! - Once listened for, a signal's default action is gone for the rest of the process (a
//!   second Ctrl-C does not kill the process; exit yourself). A handler installed earlier by
//!   other code still runs, after sonic's.
//! - Each runtime that listens pays for one pipe (two fds) and one task (it counts in
//!   [`Runtime::live_tasks`](crate::Runtime::live_tasks)); both go away with its last listener.
//!
//! # Why not signalfd (or kqueue's EVFILT_SIGNAL)?
//!
//! `signalfd` only receives signals that are *blocked*, and blocking is per thread: every
//! thread of the process must block the signal, including threads the library does not own (a
//! test harness, a logging thread, a C library's worker). A single thread that does not block
//! SIGINT gets the default action and the whole process dies, and threads spawned before the
//! first listener inherit an unblocked mask. A handler plus self-pipe works whatever the other
//! threads do. (EVFILT_SIGNAL would be fine on kqueue, but one mechanism for both backends is
//! simpler to get right.)

mod driver;
mod registry;
pub mod unix;

use std::io;

/// Waits for the next Ctrl-C (SIGINT).
///
/// Listening starts when the returned future is first polled; from then on SIGINT no longer
/// terminates the process (see the [module docs](self)). Errors outside a sonic runtime or if
/// the runtime's self-pipe cannot be created.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let ctrl_c = sonic_rt::signal::ctrl_c();
///     sonic_rt::pin!(ctrl_c);
///     // Start listening, then pretend the user pressed Ctrl-C.
///     assert!(futures_util::poll!(ctrl_c.as_mut()).is_pending());
///     // SAFETY: raise takes a signal number; our handler is installed, so it does not kill.
///     unsafe { libc::raise(libc::SIGINT) };
///     ctrl_c.await.unwrap();
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut sigint = unix::signal(unix::SignalKind::interrupt())?;
    sigint.recv().await;
    Ok(())
}
