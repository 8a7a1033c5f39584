//! tokio's `io::unix`: [`AsyncFd`], any file descriptor whose readiness a task awaits, with
//! ready guards ([`AsyncFdReadyGuard`], [`AsyncFdReadyMutGuard`]) that say when the readiness
//! is used up.
//!
//! Rules (tokio's):
//! - `AsyncFd` never touches `O_NONBLOCK`: the caller makes the fd non-blocking before handing
//!   it over (a blocking fd would block the runtime's thread in the caller's own I/O).
//! - Readiness is cached in the fd's reactor source. An event sets it; only the caller clears
//!   it: a guard's [`clear_ready`](AsyncFdReadyGuard::clear_ready), its
//!   [`try_io`](AsyncFdReadyGuard::try_io) seeing `WouldBlock`, or `AsyncFd`'s own
//!   [`try_io`](AsyncFd::try_io) and [`async_io`](AsyncFd::async_io) seeing it. A guard dropped
//!   without clearing leaves it set, so the next wait returns at once.
//! - A guard clears only the readiness it observed, and only if no event came since it was
//!   made: an event in between may report data that arrived after the caller drained the fd,
//!   and the edge-triggered registration would never report it again.
//! - A new `AsyncFd` is ready for nothing until the reactor's first event reports the fd's
//!   state (registration reports it at once). sonic's [`Async`] starts out optimistic instead;
//!   a guard's [`ready`](AsyncFdReadyGuard::ready) must not claim what nobody observed.
//! - `READ_CLOSED` and `WRITE_CLOSED` are final: clearing never removes them.

mod guard;

pub use guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};

use super::async_fd::Async;
use super::ready::{Interest, Ready};
use crate::executor::budget;
use crate::reactor::{self, Direction, ScheduledIo};
use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

/// A file descriptor registered with the current runtime's reactor, so that tasks can await its
/// readiness and do the I/O themselves: tokio's `tokio::io::unix::AsyncFd`, for any type with a
/// raw fd (a socket, a pipe, an `eventfd`, a `timerfd`, a device, a fd from a C library).
///
/// The usual loop: await a readiness ([`readable`](AsyncFd::readable),
/// [`writable`](AsyncFd::writable), [`ready`](AsyncFd::ready)), which returns a guard; do the
/// I/O through the guard's [`try_io`](AsyncFdReadyGuard::try_io), which clears the readiness
/// when the operation says `WouldBlock` (and then wait again). The fd must already be
/// non-blocking (see the [module's rules](self)); `AsyncFd` does not change it.
///
/// Dropping the `AsyncFd` deregisters the fd and drops the inner object (which closes the fd
/// if it owns it); [`into_inner`](AsyncFd::into_inner) deregisters it and gives the object
/// back, its fd open. The inner object must keep the fd it reported open (and the same fd)
/// while it is inside the `AsyncFd`: the contract of the `unsafe`
/// [`register`](AsyncFd::register), as in tokio (1.54 deprecates the safe `new`, which took it
/// on the caller's word).
///
/// Any number of tasks may wait on one `AsyncFd` (shared through an `Rc`) with the async fns;
/// each is woken by the events it waits for. The `poll_*` methods keep one waker per direction,
/// the most recent poller's, as tokio's do.
///
/// Differences from tokio's: `AsyncFd` is `!Send` (it lives on its runtime's thread); created
/// outside a runtime it fails with an error instead of panicking; every fd is registered for
/// reading and writing whatever the interest given to
/// [`register_with_interest`](AsyncFd::register_with_interest), so a wait outside that
/// interest completes instead of waiting forever; it is `AsFd` only for a `T: AsFd`.
///
/// # Examples
/// An echo over a non-blocking `UnixStream` pair:
/// ```
/// use sonic_rt::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// sonic_rt::block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     b.set_nonblocking(true).unwrap();
///     // SAFETY: each stream owns its fd and keeps it open until it is dropped.
///     let (a, b) = unsafe { (AsyncFd::register(a).unwrap(), AsyncFd::register(b).unwrap()) };
///
///     let mut guard = a.writable().await.unwrap();
///     let n = guard.try_io(|fd| fd.get_ref().write(b"ping")).unwrap().unwrap();
///     assert_eq!(n, 4);
///
///     let mut buf = [0u8; 16];
///     let n = loop {
///         let mut guard = b.readable().await.unwrap();
///         match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///             Ok(result) => break result.unwrap(),
///             Err(_would_block) => continue, // readiness cleared: wait for the next event
///         }
///     };
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: Async<RawSource<T>>,
}

