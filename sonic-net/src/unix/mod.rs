//! Unix domain sockets: [`UnixStream`] (and its split halves), [`UnixListener`],
//! [`UnixDatagram`].
//!
//! Addresses are `std::os::unix::net::SocketAddr`. The methods that take a path
//! ([`UnixListener::bind`], [`UnixStream::connect`], [`UnixDatagram::bind`], `connect` and
//! `send_to`) read it as tokio does: a filesystem path, or on Linux and Android, if it starts
//! with a NUL byte, a name in the abstract namespace (`"\0name"`; no file is created, and the
//! name goes away with the socket). The `*_addr` variants take a `SocketAddr` built any way,
//! for example with `std::os::linux::net::SocketAddrExt::from_abstract_name`. `local_addr` and
//! `peer_addr` report an abstract address as such (`SocketAddrExt::as_abstract_name`).
//!
//! # Examples
//!
//! ```
//! # #[cfg(target_os = "linux")]
//! # {
//! use sonic_net::{UnixListener, UnixStream};
//! use std::os::linux::net::SocketAddrExt;
//!
//! sonic_rt::block_on(async {
//!     let name = format!("sonic-doc-abstract-{}", std::process::id());
//!     let listener = UnixListener::bind(format!("\0{name}")).unwrap();
//!     let client = UnixStream::connect(format!("\0{name}")).await.unwrap();
//!     let addr = client.peer_addr().unwrap();
//!     assert_eq!(addr.as_abstract_name(), Some(name.as_bytes()));
//!     let (_conn, _) = listener.accept().await.unwrap();
//! });
//! # }
//! ```

mod address;
mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;
