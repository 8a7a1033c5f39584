//! Read and write halves of a `TcpStream`.
//!
//! Rules: the reactor keeps one reader waker and one writer waker per socket, so one task may
//! read while another writes, but two tasks must not both read (or both write) the same stream:
//! the second waker would replace the first. The halves enforce that by type: one `ReadHalf`,
//! one `WriteHalf`.
//!
//! Borrowed halves are two references, nothing more. Owned halves share the stream through an
//! `Rc` (no lock, no atomic: the runtime is single-threaded and the halves are `!Send`).

use super::TcpStream;
use crate::stream_io::{impl_async_read, impl_async_write};
use std::error::Error;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

/// The read half of [`TcpStream::split`]: implements `AsyncRead`.
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of [`TcpStream::split`]: implements `AsyncWrite`; `poll_close` shuts the
/// write side of the stream down.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

pub(super) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

/// The read half of [`TcpStream::into_split`]: implements `AsyncRead`.
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Rc<TcpStream>,
}

/// The write half of [`TcpStream::into_split`]: implements `AsyncWrite`.
///
/// Dropping it shuts the write side of the stream down (the peer reads end-of-stream), as
/// tokio's does; [`OwnedWriteHalf::forget`] drops it without that.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Rc<TcpStream>,
    shutdown_on_drop: bool,
}

pub(super) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
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

impl ReadHalf<'_> {
    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// See [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.peek(buf).await
    }
}

impl WriteHalf<'_> {
    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl OwnedReadHalf {
    /// Puts the stream back together. Fails (handing both halves back) if they come from
    /// different streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, other)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// See [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.peek(buf).await
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together (see [`OwnedReadHalf::reunite`]).
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(other, self)
    }

    /// Drops the half without shutting the write side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; there is no one to tell about a failure here.
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    if !Rc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    let inner = write.inner.clone();
    drop(read);
    drop(write);
    // Exactly one reference is left (the halves are the only owners and both are gone).
    Ok(Rc::try_unwrap(inner).unwrap_or_else(|_| unreachable!("a TcpStream half outlived reunite")))
}

/// Returned by `reunite` when the two halves are not from the same stream.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl Error for ReuniteError {}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl_async_read!(['a] ReadHalf<'a>, |s| s.0.async_io());
impl_async_write!(['a] WriteHalf<'a>, |s| s.0.async_io());
impl_async_read!([] OwnedReadHalf, |s| s.inner.async_io());
impl_async_write!([] OwnedWriteHalf, |s| s.inner.async_io());
