//! Address resolution shared by `bind`, `connect` and `send_to`, and [`lookup_host`].
//!
//! [`ToSocketAddrs`] is tokio's sealed trait of the same name: what can be resolved is the set
//! std's trait covers (socket addresses, `(ip, port)`, `"host:port"`, `(host, port)`, slices),
//! but a host name is looked up on the runtime's blocking pool
//! ([`sonic_rt::spawn_blocking`]), never on the loop thread. An IP literal (a `SocketAddr`,
//! `"127.0.0.1:80"`, `("::1", 80)`) is parsed in place, with no pool trip and no allocation, so
//! `send_to(buf, addr)` stays allocation-free.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What can be turned into socket addresses: tokio's `ToSocketAddrs` (sealed; implemented for
/// the same types as std's). Host names are resolved on the blocking pool.
pub trait ToSocketAddrs: sealed::Resolve {}

/// The addresses one resolution gave.
#[derive(Debug)]
pub struct Addrs(Inner);

#[derive(Debug)]
enum Inner {
    One(Option<SocketAddr>),
    Many(std::vec::IntoIter<SocketAddr>),
}

impl Iterator for Addrs {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        match &mut self.0 {
            Inner::One(a) => a.take(),
            Inner::Many(it) => it.next(),
        }
    }
}

#[doc(hidden)]
pub mod sealed {
    /// How a `ToSocketAddrs` value resolves: at once, or by a host-name lookup.
    #[derive(Debug)]
    pub enum Resolution {
        /// Resolved in place.
        Ready(super::Addrs),
        /// A `"host:port"` for the system resolver.
        Lookup(String),
        /// A `(host, port)` for the system resolver.
        LookupPair(String, u16),
    }

    /// The resolution behind [`ToSocketAddrs`](super::ToSocketAddrs) (sealed).
    pub trait Resolve {
        /// Resolves in place, or says what to look up.
        fn resolution(&self) -> std::io::Result<Resolution>;
    }
}

use sealed::{Resolution, Resolve};

fn one(a: SocketAddr) -> io::Result<Resolution> {
    Ok(Resolution::Ready(Addrs(Inner::One(Some(a)))))
}

macro_rules! literal {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl ToSocketAddrs for $t {}
        impl Resolve for $t {
            fn resolution(&self) -> io::Result<Resolution> {
                let $v = self;
                one($e)
            }
        }
    )*};
}

literal!(
    SocketAddr => |a| *a,
    SocketAddrV4 => |a| SocketAddr::V4(*a),
    SocketAddrV6 => |a| SocketAddr::V6(*a),
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1),
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1),
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1),
);

impl ToSocketAddrs for [SocketAddr] {}
impl Resolve for [SocketAddr] {
    fn resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(Addrs(Inner::Many(
            #[allow(clippy::unnecessary_to_owned)] // the iterator must own its addresses
            self.to_vec().into_iter(),
        ))))
    }
}

impl ToSocketAddrs for str {}
impl Resolve for str {
    fn resolution(&self) -> io::Result<Resolution> {
        match self.parse::<SocketAddr>() {
            Ok(a) => one(a),
            Err(_) => Ok(Resolution::Lookup(self.to_owned())),
        }
    }
}

impl ToSocketAddrs for String {}
impl Resolve for String {
    fn resolution(&self) -> io::Result<Resolution> {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Resolve for (&str, u16) {
    fn resolution(&self) -> io::Result<Resolution> {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => one(SocketAddr::new(ip, port)),
            Err(_) => Ok(Resolution::LookupPair(host.to_owned(), port)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Resolve for (String, u16) {
    fn resolution(&self) -> io::Result<Resolution> {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: Resolve + ?Sized> Resolve for &T {
    fn resolution(&self) -> io::Result<Resolution> {
        (**self).resolution()
    }
}

/// Resolves `addrs`, looking host names up on the blocking pool.
pub(crate) async fn resolve(addrs: impl ToSocketAddrs) -> io::Result<Addrs> {
    match addrs.resolution()? {
        Resolution::Ready(a) => Ok(a),
        lookup => {
            let found = sonic_rt::spawn_blocking(move || {
                use std::net::ToSocketAddrs as _;
                match lookup {
                    Resolution::Lookup(name) => name.as_str().to_socket_addrs(),
                    Resolution::LookupPair(host, port) => (host.as_str(), port).to_socket_addrs(),
                    Resolution::Ready(_) => unreachable!(),
                }
                .map(|it| it.collect::<Vec<_>>())
            })
            .await
            .map_err(|e| io::Error::other(format!("host name lookup failed: {e}")))??;
            Ok(Addrs(Inner::Many(found.into_iter())))
        }
    }
}

/// Resolves `host` (a `"name:port"`, a `(name, port)`, or an address) to socket addresses
/// without blocking the loop: names are looked up with the system resolver on the runtime's
/// blocking pool. tokio's `net::lookup_host`.
///
/// # Errors
/// The resolver's error (an unknown name, no network...), or `InvalidInput` for a malformed
/// `"host:port"`.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let addrs: Vec<_> = sonic_net::lookup_host("localhost:80").await?.collect();
///     assert!(addrs.iter().all(|a| a.port() == 80 && a.ip().is_loopback()));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(host).await
}

/// Tries `op` on each address in turn; the first success wins, otherwise the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addrs: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in resolve(addrs).await? {
        match op(addr).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_address))
}

/// The first address `addrs` resolves to (for `send_to`, as tokio does).
pub(crate) async fn first_addr(addrs: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    resolve(addrs).await?.next().ok_or_else(no_address)
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address resolved to no socket address",
    )
}
