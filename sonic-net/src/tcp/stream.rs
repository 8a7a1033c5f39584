//! `TcpStream`: a connected TCP socket.

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::sockopt;
use crate::split;
use crate::stream_io::{self, impl_async_read, impl_async_write};
use socket2::{Domain, Protocol, SockAddr, SockRef, Type};
use sonic_rt::io::Async;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::net::{self, Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};
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
/// Several tasks may wait on one stream through its async fns (`readable`, `writable`, `peek`):
/// each is woken by the readiness it waits for. `AsyncRead`/`AsyncWrite` and the `poll_*`
/// methods keep only the most recent poller's waker per direction, as in tokio: read from one
/// task and write from one task (see [`split`](TcpStream::split)).
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

    /// Wraps a connected `std` stream: makes it non-blocking and registers it with the current
    /// runtime. Errors outside a runtime.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new(stream)?,
        })
    }

    /// Registers a stream that is already non-blocking (accepted with `SOCK_NONBLOCK`, created
    /// non-blocking): one syscall less than [`TcpStream::from_std`].
    pub(crate) fn from_nonblocking(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::from_nonblocking(stream)?,
        })
    }

    /// Spin reads for a busy-poll runtime: a read that would block is retried at every loop
    /// turn instead of waiting for the readiness event, which takes about a microsecond off the
    /// time from arrival to read, for one `recv` per turn while idle. See
    /// [`Async::set_spin_reads`](sonic_rt::io::Async::set_spin_reads). No effect without
    /// busy-poll.
    pub fn set_spin_reads(&self, on: bool) {
        self.io.set_spin_reads(on);
    }

    /// Read-ahead: a read smaller than `bytes` is served from one `recv` of `bytes` kept in
    /// this stream's buffer (0 turns it off; the default is the runtime's
    /// [`Builder::read_ahead`](sonic_rt::Builder::read_ahead), off unless set). A small
    /// `read_exact` then costs one `recv`, and a short `recv` proves the socket drained, so the
    /// next read waits for the event without an `EAGAIN` call: 3 syscalls per message
    /// received and answered instead of 4. Reads of at least `bytes` go straight into the
    /// caller's buffer.
    ///
    /// Buffered bytes are read first by every read (futures-io and tokio `AsyncRead`,
    /// [`try_read`](TcpStream::try_read), the split halves), shown by
    /// [`peek`](TcpStream::peek), and make [`readable`](TcpStream::readable) ready; an end of
    /// stream or a reset comes after them. [`into_std`](TcpStream::into_std) refuses to drop
    /// them. See [`Async::set_read_ahead`](sonic_rt::io::Async::set_read_ahead).
    pub fn set_read_ahead(&self, bytes: usize) {
        self.io.set_read_ahead(bytes);
    }

    /// The read-ahead size (0: off); see [`TcpStream::set_read_ahead`].
    pub fn read_ahead(&self) -> usize {
        self.io.read_ahead()
    }

    /// How many bytes have been read ahead from the kernel and not yet delivered.
    pub fn read_ahead_len(&self) -> usize {
        self.io.read_ahead_len()
    }

    /// Deregisters the socket and gives the `std` stream back, still in non-blocking mode
    /// (call `set_nonblocking(false)` for blocking use).
    ///
    /// Fails with [`io::ErrorKind::InvalidData`] (and closes the socket) if read-ahead bytes
    /// are buffered ([`read_ahead_len`](TcpStream::read_ahead_len) > 0): the `std` stream
    /// could not deliver them. Read them out first: [`try_read`](TcpStream::try_read) serves
    /// them without a syscall.
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        self.io.into_inner()
    }

    pub(crate) fn async_io(&self) -> &Async<net::TcpStream> {
        &self.io
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both (`shutdown(2)`).
    ///
    /// Shutting down the write side sends FIN: the peer reads end-of-stream and may keep
    /// writing back (a half-close).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
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
    /// and drop unsent data; `None` is the default graceful close.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self).set_linger(linger)
    }

    /// The `SO_LINGER` value.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self).linger()
    }

    /// `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// `SO_SNDBUF` (the kernel may round or double the value; Linux doubles it).
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self).set_send_buffer_size(size)
    }

    /// The `SO_SNDBUF` value.
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self).send_buffer_size()
    }

    /// `SO_RCVBUF` (the kernel may round or double the value; Linux doubles it).
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self).set_recv_buffer_size(size)
    }

    /// The `SO_RCVBUF` value.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self).recv_buffer_size()
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

    /// `SO_BUSY_POLL` (Linux): a blocking receive, or a poll, may busy-poll the NIC queue for up
    /// to `duration` (microsecond granularity) before sleeping. Pays off with NAPI-capable
    /// drivers; loopback has no device queue to poll. Values above `net.core.busy_read` need
    /// `CAP_NET_ADMIN`. Elsewhere: an [`io::ErrorKind::Unsupported`] error.
    pub fn set_busy_poll(&self, duration: Duration) -> io::Result<()> {
        sockopt::set_busy_poll(self, duration)
    }

    /// The `SO_BUSY_POLL` value (Linux; [`io::ErrorKind::Unsupported`] elsewhere).
    pub fn busy_poll(&self) -> io::Result<Duration> {
        sockopt::busy_poll(self)
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

    /// Polls for [`TcpStream::peek`].
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |s| self.peek_op(s, buf))
    }

    /// Buffered read-ahead bytes, else `MSG_PEEK`. Runs again after every wake, so it sees
    /// bytes another reader buffered while this one waited.
    fn peek_op(&self, s: &net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        match self.io.peek_read_ahead(buf) {
            0 => s.peek(buf),
            n => Ok(n),
        }
    }

    /// Waits until the stream is (probably) readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream is (probably) writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// One non-blocking read: `WouldBlock` if no data is queued (and the next
    /// [`readable`](TcpStream::readable) then waits for new data). Read-ahead bytes, if any are
    /// buffered, are returned first without a syscall.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read_stream(buf, |mut s, b| s.read(b))
    }

    /// One non-blocking write: `WouldBlock` if the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let res = SockRef::from(self).send_with_flags(buf, sockopt::SEND_FLAGS);
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear_writable();
        }
        res
    }

    /// Borrowed read and write halves, for use by two futures at once (for example under
    /// `join`). Free: no allocation, no reference count.
    ///
    /// With futures' `AsyncReadExt` in scope, `stream.split()` on a `TcpStream` value resolves
    /// to that trait's by-value `split` (a lock-based one); write `TcpStream::split(&mut s)` or
    /// `(&mut s).split()` to get this one.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned read and write halves that can move into two tasks. One `Rc` allocation; no lock
    /// (the runtime is single-threaded). Dropping the write half shuts the write side down;
    /// [`OwnedReadHalf::reunite`] puts the stream back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

/// Connects to one address: non-blocking `connect`, wait for writability, check `SO_ERROR`.
async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = sockopt::new_socket(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
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

impl_async_read!([] TcpStream, |s| &s.io);
impl_async_write!([] TcpStream, |s| &s.io);
// `&TcpStream` too (as `std` does for `&std::net::TcpStream`): reading and writing through a
// shared reference, e.g. from an `Rc<TcpStream>`.
impl_async_read!(['a] &'a TcpStream, |s| &s.io);
impl_async_write!(['a] &'a TcpStream, |s| &s.io);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}
