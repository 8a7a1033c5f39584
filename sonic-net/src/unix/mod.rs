//! Unix domain sockets: [`UnixStream`] (and its split halves), [`UnixListener`],
//! [`UnixDatagram`].
//!
//! Addresses are `std::os::unix::net::SocketAddr`; paths are filesystem paths (and on Linux a
//! path may also be given as an abstract name through `std`'s `SocketAddrExt`, then `from_std`).

mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;
