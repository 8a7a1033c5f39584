//! An in-memory duplex byte pipe with bounded buffers, plus a tiny single-thread executor.
#![allow(dead_code)]

use futures_io::{AsyncRead, AsyncWrite};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Dir {
    buf: VecDeque<u8>,
    cap: usize,
    /// Writer closed (EOF after the buffer drains).
    closed: bool,
    /// Reader is gone: writes fail.
    reader_gone: bool,
    /// Connection reset: reads fail.
    reset: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// One end of a duplex pipe.
pub struct PipeEnd {
    rx: Rc<RefCell<Dir>>,
    tx: Rc<RefCell<Dir>>,
}

impl std::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PipeEnd")
    }
}

/// Two connected ends; each direction buffers at most `cap` bytes, allocated up front (so that
/// a test counting allocations sees none from the pipe).
pub fn duplex(cap: usize) -> (PipeEnd, PipeEnd) {
    let dir = || {
        Rc::new(RefCell::new(Dir {
            buf: VecDeque::with_capacity(cap),
            cap,
            ..Dir::default()
        }))
    };
    let (a, b) = (dir(), dir());
    (
        PipeEnd {
            rx: a.clone(),
            tx: b.clone(),
        },
        PipeEnd { rx: b, tx: a },
    )
}

fn wake(w: &mut Option<Waker>) {
    if let Some(w) = w.take() {
        w.wake();
    }
}

impl PipeEnd {
    /// Simulates a TCP reset: the peer's reads fail with ConnectionReset.
    pub fn reset(&self) {
        let mut d = self.tx.borrow_mut();
        d.reset = true;
        wake(&mut d.read_waker);
    }

    /// Bytes this end has written that the peer has not read yet.
    pub fn unread_by_peer(&self) -> usize {
        self.tx.borrow().buf.len()
    }

    /// Reads whatever is there without waiting.
    pub fn try_read_all(&self) -> Vec<u8> {
        let mut d = self.rx.borrow_mut();
        let v: Vec<u8> = d.buf.drain(..).collect();
        wake(&mut d.write_waker);
        v
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut t = self.tx.borrow_mut();
        t.closed = true;
        wake(&mut t.read_waker);
        drop(t);
        let mut r = self.rx.borrow_mut();
        r.reader_gone = true;
        wake(&mut r.write_waker);
    }
}

impl AsyncRead for PipeEnd {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut d = self.rx.borrow_mut();
        if d.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if d.buf.is_empty() {
            if d.closed {
                return Poll::Ready(Ok(0));
            }
            d.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = out.len().min(d.buf.len());
        let (front, back) = d.buf.as_slices();
        let k = n.min(front.len());
        out[..k].copy_from_slice(&front[..k]);
        out[k..n].copy_from_slice(&back[..n - k]);
        d.buf.drain(..n);
        wake(&mut d.write_waker);
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for PipeEnd {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut d = self.tx.borrow_mut();
        if d.reader_gone || d.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = d.cap - d.buf.len();
        if room == 0 {
            d.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(data.len());
        d.buf.extend(&data[..n]);
        wake(&mut d.read_waker);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut d = self.tx.borrow_mut();
        d.closed = true;
        wake(&mut d.read_waker);
        Poll::Ready(Ok(()))
    }
}

struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `a` and `b` to completion on this thread; panics on a stall (both pending with no
/// wake-up) or after 20 s.
pub fn run2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let counter = Arc::new(CountWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let (mut ra, mut rb) = (None, None);
    let start = Instant::now();
    loop {
        let before = counter.0.load(Ordering::SeqCst);
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(&mut cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(&mut cx) {
                rb = Some(v);
            }
        }
        if let (Some(_), Some(_)) = (&ra, &rb) {
            if let (Some(x), Some(y)) = (ra.take(), rb.take()) {
                return (x, y);
            }
        }
        if counter.0.load(Ordering::SeqCst) == before {
            panic!("stalled: a done={} b done={}", ra.is_some(), rb.is_some());
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "run2 took too long"
        );
    }
}

/// Runs one future (see [`run2`]).
pub fn run<A: Future>(a: A) -> A::Output {
    run2(a, async {}).0
}

/// Polls `f` until it stalls (returns `None`) or completes.
pub fn poll_until_stall<F: Future + Unpin>(f: &mut F) -> Option<F::Output> {
    let counter = Arc::new(CountWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..1_000_000 {
        let before = counter.0.load(Ordering::SeqCst);
        if let Poll::Ready(v) = Pin::new(&mut *f).poll(&mut cx) {
            return Some(v);
        }
        if counter.0.load(Ordering::SeqCst) == before {
            return None;
        }
    }
    None
}

/// A sleep for tests: completes once the deadline passes (busy re-polls until then).
pub struct Sleep(Instant);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.0 {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A sleep future.
pub fn sleep(d: Duration) -> Sleep {
    Sleep(Instant::now() + d)
}

/// Writes all bytes.
pub async fn write_all(io: &mut PipeEnd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = std::future::poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, bytes)).await?;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Reads until EOF or error; returns the bytes.
pub async fn read_to_end(io: &mut PipeEnd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf)).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}
