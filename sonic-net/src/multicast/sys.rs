//! The socket options socket2 does not cover, as thin `setsockopt` wrappers, and socket address
//! conversions.
//!
//! Rules: every request struct starts all-zero and is filled **by field name**, never by
//! position, because the layouts differ per OS (`ip_mreq_source` puts the source second on
//! BSD/macOS and third on Linux; `group_source_req` is packed to 4 bytes on Apple and naturally
//! aligned on Linux, 260 vs 264 bytes). libc (>= 0.2.191) carries the right layout per OS.

use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// `IP_MULTICAST_IFINDEX` (xnu `netinet/in.h`): the IPv4 outgoing interface by index. Not in libc.
#[cfg(target_vendor = "apple")]
const IP_MULTICAST_IFINDEX: libc::c_int = 66;

/// `setsockopt(fd, level, name, value)` for a plain-data `T`.
fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live, initialised `T` of `size_of::<T>()` bytes for the whole
    // call; the kernel only copies that many bytes in and keeps no pointer.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The protocol level of a group's options: `IPPROTO_IP` for IPv4 groups, `IPPROTO_IPV6` else.
fn level(group: IpAddr) -> libc::c_int {
    match group {
        IpAddr::V4(_) => libc::IPPROTO_IP,
        IpAddr::V6(_) => libc::IPPROTO_IPV6,
    }
}

fn in_addr(a: Ipv4Addr) -> libc::in_addr {
    libc::in_addr {
        // Network byte order: the octets as they are, read in native order.
        s_addr: u32::from_ne_bytes(a.octets()),
    }
}

/// A `sockaddr_storage` holding `addr` with port 0, as the RFC 3678 requests want it.
pub(crate) fn storage(addr: IpAddr) -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid (AF_UNSPEC) value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        IpAddr::V4(a) => {
            // SAFETY: sockaddr_in is plain data; all-zero is valid.
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr = in_addr(a);
            #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
            {
                sin.sin_len = size_of::<libc::sockaddr_in>() as u8;
            }
            // SAFETY: sockaddr_storage is larger than and at least as aligned as sockaddr_in,
            // which is what it exists for.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
        }
        IpAddr::V6(a) => {
            // SAFETY: sockaddr_in6 is plain data; all-zero is valid.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.octets(),
            };
            #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
            {
                sin6.sin6_len = size_of::<libc::sockaddr_in6>() as u8;
            }
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
        }
    }
    ss
}

/// The IP address in a `sockaddr`, if it is `AF_INET` or `AF_INET6`.
///
/// # Safety
/// `sa` must point to a valid socket address whose length is implied by its family
/// (a `sockaddr_in` for `AF_INET`, a `sockaddr_in6` for `AF_INET6`).
pub(crate) unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    // SAFETY: the caller promises a valid address, through `sa` (see `# Safety`).
    unsafe { sockaddr_std(sa) }.map(|s| s.ip())
}

/// The std form of a `sockaddr` holding an IPv4 or IPv6 address.
///
/// # Safety
/// As for [`sockaddr_ip`].
pub(crate) unsafe fn sockaddr_std(sa: *const libc::sockaddr) -> Option<SocketAddr> {
    // SAFETY: every socket address starts with its family; the caller promises `sa` is valid.
    let family = libc::c_int::from(unsafe { (*sa).sa_family });
    match family {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in; read_unaligned makes no alignment
            // assumption about where the caller's bytes live.
            let sin = unsafe { std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in>()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let sin6 = unsafe { std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in6>()) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let port = u16::from_be(sin6.sin6_port);
            Some(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id).into())
        }
        _ => None,
    }
}

/// RFC 3678 source requests (`MCAST_JOIN_SOURCE_GROUP`, `MCAST_LEAVE_SOURCE_GROUP`,
/// `MCAST_BLOCK_SOURCE`, `MCAST_UNBLOCK_SOURCE`) by interface index. The only way to do
/// source-specific or block requests for IPv6.
pub(crate) fn mcast_source(
    fd: RawFd,
    opt: libc::c_int,
    ifindex: u32,
    group: IpAddr,
    source: IpAddr,
) -> io::Result<()> {
    // SAFETY: group_source_req is plain data; all-zero is valid (and zeroes Linux's padding).
    let mut req: libc::group_source_req = unsafe { std::mem::zeroed() };
    req.gsr_interface = ifindex;
    // Whole-field assignments: fine on Apple's packed(4) layout too (no reference is taken).
    req.gsr_group = storage(group);
    req.gsr_source = storage(source);
    setsockopt(fd, level(group), opt, &req)
}

/// IPv4 source requests by interface address (`IP_BLOCK_SOURCE`, `IP_UNBLOCK_SOURCE`, and the
/// add/drop source membership pair).
pub(crate) fn ip_source(
    fd: RawFd,
    opt: libc::c_int,
    group: Ipv4Addr,
    interface: Ipv4Addr,
    source: Ipv4Addr,
) -> io::Result<()> {
    // SAFETY: ip_mreq_source is plain data; all-zero is valid.
    let mut req: libc::ip_mreq_source = unsafe { std::mem::zeroed() };
    req.imr_multiaddr = in_addr(group);
    req.imr_interface = in_addr(interface);
    req.imr_sourceaddr = in_addr(source);
    setsockopt(fd, libc::IPPROTO_IP, opt, &req)
}

