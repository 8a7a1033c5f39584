//! Linux poller: epoll, edge-triggered, with an eventfd for cross-thread notification and
//! nanosecond waits through `epoll_pwait2` (a timerfd where the kernel predates it).

use super::poller::{timespec, Event, NOTIFY_TOKEN, TIMER_TOKEN};
use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(crate) struct Poller {
    epoll: OwnedFd,
    notify: Arc<OwnedFd>,
    /// `Some(false)` once the kernel said `ENOSYS` to `epoll_pwait2`.
    has_pwait2: Cell<bool>,
    timerfd: Option<OwnedFd>,
}

/// Ends a wait from any thread by writing to an eventfd registered in the epoll set.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    fd: Arc<OwnedFd>,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live local to an fd this notifier keeps open. A failure
        // (EAGAIN when the counter is saturated) still leaves the eventfd readable, which is all
        // a wake needs.
        unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }
}

pub(crate) struct Events {
    buf: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    pub(crate) fn with_capacity(cap: usize) -> Events {
        let cap = cap.clamp(1, i32::MAX as usize);
        Events {
            buf: vec![libc::epoll_event { events: 0, u64: 0 }; cap],
            len: 0,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buf[..self.len].iter().map(|e| {
            let bits = e.events as libc::c_int;
            let hup = bits & libc::EPOLLHUP != 0;
            let error = bits & libc::EPOLLERR != 0;
            Event {
                token: e.u64,
                readable: bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0,
                writable: bits & libc::EPOLLOUT != 0,
                read_closed: hup || bits & libc::EPOLLRDHUP != 0,
                write_closed: hup,
                error,
                priority: bits & libc::EPOLLPRI != 0,
            }
        })
    }
}

impl Poller {
    pub(crate) fn new() -> io::Result<(Poller, Notifier)> {
        // SAFETY: plain syscalls; each returned fd is checked, then owned exactly once.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let notify = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::eventfd(
                0,
                libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
            ))?)
        };
        let poller = Poller {
            epoll,
            notify: Arc::new(notify),
            has_pwait2: Cell::new(!cfg!(miri)),
            timerfd: None,
        };
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            poller.notify.as_raw_fd(),
            libc::EPOLLIN as u32,
            NOTIFY_TOKEN,
        )?;
        let notifier = Notifier {
            fd: poller.notify.clone(),
        };
        Ok((poller, notifier))
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: events | libc::EPOLLET as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) })?;
        Ok(())
    }

    pub(crate) fn register(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let events = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI;
        self.ctl(libc::EPOLL_CTL_ADD, fd, events as u32, token)
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: a null event pointer is allowed for EPOLL_CTL_DEL since Linux 2.6.9.
        cvt(unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        })?;
        Ok(())
    }

    pub(crate) fn drain_notifications(&self) {
        let mut buf = 0u64;
        // SAFETY: reads at most 8 bytes into a live local; the fd is non-blocking.
        unsafe {
            libc::read(self.notify.as_raw_fd(), (&mut buf as *mut u64).cast(), 8);
        }
    }

    pub(crate) fn wait(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.len = 0;
        let n = match timeout {
            Some(d) if d.is_zero() => self.epoll_wait(events, 0)?,
            None => self.epoll_wait(events, -1)?,
            Some(d) if self.has_pwait2.get() => match self.epoll_pwait2(events, d) {
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    self.has_pwait2.set(false);
                    self.wait_with_timerfd(events, d)?
                }
                other => other?,
            },
            Some(d) => self.wait_with_timerfd(events, d)?,
        };
        events.len = n;
        Ok(())
    }

    fn epoll_wait(&self, events: &mut Events, timeout_ms: libc::c_int) -> io::Result<usize> {
        // SAFETY: the buffer holds `buf.len()` initialised events and outlives the call.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.buf.as_mut_ptr(),
                events.buf.len() as libc::c_int,
                timeout_ms,
            )
        };
        Ok(cvt(n)? as usize)
    }

    fn epoll_pwait2(&self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        let ts = timespec(timeout);
        // SAFETY: epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize): the
        // buffer and timespec are live for the call; a null sigmask leaves the mask alone.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                self.epoll.as_raw_fd(),
                events.buf.as_mut_ptr(),
                events.buf.len() as libc::c_int,
                &ts as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Fallback for kernels without `epoll_pwait2`: a timerfd in the set ends the wait on time.
    fn wait_with_timerfd(&mut self, events: &mut Events, timeout: Duration) -> io::Result<usize> {
        if cfg!(miri) {
            // Miri has no timerfd: round up to whole milliseconds instead.
            let ms = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128);
            return self.epoll_wait(events, ms as libc::c_int);
        }
        if self.timerfd.is_none() {
            // SAFETY: plain syscall; the fd is checked and then owned once.
            let fd = unsafe {
                OwnedFd::from_raw_fd(cvt(libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_CLOEXEC | libc::TFD_NONBLOCK,
                ))?)
            };
            self.ctl(
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                libc::EPOLLIN as u32,
                TIMER_TOKEN,
            )?;
            self.timerfd = Some(fd);
        }
        let tfd = self.timerfd.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1);
        let spec = libc::itimerspec {
            it_interval: timespec(Duration::ZERO),
            // A zero it_value disarms, so the shortest wait is one nanosecond.
            it_value: timespec(timeout.max(Duration::from_nanos(1))),
        };
        // SAFETY: `spec` is live for the call; a null old-value pointer is allowed.
        cvt(unsafe { libc::timerfd_settime(tfd, 0, &spec, std::ptr::null_mut()) })?;
        let n = self.epoll_wait(events, -1)?;
        let mut expirations = 0u64;
        // SAFETY: reads at most 8 bytes into a live local from a non-blocking fd.
        unsafe { libc::read(tfd, (&mut expirations as *mut u64).cast(), 8) };
        Ok(n)
    }
}
