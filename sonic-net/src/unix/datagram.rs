//! `UnixDatagram`.

use super::address;
use crate::methods::{
    buf_recv_methods, datagram_methods, impl_debug_as_std, impl_fd, local_addr_methods,
    readiness_methods,
};
use crate::recv_buf::RecvBuf;
use socket2::SockRef;
use sonic_rt::io::{Async, Interest};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{ready, Context, Poll};

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

    /// Polls for [`recv`](UnixDatagram::recv): into a slice (returns the count), or, with the
    /// `tokio` feature, into a tokio `ReadBuf` (fills and advances it, as tokio's `poll_recv`).
    pub fn poll_recv<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::Len>> {
        // SAFETY: only `recv` writes through `dst`, and it writes initialised bytes.
        let dst = unsafe { buf.unfilled() };
        let n = ready!(self
            .io
            .poll_read_with(cx, |s| SockRef::from(s).recv(&mut *dst)))?;
        // SAFETY: `recv` returned `n`: the kernel initialised that many bytes of `dst`.
        Poll::Ready(Ok(unsafe { buf.filled(n) }))
    }

    /// Polls for [`send_to`](UnixDatagram::send_to) (tokio's `poll_send_to`).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let addr = address::from_path(path.as_ref())?;
        self.io.poll_write_with(cx, |s| s.send_to_addr(buf, &addr))
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

    /// Polls for [`recv_from`](UnixDatagram::recv_from): into a slice (returns the count and
    /// the sender), or, with the `tokio` feature, into a tokio `ReadBuf` (fills and advances
    /// it, returns the sender, as tokio's `poll_recv_from`).
    pub fn poll_recv_from<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::LenFrom<SocketAddr>>> {
        // SAFETY: only `recv_from` writes through `dst`, and it writes initialised bytes.
        let dst = unsafe { buf.unfilled() };
        let (n, from) = ready!(self.io.poll_read_with(cx, |s| {
            let (n, from) = SockRef::from(s).recv_from(&mut *dst)?;
            Ok((n, address::from_sockaddr(&from)?))
        }))?;
        // SAFETY: `recv_from` returned `n`: the kernel initialised that many bytes of `dst`.
        Poll::Ready(Ok(unsafe { buf.filled_from(n, from) }))
    }

    /// Shuts down reading, writing or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

datagram_methods!(UnixDatagram, SocketAddr);
buf_recv_methods!(UnixDatagram, SocketAddr, |a| address::from_sockaddr(&a));
readiness_methods!(UnixDatagram, poll_recv_ready, poll_send_ready);
local_addr_methods!(UnixDatagram, SocketAddr);
impl_fd!(UnixDatagram);
crate::methods::try_from_std!(UnixDatagram, std::os::unix::net::UnixDatagram);
impl_debug_as_std!(UnixDatagram);
