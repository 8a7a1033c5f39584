//! Read and write halves of a byte stream (`TcpStream`, `UnixStream`), under the names tokio
//! uses: `tcp::{ReadHalf, WriteHalf, OwnedReadHalf, OwnedWriteHalf, ReuniteError}` and the same
//! in `unix`, each an alias of the generic type here.
//!
//! Rules: the `poll_*` path (`AsyncRead`, `AsyncWrite`) keeps one reader waker and one writer
//! waker per socket, so one task may read while another writes, but two tasks must not both
//! poll-read (or both poll-write) the same stream: the second waker would replace the first.
//! The halves enforce that by type: one read half, one write half. Their async fns (`ready`,
//! `readable`, `writable`) wait in the waiter lists like the stream's own.
//!
//! Borrowed halves are two references, nothing more. Owned halves share the stream through an
//! `Rc` (no lock, no atomic: the runtime is single-threaded and the halves are `!Send`).

use crate::stream_io;
use sonic_rt::io::{Async, Interest, Ready};
use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::AsFd;
use std::rc::Rc;

/// A stream that can be split: what the halves need from it.
pub trait SplitStream: sealed::Sealed {
    /// The address type of the stream's endpoints.
    type Addr;

    /// The `std` socket under the stream.
    #[doc(hidden)]
    type Io: AsFd;

    /// The local address.
    fn local_addr(&self) -> io::Result<Self::Addr>;

    /// The remote address.
    fn peer_addr(&self) -> io::Result<Self::Addr>;

    /// Shuts the write side down.
    fn shutdown_write(&self) -> io::Result<()>;

    /// The registered socket.
    #[doc(hidden)]
    fn as_async(&self) -> &Async<Self::Io>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The read half of a borrowed split (`TcpStream::split`, `UnixStream::split`): implements
/// `AsyncRead`.
#[derive(Debug)]
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half of a borrowed split: implements `AsyncWrite`; `poll_close` shuts the write
/// side of the stream down.
#[derive(Debug)]
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The read half of an owned split (`into_split`): implements `AsyncRead`.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    pub(crate) inner: Rc<S>,
}

/// The write half of an owned split: implements `AsyncWrite`.
///
/// Dropping it shuts the write side of the stream down (the peer reads end-of-stream), as
/// tokio's does; [`OwnedWriteHalf::forget`] drops it without that.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream> {
    pub(crate) inner: Rc<S>,
    shutdown_on_drop: bool,
}

pub(crate) fn split<S>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let inner = Rc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

impl<S: SplitStream> ReadHalf<'_, S> {
    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.0.local_addr()
    }
}

impl<S: SplitStream> WriteHalf<'_, S> {
    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.0.local_addr()
    }
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together. Fails (handing both halves back) if they come from
    /// different streams.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.inner.local_addr()
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together (see [`OwnedReadHalf::reunite`]).
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }

    /// Drops the half without shutting the write side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.inner.local_addr()
    }
}

/// The read side's readiness and non-blocking reads, tokio's, on a read half (`$half` is
/// `AsRef<S>`).
macro_rules! read_half_methods {
    ($($half:tt)*) => {
        impl<S: SplitStream> $($half)* {
            /// Waits until the stream is ready for any of `interest`; see `TcpStream::ready`.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                self.as_ref().as_async().ready(interest).await
            }

            /// Waits until the stream is (probably) readable; see `TcpStream::readable`.
            pub async fn readable(&self) -> io::Result<()> {
                self.as_ref().as_async().readable().await
            }

            /// One non-blocking read; see `TcpStream::try_read`.
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                stream_io::try_read(self.as_ref().as_async(), buf)
            }

            /// One non-blocking vectored read; see `TcpStream::try_read_vectored`.
            pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                stream_io::try_read_vectored(self.as_ref().as_async(), bufs)
            }

            /// One non-blocking read into a `BufMut`; see `TcpStream::try_read_buf`.
            #[cfg(feature = "bytes")]
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
                stream_io::try_read_buf(self.as_ref().as_async(), buf)
            }
        }
    };
}

