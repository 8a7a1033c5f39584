//! In-memory streams for the io and codec tests.
#![allow(dead_code)]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Hands out `data` in chunks whose sizes cycle through `chunks`; returns `Pending` (after waking)
/// every `pending_every` reads when non-zero.
pub struct ChunkedReader {
    pub data: Vec<u8>,
    pub pos: usize,
    pub chunks: Vec<usize>,
    pub turn: usize,
    pub pending_every: usize,
    /// Reports this many more bytes than it wrote (a lying reader).
    pub overreport: usize,
}

impl ChunkedReader {
    pub fn new(data: Vec<u8>, chunks: Vec<usize>) -> Self {
        Self {
            data,
            pos: 0,
            chunks,
            turn: 0,
            pending_every: 0,
            overreport: 0,
        }
    }
}

impl AsyncRead for ChunkedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.turn += 1;
        if this.pending_every > 0 && this.turn % this.pending_every == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let chunk = this.chunks[this.turn % this.chunks.len()].max(1);
        let n = chunk.min(buf.len()).min(this.data.len() - this.pos);
        buf[..n].copy_from_slice(&this.data[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(if n > 0 { n + this.overreport } else { 0 }))
    }
}

/// Collects written bytes, accepting at most `max_write` per call; can fail or stall.
#[derive(Default)]
pub struct SlowWriter {
    pub out: Vec<u8>,
    pub max_write: usize,
    pub overreport: usize,
    pub accept_nothing: bool,
    pub flushed: usize,
    pub closed: bool,
    pub turn: usize,
    pub pending_every: usize,
}

impl AsyncWrite for SlowWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.turn += 1;
        if this.pending_every > 0 && this.turn % this.pending_every == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if this.accept_nothing {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(if this.max_write == 0 {
            usize::MAX
        } else {
            this.max_write
        });
        this.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n + this.overreport))
    }
    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushed += 1;
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// A reader that fails every read.
pub struct FailingReader;

impl AsyncRead for FailingReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "boom")))
    }
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
