//! `TcpSocket`: a TCP socket not yet connected or listening, whose options are set first.

use super::stream::connect_socket;
use super::{TcpListener, TcpStream};
use crate::methods::{impl_fd, ip_option_methods};
use socket2::{Domain, Protocol, Socket, Type};
use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A TCP socket that is neither connected nor listening yet: set its options, maybe
/// [`bind`](TcpSocket::bind) it, then turn it into a [`TcpStream`] with
/// [`connect`](TcpSocket::connect) or a [`TcpListener`] with [`listen`](TcpSocket::listen).
/// tokio's `TcpSocket`, with the same methods.
///
/// It is what the options that must be set *before* the connect or the listen need: binding
/// the local end of an outgoing connection to a chosen address or port (the Go sonic
/// library's `BindSocket` option), `SO_REUSEADDR`/`SO_REUSEPORT` (several listeners sharing a
/// port, one per runtime), buffer sizes that the TCP handshake advertises (window scaling is
/// fixed at connect time), an interface binding (`SO_BINDTODEVICE`).
///
/// The socket is created non-blocking and close-on-exec; it is registered with the runtime
/// only by `connect` or `listen` (which must run inside one), so creating and configuring it
/// works anywhere. Setters that the kernel may round (buffer sizes) report what the kernel
/// chose through their getters.
///
/// # Examples
/// A connection from a chosen local port, to a listener that shares its port with another:
/// ```
/// use sonic_net::TcpSocket;
///
/// sonic_rt::block_on(async {
///     let a = TcpSocket::new_v4().unwrap();
///     a.set_reuseport(true).unwrap();
///     a.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let addr = a.local_addr().unwrap();
///     let b = TcpSocket::new_v4().unwrap();
///     b.set_reuseport(true).unwrap();
///     b.bind(addr).unwrap();
///     let (la, lb) = (a.listen(128).unwrap(), b.listen(128).unwrap());
///     assert_eq!(lb.local_addr().unwrap(), addr);
///
///     let client = TcpSocket::new_v4().unwrap();
///     client.set_nodelay(true).unwrap();
///     client.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let local = client.local_addr().unwrap();
///     let stream = client.connect(addr).await.unwrap();
///     assert_eq!(stream.local_addr().unwrap(), local);
///     assert!(stream.nodelay().unwrap());
///     # drop((la, lb));
/// });
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (dual-stack unless the system says otherwise; see `IPV6_V6ONLY`).
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = crate::sockopt::new_socket(domain, Type::STREAM, Some(Protocol::TCP))?;
        Ok(TcpSocket { inner })
    }

    /// Wraps a `std` stream socket that is not connected yet (created with `socket2`, say, for
    /// an option this type does not have), making it non-blocking.
    pub fn from_std_stream(stream: net::TcpStream) -> TcpSocket {
        let inner = Socket::from(OwnedFd::from(stream));
        // Only fails for a bad fd, which an owned `TcpStream` cannot be; a blocking socket
        // would make `connect` block the runtime, so try regardless of tokio's silence here.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }

    /// `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// The `SO_KEEPALIVE` value.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// `SO_REUSEADDR`: a listener may bind a port whose old connections are in `TIME_WAIT`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// The `SO_REUSEADDR` value.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// `SO_REUSEPORT`: several sockets, each set with it, may bind the same address; on Linux
    /// the kernel spreads incoming connections between the listeners by a hash of the
    /// connection's addresses (one runtime per core, one listener each, one port).
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// The `SO_REUSEPORT` value.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// `SO_SNDBUF` (Linux doubles the value).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The `SO_SNDBUF` value.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| n as u32)
    }

    /// `SO_RCVBUF` (Linux doubles the value). Set before `connect` or `listen`, it also sets
    /// the window scale the handshake advertises.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The `SO_RCVBUF` value.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| n as u32)
    }

    /// `SO_LINGER`; see [`TcpStream::set_linger`] (a non-zero linger may block the runtime
    /// when the socket closes).
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// `SO_LINGER` of zero: closing sends a reset and drops unsent data.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// The `SO_LINGER` value.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// `TCP_NODELAY`: send small writes at once instead of waiting (Nagle) for more.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// The `TCP_NODELAY` value.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// The local address: the one bound, with the port the kernel picked for port 0.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()?.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid address family (not IPv4 or IPv6)",
            )
        })
    }

    /// Reads and clears the pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds the socket to `addr`: before [`listen`](TcpSocket::listen), the address to
    /// listen on; before [`connect`](TcpSocket::connect), the local end of the connection
    /// (port 0: the kernel picks one).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// Connects to `addr` and registers the stream with the current runtime: a non-blocking
    /// `connect`, then a wait for writability and `SO_ERROR`, as
    /// [`TcpStream::connect`]. Fails outside a runtime.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        connect_socket(self.inner, addr).await
    }

    /// Listens with `backlog` (capped by `net.core.somaxconn`) and registers the listener with
    /// the current runtime. Fails outside a runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_nonblocking(net::TcpListener::from(OwnedFd::from(self.inner)))
    }
}

ip_option_methods!(TcpSocket, inner);
impl_fd!(TcpSocket, inner);

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl FromRawFd for TcpSocket {
    /// Wraps `fd`, a TCP socket, as it is (make it non-blocking first: `connect` on a
    /// blocking socket blocks the runtime).
    ///
    /// # Safety
    /// `fd` must be an open socket that nothing else owns (it is closed with this value).
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller hands over an open socket it owns.
        let inner = unsafe { Socket::from_raw_fd(fd) };
        TcpSocket { inner }
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}