/// The write side's readiness and non-blocking writes, tokio's, on a write half.
macro_rules! write_half_methods {
    ($($half:tt)*) => {
        impl<S: SplitStream> $($half)* {
            /// Waits until the stream is ready for any of `interest`; see `TcpStream::ready`.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                self.as_ref().as_async().ready(interest).await
            }

            /// Waits until the stream is (probably) writable; see `TcpStream::writable`.
            pub async fn writable(&self) -> io::Result<()> {
                self.as_ref().as_async().writable().await
            }

            /// One non-blocking write; see `TcpStream::try_write`.
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                stream_io::try_write(self.as_ref().as_async(), buf)
            }

            /// One non-blocking vectored write; see `TcpStream::try_write_vectored`.
            pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                stream_io::try_write_vectored(self.as_ref().as_async(), bufs)
            }
        }
    };
}

read_half_methods!(ReadHalf<'_, S>);
read_half_methods!(OwnedReadHalf<S>);
write_half_methods!(WriteHalf<'_, S>);
write_half_methods!(OwnedWriteHalf<S>);

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; there is no one to tell about a failure here.
            let _ = self.inner.shutdown_write();
        }
    }
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Rc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    let inner = write.inner.clone();
    drop(read);
    drop(write);
    // Exactly one reference is left (the halves are the only owners and both are gone).
    Ok(Rc::try_unwrap(inner).unwrap_or_else(|_| unreachable!("a stream half outlived reunite")))
}

/// Returned by `reunite` when the two halves are not from the same stream.
#[derive(Debug)]
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream + fmt::Debug> Error for ReuniteError<S> {}

impl<S> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

/// Declares a stream type's halves under tokio's names (`ReadHalf`, `WriteHalf`, `OwnedReadHalf`,
/// `OwnedWriteHalf`, `ReuniteError`) in the calling module, implements [`SplitStream`] through
/// the stream's own address methods, and puts futures-io (and tokio's) traits on the halves.
/// The stream needs `local_addr`, `peer_addr`, `shutdown(Shutdown)` and `as_async()` (the
/// registered `$io`).
macro_rules! stream_halves {
    ($stream:ident, $addr:ty, $io:ty) => {
        #[doc = concat!("The read half of [`", stringify!($stream), "::split`]: implements `AsyncRead`.")]
        pub type ReadHalf<'a> = $crate::split::ReadHalf<'a, $stream>;
        #[doc = concat!("The write half of [`", stringify!($stream), "::split`]: implements `AsyncWrite`; `poll_close` shuts the write side down.")]
        pub type WriteHalf<'a> = $crate::split::WriteHalf<'a, $stream>;
        #[doc = concat!("The read half of [`", stringify!($stream), "::into_split`]: implements `AsyncRead`.")]
        pub type OwnedReadHalf = $crate::split::OwnedReadHalf<$stream>;
        #[doc = concat!("The write half of [`", stringify!($stream), "::into_split`]: implements `AsyncWrite`; dropping it shuts the write side down.")]
        pub type OwnedWriteHalf = $crate::split::OwnedWriteHalf<$stream>;
        /// Returned by `reunite` when the two halves are not from the same stream.
        pub type ReuniteError = $crate::split::ReuniteError<$stream>;

        impl $crate::split::sealed::Sealed for $stream {}

        impl $crate::split::SplitStream for $stream {
            type Addr = $addr;
            type Io = $io;

            fn local_addr(&self) -> std::io::Result<$addr> {
                $stream::local_addr(self)
            }

            fn peer_addr(&self) -> std::io::Result<$addr> {
                $stream::peer_addr(self)
            }

            fn shutdown_write(&self) -> std::io::Result<()> {
                self.shutdown(std::net::Shutdown::Write)
            }

            fn as_async(&self) -> &sonic_rt::io::Async<$io> {
                $stream::as_async(self)
            }
        }

        $crate::stream_io::impl_async_read!(['a] $crate::split::ReadHalf<'a, $stream>, |s| s.0.as_async());
        $crate::stream_io::impl_async_write!(['a] $crate::split::WriteHalf<'a, $stream>, |s| s.0.as_async());
        $crate::stream_io::impl_async_read!([] $crate::split::OwnedReadHalf<$stream>, |s| s.inner.as_async());
        $crate::stream_io::impl_async_write!([] $crate::split::OwnedWriteHalf<$stream>, |s| s.inner.as_async());
    };
}
pub(crate) use stream_halves;
