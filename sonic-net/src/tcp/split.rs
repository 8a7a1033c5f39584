//! `TcpStream`'s halves: aliases of the generic halves in [`crate::split`], plus `peek`.

use super::TcpStream;
use crate::split::{self, impl_split_io, SplitStream};
use std::io;
use std::net::{Shutdown, SocketAddr};

/// The read half of [`TcpStream::split`]: implements `AsyncRead`.
pub type ReadHalf<'a> = split::ReadHalf<'a, TcpStream>;
/// The write half of [`TcpStream::split`]: implements `AsyncWrite`; `poll_close` shuts the
/// write side of the stream down.
pub type WriteHalf<'a> = split::WriteHalf<'a, TcpStream>;
/// The read half of [`TcpStream::into_split`]: implements `AsyncRead`.
pub type OwnedReadHalf = split::OwnedReadHalf<TcpStream>;
/// The write half of [`TcpStream::into_split`]: implements `AsyncWrite`; dropping it shuts the
/// write side down.
pub type OwnedWriteHalf = split::OwnedWriteHalf<TcpStream>;
/// Returned by `reunite` when the two halves are not from the same stream.
pub type ReuniteError = split::ReuniteError<TcpStream>;

impl split::sealed::Sealed for TcpStream {}

impl SplitStream for TcpStream {
    type Addr = SocketAddr;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl ReadHalf<'_> {
    /// See [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.peek(buf).await
    }
}

impl OwnedReadHalf {
    /// See [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.peek(buf).await
    }
}

impl_split_io!(TcpStream);
