//! `UnixStream`: a connected Unix stream socket.

use super::address;
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::methods::{
    impl_debug_as_std, impl_fd, local_addr_methods, readiness_methods, spin_reads_method,
    stream_methods,
};
use crate::sockopt;
use crate::stream_io::{self, impl_async_read, impl_async_write};
use socket2::{Domain, Type};
use sonic_rt::io::Async;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

/// A Unix stream socket registered with the current sonic runtime. Implements futures-io
/// `AsyncRead`/`AsyncWrite` (tokio's with the `tokio` feature); `poll_close` shuts the write
/// side down.
///
/// # Examples
/// ```
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
/// use sonic_net::UnixStream;
///
/// sonic_rt::block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over unix").await.unwrap();
///     let mut buf = [0u8; 9];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"over unix");
/// });
/// ```
pub struct UnixStream {
    io: Async<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`, without blocking the thread.
    ///
    /// On Linux and Android a path that starts with a NUL byte (`"\0name"`) names a socket in
    /// the abstract namespace, as in tokio (see the [module docs](super)).
    ///
    /// If the listener's backlog is full, Linux fails a non-blocking Unix connect at once with
    /// `EAGAIN`; that surfaces as an error of kind [`io::ErrorKind::WouldBlock`] with a message
    /// saying so (retry later), never as a hang.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = address::from_path(path.as_ref())?;
        UnixStream::connect_addr(&addr).await
    }

    /// Connects to the socket at `addr`, like [`connect`](UnixStream::connect): for an address
    /// built with `std`, for example an abstract one from `SocketAddrExt::from_abstract_name`
    /// (see [`UnixListener::bind_addr`](crate::UnixListener::bind_addr)). An unnamed address
    /// fails with [`io::ErrorKind::InvalidInput`].
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let addr = address::to_sockaddr(addr)?;
        let socket = sockopt::new_socket(Domain::UNIX, Type::STREAM, None)?;
        let connected = match sockopt::start_connect(&socket, &addr) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "unix connect: the listener's backlog is full (EAGAIN)",
                ))
            }
            res => res?,
        };
        let io = Async::new(net::UnixStream::from(std::os::fd::OwnedFd::from(socket)))?;
        if !connected {
            io.clear_writable();
            poll_fn(|cx| stream_io::poll_connected(&io, cx)).await?;
        }
        Ok(UnixStream { io })
    }

    /// A connected pair of sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }
}

impl_async_read!([] UnixStream, |s| &s.io);
impl_async_write!([] UnixStream, |s| &s.io);
// `&UnixStream` too (as `std` does for `&std::net::UnixStream`): reading and writing through a
// shared reference, e.g. from an `Rc<UnixStream>`.
impl_async_read!(['a] &'a UnixStream, |s| &s.io);
impl_async_write!(['a] &'a UnixStream, |s| &s.io);

readiness_methods!(UnixStream, poll_read_ready, poll_write_ready);
stream_methods!(UnixStream, net::UnixStream, SocketAddr);
spin_reads_method!(UnixStream);
local_addr_methods!(UnixStream, SocketAddr);
impl_fd!(UnixStream);
crate::methods::try_from_std!(UnixStream, std::os::unix::net::UnixStream);
impl_debug_as_std!(UnixStream);
