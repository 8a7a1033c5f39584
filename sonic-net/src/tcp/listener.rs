//! `TcpListener` and `ListenOptions` (backlog, `SO_REUSEADDR`, `SO_REUSEPORT`).

use super::TcpStream;
use crate::addr::{each_addr, ToSocketAddrs};
use crate::backoff::{self, AcceptBackoff};
use crate::methods::{impl_fd, local_addr_methods, ttl_methods};
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use sonic_rt::io::Async;
use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// A TCP socket listening for connections, registered with the current sonic runtime.
///
/// # Running out of file descriptors
/// When `accept` fails with `EMFILE`/`ENFILE` (or `ENOBUFS`/`ENOMEM`), the error is returned and
/// the connection stays in the kernel's backlog; the listener stays usable. Since retrying at
/// once would fail the same way, the listener's next accept first waits
/// [`accept_backoff`](TcpListener::accept_backoff) (10 ms by default) on a timer, then tries
/// again: a loop that retries on every error does not spin the CPU, and the waiting connection
/// is accepted as soon as a descriptor is free. Errors that concern only one connection
/// (`ECONNABORTED`: reset before it was accepted) are skipped silently.
///
/// Several tasks may accept from one listener (shared through an `Rc`): a new connection wakes
/// every task waiting in [`accept`](TcpListener::accept), one of them takes it and the others
/// wait again. [`poll_accept`](TcpListener::poll_accept) (and [`incoming`](TcpListener::incoming)
/// through it) keeps only the most recent poller's waker, as in tokio.
///
/// # Examples
/// ```
/// use sonic_net::{TcpListener, TcpStream};
///
/// sonic_rt::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let _client = TcpStream::connect(addr).await.unwrap();
///     let (conn, peer) = listener.accept().await.unwrap();
///     assert_eq!(conn.peer_addr().unwrap(), peer);
/// });
/// ```
pub struct TcpListener {
    io: Async<net::TcpListener>,
    backoff: AcceptBackoff,
}

/// Options for [`TcpListener::bind_with`]: backlog, `SO_REUSEADDR`, `SO_REUSEPORT`.
///
/// # Examples
/// Two listeners on one port, as two runtimes (one per core) would hold them; the kernel
/// spreads connections between them by a hash of the 4-tuple:
/// ```
/// use sonic_net::{ListenOptions, TcpListener};
///
/// sonic_rt::block_on(async {
///     let opts = ListenOptions::new().reuse_port(true).backlog(4096);
///     let a = TcpListener::bind_with("127.0.0.1:0", &opts).await.unwrap();
///     let b = TcpListener::bind_with(a.local_addr().unwrap(), &opts).await.unwrap();
///     assert_eq!(a.local_addr().unwrap(), b.local_addr().unwrap());
/// });
/// ```
#[derive(Clone, Debug)]
pub struct ListenOptions {
    backlog: i32,
    reuse_address: bool,
    reuse_port: bool,
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions::new()
    }
}

impl ListenOptions {
    /// Backlog 1024, `SO_REUSEADDR` on (rebinding a port with connections in `TIME_WAIT`
    /// works), `SO_REUSEPORT` off.
    pub fn new() -> ListenOptions {
        ListenOptions {
            backlog: 1024,
            reuse_address: true,
            reuse_port: false,
        }
    }

    /// The `listen(2)` backlog: how many established connections may wait to be accepted (the
    /// kernel caps it at `net.core.somaxconn`).
    pub fn backlog(mut self, backlog: u32) -> ListenOptions {
        self.backlog = backlog.min(i32::MAX as u32) as i32;
        self
    }

    /// `SO_REUSEADDR`.
    pub fn reuse_address(mut self, on: bool) -> ListenOptions {
        self.reuse_address = on;
        self
    }

    /// `SO_REUSEPORT` (Linux, BSD, macOS): several sockets, each set with it, may bind the same
    /// address; on Linux the kernel load-balances incoming connections between them. This is
    /// how one runtime per core shares one port.
    pub fn reuse_port(mut self, on: bool) -> ListenOptions {
        self.reuse_port = on;
        self
    }

