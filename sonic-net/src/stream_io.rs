//! The byte-stream read/write path shared by `TcpStream`, its halves and `UnixStream`, and the
//! macros that put futures-io (and, with the `tokio` feature, tokio) traits on them.
//!
//! Rules:
//! - One syscall per call while the socket is ready; `EAGAIN` clears the cached readiness (in
//!   `Async::poll_*_with`, `Async::try_io`) and the task waits for the next edge.
//! - A short read (`0 < n < len`) in `poll_read` means the receive queue is empty, and a short
//!   write in `poll_write` means the send buffer is full: the readiness is cleared at once,
//!   saving the `EAGAIN` call the next attempt would make (tokio does the same). The edge for
//!   new data or room comes after the clear, so none is lost.
//! - The `try_*` calls follow tokio's `try_io` rule instead: `WouldBlock` without a syscall
//!   while the readiness is clear, and only a `WouldBlock` clears it (a short `try_read` does
//!   not), so they answer `WouldBlock` exactly where tokio's do.
//! - Writes use `send(MSG_NOSIGNAL)` / `sendmsg(MSG_NOSIGNAL)`: a dead peer is `EPIPE`, never a
//!   `SIGPIPE`.
//! - Read-ahead (`Async::set_read_ahead`) lives in `sonic_rt::io::Async`, below every stream
//!   type and its halves, so they all see the same buffered bytes. Every read here honours it:
//!   buffered bytes first, and a read smaller than the read-ahead goes through the buffer
//!   (`Async::poll_read_stream`, `poll_read_ahead`, `try_read_stream`, `try_read_ahead`).
//! - Nothing here allocates.

use crate::sockopt::SEND_FLAGS;
use socket2::SockRef;
use sonic_rt::io::{Async, Interest};
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{ready, Context, Poll};

/// One `recv` into `buf` (`read(2)` for a socket).
pub(crate) fn sock_read<T: AsFd>(s: &T, buf: &mut [u8]) -> io::Result<usize> {
    (&*SockRef::from(s)).read(buf)
}

pub(crate) fn poll_read<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    io.poll_read_stream(cx, buf, sock_read)
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

/// Whether a read of `len` bytes goes through the read-ahead buffer (bytes are buffered, or
/// it is smaller than the read-ahead), as `Async::poll_read_stream` decides for one slice.
fn through_read_ahead<T: AsFd>(io: &Async<T>, len: usize) -> bool {
    io.read_ahead_len() > 0 || (len != 0 && len < io.read_ahead())
}

pub(crate) fn try_read<T: AsFd>(io: &Async<T>, buf: &mut [u8]) -> io::Result<usize> {
    io.try_read_stream(buf, sock_read)
}

pub(crate) fn try_read_vectored<T: AsFd>(
    io: &Async<T>,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<usize> {
    let len = bufs.iter().map(|b| b.len()).sum();
    if through_read_ahead(io, len) {
        return io.try_read_ahead(sock_read, |bytes| scatter(bytes, bufs));
    }
    io.try_io(Interest::READABLE, |s| {
        (&*SockRef::from(s)).read_vectored(bufs)
    })
}

/// Copies `bytes` into `bufs` in order; returns how many fit.
fn scatter(mut bytes: &[u8], bufs: &mut [IoSliceMut<'_>]) -> usize {
    let mut copied = 0;
    for buf in bufs.iter_mut() {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        bytes = &bytes[n..];
        copied += n;
    }
    copied
}

/// `try_read` into the spare capacity of a `BufMut`, which need not be initialised.
#[cfg(feature = "bytes")]
pub(crate) fn try_read_buf<T: AsFd, B: bytes::BufMut + ?Sized>(
    io: &Async<T>,
    buf: &mut B,
) -> io::Result<usize> {
    let dst = buf.chunk_mut();
    let len = dst.len();
    let n = if through_read_ahead(io, len) {
        io.try_read_ahead(sock_read, |bytes| {
            let n = bytes.len().min(len);
            dst[..n].copy_from_slice(&bytes[..n]);
            n
        })?
    } else {
        // SAFETY: the slice is handed only to `recv`, which writes initialised bytes (the
        // kernel copies data in) and never de-initialises any.
        let uninit = unsafe { dst.as_uninit_slice_mut() };
        io.try_io(Interest::READABLE, |s| SockRef::from(s).recv(uninit))?
    };
    // SAFETY: the first `n` bytes of the chunk were written: copied from the read-ahead
    // buffer, or by the kernel (`recv` returned `n`, at most the chunk's length).
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

pub(crate) fn try_write<T: AsFd>(io: &Async<T>, buf: &[u8]) -> io::Result<usize> {
    io.try_io(Interest::WRITABLE, |s| {
        SockRef::from(s).send_with_flags(buf, SEND_FLAGS)
    })
}

pub(crate) fn try_write_vectored<T: AsFd>(
    io: &Async<T>,
    bufs: &[IoSlice<'_>],
) -> io::Result<usize> {
    io.try_io(Interest::WRITABLE, |s| {
        SockRef::from(s).send_vectored_with_flags(bufs, SEND_FLAGS)
    })
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
) -> Poll<io::Result<()>> {
    let room = buf.remaining();
    if through_read_ahead(io, room) {
        ready!(io.poll_read_ahead(cx, sock_read, |bytes| {
            let n = bytes.len().min(room);
            buf.put_slice(&bytes[..n]);
            n
        }))?;
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
            $crate::stream_io::async_write_fns!(poll_close, |$s| $io);
        }

        #[cfg(feature = "tokio")]
        impl<$($gen)*> tokio::io::AsyncWrite for $ty {
            $crate::stream_io::async_write_fns!(poll_shutdown, |$s| $io);

            fn is_write_vectored(&self) -> bool {
                true
            }
        }
    };
}

/// The methods both `AsyncWrite` traits share; they differ only in the name of the one that
/// shuts the write side down (`$close`).
macro_rules! async_write_fns {
    ($close:ident, |$s:ident| $io:expr) => {
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

        fn $close(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let $s = &*self;
            std::task::Poll::Ready($crate::stream_io::shutdown_write($io))
        }
    };
}

pub(crate) use async_write_fns;
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
