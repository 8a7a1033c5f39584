//! Reading an HTTP head off a stream for the opening handshake.

use crate::error::HandshakeError;
use crate::proto::handshake::head_complete;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::pin::Pin;

/// Reads until the blank line ending the head; returns the buffer and the head length.
/// Bytes after the head (the first frames) stay in the buffer.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    io: &mut S,
    max: usize,
) -> Result<(Vec<u8>, usize), Error> {
    let mut buf = vec![0u8; 1024.min(max.max(1))];
    let mut len = 0;
    loop {
        if len == buf.len() {
            if buf.len() >= max {
                return Err(HandshakeError::TooLarge.into());
            }
            buf.resize((buf.len() * 2).min(max), 0);
        }
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf[len..])).await?;
        if n == 0 {
            return Err(HandshakeError::Eof.into());
        }
        let scanned = len;
        len += n;
        if let Some(head) = head_complete(&buf[..len], scanned) {
            buf.truncate(len);
            return Ok((buf, head));
        }
    }
}

/// Writes all of `bytes` and flushes.
pub(crate) async fn write_all<S: AsyncWrite + Unpin>(
    io: &mut S,
    mut bytes: &[u8],
) -> Result<(), Error> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
        }
        bytes = &bytes[n..];
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await?;
    Ok(())
}