    fn listen(&self, addr: SocketAddr) -> io::Result<net::TcpListener> {
        let socket = crate::sockopt::new_socket(
            Domain::for_address(addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        if self.reuse_port {
            set_reuse_port(&socket)?;
        }
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(self.backlog)?;
        Ok(socket.into())
    }
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this platform",
    ))
}

impl TcpListener {
    /// Binds to `addr` with the default [`ListenOptions`] (backlog 1024, `SO_REUSEADDR`), trying
    /// each address it resolves to in turn. Port 0 picks a free port (see
    /// [`local_addr`](TcpListener::local_addr)).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_with(addr, &ListenOptions::new()).await
    }

    /// Binds to `addr` with the given options.
    pub async fn bind_with(
        addr: impl ToSocketAddrs,
        opts: &ListenOptions,
    ) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            let res = opts.listen(a).and_then(TcpListener::from_std);
            std::future::ready(res)
        })
        .await
    }

    /// Wraps a listening `std` socket: makes it non-blocking and registers it.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new(listener)?,
            backoff: AcceptBackoff::new(),
        })
    }

    /// Registers a listening socket that is already non-blocking.
    pub(crate) fn from_nonblocking(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::from_nonblocking(listener)?,
            backoff: AcceptBackoff::new(),
        })
    }

    /// Deregisters the socket and returns the `std` listener, still non-blocking.
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        self.io.into_inner()
    }

    /// How long accept waits before asking the kernel again after it failed for lack of file
    /// descriptors or memory (10 ms by default; zero retries at once, spinning).
    pub fn accept_backoff(&self) -> Duration {
        self.backoff.delay()
    }

    /// Sets [`accept_backoff`](TcpListener::accept_backoff).
    pub fn set_accept_backoff(&self, delay: Duration) {
        self.backoff.set_delay(delay)
    }

    /// Waits for a connection and returns it with the peer's address. Cancel safe.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.backoff.wait().await;
        match self.io.read_with(accept_one).await {
            Ok((socket, addr)) => TcpStream::from_nonblocking(socket).map(|s| (s, addr)),
            Err(e) => {
                self.backoff.on_error(&e);
                Err(e)
            }
        }
    }

    /// Polls for a connection. One `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)` per connection where
    /// the OS has it. Only the most recent poller's waker is kept: several tasks use
    /// [`accept`](TcpListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        ready!(self.backoff.poll_ready(cx));
        match ready!(self.io.poll_read_with(cx, accept_one)) {
            Ok((socket, addr)) => {
                Poll::Ready(TcpStream::from_nonblocking(socket).map(|s| (s, addr)))
            }
            Err(e) => {
                self.backoff.on_error(&e);
                Poll::Ready(Err(e))
            }
        }
    }

    /// A `Stream` of incoming connections (it never ends; errors are items, see the type's
    /// docs about `EMFILE`).
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use sonic_net::{TcpListener, TcpStream};
    ///
    /// sonic_rt::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut incoming = listener.incoming();
    ///     let conn = incoming.next().await.unwrap().unwrap();
    ///     assert!(conn.peer_addr().is_ok());
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

fn accept_one(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    loop {
        match accept_raw(listener) {
            Err(e) if backoff::is_transient(&e) => continue,
            res => return res,
        }
    }
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
fn accept_raw(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    let (socket, addr) =
        SockRef::from(listener).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)?;
    Ok((socket.into(), to_inet(addr)?))
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
fn accept_raw(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    // No accept4: accept sets close-on-exec; O_NONBLOCK takes one more call.
    let (socket, addr) = SockRef::from(listener).accept()?;
    socket.set_nonblocking(true)?;
    Ok((socket.into(), to_inet(addr)?))
}

fn to_inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "accept returned a non-IP peer address",
        )
    })
}

/// A stream of connections from [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let res = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(res.map(|(s, _)| s)))
    }
}

// The local address is the one bound, with the port the kernel picked for port 0; the TTL
// applies to accepted connections.
local_addr_methods!(TcpListener, SocketAddr);
ttl_methods!(TcpListener);
impl_fd!(TcpListener);
crate::methods::try_from_std!(TcpListener, std::net::TcpListener);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("io", self.io.get_ref())
            .field("backoff", &self.backoff)
            .finish()
    }
}
