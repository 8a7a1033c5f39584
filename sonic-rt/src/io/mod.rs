//! I/O readiness: any non-blocking file descriptor made awaitable.

mod async_fd;
mod read_ahead;
mod ready;
#[cfg(unix)]
pub mod unix;

pub use async_fd::Async;
pub use ready::{Interest, Ready};

/// The standard streams as async streams (tokio's `io::stdin` and friends): see
/// [`stdio`](crate::stdio).
#[cfg(unix)]
pub use crate::stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
