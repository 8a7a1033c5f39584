//! `stdin`, `stdout` and `stderr` as async streams (tokio's `io::stdin` and friends).
//!
//! Each handle opens its descriptor lazily, at its first read or write:
//! - a pipe, FIFO, tty or other character device goes through the reactor, on a *new* open
//!   file description of the same object (`/proc/self/fd/N`), so its non-blocking flag is its
//!   own: the shell that shares the terminal, or a parent that shares the pipe, never finds
//!   its end switched to non-blocking;
//! - a regular file or block device (which epoll refuses), a socket (which cannot be reopened),
//!   or anything the reopening fails for, goes through the blocking pool, reading and writing
//!   at the descriptor's shared position, as tokio does for all stdio.
//!
//! Writes through the pool return once the data is handed over (as `fs::File`'s): `flush`
//! reports a failed write. Output from `print!` and from these handles may interleave in any
//! order unless the program flushes between them.

use crate::fs::File;
use crate::process::pipe::{impl_read, impl_write, Pipe};
use std::fmt;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

enum State {
    Unopened,
    Reactor(Pipe),
    Pool(File),
    Failed,
}

/// One of the three standard descriptors, opened at first use.
struct Stdio {
    fd: RawFd,
    write: bool,
    state: State,
}

impl Stdio {
    const fn new(fd: RawFd, write: bool) -> Stdio {
        Stdio {
            fd,
            write,
            state: State::Unopened,
        }
    }

    fn open(&mut self) -> io::Result<()> {
        if !matches!(self.state, State::Unopened) {
            return Ok(());
        }
        self.state = State::Failed;
        self.state = match reopen(self.fd, self.write) {
            Some(fd) => match Pipe::new(fd) {
                Ok(p) => State::Reactor(p),
                Err(_) => State::Pool(pool_file(self.fd)?),
            },
            None => State::Pool(pool_file(self.fd)?),
        };
        Ok(())
    }

    // `Pin<&mut Self>` receivers: the shape the trait macros call (`Stdio` is `Unpin`).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.open()?;
        match &mut this.state {
            State::Reactor(p) => Pin::new(p).poll_read(cx, buf),
            State::Pool(f) => futures_io::AsyncRead::poll_read(Pin::new(f), cx, buf),
            _ => Poll::Ready(Err(failed())),
        }
    }

    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.open()?;
        match &mut this.state {
            State::Reactor(p) => Pin::new(p).poll_write(cx, buf),
            State::Pool(f) => futures_io::AsyncWrite::poll_write(Pin::new(f), cx, buf),
            _ => Poll::Ready(Err(failed())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().state {
            State::Reactor(p) => Pin::new(p).poll_flush(cx),
            State::Pool(f) => futures_io::AsyncWrite::poll_flush(Pin::new(f), cx),
            State::Unopened => Poll::Ready(Ok(())),
            State::Failed => Poll::Ready(Err(failed())),
        }
    }
}

fn failed() -> io::Error {
    io::Error::other("the standard stream could not be opened")
}

/// A new open file description of what `fd` refers to, non-blocking, if it is a pipe, FIFO or
/// character device and the platform can reopen it.
fn reopen(fd: RawFd, write: bool) -> Option<OwnedFd> {
    // SAFETY: fstat fills a plain-data struct for an fd number (failing if it is not open).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `st` is a live local.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFIFO && kind != libc::S_IFCHR {
        return None;
    }
    let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).ok()?;
    let mode = if write {
        libc::O_WRONLY
    } else {
        libc::O_RDONLY
    };
    // SAFETY: open with a NUL-terminated path and integer flags.
    let new = unsafe {
        libc::open(
            path.as_ptr(),
            mode | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if new < 0 {
        return None;
    }
    // SAFETY: `new` was just opened for us.
    Some(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `fd` (duplicated) as a file on the blocking pool, at its shared position.
fn pool_file(fd: RawFd) -> io::Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC duplicates an fd number into a new fd we own (or fails).
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `dup` is a new fd owned by nobody else.
    let std = unsafe { std::fs::File::from_raw_fd(dup) };
    Ok(File::with_io_stream(std, crate::fs::io::Io::Pool))
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $ctor:ident, $fd:expr, $write:expr, $what:literal) => {
        $(#[$doc])*
        pub struct $name {
            inner: Stdio,
        }

        #[doc = concat!("The process's ", $what, " as an async stream (opened at its first use).")]
        ///
        /// Use it inside a sonic runtime: the first read or write registers it with the current
        /// one (an error outside any).
        pub fn $ctor() -> $name {
            $name {
                inner: Stdio::new($fd, $write),
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

handle!(
    /// The standard input (futures-io `AsyncRead`; tokio's with the `tokio` feature).
    Stdin,
    stdin,
    0,
    false,
    "standard input"
);
handle!(
    /// The standard output (futures-io `AsyncWrite`; tokio's with the `tokio` feature).
    Stdout,
    stdout,
    1,
    true,
    "standard output"
);
handle!(
    /// The standard error (futures-io `AsyncWrite`; tokio's with the `tokio` feature).
    Stderr,
    stderr,
    2,
    true,
    "standard error"
);

impl_read!(Stdin);
impl_write!(Stdout);
impl_write!(Stderr);
