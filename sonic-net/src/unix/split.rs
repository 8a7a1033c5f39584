//! `UnixStream`'s halves: aliases of the generic halves in [`crate::split`].

use super::UnixStream;
use crate::split::{self, impl_split_io, SplitStream};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;

/// The read half of [`UnixStream::split`]: implements `AsyncRead`.
pub type ReadHalf<'a> = split::ReadHalf<'a, UnixStream>;
/// The write half of [`UnixStream::split`]: implements `AsyncWrite`; `poll_close` shuts the
/// write side of the stream down.
pub type WriteHalf<'a> = split::WriteHalf<'a, UnixStream>;
/// The read half of [`UnixStream::into_split`]: implements `AsyncRead`.
pub type OwnedReadHalf = split::OwnedReadHalf<UnixStream>;
/// The write half of [`UnixStream::into_split`]: implements `AsyncWrite`; dropping it shuts
/// the write side down.
pub type OwnedWriteHalf = split::OwnedWriteHalf<UnixStream>;
/// Returned by `reunite` when the two halves are not from the same stream.
pub type ReuniteError = split::ReuniteError<UnixStream>;

impl split::sealed::Sealed for UnixStream {}

impl SplitStream for UnixStream {
    type Addr = SocketAddr;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::peer_addr(self)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl_split_io!(UnixStream);
