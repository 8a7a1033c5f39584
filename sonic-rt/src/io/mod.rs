//! I/O readiness: any non-blocking file descriptor made awaitable.

mod async_fd;
mod read_ahead;
mod ready;

pub use async_fd::Async;
pub use ready::{Interest, Ready};
