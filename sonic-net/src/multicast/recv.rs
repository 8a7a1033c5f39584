//! `recvmsg(2)` with the destination address of each datagram, parsed from control messages in
//! a buffer on the stack: no allocation per datagram.

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
}

/// Room for one `in_pktinfo` / `in6_pktinfo` control message and a few more, aligned for
/// `cmsghdr` (whose alignment is at most 8 on every supported OS).
#[repr(C, align(8))]
struct CmsgBuf([u8; 128]);

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
    let source = if msg.msg_namelen > 0 {
        // SAFETY: the kernel wrote a socket address of `msg_namelen` bytes, family first.
        unsafe { super::sys::sockaddr_std(addr.as_ptr().cast()) }
    } else {
        None
    };
    let source =
        source.ok_or_else(|| io::Error::other("recvmsg returned no IPv4/IPv6 source address"))?;

    let mut meta = RecvMeta {
        len: n as usize,
        source,
        destination: None,
        interface: None,
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
        timestamp: None,
    };
    // SAFETY: the kernel set msg_controllen to the bytes of control data it wrote into `cmsg`;
    // CMSG_FIRSTHDR / CMSG_NXTHDR never return a header that does not fit in those bytes, so
    // everything read below was written by the kernel.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            parse_one(c, &mut meta);
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(meta)
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
    if level == libc::IPPROTO_IP && ty == libc::IP_PKTINFO {
        if len >= need(size_of::<libc::in_pktinfo>()) {
            // SAFETY: cmsg_len says the data holds a whole in_pktinfo; the read is unaligned
            // because control data is only aligned for the header.
            let info: libc::in_pktinfo =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
            meta.destination = Some(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes()).into());
            meta.interface = Some(info.ipi_ifindex as u32);
        }
    } else if level == libc::IPPROTO_IPV6
        && ty == libc::IPV6_PKTINFO
        && len >= need(size_of::<libc::in6_pktinfo>())
    {
        // SAFETY: as above, for a whole in6_pktinfo.
        let info: libc::in6_pktinfo =
            unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast()) };
        meta.destination = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr).into());
        meta.interface = Some(info.ipi6_ifindex as u32);
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
