//! `Async<T>`: a non-blocking fd registered with the reactor.

use super::read_ahead::ReadAhead;
use super::ready::{Interest, Ready};
use crate::context;
use crate::executor::budget;
use crate::reactor::{self, Direction, Readiness, ScheduledIo};
use crate::runtime::core::Core;
use std::cell::Cell;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{ready, Context, Poll};

/// An I/O object (a socket, a pipe, any fd) made non-blocking and registered with the current
/// runtime's reactor, so that tasks can await its readiness.
///
/// I/O is optimistic: a call goes straight to the kernel while the source is believed ready, and
/// only a `WouldBlock` makes the task wait for the next readiness event. A new source is
/// believed ready for operations (reads, writes, `async_io`) without waiting for its first
/// event; the readiness API (`ready`, `readable`, `poll_readable`, `try_io`) reports only what
/// events reported, so, as in tokio, it says nothing before the first one. The fd is registered
/// once (edge-triggered) and deregistered when the `Async` is dropped.
///
/// `AsyncRead`/`AsyncWrite` (futures-io) are implemented for any `T` whose `&T` implements
/// `Read`/`Write` (sockets, pipes), so ecosystem codecs work on top of it.
///
/// # Several tasks on one `Async`
///
/// Any number of tasks may wait on one `Async` (shared through an `Rc`) with the async fns
/// ([`ready`](Async::ready), [`readable`](Async::readable), [`writable`](Async::writable),
/// [`read_with`](Async::read_with), [`write_with`](Async::write_with),
/// [`async_io`](Async::async_io)): each parks its own
/// waiter, and a readiness event wakes every one waiting for that direction (those that then
/// find nothing wait again). Parking allocates nothing, for one waiter or many, and a
/// cancelled (dropped) future leaves no trace.
///
/// The `poll_*` methods, and `AsyncRead`/`AsyncWrite` through them, keep one waker per
/// direction, that of the most recent poll, as tokio does for `poll_read_ready`: when two tasks
/// poll the same direction, only the last one is woken. Poll each direction from one task, or
/// use the async fns.
///
/// # Read-ahead
///
/// With [`set_read_ahead`](Async::set_read_ahead) (or the runtime's default,
/// [`Builder::read_ahead`](crate::Builder::read_ahead)), a stream read smaller than the
/// read-ahead is served from one larger kernel read kept in a per-source buffer: a small
/// `read_exact` costs one `read(2)` and, when that read comes back short, proves the socket
/// drained, so the next read waits for an event instead of paying for an `EAGAIN` call. Reads
/// at least as large as the read-ahead go straight into the caller's buffer.
///
/// Buffered bytes are always delivered first, without a syscall, by the stream read paths
/// ([`poll_read_stream`](Async::poll_read_stream), [`poll_read_ahead`](Async::poll_read_ahead),
/// [`try_read_stream`](Async::try_read_stream), `AsyncRead`), and
/// [`readable`](Async::readable)/[`poll_readable`](Async::poll_readable) are ready while any
/// are buffered; an end of stream or error comes after them. [`read_with`](Async::read_with)
/// and [`poll_read_with`](Async::poll_read_with) run their operation on the fd itself, so they
/// see only what is still in the kernel: with read-ahead on, read the stream through the stream
/// paths, or check [`read_ahead_len`](Async::read_ahead_len) first.
///
/// # Examples
/// ```
/// use sonic_rt::io::Async;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// sonic_rt::block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
///     a.write_with(|mut s| s.write(b"ping")).await.unwrap();
///     let mut buf = [0u8; 4];
///     let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct Async<T: AsFd> {
    io: Option<T>,
    source: Rc<ScheduledIo>,
    core: Rc<Core>,
    spin_reads: Cell<bool>,
    read_ahead: ReadAhead,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current runtime.
    ///
    /// Errors if called outside a sonic runtime, or if the kernel refuses the registration
    /// (`ENOMEM`, `ENOSPC` past `max_user_watches`, `EPERM` for regular files...).
    pub fn new(io: T) -> io::Result<Async<T>> {
        let core = context::current().ok_or_else(|| {
            io::Error::other("sonic_rt::io::Async::new must be called inside a sonic runtime")
        })?;
        set_nonblocking(io.as_fd().as_raw_fd())?;
        Async::register(io, core).map_err(|(_, e)| e)
    }

    /// Like [`Async::new`] for an fd that is already non-blocking (from `accept4` with
    /// `SOCK_NONBLOCK`, say): saves the `ioctl`. If the fd is in fact blocking, nothing unsound
    /// happens, but an I/O call may then block the whole runtime thread.
    pub fn from_nonblocking(io: T) -> io::Result<Async<T>> {
        let core = context::current().ok_or_else(|| {
            io::Error::other(
                "sonic_rt::io::Async::from_nonblocking must be called inside a sonic runtime",
            )
        })?;
        Async::register(io, core).map_err(|(_, e)| e)
    }

    /// [`Async::from_nonblocking`] that gives `io` back when it fails (for `AsyncFd::try_new`).
    pub(crate) fn try_from_nonblocking(io: T) -> Result<Async<T>, (T, io::Error)> {
        match context::current() {
            Some(core) => Async::register(io, core),
            None => Err((
                io,
                io::Error::other("an AsyncFd must be created inside a sonic runtime"),
            )),
        }
    }

    fn register(io: T, core: Rc<Core>) -> Result<Async<T>, (T, io::Error)> {
        let registered = core.reactor.borrow_mut().register(io.as_fd().as_raw_fd());
        let source = match registered {
            Ok(source) => source,
            Err(e) => return Err((io, e)),
        };
        let read_ahead = ReadAhead::new(core.config().read_ahead);
        Ok(Async {
            io: Some(io),
            source,
            core,
            spin_reads: Cell::new(false),
            read_ahead,
        })
    }

    /// Spin reads: in a busy-poll runtime, a read that would block is retried at once (the task
    /// goes straight back on the run queue) instead of waiting for the reactor to report
    /// readiness, as a raw busy-spin loop would. It saves the delay between the data's arrival
    /// and the event that reports it (about a microsecond on loopback), at the cost of a read
    /// syscall per loop iteration while the socket is idle; other sources' events are then seen
    /// every `event_interval` task polls rather than every turn. For the few hot sockets of a
    /// thread pinned to an isolated core. No effect without busy-poll.
    pub fn set_spin_reads(&self, on: bool) {
        self.spin_reads.set(on);
    }

    /// Whether [`Async::set_spin_reads`] is on.
    pub fn spin_reads(&self) -> bool {
        self.spin_reads.get()
    }

    /// The inner I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("Async used after into_inner")
    }

    /// The inner I/O object, mutably. Do not replace its fd: the registration is for this one.
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("Async used after into_inner")
    }

    /// Read-ahead for stream reads (see [the type's docs](Async#read-ahead)): a read smaller
    /// than `bytes` is served from one kernel read of `bytes`, kept in this source's buffer;
    /// 0 turns it off. The default is the runtime's
    /// [`Builder::read_ahead`](crate::Builder::read_ahead) (off unless set).
    ///
    /// The buffer (`bytes` long) is allocated by the first read that uses it, and again only
    /// if the size changes; reads allocate nothing after that. Changing the size, or turning
    /// read-ahead off, never drops bytes already buffered: they are still read first.
    ///
    /// # Examples
    /// ```
    /// use futures_util::{AsyncReadExt, AsyncWriteExt};
    /// use sonic_rt::io::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
    ///     b.set_read_ahead(4096);
    ///     a.write_all(b"headerbody").await.unwrap();
    ///     let mut header = [0u8; 6];
    ///     b.read_exact(&mut header).await.unwrap(); // one read(2) took all ten bytes
    ///     assert_eq!(b.read_ahead_len(), 4);
    ///     let mut body = [0u8; 4];
    ///     b.read_exact(&mut body).await.unwrap(); // no syscall
    ///     assert_eq!((&header, &body), (b"header", b"body"));
    /// });
    /// ```
    pub fn set_read_ahead(&self, bytes: usize) {
        self.read_ahead.set_capacity(bytes);
    }

    /// The read-ahead size (0: off); see [`Async::set_read_ahead`].
    pub fn read_ahead(&self) -> usize {
        self.read_ahead.capacity()
    }

    /// How many bytes have been read ahead from the kernel and not yet delivered.
    pub fn read_ahead_len(&self) -> usize {
        self.read_ahead.len()
    }

    /// Deregisters the fd and gives back the I/O object (still in non-blocking mode).
    ///
    /// Fails with [`io::ErrorKind::InvalidData`] if read-ahead bytes are buffered
    /// ([`read_ahead_len`](Async::read_ahead_len) > 0): they exist nowhere else, and handing
    /// the fd back would lose them without a word. The `Async` is dropped either way (the fd
    /// closes on that error); read the buffered bytes first, or take them with the fd through
    /// [`into_parts`](Async::into_parts).
    pub fn into_inner(self) -> io::Result<T> {
        let buffered = self.read_ahead.len();
        if buffered > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "Async::into_inner: {buffered} read-ahead bytes are buffered and would be \
                     lost (read them first, or use into_parts)"
                ),
            ));
        }
        self.into_parts().map(|(io, _)| io)
    }

    /// Deregisters the fd and gives back the I/O object (still in non-blocking mode) together
    /// with the bytes read ahead and not yet delivered (empty without read-ahead): they come
    /// before anything the object reads next.
    pub fn into_parts(mut self) -> io::Result<(T, Vec<u8>)> {
        let buffered = self.read_ahead.take_all();
        let io = self.io.take().expect("Async used after into_inner");
        let res = self.deregister(io.as_fd().as_raw_fd());
        res.map(|()| (io, buffered))
    }

    /// Deregisters the fd and gives back the I/O object whatever the poller says (`AsyncFd`'s
    /// `into_inner`, which cannot fail, as tokio's). Only for sources that never read ahead.
    pub(crate) fn into_io(mut self) -> T {
        debug_assert!(self.read_ahead.is_empty(), "read-ahead bytes would be lost");
        let io = self.io.take().expect("Async used after into_inner");
        let _ = self.deregister(io.as_fd().as_raw_fd());
        io
    }

    /// The reactor's state for this fd (for `AsyncFd`, which keeps tokio's ready guards over
    /// it).
    pub(crate) fn scheduled_io(&self) -> &ScheduledIo {
        &self.source
    }

    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        let res = self.core.reactor.borrow_mut().deregister(fd, &self.source);
        res
    }

    /// Ready when a read would (probably) not block: read-ahead bytes are buffered, or the
    /// last read did not hit `WouldBlock`. Otherwise waits for an event.
    ///
    /// Keeps only the most recent poller's waker; see the type's docs.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.read_ahead.is_empty() {
            return Poll::Ready(Ok(()));
        }
        self.poll_ready(Direction::Read, None, cx)
    }

    /// Ready when a write would (probably) not block. Keeps only the most recent poller's waker.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(Direction::Write, None, cx)
    }

    /// Ready, or waits in the direction's one `poll_*` slot (`waiter` is `None`) or in its own
    /// place in the direction's waiter list.
    #[inline]
    fn poll_ready(
        &self,
        dir: Direction,
        waiter: Option<Pin<&Readiness<'_>>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if self.source.is_shutdown() {
            return Poll::Ready(Err(gone()));
        }
        match waiter {
            None => self.source.poll_ready(dir, cx).map(Ok),
            Some(w) => w.poll_ready(cx).map(Ok),
        }
    }

    /// Waits until the fd is readable, or read-ahead bytes are buffered. Every task waiting on
    /// `readable` is woken by the event.
    pub async fn readable(&self) -> io::Result<()> {
        if !self.read_ahead.is_empty() {
            return Ok(());
        }
        let waiter = pin!(Readiness::new(&self.source, Direction::Read));
        poll_fn(|cx| {
            // Bytes a reader buffered while we waited count as readable too (that reader also
            // consumed the event that would have woken us).
            if !self.read_ahead.is_empty() {
                return Poll::Ready(Ok(()));
            }
            self.poll_ready(Direction::Read, Some(waiter.as_ref()), cx)
        })
        .await
    }

    /// Waits until the fd is writable. Every task waiting on `writable` is woken by the event.
    pub async fn writable(&self) -> io::Result<()> {
        let waiter = pin!(Readiness::new(&self.source, Direction::Write));
        poll_fn(|cx| self.poll_ready(Direction::Write, Some(waiter.as_ref()), cx)).await
    }

    /// Waits until the fd is ready for any of `interest`, and returns what it is ready for:
    /// tokio's `ready`. Several tasks may wait at once; an event wakes every one whose
    /// interest it concerns.
    ///
    /// The result is the readiness cached now, restricted to `interest` (so
    /// [`Ready::READ_CLOSED`] comes with [`Interest::READABLE`], and
    /// [`Ready::WRITE_CLOSED`] with [`Interest::WRITABLE`]). Readiness is a hint: an operation
    /// may still find nothing and return `WouldBlock` (which clears it, through
    /// [`try_io`](Async::try_io) or [`async_io`](Async::async_io)). With read-ahead bytes
    /// buffered, a readable interest is ready at once and the result includes
    /// [`Ready::READABLE`]. As in tokio, a new `Async` reports nothing until its first event
    /// (edge-triggered registration reports the fd's state at the next reactor turn), though
    /// its operations try the kernel at once. Fails once the source is deregistered.
    ///
    /// # Examples
    /// ```
    /// use sonic_rt::io::{Async, Interest};
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
    ///     let ready = a.ready(Interest::WRITABLE).await.unwrap();
    ///     assert!(ready.is_writable() && !ready.is_readable());
    ///     a.write_with(|mut s| s.write(b"x")).await.unwrap();
    ///     drop(a);
    ///     let ready = b.ready(Interest::READABLE).await.unwrap();
    ///     assert!(ready.is_readable());
    /// });
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let mask = interest.mask();
        let (reader, writer) = self.interest_waiters(mask);
        let (reader, writer) = (pin!(reader), pin!(writer));
        poll_fn(|cx| {
            let buffered = interest.is_readable() && !self.read_ahead.is_empty();
            if !buffered {
                ready!(self.poll_interest(mask, reader.as_ref(), writer.as_ref(), cx))?;
            }
            let mut ready = Ready::from_bits(self.source.readiness() & mask);
            if buffered {
                ready |= Ready::READABLE;
            }
            Poll::Ready(Ok(ready))
        })
        .await
    }

    /// The two waits of an interest, one in each direction's list, each ending only on the
    /// bits of `mask` on its side (pin them, then poll with `poll_interest`).
    fn interest_waiters(&self, mask: u8) -> (Readiness<'_>, Readiness<'_>) {
        (
            Readiness::with_mask(&self.source, Direction::Read, mask & READ_SIDE),
            Readiness::with_mask(&self.source, Direction::Write, mask & WRITE_SIDE),
        )
    }

    /// Ready when one of `mask` is set, or parks `reader` and `writer` (each only if `mask`
    /// has bits of its side) in their direction's waiter list.
    fn poll_interest(
        &self,
        mask: u8,
        reader: Pin<&Readiness<'_>>,
        writer: Pin<&Readiness<'_>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let ready = (mask & READ_SIDE != 0 && reader.poll_ready(cx).is_ready())
            || (mask & WRITE_SIDE != 0 && writer.poll_ready(cx).is_ready());
        if self.source.is_shutdown() {
            return Poll::Ready(Err(gone()));
        }
        if ready {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// One non-blocking operation, tokio's `try_io` rule: if the cached readiness holds none
    /// of `interest`, fails with `WouldBlock` without calling `op` (no syscall); otherwise
    /// runs `op`, and a `WouldBlock` from it clears that readiness until the next event. Meant
    /// for one direction at a time.
    ///
    /// With [`Interest::READABLE`] and read-ahead bytes buffered, `op` runs whatever the
    /// readiness (it sees the fd only; see [the type's docs](Async#read-ahead)).
    ///
    /// # Examples
    /// ```
    /// use sonic_rt::io::{Async, Interest};
    /// use std::io::{ErrorKind, Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     let b = Async::new(b).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let mut calls = 0;
    ///     let mut read = |s: &UnixStream| {
    ///         calls += 1;
    ///         (&*s).read(&mut buf)
    ///     };
    ///     // No event has said "readable" yet: no syscall, as in tokio.
    ///     let err = b.try_io(Interest::READABLE, &mut read).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::WouldBlock);
    ///     (&a).write_all(b"hi").unwrap();
    ///     b.readable().await.unwrap();
    ///     assert_eq!(b.try_io(Interest::READABLE, &mut read).unwrap(), 2);
    ///     // Drained: the kernel says `WouldBlock` once, which clears the readiness, so the
    ///     // next try knows the answer without asking.
    ///     for _ in 0..2 {
    ///         let err = b.try_io(Interest::READABLE, &mut read).unwrap_err();
    ///         assert_eq!(err.kind(), ErrorKind::WouldBlock);
    ///     }
    ///     assert_eq!(calls, 2);
    /// });
    /// ```
    pub fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mask = interest.mask();
        let buffered = interest.is_readable() && !self.read_ahead.is_empty();
        if !buffered && !self.source.is_ready_for(mask) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match op(self.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.source.clear_bits(mask);
                Err(e)
            }
            res => res,
        }
    }

    /// Awaits an operation in the direction(s) of `interest`: runs `op` whenever the fd is
    /// ready for them and returns its first result that is not `WouldBlock` (which clears the
    /// readiness before the next wait). tokio's `async_io`; for one direction,
    /// [`read_with`](Async::read_with) and [`write_with`](Async::write_with) are the same
    /// thing. Several tasks may wait at once, each woken by the events it is interested in.
    /// Spends one unit of the task's budget per poll.
    ///
    /// With [`Interest::READABLE`] and read-ahead bytes buffered, `op` is tried once per poll
    /// without waiting, as in `read_with`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mask = interest.mask();
        let (reader, writer) = self.interest_waiters(mask);
        let (reader, writer) = (pin!(reader), pin!(writer));
        poll_fn(|cx| {
            ready!(budget::poll_proceed(cx));
            let mut skip_wait = interest.is_readable() && !self.read_ahead.is_empty();
            loop {
                if !skip_wait && !self.source.assumed_ready_for(mask) {
                    ready!(self.poll_interest(mask, reader.as_ref(), writer.as_ref(), cx))?;
                }
                skip_wait = false;
                match op(self.get_ref()) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.source.clear_bits(mask),
                    res => {
                        self.source.confirm_assumed(mask);
                        return Poll::Ready(res);
                    }
                }
            }
        })
        .await
    }

    /// Forgets the cached read readiness: the next read waits for an event first. Call it when
    /// an operation outside `read_with` observed `WouldBlock`.
    pub fn clear_readable(&self) {
        self.source.clear_readiness(Direction::Read);
    }

    /// Forgets the cached write readiness.
    pub fn clear_writable(&self) {
        self.source.clear_readiness(Direction::Write);
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for read readiness between tries.
    /// Keeps only the most recent poller's waker; several tasks use
    /// [`read_with`](Async::read_with).
    ///
    /// `op` works on the fd: it does not see bytes already read ahead (see [the type's
    /// docs](Async#read-ahead)). While some are buffered, `op` is tried once per poll without
    /// waiting for readiness, so an `op` that looks at them finds them.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(Direction::Read, None, cx, op)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for write readiness between
    /// tries. Keeps only the most recent poller's waker; several tasks use
    /// [`write_with`](Async::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(Direction::Write, None, cx, op)
    }

    #[inline]
    fn poll_with<R>(
        &self,
        dir: Direction,
        waiter: Option<Pin<&Readiness<'_>>>,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(budget::poll_proceed(cx));
        let spin = dir == Direction::Read && self.spin_reads.get() && self.core.busy_poll();
        // While read-ahead bytes are buffered, a read op runs once without waiting for the
        // readiness (which a short fill cleared), so an op that looks at them (`peek`) finds
        // them; one that does not just sees `WouldBlock` and waits below as usual.
        let mut skip_wait = dir == Direction::Read && !self.read_ahead.is_empty();
        loop {
            if !spin && !skip_wait && !self.source.assumed_ready_for(dir_mask(dir)) {
                ready!(self.poll_ready(dir, waiter, cx))?;
            }
            skip_wait = false;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear_readiness(dir);
                    if spin {
                        // Run again at once (the loop still turns the reactor at least every
                        // `event_interval` task polls); an event wakes us too.
                        let _ = self.poll_ready(dir, waiter, cx);
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                res => {
                    self.source.confirm_assumed(dir_mask(dir));
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Awaits a read-like operation: runs `op`, waiting for readiness whenever it would block.
    /// Every task waiting in `read_with` (or [`readable`](Async::readable)) is woken by the
    /// event; those whose `op` then finds nothing wait again.
    ///
    /// `op` works on the fd: it does not see bytes already read ahead (see [the type's
    /// docs](Async#read-ahead)). An `op` may look at them itself through the `Async` (with
    /// [`read_ahead_len`](Async::read_ahead_len) or [`peek_read_ahead`](Async::peek_read_ahead)):
    /// while bytes are buffered, `op` is tried once per poll without waiting for readiness, and
    /// it runs again after every wake, so it also sees bytes another task buffered meanwhile.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let waiter = pin!(Readiness::new(&self.source, Direction::Read));
        poll_fn(|cx| self.poll_with(Direction::Read, Some(waiter.as_ref()), cx, &mut op)).await
    }

    /// Awaits a write-like operation: runs `op`, waiting for readiness whenever it would block.
    /// Every waiting task is woken by the event, as for [`read_with`](Async::read_with).
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let waiter = pin!(Readiness::new(&self.source, Direction::Write));
        poll_fn(|cx| self.poll_with(Direction::Write, Some(waiter.as_ref()), cx, &mut op)).await
    }

    /// Reads a byte stream into `buf` with `read` (a `read(2)`-like call on the fd); a short
    /// read means the kernel buffer is drained, so the read readiness is cleared without paying
    /// for a `WouldBlock` call.
    ///
    /// With read-ahead (see [`set_read_ahead`](Async::set_read_ahead)), buffered bytes are
    /// served first without a syscall, a `buf` smaller than the read-ahead is served from one
    /// read of the read-ahead size, and a larger `buf` is read into directly.
    pub fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        read: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if self.read_ahead.serves(buf.len()) {
            return self.poll_read_ahead(cx, read, |bytes| copy_out(bytes, buf));
        }
        let mut read = read;
        let len = buf.len();
        let n = ready!(self.poll_read_with(cx, |io| read(io, buf)))?;
        if n > 0 && n < len {
            self.source.clear_readiness(Direction::Read);
        }
        Poll::Ready(Ok(n))
    }

    /// Reads a byte stream through the read-ahead buffer, for a destination that is not a
    /// `&mut [u8]` (say, uninitialised memory): if nothing is buffered, refills the buffer with
    /// one `read` of the read-ahead size (waiting for readiness as needed; a short fill clears
    /// the readiness); then hands the buffered bytes to `deliver`, which copies out what it
    /// can and returns how many it took. Returns that count, or `Ok(0)` at the end of the
    /// stream (`deliver` is then not called).
    ///
    /// With read-ahead off and nothing buffered, fails with [`io::ErrorKind::InvalidInput`]:
    /// there is no buffer to read into (use [`poll_read_stream`](Async::poll_read_stream)).
    pub fn poll_read_ahead(
        &self,
        cx: &mut Context<'_>,
        mut read: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
        deliver: impl FnOnce(&[u8]) -> usize,
    ) -> Poll<io::Result<usize>> {
        if self.read_ahead.is_empty() {
            if self.read_ahead.capacity() == 0 {
                return Poll::Ready(Err(read_ahead_off()));
            }
            let n = ready!(self.poll_read_with(cx, |io| self.fill_read_ahead(io, &mut read)))?;
            if n == 0 {
                return Poll::Ready(Ok(0));
            }
        }
        Poll::Ready(Ok(self.read_ahead.consume(deliver)))
    }

    /// One non-blocking stream read into `buf`, the synchronous form of
    /// [`poll_read_stream`](Async::poll_read_stream): buffered read-ahead bytes first (no
    /// syscall), else one `read` under tokio's `try_read` rule (see
    /// [`try_io`](Async::try_io)): `WouldBlock` without a syscall while the cached read
    /// readiness is clear, and a `WouldBlock` from the kernel clears it, so the next
    /// [`readable`](Async::readable) waits for new data. A short read leaves the readiness
    /// alone, as tokio's `try_read` does (the next call asks the kernel again); only a short
    /// read-ahead fill clears it (see [`set_read_ahead`](Async::set_read_ahead)).
    pub fn try_read_stream(
        &self,
        buf: &mut [u8],
        mut read: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        if self.read_ahead.serves(buf.len()) {
            return self.try_read_ahead(read, |bytes| copy_out(bytes, buf));
        }
        self.try_io(Interest::READABLE, |io| read(io, buf))
    }

    /// The synchronous form of [`poll_read_ahead`](Async::poll_read_ahead), for a destination
    /// that is not a `&mut [u8]`: hands buffered read-ahead bytes to `deliver` (no syscall);
    /// with none buffered, refills the buffer with one `read` under the rule of
    /// [`try_read_stream`](Async::try_read_stream) first. Returns what `deliver` took, or
    /// `Ok(0)` at the end of the stream (`deliver` is then not called).
    ///
    /// With read-ahead off and nothing buffered, fails with [`io::ErrorKind::InvalidInput`].
    pub fn try_read_ahead(
        &self,
        mut read: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
        deliver: impl FnOnce(&[u8]) -> usize,
    ) -> io::Result<usize> {
        if self.read_ahead.is_empty() {
            if self.read_ahead.capacity() == 0 {
                return Err(read_ahead_off());
            }
            let n = self.try_io(Interest::READABLE, |io| self.fill_read_ahead(io, &mut read))?;
            if n == 0 {
                return Ok(0);
            }
        }
        Ok(self.read_ahead.consume(deliver))
    }

    /// Copies read-ahead bytes into `buf` without consuming them: what the next read would
    /// return first. Returns 0 when nothing is buffered (the data, if any, is still in the
    /// kernel).
    pub fn peek_read_ahead(&self, buf: &mut [u8]) -> usize {
        self.read_ahead.peek_into(buf)
    }

    /// Refills the empty read-ahead buffer with one `read`; a short fill proves the socket
    /// drained.
    fn fill_read_ahead(
        &self,
        io: &T,
        read: &mut impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let n = self.read_ahead.fill(|bytes| read(io, bytes))?;
        if n > 0 && n < self.read_ahead.capacity() {
            self.source.clear_readiness(Direction::Read);
        }
        Ok(n)
    }
}

