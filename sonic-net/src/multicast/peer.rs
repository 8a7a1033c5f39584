//! [`Peer`]: a UDP socket that joins, leaves and filters multicast groups, and sends and
//! receives on the sonic-rt reactor. Its group membership is in `membership.rs`.

use super::interface::Interface;
use super::membership::{invalid, Joined};
use super::recv::{self, RecvMeta};
use super::stats::{Counters, PeerStats};
use super::sys;
use crate::methods::{impl_fd, spin_reads_method};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use sonic_rt::io::Async;
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::pin;
use std::task::{Context, Poll};

/// A UDP multicast peer on the current sonic runtime: it joins groups (any-source or
/// source-specific) on chosen interfaces, filters sources at run time, and sends and receives
/// datagrams.
///
/// It is the Rust form of the Go sonic library's `multicast.UDPPeer`, with IPv6 throughout and
/// the interface of each join remembered for later leave/block requests. See the
/// [module documentation](super) for how Linux and macOS differ.
///
/// Like every sonic socket it is `!Send`: it lives on the thread of the runtime it was created
/// in. Membership calls take `&self`, so a `Peer` shared through an `Rc` between a reading task
/// and a writing task can still change its groups. Several tasks may receive (or send) on one
/// `Peer`: every task waiting in an async fn (`recv_from`, `recv_msg`, `recv_batch`, `send_to`)
/// is woken when the socket becomes ready; the `poll_*` methods keep only the most recent
/// poller's waker per direction, as in tokio.
///
/// # Examples
/// ```
/// use sonic_net::multicast::Peer;
/// use std::net::Ipv4Addr;
///
/// let rt = sonic_rt::Builder::new().build().unwrap();
/// rt.block_on(async {
///     let group = Ipv4Addr::new(239, 255, 70, 1);
///     let rx = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap(); // usually the group's port
///     let port = rx.local_addr().port();
///     rx.join_on(group, Ipv4Addr::LOCALHOST).unwrap(); // the loopback interface
///
///     let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
///     tx.set_outbound(Ipv4Addr::LOCALHOST).unwrap();
///     tx.send_to(b"tick", (group, port).into()).await.unwrap();
///
///     let mut buf = [0u8; 64];
///     let (n, from) = rx.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"tick");
///     assert_eq!(from, tx.local_addr());
/// });
/// ```
#[derive(Debug)]
pub struct Peer {
    pub(super) io: Async<UdpSocket>,
    pub(super) local: SocketAddr,
    pub(super) joined: RefCell<Vec<Joined>>,
    outbound: RefCell<Interface>,
    inbound: Cell<u32>,
    stats: Counters,
}

impl Peer {
    /// Creates a UDP socket with `SO_REUSEADDR` and `SO_REUSEPORT` (so several peers can share a
    /// port, each getting its own copy of every multicast datagram; unicast datagrams to the
    /// port go to one of them), binds it to `addr` and registers it with the current runtime.
    /// An IPv6 socket is IPv6-only.
    ///
    /// Bind to the group's port. Binding to the wildcard address (`0.0.0.0` / `::`) receives
    /// every group this socket joins on that port; binding to a group address receives only
    /// that group (and no unicast). To tell apart several groups on one wildcard socket, use
    /// [`recv_msg`](Self::recv_msg) with [`set_recv_destination`](Self::set_recv_destination).
    ///
    /// On Linux, `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` is turned off, so the socket only
    /// receives the groups it joined itself (the BSD and macOS behaviour; Linux's default
    /// delivers any group joined by any socket on the host). See
    /// [`set_multicast_all`](Self::set_multicast_all).
    ///
    /// Errors outside a sonic runtime, and with the kernel's error if the bind fails.
    pub fn bind(addr: impl Into<SocketAddr>) -> io::Result<Peer> {
        let addr = addr.into();
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.bind(&addr.into())?;
        Peer::from_std(socket.into())
    }

