//! I/O readiness: any non-blocking file descriptor made awaitable.

mod async_fd;

pub use async_fd::Async;