/// The readiness bits whose events wake the reader list (see `Readiness::with_mask`).
const READ_SIDE: u8 = reactor::READABLE | reactor::READ_CLOSED | reactor::PRIORITY | reactor::ERROR;
/// The bits whose events wake the writer list.
const WRITE_SIDE: u8 = reactor::WRITABLE | reactor::WRITE_CLOSED;

/// The readiness bit an operation in `dir` needs.
#[inline]
fn dir_mask(dir: Direction) -> u8 {
    match dir {
        Direction::Read => reactor::READABLE,
        Direction::Write => reactor::WRITABLE,
    }
}

#[cold]
fn gone() -> io::Error {
    io::Error::other("the I/O source was deregistered")
}

/// Copies as much of `bytes` as fits into `buf`.
#[inline]
fn copy_out(bytes: &[u8], buf: &mut [u8]) -> usize {
    let n = bytes.len().min(buf.len());
    buf[..n].copy_from_slice(&bytes[..n]);
    n
}

#[cold]
fn read_ahead_off() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "Async::poll_read_ahead: read-ahead is off and nothing is buffered",
    )
}

#[cfg(miri)]
fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // Miri has no FIONBIO; fcntl costs one more syscall but is the same thing.
    // SAFETY: fcntl on a caller-owned fd with integer arguments only.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(miri))]
fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    let mut on: libc::c_int = 1;
    // SAFETY: FIONBIO takes a pointer to an int that lives across the call.
    if unsafe { libc::ioctl(fd, libc::FIONBIO as _, &mut on) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister before the fd closes; an error (EBADF if the caller closed it behind
            // our back) still frees the slot.
            let _ = self.deregister(io.as_fd().as_raw_fd());
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

impl<T: AsFd> futures_io::AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_stream(cx, buf, |mut io, b| io.read(b))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.read_ahead.is_empty() || self.read_ahead.capacity() > 0 {
            // Through the buffer (buffered bytes first), into the first non-empty slice, as the
            // trait's default does.
            let buf = bufs
                .iter_mut()
                .find(|b| !b.is_empty())
                .map_or(&mut [][..], |b| &mut **b);
            return self.poll_read_stream(cx, buf, |mut io, b| io.read(b));
        }
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> futures_io::AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
