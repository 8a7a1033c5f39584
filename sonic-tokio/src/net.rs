//! tokio's `net`: TCP, UDP and Unix sockets (sonic-net's, which implement tokio's I/O traits).
//!
//! `UdpSocket`, `UnixDatagram`, `lookup_host` and `ToSocketAddrs` are sonic-net's own types.
//! The stream types (`TcpStream`, `UnixStream`) and the types that hand them out
//! (`TcpListener`, `TcpSocket`, `UnixListener`) are thin wrappers here, for one reason: sonic-net's
//! streams have `std`'s synchronous `shutdown(how)`, an inherent method that would shadow
//! tokio's `AsyncWriteExt::shutdown()` (so `stream.shutdown().await` would not compile). The
//! wrappers have no inherent `shutdown`, so it resolves to tokio's as on tokio; every other
//! method is sonic-net's, reached through `Deref` (the wrapper adds no cost: it is the same
//! value).

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::io;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

pub use sonic_net::{lookup_host, ToSocketAddrs, UdpSocket, UnixDatagram};

/// TCP helper types (tokio's `net::tcp`): the halves of a split [`TcpStream`].
pub mod tcp {
    pub use sonic_net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
}

/// Unix socket helper types (tokio's `net::unix`): the halves of a split [`UnixStream`], and
/// the address type.
pub mod unix {
    pub use sonic_net::unix::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
    pub use std::os::unix::net::SocketAddr;
}

/// A connected stream wrapper: `Deref` to sonic-net's type, tokio's I/O traits forwarded, and
/// the constructors and `self`-consuming methods tokio has.
macro_rules! stream_wrapper {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $std:ty, $read:ty, $write:ty) => {
        $(#[$doc])*
        pub struct $name {
            inner: $inner,
        }

        impl TryFrom<$std> for $name {
            type Error = io::Error;

            /// tokio's conversion: [`from_std`]($name::from_std).
            fn try_from(stream: $std) -> io::Result<$name> {
                $name::from_std(stream)
            }
        }

        impl $name {
            /// Registers a connected `std` stream with the current runtime (made
            /// non-blocking here).
            pub fn from_std(stream: $std) -> io::Result<$name> {
                <$inner>::from_std(stream).map($name::from)
            }

            /// Deregisters the stream and gives the `std` one back (see sonic-net's
            /// `into_std` for read-ahead bytes).
            pub fn into_std(self) -> io::Result<$std> {
                self.inner.into_std()
            }

            /// Splits into owned halves that may go to different tasks.
            pub fn into_split(self) -> ($read, $write) {
                self.inner.into_split()
            }

            /// The sonic-net stream underneath.
            pub fn into_inner(self) -> $inner {
                self.inner
            }
        }

        impl From<$inner> for $name {
            fn from(inner: $inner) -> $name {
                $name { inner }
            }
        }

        impl Deref for $name {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.inner
            }
        }

        impl DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $inner {
                &mut self.inner
            }
        }

        impl AsyncRead for $name {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_read(cx, buf)
            }
        }

        impl AsyncWrite for $name {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                AsyncWrite::is_write_vectored(&self.inner)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.inner.fmt(f)
            }
        }
    };
}

stream_wrapper!(
    /// tokio's `TcpStream`: sonic-net's [`TcpStream`](sonic_net::TcpStream) (every method of
    /// it through `Deref`) without the synchronous inherent `shutdown(how)`, so that
    /// `stream.shutdown().await` is tokio's `AsyncWriteExt::shutdown`. `std`'s shutdown is
    /// still `(*stream).shutdown(how)`.
    TcpStream,
    sonic_net::TcpStream,
    std::net::TcpStream,
    tcp::OwnedReadHalf,
    tcp::OwnedWriteHalf
);

stream_wrapper!(
    /// tokio's `UnixStream`: sonic-net's [`UnixStream`](sonic_net::UnixStream) through
    /// `Deref`, without the inherent synchronous `shutdown(how)` (see [`TcpStream`]).
    UnixStream,
    sonic_net::UnixStream,
    std::os::unix::net::UnixStream,
    unix::OwnedReadHalf,
    unix::OwnedWriteHalf
);

impl TcpStream {
    /// Connects to `addr` (each resolved address in turn; host names resolved off the loop).
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        sonic_net::TcpStream::connect(addr)
            .await
            .map(TcpStream::from)
    }
}

impl UnixStream {
    /// Connects to the socket at `path`.
    pub async fn connect<P: AsRef<std::path::Path>>(path: P) -> io::Result<UnixStream> {
        sonic_net::UnixStream::connect(path)
            .await
            .map(UnixStream::from)
    }

