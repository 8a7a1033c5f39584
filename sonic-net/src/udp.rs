//! `UdpSocket`.

use crate::addr::{each_addr, first_addr, ToSocketAddrs};
use crate::methods::{
    buf_recv_methods, buffer_size_methods, busy_poll_methods, datagram_methods, impl_debug_as_std,
    impl_fd, ip_option_methods, local_addr_methods, readiness_methods, spin_reads_method,
    ttl_methods,
};
use crate::recv_buf::RecvBuf;
use socket2::{SockAddr, SockRef};
use sonic_rt::io::{Async, Interest};
use std::io;
use std::mem::MaybeUninit;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{ready, Context, Poll};

/// A UDP socket registered with the current sonic runtime.
///
/// Each call is one datagram: `recv`/`recv_from` with a buffer too small for it return the
/// first bytes and drop the rest (as `recv(2)` does). Sending and receiving allocate nothing.
/// For multicast, see [`crate::multicast`].
///
/// Several tasks may share one socket through an `Rc`: every task waiting in an async fn
/// (`recv_from`, `send_to`, `ready`, `readable`...) is woken when the socket becomes ready,
/// and those that then find nothing wait again. The `poll_*` methods keep only the most recent
/// poller's waker per direction, as in tokio.
///
/// The `try_*` methods follow tokio's rule: `WouldBlock` when the kernel says so, and then at
/// once, without a syscall, until an event says the socket is ready again (await
/// [`readable`](UdpSocket::readable), [`writable`](UdpSocket::writable) or
/// [`ready`](UdpSocket::ready)). The `poll_*` receive methods take a byte slice, or, with the
/// `tokio` feature, a tokio `ReadBuf` (see [`RecvBuf`]).
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

    /// Polls for [`recv`](UdpSocket::recv): into a slice (returns the count), or, with the
    /// `tokio` feature, into a tokio `ReadBuf` (fills and advances it, as tokio's
    /// `poll_recv`).
    pub fn poll_recv<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::Len>> {
        self.poll_into(cx, buf, |s, dst| s.recv(dst))
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

    /// Sends one datagram to `target` if the socket is writable now, without waiting:
    /// `WouldBlock` otherwise (see the type's docs).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Polls for [`recv_from`](UdpSocket::recv_from): into a slice (returns the count and the
    /// sender), or, with the `tokio` feature, into a tokio `ReadBuf` (fills and advances it,
    /// returns the sender, as tokio's `poll_recv_from`).
    pub fn poll_recv_from<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::LenFrom<SocketAddr>>> {
        self.poll_into_from(cx, buf, |s, dst| s.recv_from(dst))
    }

    /// Like [`recv`](UdpSocket::recv), but leaves the datagram queued (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Polls for [`peek`](UdpSocket::peek), into a slice or (with the `tokio` feature) a
    /// tokio `ReadBuf`, as [`poll_recv`](UdpSocket::poll_recv).
    pub fn poll_peek<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::Len>> {
        self.poll_into(cx, buf, |s, dst| s.peek(dst))
    }

    /// [`peek`](UdpSocket::peek) if a datagram is queued, without waiting: `WouldBlock`
    /// otherwise.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.peek(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued (`MSG_PEEK`).
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Polls for [`peek_from`](UdpSocket::peek_from), into a slice or (with the `tokio`
    /// feature) a tokio `ReadBuf`, as [`poll_recv_from`](UdpSocket::poll_recv_from).
    pub fn poll_peek_from<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
    ) -> Poll<io::Result<B::LenFrom<SocketAddr>>> {
        self.poll_into_from(cx, buf, |s, dst| s.peek_from(dst))
    }

    /// [`peek_from`](UdpSocket::peek_from) if a datagram is queued, without waiting:
    /// `WouldBlock` otherwise.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// The sender of the next datagram, which stays queued (tokio's `peek_sender`): waits for
    /// one. Costs no copy of the payload.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.read_with(peek_sender).await
    }

    /// Polls for [`peek_sender`](UdpSocket::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_read_with(cx, peek_sender)
    }

    /// [`peek_sender`](UdpSocket::peek_sender) if a datagram is queued, without waiting:
    /// `WouldBlock` otherwise.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, peek_sender)
    }

    /// `SO_BROADCAST`: allow sending to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// The `SO_BROADCAST` value.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// `IP_MULTICAST_LOOP`: whether multicast datagrams this socket sends come back to the
    /// host's own members of the group (on by default). For group membership with sources
    /// and interfaces, see [`crate::multicast`].
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The `IP_MULTICAST_LOOP` value.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// `IP_MULTICAST_TTL`: how many hops outgoing multicast datagrams may cross (1 by
    /// default: the local link).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` value.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// `IPV6_MULTICAST_LOOP` (an IPv6 socket): as
    /// [`set_multicast_loop_v4`](UdpSocket::set_multicast_loop_v4).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// The `IPV6_MULTICAST_LOOP` value.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`0.0.0.0`: the kernel's choice).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface`
    /// (0: the kernel's choice).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Receives into `buf` with `recv` (a `recv(2)`-like call) when readable.
    fn poll_into<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
        mut recv: impl FnMut(SockRef<'_>, &mut [MaybeUninit<u8>]) -> io::Result<usize>,
    ) -> Poll<io::Result<B::Len>> {
        // SAFETY: only `recv` writes through `dst`, and it writes initialised bytes.
        let dst = unsafe { buf.unfilled() };
        let n = ready!(self
            .io
            .poll_read_with(cx, |s| recv(SockRef::from(s), &mut *dst)))?;
        // SAFETY: `recv` returned `n`: the kernel initialised that many bytes of `dst`.
        Poll::Ready(Ok(unsafe { buf.filled(n) }))
    }

    /// `poll_into` for a receive that reports the sender.
    fn poll_into_from<B: RecvBuf + ?Sized>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut B,
        mut recv: impl FnMut(SockRef<'_>, &mut [MaybeUninit<u8>]) -> io::Result<(usize, SockAddr)>,
    ) -> Poll<io::Result<B::LenFrom<SocketAddr>>> {
        // SAFETY: only `recv` writes through `dst`, and it writes initialised bytes.
        let dst = unsafe { buf.unfilled() };
        let (n, from) = ready!(self
            .io
            .poll_read_with(cx, |s| inet(recv(SockRef::from(s), &mut *dst))))?;
        // SAFETY: `recv` returned `n`: the kernel initialised that many bytes of `dst`.
        Poll::Ready(Ok(unsafe { buf.filled_from(n, from) }))
    }
}

