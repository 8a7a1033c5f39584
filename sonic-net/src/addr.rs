//! Address resolution shared by `bind`, `connect` and `send_to`.
//!
//! `std::net::ToSocketAddrs` is used as is: an IP literal resolves without a syscall (and a
//! `SocketAddr` yields itself without allocating, so `send_to` stays allocation-free), while a
//! host name goes through the system resolver and blocks. The crate docs say so.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Tries `op` on each address in turn; the first success wins, otherwise the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addrs: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs.to_socket_addrs()? {
        match op(addr).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_address))
}

/// The first address `addrs` resolves to (for `send_to`, as tokio does).
pub(crate) fn first_addr(addrs: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    addrs.to_socket_addrs()?.next().ok_or_else(no_address)
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address resolved to no socket address",
    )
}
