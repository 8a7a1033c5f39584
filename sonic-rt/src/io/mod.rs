//! I/O readiness: any non-blocking file descriptor made awaitable.

mod async_fd;
mod read_ahead;

pub use async_fd::Async;