/// The IP address of a received datagram's sender.
fn inet<T>(res: io::Result<(T, SockAddr)>) -> io::Result<(T, SocketAddr)> {
    let (v, addr) = res?;
    Ok((v, inet_addr(addr)?))
}

/// An IP sender's address, or an error for any other kind.
fn inet_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(not_inet)
}

fn peek_sender(s: &net::UdpSocket) -> io::Result<SocketAddr> {
    SockRef::from(s)
        .peek_sender()?
        .as_socket()
        .ok_or_else(not_inet)
}

#[cold]
fn not_inet() -> io::Error {
    io::Error::other("the sender's address is not an IP address")
}

datagram_methods!(UdpSocket, SocketAddr);
buf_recv_methods!(UdpSocket, SocketAddr, inet_addr);
readiness_methods!(UdpSocket, poll_recv_ready, poll_send_ready);
ip_option_methods!(UdpSocket, io);
spin_reads_method!(UdpSocket);
local_addr_methods!(UdpSocket, SocketAddr);
ttl_methods!(UdpSocket);
buffer_size_methods!(UdpSocket);
busy_poll_methods!(UdpSocket);
impl_fd!(UdpSocket);
crate::methods::try_from_std!(UdpSocket, std::net::UdpSocket);
impl_debug_as_std!(UdpSocket);
