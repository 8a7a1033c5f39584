//! `TcpStream`'s halves: aliases of the generic halves in [`crate::split`], plus `peek`.

use super::TcpStream;
use crate::split::stream_halves;
use std::io;
use std::net::SocketAddr;

stream_halves!(TcpStream, SocketAddr, std::net::TcpStream);

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
