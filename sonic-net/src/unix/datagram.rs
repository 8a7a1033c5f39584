//! `UnixDatagram`.

use super::address;
use crate::methods::{
    datagram_methods, impl_debug_as_std, impl_fd, local_addr_methods, readiness_methods,
};
use sonic_rt::io::{Async, Interest};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix datagram socket registered with the current sonic runtime.
///
/// Several tasks may share one socket through an `Rc`: every task waiting in an async fn
/// (`recv_from`, `send_to`, `ready`, `readable`...) is woken when the socket becomes ready,
/// and those that then find nothing wait again. The `poll_*` methods keep only the most recent
/// poller's waker per direction, as in tokio. The `try_*` methods answer `WouldBlock` as
/// tokio's do (see [`UdpSocket`](crate::UdpSocket)).
///
/// # Examples
/// ```
/// use sonic_net::UnixDatagram;
///
/// sonic_rt::block_on(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one datagram").await.unwrap();
///     let mut buf = [0u8; 32];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one datagram");
/// });
/// ```
pub struct UnixDatagram {
    io: Async<net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// On Linux and Android a path that starts with a NUL byte (`"\0name"`) binds the name in
    /// the abstract namespace instead, as for [`UnixListener::bind`](crate::UnixListener::bind)
    /// (see the [module docs](super)).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&address::from_path(path.as_ref())?)
    }

    /// A socket bound to `addr`: for an address built with `std`, for example an abstract one
    /// from `SocketAddrExt::from_abstract_name`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")]
    /// # {
    /// use sonic_net::UnixDatagram;
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    ///
    /// sonic_rt::block_on(async {
    ///     let name = format!("sonic-doc-dgram-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(&name).unwrap();
    ///     let server = UnixDatagram::bind_addr(&addr).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to_addr(b"ping", &addr).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, _from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"ping");
    /// });
    /// # }
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::bind_addr(addr)?)
    }

    /// A socket bound to no address (it can send; replies need an address to come back to).
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::unbound()?)
    }

    /// A connected pair of unnamed sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a `std` socket: makes it non-blocking and registers it.
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Async::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the `std` one, still non-blocking.
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Sets the default destination (and only accepted source) to the socket at `path` (read as
    /// in [`bind`](UnixDatagram::bind): a leading NUL names an abstract socket).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.connect_addr(&address::from_path(path.as_ref())?)
    }

    /// Sets the default destination (and only accepted source) to the socket at `addr`.
    pub fn connect_addr(&self, addr: &SocketAddr) -> io::Result<()> {
        self.io.get_ref().connect_addr(addr)
    }

    /// Polls for [`recv`](UnixDatagram::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |s| s.recv(buf))
    }

    /// Sends one datagram to the socket bound at `path` (read as in
    /// [`bind`](UnixDatagram::bind): a leading NUL names an abstract socket).
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = address::from_path(path.as_ref())?;
        self.send_to_addr(buf, &addr).await
    }

    /// Sends one datagram to the socket at `addr`.
    pub async fn send_to_addr(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        self.io.write_with(|s| s.send_to_addr(buf, addr)).await
    }

    /// Sends one datagram to the socket bound at `path` if the socket is writable now,
    /// without waiting: `WouldBlock` otherwise.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = address::from_path(path.as_ref())?;
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to_addr(buf, &addr))
    }

    /// Polls for [`recv_from`](UnixDatagram::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |s| s.recv_from(buf))
    }

    /// Shuts down reading, writing or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

datagram_methods!(UnixDatagram, SocketAddr);
readiness_methods!(UnixDatagram, poll_recv_ready, poll_send_ready);
local_addr_methods!(UnixDatagram, SocketAddr);
impl_fd!(UnixDatagram);
crate::methods::try_from_std!(UnixDatagram, std::os::unix::net::UnixDatagram);
impl_debug_as_std!(UnixDatagram);
