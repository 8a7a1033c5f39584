//! `TcpStream`: a connected TCP socket.

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::methods::{
    buffer_size_methods, busy_poll_methods, impl_debug_as_std, impl_fd, local_addr_methods,
    readiness_methods, spin_reads_method, stream_methods, ttl_methods,
};
use crate::recv_buf::RecvBuf;
use crate::sockopt;
use crate::stream_io::{self, impl_async_read, impl_async_write};
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use sonic_rt::io::Async;
use std::future::poll_fn;
use std::io;
use std::net::{self, SocketAddr};
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// A TCP connection registered with the current sonic runtime.
///
/// Implements futures-io `AsyncRead`/`AsyncWrite` (and tokio's with the `tokio` feature):
/// `poll_close` (tokio: `poll_shutdown`) shuts the write side down; flushing is a no-op since
/// nothing is buffered. Reads and writes allocate nothing.
///
/// A peer that resets the connection makes the next read or write fail with
/// [`io::ErrorKind::ConnectionReset`] (or `BrokenPipe` for a write after the reset was already
/// seen); nothing panics.
///
/// Several tasks may wait on one stream through its async fns (`ready`, `readable`,
/// `writable`, `peek`, `async_io`): each is woken by the readiness it waits for.
/// `AsyncRead`/`AsyncWrite` and the `poll_*` methods keep only the most recent poller's waker
/// per direction, as in tokio: read from one task and write from one task (see
/// [`split`](TcpStream::split)). One task may also read and write without splitting, with
/// [`ready`](TcpStream::ready) and the `try_*` methods, which answer `WouldBlock` where
/// tokio's do.
///
/// # Examples
/// ```
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
/// use sonic_net::{TcpListener, TcpStream};
///
/// sonic_rt::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     client.set_nodelay(true).unwrap();
///     client.write_all(b"ping").await.unwrap();
///     client.close().await.unwrap(); // shut down the write side: the server sees EOF
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"ping");
/// });
/// ```
pub struct TcpStream {
    io: Async<net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn; returns the first
    /// connection made, or the last error.
    ///
    /// The connect is non-blocking: the task waits for writability, then reads `SO_ERROR`.
    /// A refused connection is [`io::ErrorKind::ConnectionRefused`]. Host names are resolved
    /// on the runtime's blocking pool (see [`lookup_host`](crate::lookup_host)); IP literals
    /// are parsed in place.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, connect_addr).await
    }

    /// Like [`TcpStream::connect`], but fails with [`io::ErrorKind::TimedOut`] if no address
    /// connected within `timeout` (one deadline for all the addresses together).
    pub async fn connect_timeout(
        addr: impl ToSocketAddrs,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        match sonic_rt::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(res) => res,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect timed out after {timeout:?}"),
            )),
        }
    }

    /// Registers a stream that is already non-blocking (accepted with `SOCK_NONBLOCK`, created
    /// non-blocking): one syscall less than [`TcpStream::from_std`].
    pub(crate) fn from_nonblocking(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::from_nonblocking(stream)?,
        })
    }

    /// `TCP_NODELAY`: send small writes at once instead of waiting (Nagle) for more.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The `TCP_NODELAY` value.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// `SO_LINGER`. `Some(Duration::ZERO)` makes the close send a reset (RST) instead of FIN
    /// and drop unsent data; `None` is the default graceful close. A non-zero linger makes the
    /// close of a socket with unsent data block the thread (the whole runtime) for up to that
    /// long, which is why tokio deprecates this method: prefer
    /// [`set_zero_linger`](TcpStream::set_zero_linger) or `None`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self).set_linger(linger)
    }

    /// `SO_LINGER` of zero (tokio's `set_zero_linger`): closing sends a reset (RST) and drops
    /// unsent data, at once.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        SockRef::from(self).set_linger(Some(Duration::ZERO))
    }

    /// The `SO_LINGER` value.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self).linger()
    }

    /// TCP keepalive: `None` turns it off; `Some(idle)` turns it on, with the first probe after
    /// `idle` without traffic (`SO_KEEPALIVE` + `TCP_KEEPIDLE`).
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        sockopt::set_keepalive(self, idle)
    }

    /// Whether `SO_KEEPALIVE` is on.
    pub fn keepalive(&self) -> io::Result<bool> {
        SockRef::from(self).keepalive()
    }

    /// Reads into `buf` without removing the data from the receive queue (`MSG_PEEK`), waiting
    /// until some is there. Returns 0 at end of stream.
    ///
    /// With read-ahead bytes buffered (see [`set_read_ahead`](TcpStream::set_read_ahead)),
    /// returns those (at most `buf.len()`) without a syscall: they are what the next read
    /// returns first, though more may be waiting in the kernel behind them.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| self.peek_op(s, buf)).await
    }

    /// Polls for [`TcpStream::peek`]: into a slice, or, with the `tokio` feature, into a
    /// tokio `ReadBuf` (filled and advanced, as by tokio's `poll_peek`); returns the count
    /// either way. Only the most recent poller's waker is kept; several tasks use
    /// [`peek`](TcpStream::peek).
    pub fn poll_peek<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<usize>> {
        // Checked at every poll: another task's read may have buffered bytes (and drained the
        // kernel) while this one waited.
        if self.io.read_ahead_len() > 0 {
            let n = self.io.peek_read_ahead(buf.unfilled_init());
            // SAFETY: `unfilled_init` is initialised memory, so its first `n` bytes are.
            unsafe { buf.filled(n) };
            return Poll::Ready(Ok(n));
        }
        // SAFETY: only `recv(MSG_PEEK)` writes through `dst`, and it writes initialised bytes.
        let dst = unsafe { buf.unfilled() };
        let n = ready!(self
            .io
            .poll_read_with(cx, |s| SockRef::from(s).peek(&mut *dst)))?;
        // SAFETY: `peek` returned `n`: the kernel initialised that many bytes of `dst`.
        unsafe { buf.filled(n) };
        Poll::Ready(Ok(n))
    }

    /// Buffered read-ahead bytes, else `MSG_PEEK`. Runs again after every wake, so it sees
    /// bytes another reader buffered while this one waited.
    fn peek_op(&self, s: &net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        match self.io.peek_read_ahead(buf) {
            0 => s.peek(buf),
            n => Ok(n),
        }
    }
}

