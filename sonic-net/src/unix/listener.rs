//! `UnixListener`.

use super::{address, UnixStream};
use crate::backoff::{self, AcceptBackoff};
use crate::methods::{impl_fd, local_addr_methods};
use sonic_rt::io::Async;
use std::fmt;
use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// A Unix stream socket listening for connections.
///
/// `EMFILE`/`ENFILE` on accept behave as for [`TcpListener`](crate::TcpListener): the error is
/// returned, the connection waits in the backlog, and the next accept first backs off (10 ms by
/// default) instead of spinning.
///
/// # Examples
/// ```
/// use sonic_net::{UnixListener, UnixStream};
///
/// sonic_rt::block_on(async {
///     let dir = std::env::temp_dir().join(format!("sonic-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir).unwrap();
///     let path = dir.join("listener.sock");
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let _client = UnixStream::connect(&path).await.unwrap();
///     let (conn, _addr) = listener.accept().await.unwrap();
///     assert!(conn.peer_addr().unwrap().is_unnamed());
///     std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: Async<net::UnixListener>,
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Binds to `path` and listens (backlog 128, as `std` does). Fails if the path exists
    /// (`AddrInUse`): remove a stale socket file first.
    ///
    /// On Linux and Android a path that starts with a NUL byte (`"\0name"`) binds the name in
    /// the abstract namespace instead, as in tokio (see the [module docs](super)).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&address::from_path(path.as_ref())?)
    }

    /// Binds to `addr` and listens, like [`bind`](UnixListener::bind): for an address built
    /// with `std`, for example an abstract one from `SocketAddrExt::from_abstract_name`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")]
    /// # {
    /// use sonic_net::{UnixListener, UnixStream};
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    ///
    /// sonic_rt::block_on(async {
    ///     let name = format!("sonic-doc-bind-addr-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(&name).unwrap();
    ///     let listener = UnixListener::bind_addr(&addr).unwrap();
    ///     let local = listener.local_addr().unwrap();
    ///     assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
    ///     let _client = UnixStream::connect_addr(&addr).await.unwrap();
    ///     let (_conn, _) = listener.accept().await.unwrap();
    /// });
    /// # }
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind_addr(addr)?)
    }

    /// Wraps a listening `std` socket: makes it non-blocking and registers it.
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new(listener)?,
            backoff: AcceptBackoff::new(),
        })
    }

    /// Deregisters the socket and returns the `std` listener, still non-blocking.
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        self.io.into_inner()
    }

    /// See [`TcpListener::accept_backoff`](crate::TcpListener::accept_backoff).
    pub fn accept_backoff(&self) -> Duration {
        self.backoff.delay()
    }

    /// See [`TcpListener::set_accept_backoff`](crate::TcpListener::set_accept_backoff).
    pub fn set_accept_backoff(&self, delay: Duration) {
        self.backoff.set_delay(delay)
    }

    /// Waits for a connection. Several tasks may wait on one listener; each connection wakes
    /// them all and one takes it. Cancel safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        self.backoff.wait().await;
        match self.io.read_with(accept_one).await {
            Ok((stream, addr)) => UnixStream::from_std(stream).map(|s| (s, addr)),
            Err(e) => {
                self.backoff.on_error(&e);
                Err(e)
            }
        }
    }

    /// Polls for a connection. Only the most recent poller's waker is kept: several tasks use
    /// [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        ready!(self.backoff.poll_ready(cx));
        match ready!(self.io.poll_read_with(cx, accept_one)) {
            Ok((stream, addr)) => Poll::Ready(UnixStream::from_std(stream).map(|s| (s, addr))),
            Err(e) => {
                self.backoff.on_error(&e);
                Poll::Ready(Err(e))
            }
        }
    }

    /// A `Stream` of incoming connections (never ends; errors are items).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

fn accept_one(l: &net::UnixListener) -> io::Result<(net::UnixStream, SocketAddr)> {
    loop {
        // `std`'s accept is accept4(SOCK_CLOEXEC) and builds the std `SocketAddr`;
        // `Async::new` sets O_NONBLOCK.
        match l.accept() {
            Err(e) if backoff::is_transient(&e) => continue,
            res => return res,
        }
    }
}

/// A stream of connections from [`UnixListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let res = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(res.map(|(s, _)| s)))
    }
}

local_addr_methods!(UnixListener, SocketAddr);
impl_fd!(UnixListener);
crate::methods::try_from_std!(UnixListener, std::os::unix::net::UnixListener);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("io", self.io.get_ref())
            .field("backoff", &self.backoff)
            .finish()
    }
}
