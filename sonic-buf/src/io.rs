//! Moving bytes between a [`Fifo`] and a stream with no intermediate buffer.
//!
//! Reads go straight into claimed space and commit what arrived; writes hand the readable window
//! to the writer and consume what it took. Both clamp a misbehaving reader or writer that reports
//! more bytes than it was given, so a bad count can never expose unwritten bytes or drop unsent
//! ones beyond the window.
//!
//! The core is [`poll_fill`], generic over any `poll_read`-shaped function, so a UDP socket's
//! `poll_recv` plugs in exactly like an `AsyncRead`:
//!
//! ```
//! use std::task::Poll;
//! use sonic_buf::{io::poll_fill, BipBuffer, Fifo};
//!
//! let mut bip = BipBuffer::new(4096);
//! // Stand-in for `|space| socket.poll_recv(cx, space)`.
//! let datagram = b"tick 42";
//! let got = poll_fill(&mut bip, 1500, |space| {
//!     space[..datagram.len()].copy_from_slice(datagram);
//!     Poll::Ready(Ok(datagram.len()))
//! });
//! assert!(matches!(got, Poll::Ready(Ok(7))));
//! assert_eq!(bip.data(), b"tick 42");
//! ```

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::fifo::Fifo;

/// The error [`poll_fill`] returns when the buffer has no room to read into: kind `OutOfMemory`.
pub(crate) fn full_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        "sonic-buf: the buffer is full, nothing can be read into it",
    )
}

/// Claims up to `max` bytes, lets `read` fill a prefix of them, and commits that prefix.
///
/// Returns what was committed: `Ok(0)` means end of stream (or `max == 0`). When the buffer has
/// no room at all, `read` is not called and the result is an error of kind `OutOfMemory`. A
/// `read` that reports more bytes than it was given is clamped to the claimed length. On
/// `Pending` or an error nothing is committed.
pub fn poll_fill<B, F>(buf: &mut B, max: usize, read: F) -> Poll<io::Result<usize>>
where
    B: Fifo + ?Sized,
    F: FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
{
    if max == 0 {
        return Poll::Ready(Ok(0));
    }
    let space = buf.claim(max);
    if space.is_empty() {
        buf.commit(0);
        return Poll::Ready(Err(full_error()));
    }
    match read(space) {
        Poll::Ready(Ok(n)) => Poll::Ready(Ok(buf.commit(n))),
        other => {
            buf.commit(0);
            other
        }
    }
}

/// [`poll_fill`] from an `AsyncRead`: one `poll_read` straight into claimed space.
pub fn poll_read_into<R, B>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut B,
    max: usize,
) -> Poll<io::Result<usize>>
where
    R: AsyncRead + ?Sized,
    B: Fifo + ?Sized,
{
    poll_fill(buf, max, |space| reader.poll_read(cx, space))
}

/// Hands the readable window to one `poll_write` and consumes what it accepted (clamped to the
/// window). Returns `Ok(0)` without calling the writer when nothing is readable.
pub fn poll_write_from<W, B>(
    writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &mut B,
) -> Poll<io::Result<usize>>
where
    W: AsyncWrite + ?Sized,
    B: Fifo + ?Sized,
{
    let data = buf.data();
    if data.is_empty() {
        return Poll::Ready(Ok(0));
    }
    match writer.poll_write(cx, data) {
        Poll::Ready(Ok(n)) => Poll::Ready(Ok(buf.consume(n))),
        other => other,
    }
}

/// Writes until the buffer is empty (all regions of a [`BipBuffer`](crate::BipBuffer)). A writer
/// that accepts 0 bytes yields a `WriteZero` error. Does not flush the writer.
pub fn poll_write_all_from<W, B>(
    mut writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &mut B,
) -> Poll<io::Result<()>>
where
    W: AsyncWrite + ?Sized,
    B: Fifo + ?Sized,
{
    while !buf.is_empty() {
        match poll_write_from(writer.as_mut(), cx, buf) {
            Poll::Ready(Ok(0)) => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "sonic-buf: the writer accepted no bytes",
                )))
            }
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    Poll::Ready(Ok(()))
}

/// Reads once from `reader` into up to `max` bytes of claimed space; see [`poll_fill`].
///
/// # Examples
///
/// ```
/// use sonic_buf::{io::read_into, ByteBuffer, Fifo};
///
/// futures::executor::block_on(async {
///     let mut src: &[u8] = b"bytes from a socket";
///     let mut buf = ByteBuffer::new();
///     let n = read_into(&mut src, &mut buf, 4096).await?;
///     assert_eq!(&buf.data()[..n], b"bytes from a socket");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_into<R, B>(reader: &mut R, buf: &mut B, max: usize) -> io::Result<usize>
where
    R: AsyncRead + Unpin + ?Sized,
    B: Fifo + ?Sized,
{
    poll_fn(|cx| poll_read_into(Pin::new(&mut *reader), cx, buf, max)).await
}

/// Writes the readable window once and consumes what was written; see [`poll_write_from`].
pub async fn write_from<W, B>(writer: &mut W, buf: &mut B) -> io::Result<usize>
where
    W: AsyncWrite + Unpin + ?Sized,
    B: Fifo + ?Sized,
{
    poll_fn(|cx| poll_write_from(Pin::new(&mut *writer), cx, buf)).await
}

/// Writes until the buffer is empty; see [`poll_write_all_from`].
pub async fn write_all_from<W, B>(writer: &mut W, buf: &mut B) -> io::Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
    B: Fifo + ?Sized,
{
    poll_fn(|cx| poll_write_all_from(Pin::new(&mut *writer), cx, buf)).await
}

/// Blocking counterpart of [`read_into`] for a `std::io::Read`.
pub fn read_from_std<R, B>(reader: &mut R, buf: &mut B, max: usize) -> io::Result<usize>
where
    R: io::Read + ?Sized,
    B: Fifo + ?Sized,
{
    match poll_fill(buf, max, |space| Poll::Ready(reader.read(space))) {
        Poll::Ready(result) => result,
        // The closure is always ready; keep the arm panic-free anyway.
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

/// Blocking counterpart of [`write_from`] for a `std::io::Write`.
pub fn write_to_std<W, B>(writer: &mut W, buf: &mut B) -> io::Result<usize>
where
    W: io::Write + ?Sized,
    B: Fifo + ?Sized,
{
    let data = buf.data();
    if data.is_empty() {
        return Ok(0);
    }
    let n = writer.write(data)?;
    Ok(buf.consume(n))
}
