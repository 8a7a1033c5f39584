#![doc = include_str!("../README.md")]
//!
//! ## How the sockets work
//!
//! Every socket is a [`sonic_rt::io::Async`] around the matching `std` socket: I/O goes straight
//! to the kernel while the socket is believed ready (optimistic, edge-triggered), and waits for
//! the reactor only after `EAGAIN`. The steady-state read/write path allocates nothing.
//!
//! - [`TcpStream`] and [`UnixStream`] implement futures-io `AsyncRead`/`AsyncWrite` (vectored
//!   writes included; `poll_close` shuts the write side down), and so do the split halves of
//!   TCP and Unix streams.
//! - With the `tokio` cargo feature, the same types also implement `tokio::io::AsyncRead` /
//!   `AsyncWrite`, directly: reads go into the `ReadBuf`'s uninitialised part with no copy and no
//!   zeroing.
//! - tokio's readiness surface on every socket that has it in tokio: `ready(Interest)`,
//!   `readable`/`writable`, `poll_*_ready`, the `try_*` calls (which answer `WouldBlock` where
//!   tokio's do), `try_io`/`async_io`; [`TcpSocket`] for options set before the connect or the
//!   listen (bind before connect, `SO_REUSEPORT`, buffer sizes). `Interest` and `Ready` are
//!   [`sonic_rt::io`]'s.
//! - Socket options go through `socket2` (the ecosystem's standard plumbing).
//!
//! Sockets must be created inside a sonic runtime (in `block_on`, a task, or under
//! [`Runtime::enter`](sonic_rt::Runtime::enter)); outside one, constructors return an error.
//!
//! Addresses: functions that take `impl ToSocketAddrs` take [`ToSocketAddrs`], tokio's sealed
//! trait (implemented for what std's covers). An IP literal (`"127.0.0.1:80"`, a `SocketAddr`)
//! is parsed in place, without allocating; a host name is looked up with the system resolver
//! (`getaddrinfo`) on the runtime's blocking pool, so it never blocks the loop
//! ([`lookup_host`] does the same on its own).
//!
//! ```
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//! use sonic_net::{TcpListener, TcpStream};
//!
//! sonic_rt::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = sonic_rt::spawn(async move {
//!         let (mut conn, _) = listener.accept().await?;
//!         let mut buf = [0u8; 5];
//!         conn.read_exact(&mut buf).await?;
//!         conn.write_all(&buf).await?;
//!         std::io::Result::Ok(())
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut buf = [0u8; 5];
//!     client.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"hello");
//!     server.await.unwrap()?;
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

mod addr;
mod backoff;
mod methods;
mod recv_buf;
mod sockopt;
mod stream_io;

pub mod multicast;
pub mod split;
pub mod tcp;
pub mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use recv_buf::RecvBuf;
pub use tcp::{ListenOptions, TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Reexported for convenience: the argument of `shutdown`.
pub use std::net::Shutdown;

/// Compile-time check that the socket types are `!Send`: each is registered with one thread's
/// runtime and must stay on that thread. If one of them became `Send`, both impls below would
/// apply and the call would be ambiguous, failing the build.
const _: fn() = || {
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <TcpStream as AmbiguousIfSend<_>>::check();
    <TcpListener as AmbiguousIfSend<_>>::check();
    <tcp::OwnedReadHalf as AmbiguousIfSend<_>>::check();
    <tcp::OwnedWriteHalf as AmbiguousIfSend<_>>::check();
    <UdpSocket as AmbiguousIfSend<_>>::check();
    <UnixStream as AmbiguousIfSend<_>>::check();
    <unix::OwnedReadHalf as AmbiguousIfSend<_>>::check();
    <unix::OwnedWriteHalf as AmbiguousIfSend<_>>::check();
    <UnixListener as AmbiguousIfSend<_>>::check();
    <UnixDatagram as AmbiguousIfSend<_>>::check();
};