/// `T` with the fd it reported when it was registered: sonic's [`Async`] asks for `AsFd`,
/// tokio's `AsyncFd` for `AsRawFd` only.
struct RawSource<T> {
    inner: T,
    /// Never -1 (checked before a `RawSource` is made).
    fd: RawFd,
}

impl<T> AsFd for RawSource<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `fd` is not -1 (`register_with_interest` refuses negative fds before it
        // makes a `RawSource`), and it is open while borrowed by the `# Safety` contract of
        // `AsyncFd::register` (tokio's): the inner object keeps the fd it reported open, and
        // the same, while it is inside the `AsyncFd`. (The deprecated safe constructors take
        // that contract on their caller's word, as tokio's do.) The borrow never reaches user
        // code: a `RawSource` lives only in the private `Async` of an `AsyncFd`, which turns it
        // into the raw number for the poller (register, deregister).
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// The readiness a guard observed, and the tick of the source when it did (see the module's
/// rules).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    ready: Ready,
    tick: u32,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd with the current runtime for read and write readiness: tokio's
    /// `AsyncFd::register`. The fd must already be non-blocking.
    ///
    /// Fails outside a sonic runtime, for a negative fd (`EBADF`), or if the poller refuses the
    /// fd (`EPERM` for a regular file under epoll); the error gives `inner` back
    /// ([`AsyncFdRegisterError::into_parts`]).
    ///
    /// # Safety
    ///
    /// The fd `inner.as_raw_fd()` returns must be open, and must stay open and refer to the same
    /// open file description until the `AsyncFd` is dropped, taken apart with
    /// [`into_inner`](AsyncFd::into_inner), or forgotten; every `as_raw_fd()` call meanwhile
    /// must return that same fd (tokio's contract). An `inner` that owns its fd (an `OwnedFd`,
    /// a `std` socket or pipe) keeps it so unless [`get_mut`](AsyncFd::get_mut) is used to
    /// replace or close it.
    ///
    /// # Examples
    /// ```
    /// use sonic_rt::io::unix::AsyncFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     // SAFETY: the stream owns its fd and keeps it open until it is dropped.
    ///     let a = unsafe { AsyncFd::register(a) }.unwrap();
    ///     let guard = a.writable().await.unwrap();
    ///     assert!(guard.ready().is_writable());
    /// });
    /// ```
    pub unsafe fn register(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: the caller's contract is this function's.
        unsafe { AsyncFd::register_with_interest(inner, Interest::READABLE | Interest::WRITABLE) }
    }

    /// [`register`](AsyncFd::register) with the readiness the caller means to wait for:
    /// tokio's `AsyncFd::register_with_interest`. sonic registers every fd for reading and
    /// writing anyway (once, edge-triggered); `ERROR` readiness is always reported, and
    /// `PRIORITY` on Linux and Android.
    ///
    /// # Safety
    ///
    /// As for [`register`](AsyncFd::register).
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // sonic registers read and write readiness for every fd (see above).
        let _ = interest;
        let fd = inner.as_raw_fd();
        if fd < 0 {
            return Err(AsyncFdRegisterError {
                inner,
                cause: io::Error::from_raw_os_error(libc::EBADF),
            });
        }
        match Async::try_from_nonblocking(RawSource { inner, fd }) {
            Ok(io) => {
                // Ready for nothing until the first event (see the module's rules). The
                // registration has queued that event already if the fd is ready; it is
                // delivered by the next reactor turn, after this.
                io.scheduled_io()
                    .clear_bits(reactor::READABLE | reactor::WRITABLE);
                Ok(AsyncFd { io })
            }
            Err((source, cause)) => Err(AsyncFdRegisterError {
                inner: source.inner,
                cause,
            }),
        }
    }

    /// [`register`](AsyncFd::register) without `unsafe`, deprecated as tokio's (1.54): it
    /// takes the contract of `register` on the caller's word.
    #[deprecated(
        note = "a safe fn cannot promise that the fd stays open: use the `unsafe` `AsyncFd::register` (tokio deprecates `new` too)"
    )]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked: the caller's word, as with tokio's deprecated `new` (which is
        // why it is deprecated).
        unsafe { AsyncFd::register(inner) }.map_err(io::Error::from)
    }

    /// [`register_with_interest`](AsyncFd::register_with_interest) without `unsafe`,
    /// deprecated as tokio's.
    #[deprecated(
        note = "a safe fn cannot promise that the fd stays open: use the `unsafe` `AsyncFd::register_with_interest` (tokio deprecates `with_interest` too)"
    )]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { AsyncFd::register_with_interest(inner, interest) }.map_err(io::Error::from)
    }

    /// [`register`](AsyncFd::register) without `unsafe`, deprecated as tokio's.
    #[deprecated(
        note = "a safe fn cannot promise that the fd stays open: use the `unsafe` `AsyncFd::register` (tokio deprecates `try_new` too)"
    )]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { AsyncFd::register(inner) }
    }

    /// [`register_with_interest`](AsyncFd::register_with_interest) without `unsafe`,
    /// deprecated as tokio's.
    #[deprecated(
        note = "a safe fn cannot promise that the fd stays open: use the `unsafe` `AsyncFd::register_with_interest` (tokio deprecates `try_with_interest` too)"
    )]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { AsyncFd::register_with_interest(inner, interest) }
    }

    /// The inner object.
    pub fn get_ref(&self) -> &T {
        &self.io.get_ref().inner
    }

    /// The inner object, mutably. It must keep the same fd open.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io.get_mut().inner
    }

    /// Deregisters the fd and gives back the inner object, its fd open (and its `O_NONBLOCK`
    /// as it was).
    pub fn into_inner(self) -> T {
        self.io.into_io().inner
    }

    /// Ready once the fd is readable (`READABLE` or `READ_CLOSED`), with a guard holding what
    /// it observed; otherwise stores `cx`'s waker (replacing the previous poller's: one waker
    /// per direction, as tokio's) and returns `Pending`. Fails once the source is gone. Spends
    /// one unit of the task's budget.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(Direction::Read, Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`poll_read_ready`](AsyncFd::poll_read_ready) with a guard that lends the `AsyncFd`
    /// mutably.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(Direction::Read, Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Ready once the fd is writable (`WRITABLE` or `WRITE_CLOSED`); as
    /// [`poll_read_ready`](AsyncFd::poll_read_ready) otherwise.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(Direction::Write, Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`poll_write_ready`](AsyncFd::poll_write_ready) with a guard that lends the `AsyncFd`
    /// mutably.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(Direction::Write, Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Waits until the fd is ready for any of `interest`, and returns a guard holding what it
    /// is ready for (only bits of `interest`). Several tasks may wait at once; an event wakes
    /// every one it concerns. Fails once the source is gone.
    ///
    /// # Examples
    /// ```
    /// use sonic_rt::io::unix::AsyncFd;
    /// use sonic_rt::io::{Interest, Ready};
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     // SAFETY: the stream owns its fd and keeps it open until it is dropped.
    ///     let a = unsafe { AsyncFd::register(a) }.unwrap();
    ///     b.write_all(b"x").unwrap();
    ///
    ///     let mut guard = a.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
    ///     assert_eq!(guard.ready(), Ready::READABLE | Ready::WRITABLE);
    ///     guard.clear_ready_matching(Ready::READABLE);
    ///     assert_eq!(guard.ready(), Ready::WRITABLE);
    /// });
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.event(interest).await?;
        Ok(AsyncFdReadyGuard::new(self, event))
    }

    /// [`ready`](AsyncFd::ready) with a guard that lends the `AsyncFd` mutably.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.event(interest).await?;
        Ok(AsyncFdReadyMutGuard::new(self, event))
    }

    /// Waits until the fd is readable: [`ready`](AsyncFd::ready)`(Interest::READABLE)`.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the fd is readable, with a guard that lends the `AsyncFd` mutably.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the fd is writable: [`ready`](AsyncFd::ready)`(Interest::WRITABLE)`.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until the fd is writable, with a guard that lends the `AsyncFd` mutably.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Awaits an operation: waits for `interest`, runs `f`, and returns its first result that
    /// is not `WouldBlock` (a `WouldBlock` clears the readiness it ran on, then waits again).
    /// Spends one unit of the task's budget per try.
    ///
    /// # Examples
    /// ```
    /// use sonic_rt::io::unix::AsyncFd;
    /// use sonic_rt::io::Interest;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// sonic_rt::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     // SAFETY: the stream owns its fd and keeps it open until it is dropped.
    ///     let a = unsafe { AsyncFd::register(a) }.unwrap();
    ///     let writer = sonic_rt::spawn(async move { b.write_all(b"late").unwrap() });
    ///     let mut buf = [0u8; 8];
    ///     let n = a
    ///         .async_io(Interest::READABLE, |mut s| s.read(&mut buf))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&buf[..n], b"late");
    ///     writer.await.unwrap();
    /// });
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.event(interest).await?;
            poll_fn(budget::poll_proceed).await;
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                result => return result,
            }
        }
    }

    /// [`async_io`](AsyncFd::async_io) with `f` given the inner object mutably.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.event(interest).await?;
            poll_fn(budget::poll_proceed).await;
            match f(self.get_mut()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                result => return result,
            }
        }
    }

    /// One non-blocking operation: if the fd is ready for none of `interest`, fails with
    /// `WouldBlock` without calling `f`; otherwise runs `f`, and a `WouldBlock` from it clears
    /// the readiness it ran on.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.event_now(interest);
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match f(self.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear(event);
                Err(io::ErrorKind::WouldBlock.into())
            }
            result => result,
        }
    }

    /// [`try_io`](AsyncFd::try_io) with `f` given the inner object mutably.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.event_now(interest);
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match f(self.get_mut()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear(event);
                Err(io::ErrorKind::WouldBlock.into())
            }
            result => result,
        }
    }

    fn source(&self) -> &ScheduledIo {
        self.io.scheduled_io()
    }

    /// The readiness cached now, restricted to `interest`, and the current tick.
    fn event_now(&self, interest: Interest) -> ReadyEvent {
        let source = self.source();
        ReadyEvent {
            ready: Ready::from_bits(source.readiness() & interest.mask()),
            tick: source.tick(),
        }
    }

    /// Waits for `interest` (in each direction's waiter list) and observes it.
    async fn event(&self, interest: Interest) -> io::Result<ReadyEvent> {
        self.io.ready(interest).await?;
        // Same poll as the wait's completion: no event can come in between.
        Ok(self.event_now(interest))
    }

    /// The `poll_*` path: the direction's one waker slot.
    fn poll_event(
        &self,
        dir: Direction,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        ready!(budget::poll_proceed(cx));
        let source = self.source();
        ready!(source.poll_ready_for(dir, interest.mask(), cx));
        if source.is_shutdown() {
            return Poll::Ready(Err(io::Error::other("the I/O source was deregistered")));
        }
        Poll::Ready(Ok(self.event_now(interest)))
    }

    /// Clears what `event` observed (never the closed bits), unless an event came since.
    fn clear(&self, event: ReadyEvent) {
        self.source().clear_bits_at(event.tick, event.ready.bits());
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

/// The inner object's fd. tokio's `AsyncFd` is `AsFd` for any `T: AsRawFd`, making the
/// `BorrowedFd` from the raw number; this one asks `T` for it, so it needs `T: AsFd` and no
/// `unsafe`.
impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .finish()
    }
}

/// The error of [`AsyncFd::register`] and [`AsyncFd::register_with_interest`]: why
/// registration failed, and the object it was for.
///
/// # Examples
/// ```
/// use sonic_rt::io::unix::AsyncFd;
///
/// // Outside a runtime, registration fails and gives the object back.
/// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
/// // SAFETY: the stream owns its fd.
/// let (a, cause) = unsafe { AsyncFd::register(a) }.unwrap_err().into_parts();
/// assert!(cause.to_string().contains("inside a sonic runtime"));
/// drop(a);
/// ```
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdRegisterError<T> {
    /// The object given to `register`, and why it could not be registered.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(err: AsyncFdRegisterError<T>) -> io::Error {
        err.cause
    }
}

/// The old name of [`AsyncFdRegisterError`], deprecated as in tokio.
#[doc(hidden)]
#[deprecated(note = "renamed `AsyncFdRegisterError` (as in tokio)")]
pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;