/// The IPv4 outgoing multicast interface by index (`ip_mreqn` on Linux, `IP_MULTICAST_IFINDEX`
/// on Apple). Index 0 goes back to the kernel's choice.
pub(crate) fn set_multicast_if_v4_index(fd: RawFd, ifindex: u32) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: ip_mreqn is plain data; all-zero is valid.
        let mut req: libc::ip_mreqn = unsafe { std::mem::zeroed() };
        req.imr_ifindex = ifindex as libc::c_int;
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &req)
    }
    #[cfg(target_vendor = "apple")]
    {
        let index = ifindex as libc::c_uint;
        setsockopt(fd, libc::IPPROTO_IP, IP_MULTICAST_IFINDEX, &index)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = (fd, ifindex);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "choosing the IPv4 multicast interface by index is not supported on this OS",
        ))
    }
}

/// The receive-time option and its control message type: `SO_TIMESTAMPNS` (a `timespec`) on
/// Linux, `SO_TIMESTAMP` (a `timeval`) elsewhere.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SO_RECV_TIME: libc::c_int = libc::SO_TIMESTAMPNS;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const SCM_RECV_TIME: libc::c_int = libc::SCM_TIMESTAMPNS;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SO_RECV_TIME: libc::c_int = libc::SO_TIMESTAMP;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const SCM_RECV_TIME: libc::c_int = libc::SCM_TIMESTAMP;

/// Turns the kernel's receive timestamp of each datagram on or off.
pub(crate) fn set_recv_timestamp(fd: RawFd, on: bool) -> io::Result<()> {
    setsockopt(fd, libc::SOL_SOCKET, SO_RECV_TIME, &libc::c_int::from(on))
}

/// `SO_RXQ_OVFL`: the option and its control message type (Linux); elsewhere a value no control
/// message has, so the receive path needs no `cfg`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const SO_RXQ_OVFL: libc::c_int = libc::SO_RXQ_OVFL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const SO_RXQ_OVFL: libc::c_int = -1;

/// Turns the kernel's drop counter on received datagrams on or off (Linux only).
pub(crate) fn set_recv_drop_count(fd: RawFd, on: bool) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        setsockopt(fd, libc::SOL_SOCKET, SO_RXQ_OVFL, &libc::c_int::from(on))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = fd;
        if on {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "SO_RXQ_OVFL (the kernel's drop counter per datagram) exists only on Linux",
            ))
        } else {
            Ok(())
        }
    }
}

/// Binds the socket to interface `index` for receiving (0 removes the binding):
/// `SO_BINDTOIFINDEX` on Linux, `IP_BOUND_IF` / `IPV6_BOUND_IF` on macOS.
#[cfg(not(target_os = "freebsd"))]
pub(crate) fn bind_inbound(sock: &socket2::SockRef<'_>, v6: bool, index: u32) -> io::Result<()> {
    let nz = std::num::NonZeroU32::new(index);
    if v6 {
        sock.bind_device_by_index_v6(nz)
    } else {
        sock.bind_device_by_index_v4(nz)
    }
}

/// FreeBSD has no per-socket interface binding.
#[cfg(target_os = "freebsd")]
pub(crate) fn bind_inbound(_: &socket2::SockRef<'_>, _: bool, _: u32) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "set_inbound: FreeBSD cannot bind a socket to an interface; join on it instead",
    ))
}

/// Turns per-packet destination address and interface reporting on or off
/// (`IP_PKTINFO` / `IPV6_RECVPKTINFO`; FreeBSD has no `IP_PKTINFO` and reports the two for
/// IPv4 with `IP_RECVDSTADDR` + `IP_RECVIF`).
pub(crate) fn set_recv_pktinfo(fd: RawFd, v6: bool, on: bool) -> io::Result<()> {
    let on = libc::c_int::from(on);
    if v6 {
        return setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &on);
    }
    #[cfg(not(target_os = "freebsd"))]
    {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, &on)
    }
    #[cfg(target_os = "freebsd")]
    {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_RECVDSTADDR, &on)?;
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_RECVIF, &on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_round_trips() {
        for ip in [
            IpAddr::from(Ipv4Addr::new(239, 1, 2, 3)),
            IpAddr::from("ff15::1234".parse::<Ipv6Addr>().unwrap()),
        ] {
            let ss = storage(ip);
            // SAFETY: `storage` wrote a sockaddr_in/in6 of the family it set.
            let back = unsafe { sockaddr_ip((&ss as *const libc::sockaddr_storage).cast()) };
            assert_eq!(back, Some(ip));
        }
    }

    #[test]
    fn request_sizes_match_the_c_headers() {
        assert_eq!(size_of::<libc::ip_mreq_source>(), 12);
        #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
        {
            assert_eq!(size_of::<libc::group_req>(), 136);
            assert_eq!(size_of::<libc::group_source_req>(), 264);
        }
        #[cfg(target_vendor = "apple")]
        {
            assert_eq!(size_of::<libc::group_req>(), 132);
            assert_eq!(size_of::<libc::group_source_req>(), 260);
        }
    }
}