/// Connects to one address: non-blocking `connect`, wait for writability, check `SO_ERROR`.
async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = sockopt::new_socket(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    connect_socket(socket, addr).await
}

/// Connects `socket` (non-blocking, options set, maybe bound) to `addr` and registers it.
pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
    let connected = sockopt::start_connect(&socket, &SockAddr::from(addr))?;
    let io = Async::from_nonblocking(net::TcpStream::from(socket))?;
    if !connected {
        // A new source starts out "ready"; forget that so the wait is for the real event. The
        // registration itself reports the current state, so a connect that completed already
        // still produces an event.
        io.clear_writable();
        poll_fn(|cx| stream_io::poll_connected(&io, cx)).await?;
    }
    Ok(TcpStream { io })
}

readiness_methods!(TcpStream, poll_read_ready, poll_write_ready);
stream_methods!(TcpStream, net::TcpStream, SocketAddr);
spin_reads_method!(TcpStream);
local_addr_methods!(TcpStream, SocketAddr);
ttl_methods!(TcpStream);
buffer_size_methods!(TcpStream);
busy_poll_methods!(TcpStream);
impl_fd!(TcpStream);
crate::methods::try_from_std!(TcpStream, std::net::TcpStream);
impl_debug_as_std!(TcpStream);

impl_async_read!([] TcpStream, |s| &s.io);
impl_async_write!([] TcpStream, |s| &s.io);
// `&TcpStream` too (as `std` does for `&std::net::TcpStream`): reading and writing through a
// shared reference, e.g. from an `Rc<TcpStream>`.
impl_async_read!(['a] &'a TcpStream, |s| &s.io);
impl_async_write!(['a] &'a TcpStream, |s| &s.io);
