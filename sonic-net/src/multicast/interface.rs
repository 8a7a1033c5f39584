//! Naming a network interface: by name, index or one of its addresses, resolved to an index.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network interface, as the caller names it.
///
/// Every form is resolved to an interface index when it is used (the kernel's own handle, and the
/// only one that works for IPv6 and for interfaces without an IPv4 address). An unknown name,
/// index or address is an [`io::ErrorKind::NotFound`] error, never a panic.
///
/// Conversions make call sites short: `"lo"` or `String` is a [`Interface::Name`], a `u32` is an
/// [`Interface::Index`], an `Ipv4Addr`, `Ipv6Addr` or `IpAddr` is an [`Interface::Addr`].
///
/// # Examples
/// ```
/// use sonic_net::multicast::Interface;
/// use std::net::Ipv4Addr;
///
/// assert_eq!(Interface::from("lo"), Interface::Name("lo".into()));
/// assert_eq!(Interface::from(1), Interface::Index(1));
/// assert_eq!(Interface::from(Ipv4Addr::LOCALHOST), Interface::Addr(Ipv4Addr::LOCALHOST.into()));
/// assert!(Interface::from(Ipv4Addr::LOCALHOST).index().unwrap() > 0); // lo, lo0...
/// assert!(Interface::from("no-such-if0").index().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Interface {
    /// Let the kernel choose, by a route lookup for the group (index 0, `INADDR_ANY`).
    ///
    /// On a host with a default route this is usually the interface behind it, so IGMP/MLD
    /// reports and data may leave the machine: name the interface when that matters.
    #[default]
    Unspecified,
    /// An interface index, as `if_nametoindex(3)` returns it.
    Index(u32),
    /// An interface name such as `"eth0"` or `"lo"`.
    Name(String),
    /// The interface that owns this local address.
    Addr(IpAddr),
}

impl Interface {
    /// The interface index, or 0 for [`Interface::Unspecified`].
    ///
    /// Errors with [`io::ErrorKind::NotFound`] when no interface has that name, index or address,
    /// and [`io::ErrorKind::InvalidInput`] for a name that is not a valid C string.
    pub fn index(&self) -> io::Result<u32> {
        match self {
            Interface::Unspecified => Ok(0),
            Interface::Index(0) => Ok(0),
            Interface::Index(i) => index_to_name(*i).map(|_| *i),
            Interface::Name(name) => name_to_index(name),
            Interface::Addr(addr) => addr_to_index(*addr),
        }
    }

    /// The interface name, or `None` for [`Interface::Unspecified`].
    pub fn name(&self) -> io::Result<Option<String>> {
        match self.index()? {
            0 => Ok(None),
            i => index_to_name(i).map(Some),
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interface::Unspecified => f.write_str("the default interface"),
            Interface::Index(i) => write!(f, "interface index {i}"),
            Interface::Name(n) => write!(f, "interface {n:?}"),
            Interface::Addr(a) => write!(f, "the interface with address {a}"),
        }
    }
}

impl From<u32> for Interface {
    fn from(index: u32) -> Self {
        Interface::Index(index)
    }
}

impl From<&str> for Interface {
    fn from(name: &str) -> Self {
        Interface::Name(name.to_owned())
    }
}

impl From<String> for Interface {
    fn from(name: String) -> Self {
        Interface::Name(name)
    }
}

impl From<IpAddr> for Interface {
    fn from(addr: IpAddr) -> Self {
        Interface::Addr(addr)
    }
}

impl From<Ipv4Addr> for Interface {
    fn from(addr: Ipv4Addr) -> Self {
        Interface::Addr(addr.into())
    }
}

impl From<Ipv6Addr> for Interface {
    fn from(addr: Ipv6Addr) -> Self {
        Interface::Addr(addr.into())
    }
}

impl From<&Interface> for Interface {
    fn from(iface: &Interface) -> Self {
        iface.clone()
    }
}

fn name_to_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {name:?} contains a NUL byte"),
        )
    })?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("unknown interface name {name:?}"),
        )),
        i => Ok(i),
    }
}

fn index_to_name(index: u32) -> io::Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write, NUL included.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface has index {index}"),
        ));
    }
    // SAFETY: on success the kernel wrote a NUL-terminated name into `buf`.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

fn addr_to_index(addr: IpAddr) -> io::Result<u32> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head into `list`; freed below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: a non-null ifa_addr points to a sockaddr whose family says how long it is.
        let this = unsafe { super::sys::sockaddr_ip(ifa.ifa_addr) };
        if this == Some(addr) {
            // SAFETY: ifa_name is a NUL-terminated string owned by the list.
            found = Some(unsafe { CStr::from_ptr(ifa.ifa_name) }.to_owned());
            break;
        }
    }
    // SAFETY: `list` came from getifaddrs and nothing borrowed from it is used afterwards.
    unsafe { libc::freeifaddrs(list) };
    match found {
        // SAFETY: `name` is a NUL-terminated string that outlives the call.
        Some(name) => match unsafe { libc::if_nametoindex(name.as_ptr()) } {
            0 => Err(io::Error::last_os_error()),
            i => Ok(i),
        },
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface has address {addr}"),
        )),
    }
}
