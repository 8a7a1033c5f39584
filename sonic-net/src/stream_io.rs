//! The byte-stream read/write path shared by `TcpStream`, its halves and `UnixStream`, and the
//! macros that put futures-io (and, with the `tokio` feature, tokio) traits on them.
//!
//! Rules:
//! - One syscall per call while the socket is ready; `EAGAIN` clears the cached readiness (in
//!   `Async::poll_*_with`) and the task waits for the next edge.
//! - A short read (`0 < n < len`) means the receive queue is empty, and a short write means the
//!   send buffer is full: the readiness is cleared at once, saving the `EAGAIN` call the next
//!   attempt would make. The edge for new data or room comes after the clear, so none is lost.
//! - Writes use `send(MSG_NOSIGNAL)` / `sendmsg(MSG_NOSIGNAL)`: a dead peer is `EPIPE`, never a
//!   `SIGPIPE`.
//! - Read-ahead (`Async::set_read_ahead`) lives in `sonic_rt::io::Async`, below every stream
//!   type and its halves, so they all see the same buffered bytes; the tokio `ReadBuf` path
//!   goes through it with `Async::poll_read_ahead`.
//! - Nothing here allocates.

use crate::sockopt::SEND_FLAGS;
use socket2::SockRef;
use sonic_rt::io::Async;
use std::io::{self, IoSlice, Read};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{ready, Context, Poll};

pub(crate) fn poll_read<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Read,
{
    io.poll_read_stream(cx, buf, |mut s, b| s.read(b))
}

pub(crate) fn poll_write<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    let n = ready!(io.poll_write_with(cx, |s| SockRef::from(s).send_with_flags(buf, SEND_FLAGS)))?;
    if n < buf.len() {
        io.clear_writable();
    }
    Poll::Ready(Ok(n))
}

pub(crate) fn poll_write_vectored<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let n = ready!(io.poll_write_with(cx, |s| {
        SockRef::from(s).send_vectored_with_flags(bufs, SEND_FLAGS)
    }))?;
    // Summing lengths is cheap next to a syscall; a short write means a full send buffer.
    if n < bufs.iter().map(|b| b.len()).sum::<usize>() {
        io.clear_writable();
    }
    Poll::Ready(Ok(n))
}

/// Shuts the write side down (sends FIN). A socket that is already disconnected is closed
/// enough: `ENOTCONN` is not an error here.
pub(crate) fn shutdown_write<T: AsFd>(io: &Async<T>) -> io::Result<()> {
    match SockRef::from(io.get_ref()).shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        res => res,
    }
}

/// Reads into the unfilled part of a tokio `ReadBuf` without zeroing it first. Through the
/// read-ahead buffer (copied in with `put_slice`) when bytes are buffered or the read is
/// smaller than the read-ahead, as `Async::poll_read_stream` decides for a `&mut [u8]`.
#[cfg(feature = "tokio")]
pub(crate) fn poll_read_buf<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut tokio::io::ReadBuf<'_>,
) -> Poll<io::Result<()>>
where
    for<'a> &'a T: Read,
{
    let room = buf.remaining();
    if io.read_ahead_len() > 0 || (room != 0 && room < io.read_ahead()) {
        ready!(io.poll_read_ahead(
            cx,
            |mut s, b| s.read(b),
            |bytes| {
                let n = bytes.len().min(room);
                buf.put_slice(&bytes[..n]);
                n
            }
        ))?;
        return Poll::Ready(Ok(()));
    }
    // SAFETY: `unfilled_mut` is unsafe because the caller must not de-initialise bytes through
    // the returned slice. `recv` only writes initialised bytes into it (the kernel copies data
    // in), and never writes uninitialised memory.
    let unfilled = unsafe { buf.unfilled_mut() };
    let len = unfilled.len();
    let n = ready!(io.poll_read_with(cx, |s| SockRef::from(s).recv(&mut *unfilled)))?;
    if n > 0 && n < len {
        io.clear_readable();
    }
    // SAFETY: `recv` returned `n`, so the kernel initialised the first `n` bytes of the
    // unfilled part (`n <= len` by recv's contract).
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// futures-io `AsyncRead` (and tokio's, with the feature) for a type, given how to reach its
/// `Async<T>` from `&self`.
macro_rules! impl_async_read {
    ([$($gen:tt)*] $ty:ty, |$s:ident| $io:expr) => {
        impl<$($gen)*> futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::stream_io::poll_read($io, cx, buf)
            }
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $crate::stream_io::poll_read_buf($io, cx, buf)
            }
        }
    };
}

/// futures-io `AsyncWrite` (and tokio's, with the feature): vectored writes, a no-op flush,
/// and close/shutdown = shut the write side down.
macro_rules! impl_async_write {
    ([$($gen:tt)*] $ty:ty, |$s:ident| $io:expr) => {
        impl<$($gen)*> futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::stream_io::poll_write($io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::stream_io::poll_write_vectored($io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                std::task::Poll::Ready($crate::stream_io::shutdown_write($io))
            }
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::stream_io::poll_write($io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::stream_io::poll_write_vectored($io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                std::task::Poll::Ready($crate::stream_io::shutdown_write($io))
            }
        }
    };
}

pub(crate) use impl_async_read;
pub(crate) use impl_async_write;

/// Waits for a non-blocking `connect(2)` to finish: writable, then `SO_ERROR`, then a peer.
pub(crate) fn poll_connected<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    loop {
        ready!(io.poll_writable(cx))?;
        let socket = SockRef::from(io.get_ref());
        if let Some(err) = socket.take_error()? {
            return Poll::Ready(Err(err));
        }
        match socket.peer_addr() {
            Ok(_) => return Poll::Ready(Ok(())),
            // Woken while still connecting (not expected from epoll, but cheap to allow).
            Err(e) if e.kind() == io::ErrorKind::NotConnected => io.clear_writable(),
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}
