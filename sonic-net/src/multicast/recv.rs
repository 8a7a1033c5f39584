//! `recvmsg(2)` with the destination address of each datagram, parsed from control messages in
//! a buffer on the stack: no allocation per datagram. `recvmmsg(2)` (Linux) takes up to
//! [`MAX_BATCH`] datagrams in one call the same way; elsewhere a batch is a loop of `recvmsg`.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::time::{Duration, SystemTime};

/// What [`Peer::recv_msg`](super::Peer::recv_msg) learned about one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecvMeta {
    /// Bytes written into the caller's buffer.
    pub len: usize,
    /// The sender's address.
    pub source: SocketAddr,
    /// The destination address in the datagram's IP header: the group it was sent to, which
    /// tells apart the groups of a socket that joined several on one port. `None` unless
    /// [`Peer::set_recv_destination`](super::Peer::set_recv_destination) turned it on.
    pub destination: Option<IpAddr>,
    /// The index of the interface the datagram arrived on, under the same condition.
    pub interface: Option<u32>,
    /// The datagram was longer than the buffer and its tail was discarded.
    pub truncated: bool,
    /// When the kernel received the datagram (system clock, nanoseconds on Linux, microseconds
    /// on macOS). `None` unless [`Peer::set_recv_timestamp`](super::Peer::set_recv_timestamp)
    /// turned it on.
    pub timestamp: Option<SystemTime>,
    /// The socket's count of datagrams the kernel dropped because the receive queue was full
    /// (cumulative, wrapping at 2^32). `None` unless
    /// [`Peer::set_recv_drop_count`](super::Peer::set_recv_drop_count) turned it on (Linux),
    /// and while the count is 0.
    pub drops: Option<u32>,
}

impl Default for RecvMeta {
    /// An empty slot for [`Peer::recv_batch`](super::Peer::recv_batch) to fill: length 0,
    /// source `0.0.0.0:0`, no metadata.
    fn default() -> Self {
        RecvMeta {
            len: 0,
            source: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            destination: None,
            interface: None,
            truncated: false,
            timestamp: None,
            drops: None,
        }
    }
}

/// Most datagrams one [`Peer::recv_batch`](super::Peer::recv_batch) call receives (the rest
/// of a longer buffer list is left alone).
pub const MAX_BATCH: usize = 32;

/// Room for one `in_pktinfo` / `in6_pktinfo` control message and a few more (with a timestamp
/// and a drop counter, 96 bytes on Linux), aligned for `cmsghdr` (whose alignment is at most 8
/// on every supported OS).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct CmsgBuf([u8; 128]);

/// The metadata of a received `msghdr`: its source, truncation flag and control messages.
///
/// # Safety
/// `msg` must be a header the kernel just filled by a successful `recvmsg`/`recvmmsg`: its
/// `msg_name` holds `msg_namelen` bytes of socket address and its `msg_control` holds
/// `msg_controllen` bytes of control messages.
unsafe fn meta_of(msg: &libc::msghdr, len: usize) -> io::Result<RecvMeta> {
    let source = if msg.msg_namelen > 0 {
        // SAFETY: the kernel wrote a socket address of `msg_namelen` bytes, family first.
        unsafe { super::sys::sockaddr_std(msg.msg_name.cast_const().cast()) }
    } else {
        None
    };
    let source =
        source.ok_or_else(|| io::Error::other("recvmsg returned no IPv4/IPv6 source address"))?;
    let mut meta = RecvMeta {
        len,
        source,
        destination: None,
        interface: None,
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
        timestamp: None,
        drops: None,
    };
    // SAFETY: the kernel set msg_controllen to the bytes of control data it wrote;
    // CMSG_FIRSTHDR / CMSG_NXTHDR never return a header that does not fit in those bytes, so
    // everything read below was written by the kernel.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            parse_one(c, &mut meta);
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    Ok(meta)
}

/// One non-blocking `recvmsg` into `buf`.
pub(crate) fn recv_msg(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let mut addr = MaybeUninit::<libc::sockaddr_storage>::uninit();
    let mut cmsg = MaybeUninit::<CmsgBuf>::uninit();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is valid (and zeroes private padding fields).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_mut_ptr().cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<CmsgBuf>() as _;

    // SAFETY: every pointer in `msg` refers to a live local (or the caller's `buf`) of the
    // length given next to it, and all outlive the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `msg` was just filled by a successful recvmsg.
    unsafe { meta_of(&msg, n as usize) }
}

