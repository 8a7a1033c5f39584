//! The ready guards of [`AsyncFd`]: what a wait observed, until the caller says it is used up.

use super::{AsyncFd, ReadyEvent};
use crate::io::Ready;
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

/// The readiness an [`AsyncFd`] wait observed, borrowed from the `AsyncFd`: tokio's
/// `AsyncFdReadyGuard`.
///
/// The readiness stays set until the guard clears it: [`clear_ready`](Self::clear_ready) when
/// an operation found nothing to do, or [`try_io`](Self::try_io), which clears it when its
/// operation returns `WouldBlock`. Dropped without clearing (or after
/// [`retain_ready`](Self::retain_ready)), the guard leaves it set, so the next wait returns at
/// once. Clearing removes only what this guard observed, and nothing if an event came since
/// the guard was made (that event may report new data).
///
/// # Examples
/// ```
/// use sonic_rt::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// sonic_rt::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     // SAFETY: the stream owns its fd and keeps it open until it is dropped.
///     let a = unsafe { AsyncFd::register(a) }.unwrap();
///     b.write_all(b"abc").unwrap();
///
///     let mut guard = a.readable().await.unwrap();
///     let mut buf = [0u8; 8];
///     let n = guard.try_io(|fd| fd.get_ref().read(&mut buf)).unwrap().unwrap();
///     assert_eq!(&buf[..n], b"abc");
///     // Not cleared yet (the read did not say `WouldBlock`): the next wait returns at once.
///     drop(guard);
///     let mut guard = a.readable().await.unwrap();
///     assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err(), "WouldBlock: cleared");
/// });
/// ```
#[must_use = "a guard is how the readiness gets cleared: call `clear_ready`, `try_io` or `retain_ready`"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    observed: Observed,
}

/// [`AsyncFdReadyGuard`] over an `AsyncFd` borrowed mutably (from the `_mut` waits): the
/// operation of [`try_io`](Self::try_io) gets `&mut AsyncFd`, and
/// [`get_inner_mut`](Self::get_inner_mut) the inner object mutably. tokio's
/// `AsyncFdReadyMutGuard`.
///
/// # Examples
/// ```
/// use sonic_rt::io::unix::AsyncFd;
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
///
/// sonic_rt::block_on(async {
///     let (a, _b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     // SAFETY: the stream owns its fd and keeps it open until it is dropped.
///     let mut a = unsafe { AsyncFd::register(a) }.unwrap();
///     let mut guard = a.writable_mut().await.unwrap();
///     let n = guard.try_io(|fd| fd.get_mut().write(b"hi")).unwrap().unwrap();
///     assert_eq!(n, 2);
/// });
/// ```
#[must_use = "a guard is how the readiness gets cleared: call `clear_ready`, `try_io` or `retain_ready`"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    observed: Observed,
}

/// The operation of a guard's `try_io` returned `WouldBlock`; the readiness was cleared, so
/// wait again. tokio's `TryIoError`.
#[derive(Debug)]
pub struct TryIoError(());

/// What a guard observed and has not cleared yet (`None` once cleared): the part both guards
/// share, given the `AsyncFd` to clear on.
#[derive(Clone, Copy, Debug)]
struct Observed(Option<ReadyEvent>);

impl Observed {
    fn clear<T: AsRawFd>(&mut self, async_fd: &AsyncFd<T>) {
        if let Some(event) = self.0.take() {
            async_fd.clear(event);
        }
    }

    fn clear_matching<T: AsRawFd>(&mut self, async_fd: &AsyncFd<T>, ready: Ready) {
        if let Some(mut event) = self.0 {
            async_fd.clear(ReadyEvent { ready, ..event });
            event.ready = event.ready - ready;
            self.0 = (!event.ready.is_empty()).then_some(event);
        }
    }

    fn ready(&self) -> Ready {
        self.0.map_or(Ready::EMPTY, |e| e.ready)
    }

    /// A guard's `try_io` once its operation returned `result`.
    fn settle<T: AsRawFd, R>(
        &mut self,
        async_fd: &AsyncFd<T>,
        result: io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear(async_fd);
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    pub(super) fn new(async_fd: &'a AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyGuard {
            async_fd,
            observed: Observed(Some(event)),
        }
    }

    /// Forgets the readiness this guard observed: the next wait for it waits for a new event.
    /// Call it when an operation found the fd not ready after all. Does nothing if an event
    /// came since the guard was made, and never clears `READ_CLOSED` or `WRITE_CLOSED`.
    pub fn clear_ready(&mut self) {
        self.observed.clear(self.async_fd);
    }

    /// Forgets the readiness of `ready` (for a guard of several interests: the reading side
    /// found nothing, the writing side still has room). The guard keeps the rest of what it
    /// observed. The same conditions as [`clear_ready`](Self::clear_ready).
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.observed.clear_matching(self.async_fd, ready);
    }

    /// Keeps the readiness set (what dropping the guard does too): says so in the code.
    pub fn retain_ready(&mut self) {}

    /// What the wait observed, minus what this guard cleared since.
    pub fn ready(&self) -> Ready {
        self.observed.ready()
    }

    /// Runs `f` (one non-blocking operation on the fd): `Ok` with its result, or, if it
    /// returned `WouldBlock`, clears the readiness and returns `Err(TryIoError)`, meaning
    /// "wait again".
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        self.observed.settle(self.async_fd, result)
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyMutGuard<'a, T> {
    pub(super) fn new(async_fd: &'a mut AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyMutGuard {
            async_fd,
            observed: Observed(Some(event)),
        }
    }

    /// As [`AsyncFdReadyGuard::clear_ready`].
    pub fn clear_ready(&mut self) {
        self.observed.clear(self.async_fd);
    }

    /// As [`AsyncFdReadyGuard::clear_ready_matching`].
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.observed.clear_matching(self.async_fd, ready);
    }

    /// As [`AsyncFdReadyGuard::retain_ready`].
    pub fn retain_ready(&mut self) {}

    /// As [`AsyncFdReadyGuard::ready`].
    pub fn ready(&self) -> Ready {
        self.observed.ready()
    }

    /// As [`AsyncFdReadyGuard::try_io`], with `f` given the `AsyncFd` mutably.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.async_fd);
        self.observed.settle(self.async_fd, result)
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd` this guard is for, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The object inside the `AsyncFd`, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &*self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}
