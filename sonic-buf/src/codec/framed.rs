//! Framed reader and writer: a decoder or encoder driven over a futures-io stream and a buffer.

use std::future::poll_fn;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use pin_project_lite::pin_project;

use super::{checked_frame_len, Decoder, Encoder, FrameError};
use crate::fifo::Fifo;
use crate::io::{poll_read_into, poll_write_from};

/// Bytes claimed per read unless [`FramedRead::with_read_size`] says otherwise.
const DEFAULT_READ_SIZE: usize = 64 * 1024;

pin_project! {
    /// Reads messages from `R` through buffer `B` with decoder `D`. Each message is borrowed from
    /// the buffer and its bytes are consumed at the next call, so nothing is copied out.
    ///
    /// At end of stream, [`next`](Self::next) returns `Ok(None)` when the buffer is empty and a
    /// [`FrameError::Truncated`] error when it holds part of a frame. A fixed-size buffer that
    /// fills up without a complete frame yields [`FrameError::BufferFull`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_buf::codec::{FramedRead, LengthPrefixed};
    /// use sonic_buf::ByteBuffer;
    ///
    /// futures::executor::block_on(async {
    ///     let wire: &[u8] = b"\0\0\0\x02hi\0\0\0\x03you";
    ///     let mut frames = FramedRead::new(wire, LengthPrefixed::new(1024), ByteBuffer::new());
    ///     assert_eq!(frames.next().await?, Some(&b"hi"[..]));
    ///     assert_eq!(frames.next().await?, Some(&b"you"[..]));
    ///     assert_eq!(frames.next().await?, None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[derive(Debug)]
    pub struct FramedRead<R, D, B> {
        #[pin]
        io: R,
        decoder: D,
        buf: B,
        pending: usize,
        read_size: usize,
        eof: bool,
    }
}