    /// Connects to the socket at `addr` (a path or, on Linux, an abstract name): tokio's
    /// `connect_addr`.
    pub async fn connect_addr(addr: &unix::SocketAddr) -> io::Result<UnixStream> {
        sonic_net::UnixStream::connect_addr(addr)
            .await
            .map(UnixStream::from)
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sonic_net::UnixStream::pair()?;
        Ok((a.into(), b.into()))
    }
}

/// tokio's `TcpListener`: sonic-net's [`TcpListener`](sonic_net::TcpListener) through `Deref`,
/// whose `accept` hands out this module's [`TcpStream`].
#[derive(Debug)]
pub struct TcpListener {
    inner: sonic_net::TcpListener,
}

impl TcpListener {
    /// Binds to `addr` (the first resolved address that binds) and listens.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        sonic_net::TcpListener::bind(addr)
            .await
            .map(|inner| TcpListener { inner })
    }

    /// Accepts a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, a) = self.inner.accept().await?;
        Ok((s.into(), a))
    }

    /// Polls for a connection (tokio's `poll_accept`).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.inner
            .poll_accept(cx)
            .map_ok(|(s, a)| (TcpStream::from(s), a))
    }

    /// Registers a listening `std` listener with the current runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        sonic_net::TcpListener::from_std(listener).map(|inner| TcpListener { inner })
    }

    /// Deregisters the listener and gives the `std` one back.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.inner.into_std()
    }
}

impl From<sonic_net::TcpListener> for TcpListener {
    fn from(inner: sonic_net::TcpListener) -> TcpListener {
        TcpListener { inner }
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// tokio's conversion: [`from_std`](TcpListener::from_std).
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl Deref for TcpListener {
    type Target = sonic_net::TcpListener;
    fn deref(&self) -> &sonic_net::TcpListener {
        &self.inner
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// tokio's `TcpSocket`: sonic-net's [`TcpSocket`](sonic_net::TcpSocket) (its setters through
/// `Deref`), whose `connect` and `listen` hand out this module's types.
#[derive(Debug)]
pub struct TcpSocket {
    inner: sonic_net::TcpSocket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        sonic_net::TcpSocket::new_v4().map(|inner| TcpSocket { inner })
    }

    /// A new IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        sonic_net::TcpSocket::new_v6().map(|inner| TcpSocket { inner })
    }

    /// Wraps a `std` stream's socket (to set options before use).
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            inner: sonic_net::TcpSocket::from_std_stream(stream),
        }
    }

    /// Connects to `addr`.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        self.inner.connect(addr).await.map(TcpStream::from)
    }

    /// Listens with `backlog`.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog).map(TcpListener::from)
    }
}

impl Deref for TcpSocket {
    type Target = sonic_net::TcpSocket;
    fn deref(&self) -> &sonic_net::TcpSocket {
        &self.inner
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// tokio's `UnixListener`: sonic-net's [`UnixListener`](sonic_net::UnixListener) through
/// `Deref`, whose `accept` hands out this module's [`UnixStream`].
#[derive(Debug)]
pub struct UnixListener {
    inner: sonic_net::UnixListener,
}

impl UnixListener {
    /// Binds to `path` and listens (a path starting with a NUL byte is an abstract name on
    /// Linux).
    pub fn bind<P: AsRef<std::path::Path>>(path: P) -> io::Result<UnixListener> {
        sonic_net::UnixListener::bind(path).map(|inner| UnixListener { inner })
    }

    /// Binds to `addr` (a path or, on Linux, an abstract name) and listens: tokio's
    /// `bind_addr`.
    pub fn bind_addr(addr: &unix::SocketAddr) -> io::Result<UnixListener> {
        sonic_net::UnixListener::bind_addr(addr).map(|inner| UnixListener { inner })
    }

    /// Accepts a connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, unix::SocketAddr)> {
        let (s, a) = self.inner.accept().await?;
        Ok((s.into(), a))
    }

    /// Polls for a connection (tokio's `poll_accept`).
    pub fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, unix::SocketAddr)>> {
        self.inner
            .poll_accept(cx)
            .map_ok(|(s, a)| (UnixStream::from(s), a))
    }

    /// Registers a listening `std` listener with the current runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        sonic_net::UnixListener::from_std(listener).map(|inner| UnixListener { inner })
    }

    /// Deregisters the listener and gives the `std` one back.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.inner.into_std()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// tokio's conversion: [`from_std`](UnixListener::from_std).
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl Deref for UnixListener {
    type Target = sonic_net::UnixListener;
    fn deref(&self) -> &sonic_net::UnixListener {
        &self.inner
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}