    /// Wraps a bound UDP socket, for options `bind` does not set (buffer sizes, a bind without
    /// `SO_REUSEPORT`...). The socket is made non-blocking and registered with the current
    /// runtime; on Linux `IP(V6)_MULTICAST_ALL` is turned off, as in [`bind`](Self::bind).
    pub fn from_std(socket: UdpSocket) -> io::Result<Peer> {
        let local = socket.local_addr()?;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let s = SockRef::from(&socket);
            match local {
                SocketAddr::V4(_) => s.set_multicast_all_v4(false)?,
                SocketAddr::V6(_) => s.set_multicast_all_v6(false)?,
            }
        }
        Ok(Peer {
            io: Async::new(socket)?,
            local,
            joined: RefCell::new(Vec::new()),
            outbound: RefCell::new(Interface::Unspecified),
            inbound: Cell::new(0),
            stats: Counters::default(),
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The underlying socket, for options this type does not wrap. Do not read from it behind
    /// the peer's back in a way that leaves a `WouldBlock` unseen by the runtime.
    pub fn get_ref(&self) -> &UdpSocket {
        self.io.get_ref()
    }

    pub(super) fn sock(&self) -> SockRef<'_> {
        SockRef::from(self.io.get_ref())
    }

    pub(super) fn fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }

    pub(super) fn is_v6(&self) -> bool {
        self.local.is_ipv6()
    }

    // ---- sending and socket options -----------------------------------------------------------