/// Receives up to `min(bufs.len(), metas.len(), MAX_BATCH)` datagrams with one non-blocking
/// `recvmmsg`: datagram `i` into `bufs[i]`, its metadata into `metas[i]`. Returns how many
/// (at least 1), or `WouldBlock` when none is queued.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn recv_batch<B: AsMut<[u8]>>(
    fd: RawFd,
    bufs: &mut [B],
    metas: &mut [RecvMeta],
) -> io::Result<usize> {
    let k = bufs.len().min(metas.len()).min(MAX_BATCH);
    if k == 0 {
        return Ok(0);
    }
    let mut addrs = [MaybeUninit::<libc::sockaddr_storage>::uninit(); MAX_BATCH];
    let mut cmsgs = [MaybeUninit::<CmsgBuf>::uninit(); MAX_BATCH];
    // SAFETY: iovec and mmsghdr are plain data; all-zero is valid for both.
    let mut iovs: [libc::iovec; MAX_BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut msgs: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..k {
        let buf = bufs[i].as_mut();
        iovs[i] = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let h = &mut msgs[i].msg_hdr;
        h.msg_name = addrs[i].as_mut_ptr().cast();
        h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
        h.msg_control = cmsgs[i].as_mut_ptr().cast();
        h.msg_controllen = size_of::<CmsgBuf>() as _;
    }
    // SAFETY: the first `k` headers point at live locals (addresses, iovecs, control buffers)
    // and at the caller's buffers, each with its true length, all outliving the call; the
    // kernel writes at most `k` entries.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            msgs.as_mut_ptr(),
            k as _,
            libc::MSG_DONTWAIT as _, // c_int on glibc, c_uint on musl
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    for i in 0..n {
        // SAFETY: recvmmsg filled the first `n` headers (and set each msg_len).
        match unsafe { meta_of(&msgs[i].msg_hdr, msgs[i].msg_len as usize) } {
            Ok(m) => metas[i] = m,
            // No IP source (never for a UDP socket): hand over what came before it.
            Err(_) if i > 0 => return Ok(i),
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A batch as a loop of `recvmsg` where there is no `recvmmsg`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn recv_batch<B: AsMut<[u8]>>(
    fd: RawFd,
    bufs: &mut [B],
    metas: &mut [RecvMeta],
) -> io::Result<usize> {
    let k = bufs.len().min(metas.len()).min(MAX_BATCH);
    let mut n = 0;
    while n < k {
        match recv_msg(fd, bufs[n].as_mut()) {
            Ok(m) => metas[n] = m,
            // Queue drained, or an error after some datagrams: hand those over first (what
            // recvmmsg does; a pending socket error comes back on the next call).
            Err(_) if n > 0 => break,
            Err(e) => return Err(e),
        }
        n += 1;
    }
    Ok(n)
}

/// Reads one control message into `meta` if it is a packet-info or timestamp message.
///
/// # Safety
/// `c` must point to a complete control message header written by the kernel, with
/// `cmsg_len` bytes (header included) readable from `c`.
// cmsg_len and the pktinfo index fields have different C types per OS (size_t / socklen_t,
// int / unsigned int), so some casts are no-ops on one OS and needed on the other.
#[allow(clippy::unnecessary_cast)]
unsafe fn parse_one(c: *const libc::cmsghdr, meta: &mut RecvMeta) {
    // SAFETY: `c` points to a valid header (see `# Safety`).
    let (level, ty, len) = unsafe { ((*c).cmsg_level, (*c).cmsg_type, (*c).cmsg_len as usize) };
    // SAFETY: CMSG_LEN is plain arithmetic.
    let need = |data: usize| unsafe { libc::CMSG_LEN(data as _) } as usize;
    #[cfg(target_os = "freebsd")]
    if level == libc::IPPROTO_IP && ty == libc::IP_RECVDSTADDR {
        if len >= need(size_of::<libc::in_addr>()) {
            // SAFETY: cmsg_len says the data holds a whole in_addr (read unaligned, as below).
            let a: libc::in_addr = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            meta.destination = Some(Ipv4Addr::from(a.s_addr.to_ne_bytes()).into());
        }
        return;
    }
    #[cfg(target_os = "freebsd")]
    if level == libc::IPPROTO_IP && ty == libc::IP_RECVIF {
        if len >= need(size_of::<libc::sockaddr_dl>()) {
            // SAFETY: as above, for a whole sockaddr_dl (the interface's link address).
            let dl: libc::sockaddr_dl =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            meta.interface = Some(u32::from(dl.sdl_index));
        }
        return;
    }
    #[cfg(not(target_os = "freebsd"))]
    if level == libc::IPPROTO_IP && ty == libc::IP_PKTINFO {
        if len >= need(size_of::<libc::in_pktinfo>()) {
            // SAFETY: cmsg_len says the data holds a whole in_pktinfo; the read is unaligned
            // because control data is only aligned for the header.
            let info: libc::in_pktinfo =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            meta.destination = Some(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes()).into());
            meta.interface = Some(info.ipi_ifindex as u32);
        }
        return;
    }
    if level == libc::IPPROTO_IPV6
        && ty == libc::IPV6_PKTINFO
        && len >= need(size_of::<libc::in6_pktinfo>())
    {
        // SAFETY: as above, for a whole in6_pktinfo.
        let info: libc::in6_pktinfo =
            unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
        meta.destination = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr).into());
        meta.interface = Some(info.ipi6_ifindex as u32);
    } else if cfg!(any(target_os = "linux", target_os = "android"))
        && level == libc::SOL_SOCKET
        && ty == super::sys::SO_RXQ_OVFL
    {
        if len >= need(size_of::<u32>()) {
            // SAFETY: as above, for the u32 drop counter.
            meta.drops = Some(unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) });
        }
    } else if level == libc::SOL_SOCKET && ty == super::sys::SCM_RECV_TIME {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if len >= need(size_of::<libc::timespec>()) {
            // SAFETY: as above, for a whole timespec.
            let ts: libc::timespec = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            let since = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            meta.timestamp = SystemTime::UNIX_EPOCH.checked_add(since);
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        if len >= need(size_of::<libc::timeval>()) {
            // SAFETY: as above, for a whole timeval.
            let tv: libc::timeval = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            let since = Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
            meta.timestamp = SystemTime::UNIX_EPOCH.checked_add(since);
        }
    }
}
