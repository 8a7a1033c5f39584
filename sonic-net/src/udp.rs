//! `UdpSocket`.

use crate::addr::{each_addr, first_addr, ToSocketAddrs};
use crate::sockopt;
use socket2::SockRef;
use sonic_rt::io::Async;
use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

/// A UDP socket registered with the current sonic runtime.
///
/// Each call is one datagram: `recv`/`recv_from` with a buffer too small for it return the
/// first bytes and drop the rest (as `recv(2)` does). Sending and receiving allocate nothing.
/// For multicast, see [`crate::multicast`].
///
/// Several tasks may share one socket through an `Rc`: every task waiting in an async fn
/// (`recv_from`, `send_to`, `readable`...) is woken when the socket becomes ready, and those
/// that then find nothing wait again. The `poll_*` methods keep only the most recent poller's
/// waker per direction, as in tokio.
///
/// # Examples
/// ```
/// use sonic_net::UdpSocket;
///
/// sonic_rt::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: Async<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`, trying each address it resolves to in turn.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |a| {
            std::future::ready(net::UdpSocket::bind(a).and_then(UdpSocket::from_std))
        })
        .await
    }

    /// Wraps a `std` socket: makes it non-blocking and registers it.
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Async::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the `std` one, still non-blocking.
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        self.io.into_inner()
    }

    /// Sets the default destination for [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts; tries each address in turn. Does not send anything.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |a| std::future::ready(self.io.get_ref().connect(a))).await
    }

    /// Spin reads for a busy-poll runtime: a recv that would block is retried at every loop
    /// turn instead of waiting for the readiness event (see
    /// [`Async::set_spin_reads`](sonic_rt::io::Async::set_spin_reads)). No effect without
    /// busy-poll.
    pub fn set_spin_reads(&self, on: bool) {
        self.io.set_spin_reads(on);
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Polls for [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Polls for [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |s| s.recv(buf))
    }

    /// Sends one datagram to `target` (the first address it resolves to; a `SocketAddr` is
    /// used as is, without allocating).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = first_addr(target).await?;
        self.io.write_with(|s| s.send_to(buf, target)).await
    }

    /// Polls for [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |s| s.send_to(buf, target))
    }

    /// Receives one datagram and the address it came from.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Polls for [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |s| s.recv_from(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued (`MSG_PEEK`).
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Polls for [`peek_from`](UdpSocket::peek_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |s| s.peek_from(buf))
    }

    /// Like [`recv`](UdpSocket::recv), but leaves the datagram queued (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Waits until a datagram is (probably) queued.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the socket is (probably) writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// One non-blocking `recv_from`: `WouldBlock` if nothing is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let res = self.io.get_ref().recv_from(buf);
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear_readable();
        }
        res
    }

    /// One non-blocking `send_to`: `WouldBlock` if the send buffer is full.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let res = self.io.get_ref().send_to(buf, target);
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear_writable();
        }
        res
    }

    /// `SO_BROADCAST`: allow sending to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// The `SO_BROADCAST` value.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// `IP_TTL` for unicast datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// `SO_SNDBUF` (Linux doubles the value).
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self).set_send_buffer_size(size)
    }

    /// The `SO_SNDBUF` value.
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self).send_buffer_size()
    }

    /// `SO_RCVBUF` (Linux doubles the value, capped by `net.core.rmem_max`).
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self).set_recv_buffer_size(size)
    }

    /// The `SO_RCVBUF` value.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self).recv_buffer_size()
    }

    /// `SO_BUSY_POLL` (Linux; see [`TcpStream::set_busy_poll`](crate::TcpStream::set_busy_poll)).
    pub fn set_busy_poll(&self, duration: Duration) -> io::Result<()> {
        sockopt::set_busy_poll(self, duration)
    }

    /// The `SO_BUSY_POLL` value.
    pub fn busy_poll(&self) -> io::Result<Duration> {
        sockopt::busy_poll(self)
    }

    /// Reads and clears the pending error (`SO_ERROR`), e.g. an ICMP port unreachable on a
    /// connected socket.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}