impl<R, D, B> FramedRead<R, D, B>
where
    R: AsyncRead,
    D: Decoder,
    B: Fifo,
{
    /// Wraps a reader, a decoder and an (empty or pre-filled) buffer.
    pub fn new(io: R, decoder: D, buf: B) -> Self {
        Self {
            io,
            decoder,
            buf,
            pending: 0,
            read_size: DEFAULT_READ_SIZE,
            eof: false,
        }
    }

    /// Sets how many bytes each read claims (default 64 KiB; at least 1).
    pub fn with_read_size(mut self, read_size: usize) -> Self {
        self.read_size = read_size.max(1);
        self
    }

    /// The buffer (the last message returned is still in it).
    pub fn buffer(&self) -> &B {
        &self.buf
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.io
    }

    /// The decoder.
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }

    /// The reader, the decoder and the buffer, with the last returned message consumed.
    pub fn into_parts(mut self) -> (R, D, B) {
        self.buf.consume(self.pending);
        (self.io, self.decoder, self.buf)
    }

    /// Reads until a complete frame is readable; its length, or `None` at a clean end of stream.
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<usize>, D::Error>> {
        let mut this = self.project();
        this.buf.consume(mem::take(this.pending));
        loop {
            if let Some(n) = checked_frame_len(this.decoder, this.buf.data())? {
                *this.pending = n;
                return Poll::Ready(Ok(Some(n)));
            }
            if *this.eof {
                return Poll::Ready(match this.buf.len() {
                    0 => Ok(None),
                    buffered => Err(io::Error::from(FrameError::Truncated { buffered }).into()),
                });
            }
            match poll_read_into(this.io.as_mut(), cx, this.buf, *this.read_size) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => *this.eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::OutOfMemory => {
                    let full = FrameError::BufferFull {
                        buffered: this.buf.len(),
                        capacity: this.buf.capacity(),
                    };
                    return Poll::Ready(Err(io::Error::from(full).into()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            }
        }
    }

    /// Polls for the next message; `Ok(None)` at a clean end of stream. The message borrows the
    /// buffer until the next call.
    pub fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<D::Item<'_>>, D::Error>> {
        match self.as_mut().poll_frame(cx) {
            Poll::Ready(Ok(Some(n))) => {
                let this = self.project();
                let buf: &B = this.buf;
                Poll::Ready(this.decoder.decode(&buf.data()[..n]).map(Some))
            }
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(None)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The next message; `Ok(None)` at a clean end of stream. The message borrows the buffer
    /// until the next call.
    pub async fn next(&mut self) -> Result<Option<D::Item<'_>>, D::Error>
    where
        Self: Unpin,
    {
        match poll_fn(|cx| Pin::new(&mut *self).poll_frame(cx)).await? {
            Some(n) => self.decoder.decode(&self.buf.data()[..n]).map(Some),
            None => Ok(None),
        }
    }
}

pin_project! {
    /// Writes messages to `W` through buffer `B` with encoder `E`: each message is encoded into
    /// claimed space, and bytes go out when the buffer needs room or on [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// ```
    /// use sonic_buf::codec::{FramedWrite, LengthPrefixed};
    /// use sonic_buf::ByteBuffer;
    ///
    /// futures::executor::block_on(async {
    ///     let mut out = FramedWrite::new(Vec::new(), LengthPrefixed::new(1024), ByteBuffer::new());
    ///     out.feed(&b"hi"[..]).await?;
    ///     out.send(&b"you"[..]).await?; // feed + flush
    ///     assert_eq!(out.get_ref().as_slice(), b"\0\0\0\x02hi\0\0\0\x03you");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[derive(Debug)]
    pub struct FramedWrite<W, E, B> {
        #[pin]
        io: W,
        encoder: E,
        buf: B,
    }
}

impl<W, E, B> FramedWrite<W, E, B>
where
    W: AsyncWrite,
    B: Fifo,
{
    /// Wraps a writer, an encoder and a buffer.
    pub fn new(io: W, encoder: E, buf: B) -> Self {
        Self { io, encoder, buf }
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.io
    }

    /// The buffer of encoded bytes not yet written.
    pub fn buffer(&self) -> &B {
        &self.buf
    }

    /// The writer, the encoder and the buffer (unwritten bytes stay in it).
    pub fn into_parts(self) -> (W, E, B) {
        (self.io, self.encoder, self.buf)
    }

    /// Encodes `item` into the buffer, first writing buffered bytes out if it lacks room. On
    /// `Pending` nothing was encoded: call again with the same item. An item that does not fit
    /// even in the empty buffer is a [`FrameError::BufferFull`] error.
    pub fn poll_feed<I>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        item: &I,
    ) -> Poll<Result<(), E::Error>>
    where
        I: ?Sized,
        E: Encoder<I>,
    {
        let mut this = self.project();
        loop {
            if super::encode_into(this.encoder, item, this.buf)? {
                return Poll::Ready(Ok(()));
            }
            if this.buf.is_empty() {
                let full = FrameError::BufferFull {
                    buffered: 0,
                    capacity: this.buf.capacity(),
                };
                return Poll::Ready(Err(io::Error::from(full).into()));
            }
            match poll_write_from(this.io.as_mut(), cx, this.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(write_zero().into())),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            }
        }
    }

    /// Writes every buffered byte, then flushes the writer.
    pub fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        match crate::io::poll_write_all_from(this.io.as_mut(), cx, this.buf) {
            Poll::Ready(Ok(())) => this.io.poll_flush(cx),
            other => other,
        }
    }

    /// Flushes, then closes the writer.
    pub fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => self.project().io.poll_close(cx),
            other => other,
        }
    }

    /// Encodes `item` into the buffer; see [`poll_feed`](Self::poll_feed).
    pub async fn feed<I>(&mut self, item: &I) -> Result<(), E::Error>
    where
        I: ?Sized,
        E: Encoder<I>,
        Self: Unpin,
    {
        poll_fn(|cx| Pin::new(&mut *self).poll_feed(cx, item)).await
    }

    /// Writes every buffered byte and flushes the writer.
    pub async fn flush(&mut self) -> io::Result<()>
    where
        Self: Unpin,
    {
        poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// [`feed`](Self::feed), then [`flush`](Self::flush).
    pub async fn send<I>(&mut self, item: &I) -> Result<(), E::Error>
    where
        I: ?Sized,
        E: Encoder<I>,
        Self: Unpin,
    {
        self.feed(item).await?;
        self.flush().await.map_err(Into::into)
    }

    /// Flushes, then closes the writer.
    pub async fn close(&mut self) -> io::Result<()>
    where
        Self: Unpin,
    {
        poll_fn(|cx| Pin::new(&mut *self).poll_close(cx)).await
    }
}

fn write_zero() -> io::Error {
    io::Error::new(
        io::ErrorKind::WriteZero,
        "sonic-buf: the writer accepted no bytes",
    )
}
