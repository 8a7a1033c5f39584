//! Unix socket addresses from paths, in socket2's form for the non-blocking connect, and back
//! from socket2's form for a receive into uninitialised memory.
//!
//! A path that starts with a NUL byte names a socket in Linux's abstract namespace (the bytes
//! after the NUL are the name), as tokio reads it; that needs Linux or Android. Everywhere else a
//! path is a filesystem path, and a NUL byte in it is an error.

use socket2::SockAddr;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;

#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::os::unix::ffi::OsStrExt;

/// The address `path` names: abstract if it starts with a NUL byte (Linux, Android), a
/// filesystem path otherwise.
pub(super) fn from_path(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
        return SocketAddr::from_abstract_name(name);
    }
    SocketAddr::from_pathname(path)
}

/// The same address as a `socket2::SockAddr` (socket2 reads a path with a leading NUL as an
/// abstract name too). An unnamed address cannot be connected to.
pub(super) fn to_sockaddr(addr: &SocketAddr) -> io::Result<SockAddr> {
    if let Some(path) = addr.as_pathname() {
        return SockAddr::unix(path);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = addr.as_abstract_name() {
        // A NUL and the name, on the stack: `sun_path` holds 108 bytes, and `std` only builds
        // abstract addresses that fit.
        let mut bytes = [0u8; 128];
        let len = name.len() + 1;
        let Some(dst) = bytes.get_mut(1..len) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "abstract socket name too long",
            ));
        };
        dst.copy_from_slice(name);
        return SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes[..len]));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "cannot connect to an unnamed Unix socket address",
    ))
}

/// The `std` address of a datagram's sender as socket2 received it: a path, an abstract name
/// (Linux, Android) or unnamed (a socket that never bound, the usual client).
pub(super) fn from_sockaddr(addr: &SockAddr) -> io::Result<SocketAddr> {
    if let Some(path) = addr.as_pathname() {
        return SocketAddr::from_pathname(path);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = addr.as_abstract_namespace() {
        return SocketAddr::from_abstract_name(name);
    }
    // Linux reports an unnamed sender with no address at all (length 0, no family), as std's
    // `recv_from` knows too.
    if addr.len() == 0 || addr.is_unnamed() {
        return unnamed();
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "the sender's address is not a Unix socket address",
    ))
}

/// An unnamed address. `std` has no constructor for one; an unbound socket's own address is
/// one, made once per process (three syscalls) and cloned after that.
fn unnamed() -> io::Result<SocketAddr> {
    static UNNAMED: OnceLock<SocketAddr> = OnceLock::new();
    if let Some(addr) = UNNAMED.get() {
        return Ok(addr.clone());
    }
    let addr = std::os::unix::net::UnixDatagram::unbound()?.local_addr()?;
    Ok(UNNAMED.get_or_init(|| addr).clone())
}
