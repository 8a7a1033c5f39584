//! Socket creation and options shared by the socket types, through `socket2::SockRef` (a
//! borrowed view of any fd: no syscall, no allocation, no hand-written `setsockopt`).

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

/// `send` flags for stream writes: a write to a socket whose peer is gone returns `EPIPE`
/// instead of raising `SIGPIPE` (which would kill a process that did not ignore it).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Elsewhere (macOS) sockets made by `socket2`/`std` carry `SO_NOSIGPIPE` instead.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// A new close-on-exec, non-blocking socket.
pub(crate) fn new_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))]
    {
        // One syscall: the flags ride on socket(2).
        Socket::new(domain, ty.nonblocking(), protocol)
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    )))]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// `connect(2)` on a non-blocking socket: `Ok(true)` if connected at once, `Ok(false)` if the
/// connection is in progress (wait for writability, then read `SO_ERROR`).
pub(crate) fn start_connect(socket: &Socket, addr: &socket2::SockAddr) -> io::Result<bool> {
    match socket.connect(addr) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `SO_BUSY_POLL`: how long a blocking receive may busy-poll the device queue (Linux only).
pub(crate) fn set_busy_poll(fd: &impl AsFd, duration: Duration) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let us = u32::try_from(duration.as_micros())
            .ok()
            .filter(|us| *us <= i32::MAX as u32)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "SO_BUSY_POLL: the duration does not fit in an int of microseconds",
                )
            })?;
        SockRef::from(fd).set_busy_poll(us)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (fd, duration);
        Err(busy_poll_unsupported())
    }
}

/// The `SO_BUSY_POLL` value.
pub(crate) fn busy_poll(fd: &impl AsFd) -> io::Result<Duration> {
    #[cfg(target_os = "linux")]
    {
        SockRef::from(fd)
            .busy_poll()
            .map(|us| Duration::from_micros(us.into()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        Err(busy_poll_unsupported())
    }
}

#[cfg(not(target_os = "linux"))]
fn busy_poll_unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_BUSY_POLL exists on Linux only",
    )
}

/// TCP keepalive: `None` turns it off, `Some(idle)` turns it on and sends the first probe after
/// `idle` without traffic.
pub(crate) fn set_keepalive(fd: &impl AsFd, idle: Option<Duration>) -> io::Result<()> {
    let sock = SockRef::from(fd);
    match idle {
        None => sock.set_keepalive(false),
        Some(idle) => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
    }
}
