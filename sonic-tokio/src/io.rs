//! tokio's `io`: tokio's own traits and utilities (`AsyncRead`, `AsyncWriteExt`, `BufReader`,
//! `copy`, `copy_bidirectional`, `duplex`, `split`...: the `tokio` crate built with `io-util`
//! only, no runtime), plus sonic-rt's [`stdin`], [`stdout`], [`stderr`], readiness types
//! [`Interest`], [`Ready`] and [`unix::AsyncFd`].
//!
//! [`empty`], [`repeat`] and [`sink`] are this crate's: they are always ready, so tokio's
//! versions stop a loop over them only through tokio's cooperative budget, which no sonic task
//! has (a `timeout` around such a loop would never fire). These spend sonic's budget instead,
//! as sonic's own I/O does, so the loop yields every 128 operations as it does on tokio.

pub use sonic_rt::io::{stderr, stdin, stdout, Interest, Ready, Stderr, Stdin, Stdout};
pub use tokio::io::*;

/// tokio's `io::unix`: [`AsyncFd`](unix::AsyncFd) and its ready guards, sonic-rt's
/// [`sonic_rt::io::unix`] (tokio's semantics; the `AsyncFd` is `!Send`).
pub mod unix {
    pub use sonic_rt::io::unix::*;
}

use sonic_rt::task::poll_proceed;
use std::fmt;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// `AsyncWrite` for a writer that takes everything and keeps nothing, each operation spending
/// one unit of the task's budget (`Empty` and `Sink` are both one).
macro_rules! discarding_writer {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<Result<usize>> {
                ready!(poll_proceed(cx));
                Poll::Ready(Ok(buf.len()))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<Result<usize>> {
                ready!(poll_proceed(cx));
                Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
                ready!(poll_proceed(cx));
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
                ready!(poll_proceed(cx));
                Poll::Ready(Ok(()))
            }
        }
    };
}

/// A reader that is always at end of file and a writer that takes everything: tokio's
/// `io::Empty`. Made by [`empty`].
#[derive(Default)]
pub struct Empty {
    _private: (),
}

/// An empty reader and a writer that discards everything, each operation spending one unit
/// of the task's cooperative budget: tokio's `io::empty`.
///
/// # Examples
/// ```
/// use sonic_tokio::io::AsyncReadExt;
///
/// # sonic_tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut buf = Vec::new();
/// sonic_tokio::io::empty().read_to_end(&mut buf).await.unwrap();
/// assert!(buf.is_empty());
/// # });
/// ```
pub fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<&[u8]>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _: usize) {}
}

discarding_writer!(Empty);

impl AsyncSeek for Empty {
    fn start_seek(self: Pin<&mut Self>, _: SeekFrom) -> Result<()> {
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<u64>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(0))
    }
}

impl fmt::Debug for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Empty { .. }")
    }
}

/// A reader that yields one byte over and over: tokio's `io::Repeat`. Made by [`repeat`].
#[derive(Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte`, each read spending one unit of the task's
/// cooperative budget: tokio's `io::repeat`.
///
/// # Examples
/// ```
/// use sonic_tokio::io::AsyncReadExt;
///
/// # sonic_tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut buf = [0u8; 4];
/// sonic_tokio::io::repeat(7).read_exact(&mut buf).await.unwrap();
/// assert_eq!(buf, [7; 4]);
/// # });
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<Result<()>> {
        ready!(poll_proceed(cx));
        let rest = buf.initialize_unfilled();
        rest.fill(self.byte);
        let n = rest.len();
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// A writer that takes everything and keeps nothing: tokio's `io::Sink`. Made by [`sink`].
#[derive(Default)]
pub struct Sink {
    _private: (),
}

/// A writer that discards everything, each operation spending one unit of the task's
/// cooperative budget: tokio's `io::sink`.
///
/// # Examples
/// ```
/// use sonic_tokio::io::AsyncWriteExt;
///
/// # sonic_tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let n = sonic_tokio::io::sink().write(b"gone").await.unwrap();
/// assert_eq!(n, 4);
/// # });
/// ```
pub fn sink() -> Sink {
    Sink { _private: () }
}

discarding_writer!(Sink);

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sink { .. }")
    }
}