    /// Sets the interface outgoing multicast datagrams leave by (`IP_MULTICAST_IF` /
    /// `IPV6_MULTICAST_IF`); [`Interface::Unspecified`] goes back to the kernel's choice.
    ///
    /// IPv4 by address uses `IP_MULTICAST_IF` with an `in_addr`; by name or index `ip_mreqn`
    /// (Linux) or `IP_MULTICAST_IFINDEX` (macOS). IPv6 always goes by index.
    pub fn set_outbound(&self, iface: impl Into<Interface>) -> io::Result<()> {
        let iface = iface.into();
        let via = self.resolve(&iface)?;
        if self.is_v6() {
            self.sock().set_multicast_if_v6(via.index)?;
        } else if let Some(a) = via.v4 {
            self.sock().set_multicast_if_v4(&a)?;
        } else if via.index == 0 {
            self.sock().set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED)?;
        } else {
            sys::set_multicast_if_v4_index(self.fd(), via.index)?;
        }
        *self.outbound.borrow_mut() = iface;
        Ok(())
    }

    /// The outgoing interface last set with [`set_outbound`](Self::set_outbound)
    /// ([`Interface::Unspecified`] until then).
    pub fn outbound(&self) -> Interface {
        self.outbound.borrow().clone()
    }

    /// Receives only datagrams that arrive on `iface` (`SO_BINDTOIFINDEX` on Linux,
    /// `IP_BOUND_IF` / `IPV6_BOUND_IF` on macOS); [`Interface::Unspecified`] removes the binding.
    /// This is the Go peer's `SetInbound`. Joining on an interface is usually what you want;
    /// this also filters unicast and keeps a wildcard-bound socket off the other interfaces.
    ///
    /// FreeBSD has no per-socket interface binding: there this fails with
    /// [`io::ErrorKind::Unsupported`] (join on the interface instead).
    pub fn set_inbound(&self, iface: impl Into<Interface>) -> io::Result<()> {
        let index = iface.into().index()?;
        sys::bind_inbound(&self.sock(), self.is_v6(), index)?;
        self.inbound.set(index);
        Ok(())
    }

    /// The interface index set with [`set_inbound`](Self::set_inbound), 0 if none.
    pub fn inbound(&self) -> u32 {
        self.inbound.get()
    }

    /// Whether this host's own members of a group receive what this peer sends to it
    /// (`IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`; on by default). It matters on a real link:
    /// over a loopback interface every datagram comes back in anyway.
    pub fn set_multicast_loop(&self, on: bool) -> io::Result<()> {
        if self.is_v6() {
            self.sock().set_multicast_loop_v6(on)
        } else {
            self.sock().set_multicast_loop_v4(on)
        }
    }

    /// The loopback setting, as the kernel reports it.
    pub fn multicast_loop(&self) -> io::Result<bool> {
        if self.is_v6() {
            self.sock().multicast_loop_v6()
        } else {
            self.sock().multicast_loop_v4()
        }
    }

    /// How many routers outgoing multicast datagrams may cross: the IPv4 TTL
    /// (`IP_MULTICAST_TTL`) or the IPv6 hop limit (`IPV6_MULTICAST_HOPS`), 0 to 255. The default
    /// is 1 (the local link). 0 keeps datagrams on this host (only local members receive them,
    /// with loopback on), with one Linux exception: an IPv6 datagram with hop limit 0 is only
    /// held back where the kernel makes the loopback copy, so with loopback off (or no member
    /// on this host) it goes out on the link anyway, and the next host accepts it. IPv4 drops
    /// TTL-0 datagrams in every case.
    pub fn set_multicast_ttl(&self, ttl: u32) -> io::Result<()> {
        if ttl > 255 {
            return Err(invalid(format!(
                "multicast TTL {ttl} is out of range 0..=255"
            )));
        }
        if self.is_v6() {
            self.sock().set_multicast_hops_v6(ttl)
        } else {
            self.sock().set_multicast_ttl_v4(ttl)
        }
    }

    /// The multicast TTL / hop limit, as the kernel reports it.
    pub fn multicast_ttl(&self) -> io::Result<u32> {
        if self.is_v6() {
            self.sock().multicast_hops_v6()
        } else {
            self.sock().multicast_ttl_v4()
        }
    }

    /// Linux only: `true` delivers to this socket every group that *any* socket on the host has
    /// joined on a matching port (`IP(V6)_MULTICAST_ALL`, the kernel's default); `false` (the
    /// peer's default) only the groups this socket joined. Elsewhere the behaviour is always
    /// that of `false`, so `false` succeeds and `true` is
    /// [`Unsupported`](io::ErrorKind::Unsupported).
    pub fn set_multicast_all(&self, on: bool) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            if self.is_v6() {
                self.sock().set_multicast_all_v6(on)
            } else {
                self.sock().set_multicast_all_v4(on)
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            if on {
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "IP_MULTICAST_ALL exists only on Linux; this OS delivers joined groups only",
                ))
            } else {
                Ok(())
            }
        }
    }

    /// See [`set_multicast_all`](Self::set_multicast_all).
    pub fn multicast_all(&self) -> io::Result<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            if self.is_v6() {
                self.sock().multicast_all_v6()
            } else {
                self.sock().multicast_all_v4()
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            Ok(false)
        }
    }

    /// Makes [`recv_msg`](Self::recv_msg) report each datagram's destination address and
    /// arrival interface (`IP_PKTINFO` / `IPV6_RECVPKTINFO`). Off by default: it costs the kernel
    /// a little work per datagram. Datagrams already queued when it is turned on carry no
    /// information.
    pub fn set_recv_destination(&self, on: bool) -> io::Result<()> {
        sys::set_recv_pktinfo(self.fd(), self.is_v6(), on)
    }

    /// Makes [`recv_msg`](Self::recv_msg) report when the kernel received each datagram
    /// (`SO_TIMESTAMPNS` on Linux, `SO_TIMESTAMP` on macOS), for measuring the time from the
    /// wire (or the sender, on the same host) to the application. Off by default.
    pub fn set_recv_timestamp(&self, on: bool) -> io::Result<()> {
        sys::set_recv_timestamp(self.fd(), on)
    }

    /// Makes [`recv_msg`](Self::recv_msg) and [`recv_batch`](Self::recv_batch) report the
    /// socket's count of datagrams the kernel dropped because the receive queue was full
    /// (`SO_RXQ_OVFL`, Linux only: elsewhere `true` is
    /// [`Unsupported`](io::ErrorKind::Unsupported)); [`stats`](Self::stats) adds them up as
    /// `kernel_drops`. Off by default. The count rides on the next datagram received, so drops
    /// show once the queue has room again.
    pub fn set_recv_drop_count(&self, on: bool) -> io::Result<()> {
        sys::set_recv_drop_count(self.fd(), on)
    }

    /// What this peer received and sent so far: receives (and sends) completed at once vs
    /// after waiting, datagrams, bytes, truncations, kernel drops, datagrams and bytes sent. The counters belong to the runtime
    /// thread (no atomics); reading them copies them.
    ///
    /// ```
    /// use sonic_net::multicast::Peer;
    /// use std::net::Ipv4Addr;
    ///
    /// sonic_rt::block_on(async {
    ///     let rx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    ///     let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    ///     tx.send_to(b"queued", rx.local_addr()).await.unwrap();
    ///     let mut buf = [0u8; 64];
    ///     rx.recv_msg(&mut buf).await.unwrap(); // already queued: completes at once
    ///     let s = rx.stats();
    ///     assert_eq!((s.reads_immediate, s.reads_waited, s.datagrams, s.bytes), (1, 0, 1, 6));
    ///     assert_eq!(tx.stats().sent, 1);
    /// });
    /// ```
    pub fn stats(&self) -> PeerStats {
        self.stats.snapshot()
    }

    /// Zeroes the counters of [`stats`](Self::stats).
    pub fn reset_stats(&self) {
        self.stats.reset();
    }

    /// Counts a `poll_*` receive's outcome; `each` counts what it received.
    #[inline]
    fn count_poll<R>(&self, p: &Poll<io::Result<R>>, each: impl FnOnce(&R)) {
        match p {
            Poll::Pending => self.stats.poll_pending(),
            Poll::Ready(Ok(r)) => {
                self.stats.poll_read();
                each(r);
            }
            Poll::Ready(Err(_)) => {}
        }
    }

    // ---- I/O ----------------------------------------------------------------------------------

    /// Receives one datagram into `buf`, returning its length and sender. A datagram longer
    /// than `buf` is cut (use [`recv_msg`](Self::recv_msg) to learn that it was).
    ///
    /// The buffer is taken anew on every poll and nothing is read before the kernel has a
    /// datagram, so a caller may poll with a different buffer each time without losing a
    /// datagram. This is the Rust form of the Go peer's `SetAsyncReadBuffer`: instead of
    /// swapping the buffer of a pending read, pass the new buffer to the next poll.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let p = self.io.poll_read_with(cx, |s| s.recv_from(buf));
        self.count_poll(&p, |&(n, _)| self.stats.datagram(n));
        p
    }

    /// Receives one datagram into `buf`; see [`poll_recv_from`](Self::poll_recv_from).
    ///
    /// Cancel safe: dropping the future before it completes loses no datagram.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (r, waited) = watch(self.io.read_with(|s| s.recv_from(buf))).await;
        if let Ok((n, _)) = r {
            self.stats.read(waited);
            self.stats.datagram(n);
        }
        r
    }

    /// Receives one datagram if one is queued, without waiting: `WouldBlock` otherwise.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let res = self.io.get_ref().recv_from(buf);
        match &res {
            Ok((n, _)) => {
                self.stats.read(false);
                self.stats.datagram(*n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readable(),
            Err(_) => {}
        }
        res
    }

    /// Receives one datagram into `buf` with its metadata: sender, destination group and
    /// arrival interface (after [`set_recv_destination`](Self::set_recv_destination)), kernel
    /// receive time (after [`set_recv_timestamp`](Self::set_recv_timestamp)), and whether it
    /// was truncated. Uses `recvmsg` with control messages parsed from a buffer on
    /// the stack; nothing is allocated.
    ///
    /// Buffers behave as for [`poll_recv_from`](Self::poll_recv_from): each poll takes its own.
    pub fn poll_recv_msg(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<RecvMeta>> {
        let p = self
            .io
            .poll_read_with(cx, |s| recv::recv_msg(s.as_raw_fd(), buf));
        self.count_poll(&p, |m| self.stats.meta(m));
        p
    }

    /// Receives one datagram with its metadata; see [`poll_recv_msg`](Self::poll_recv_msg).
    ///
    /// Cancel safe.
    pub async fn recv_msg(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let (r, waited) = watch(self.io.read_with(|s| recv::recv_msg(s.as_raw_fd(), buf))).await;
        if let Ok(m) = &r {
            self.stats.read(waited);
            self.stats.meta(m);
        }
        r
    }

    /// Receives one datagram with its metadata if one is queued: `WouldBlock` otherwise.
    pub fn try_recv_msg(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let res = recv::recv_msg(self.fd(), buf);
        match &res {
            Ok(m) => {
                self.stats.read(false);
                self.stats.meta(m);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readable(),
            Err(_) => {}
        }
        res
    }

    /// Receives up to [`MAX_BATCH`](super::MAX_BATCH) queued datagrams at once, with one
    /// `recvmmsg` on Linux (a loop of `recvmsg` elsewhere): datagram `i` goes into `bufs[i]` and
    /// its metadata (as for [`recv_msg`](Self::recv_msg)) into `metas[i]`. Returns how many
    /// arrived: at least 1, at most `min(bufs.len(), metas.len(), MAX_BATCH)`; 0 only when one
    /// of the lists is empty. For a feed that delivers bursts, one wake-up and one syscall then
    /// serve the whole burst. Nothing is allocated.
    ///
    /// ```
    /// use sonic_net::multicast::{Peer, RecvMeta};
    /// use std::net::Ipv4Addr;
    ///
    /// sonic_rt::block_on(async {
    ///     let rx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    ///     let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    ///     for i in 0..3u8 {
    ///         tx.send_to(&[i; 10], rx.local_addr()).await.unwrap();
    ///     }
    ///     let mut bufs = [[0u8; 1500]; 8];
    ///     let mut metas = [RecvMeta::default(); 8];
    ///     let mut got = 0;
    ///     while got < 3 {
    ///         let n = rx.recv_batch(&mut bufs[got..], &mut metas[got..]).await.unwrap();
    ///         got += n;
    ///     }
    ///     assert_eq!(metas[2].len, 10);
    ///     assert_eq!(bufs[2][0], 2);
    /// });
    /// ```
    pub fn poll_recv_batch<B: AsMut<[u8]>>(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [B],
        metas: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        if bufs.is_empty() || metas.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A short batch is not taken as "queue empty": recvmmsg also stops early at an error,
        // which it keeps for the next call, and clearing readiness would hide it until the
        // next datagram. The next attempt pays one EAGAIN instead.
        let p = self
            .io
            .poll_read_with(cx, |s| recv::recv_batch(s.as_raw_fd(), bufs, metas));
        self.count_poll(&p, |&n| metas[..n].iter().for_each(|m| self.stats.meta(m)));
        p
    }

    /// Receives a batch of datagrams; see [`poll_recv_batch`](Self::poll_recv_batch).
    ///
    /// Cancel safe.
    pub async fn recv_batch<B: AsMut<[u8]>>(
        &self,
        bufs: &mut [B],
        metas: &mut [RecvMeta],
    ) -> io::Result<usize> {
        if bufs.is_empty() || metas.is_empty() {
            return Ok(0);
        }
        let (r, waited) = watch(
            self.io
                .read_with(|s| recv::recv_batch(s.as_raw_fd(), bufs, metas)),
        )
        .await;
        if let Ok(n) = r {
            self.stats.read(waited);
            metas[..n].iter().for_each(|m| self.stats.meta(m));
        }
        r
    }

    /// Receives the datagrams already queued (up to a batch), without waiting: `WouldBlock`
    /// if there are none.
    pub fn try_recv_batch<B: AsMut<[u8]>>(
        &self,
        bufs: &mut [B],
        metas: &mut [RecvMeta],
    ) -> io::Result<usize> {
        let res = recv::recv_batch(self.fd(), bufs, metas);
        match &res {
            Ok(n) => {
                self.stats.read(false);
                metas[..*n].iter().for_each(|m| self.stats.meta(m));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readable(),
            Err(_) => {}
        }
        res
    }

    /// Sends `buf` as one datagram to `target` (a group and port, or any unicast address).
    ///
    /// An IPv6 group with link-local scope (`ff02::`) needs an interface: set one with
    /// [`set_outbound`](Self::set_outbound) or put it in `target`'s scope id.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let p = self.io.poll_write_with(cx, |s| s.send_to(buf, target));
        match p {
            Poll::Ready(Ok(n)) => self.stats.poll_send(n),
            Poll::Pending => self.stats.poll_send_pending(),
            Poll::Ready(Err(_)) => {}
        }
        p
    }

    /// Sends `buf` as one datagram to `target`; see [`poll_send_to`](Self::poll_send_to).
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let (r, waited) = watch(self.io.write_with(|s| s.send_to(buf, target))).await;
        if let Ok(n) = r {
            self.stats.send(n, waited);
        }
        r
    }

    /// Sends `buf` if the socket buffer has room, without waiting: `WouldBlock` otherwise.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let res = self.io.get_ref().send_to(buf, target);
        match &res {
            Ok(n) => self.stats.send(*n, false),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_writable(),
            Err(_) => {}
        }
        res
    }
}

spin_reads_method!(Peer);
impl_fd!(Peer);

/// Awaits `fut` and says whether it returned `Pending` on the way (the receive waited).
#[inline]
async fn watch<F: Future>(fut: F) -> (F::Output, bool) {
    let mut fut = pin!(fut);
    let mut waited = false;
    let out = poll_fn(|cx| {
        let p = fut.as_mut().poll(cx);
        waited |= p.is_pending();
        p
    })
    .await;
    (out, waited)
}
