//! BSD and macOS poller: kqueue with EV_CLEAR (edge-triggered), EVFILT_USER for cross-thread
//! notification, and timespec timeouts (nanoseconds natively).

use super::poller::{timespec, Event, NOTIFY_TOKEN};
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

fn kevent(ident: usize, filter: i16, flags: u16, fflags: u32, token: u64) -> libc::kevent {
    // SAFETY: kevent is a plain C struct for which all-zero bytes are a valid value.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = ident as _;
    ev.filter = filter as _;
    ev.flags = flags as _;
    ev.fflags = fflags as _;
    ev.udata = token as usize as _;
    ev
}

pub(crate) struct Poller {
    kq: Arc<OwnedFd>,
}

/// Ends a wait from any thread by triggering an EVFILT_USER event on the kqueue.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    kq: Arc<OwnedFd>,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        let ev = kevent(0, libc::EVFILT_USER, 0, libc::NOTE_TRIGGER, NOTIFY_TOKEN);
        // SAFETY: one valid change, no event list; the kqueue fd is kept open by the Arc.
        unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                &ev,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            );
        }
    }
}

pub(crate) struct Events {
    buf: Vec<libc::kevent>,
    len: usize,
}

impl Events {
    pub(crate) fn with_capacity(cap: usize) -> Events {
        let cap = cap.clamp(1, i32::MAX as usize);
        Events {
            buf: vec![kevent(0, 0, 0, 0, 0); cap],
            len: 0,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buf[..self.len].iter().map(|e| {
            let eof = e.flags & libc::EV_EOF != 0;
            let error = e.flags & libc::EV_ERROR != 0;
            let read = e.filter == libc::EVFILT_READ;
            let write = e.filter == libc::EVFILT_WRITE;
            Event {
                token: e.udata as usize as u64,
                readable: read,
                writable: write,
                read_closed: read && eof,
                write_closed: write && eof,
                error,
                priority: false,
            }
        })
    }
}

impl Poller {
    pub(crate) fn new() -> io::Result<(Poller, Notifier)> {
        // SAFETY: plain syscall; the fd is checked, then owned once.
        let kq = Arc::new(unsafe { OwnedFd::from_raw_fd(cvt(libc::kqueue())?) });
        // SAFETY: fcntl on a valid fd we own.
        cvt(unsafe { libc::fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
        let poller = Poller { kq: kq.clone() };
        let ev = kevent(
            0,
            libc::EVFILT_USER,
            libc::EV_ADD | libc::EV_CLEAR,
            0,
            NOTIFY_TOKEN,
        );
        poller.apply(&[ev])?;
        Ok((poller, Notifier { kq }))
    }

    fn apply(&self, changes: &[libc::kevent]) -> io::Result<()> {
        // SAFETY: the change list is valid for the call; no event list is requested.
        cvt(unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                changes.as_ptr(),
                changes.len() as _,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        })?;
        Ok(())
    }

    pub(crate) fn register(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        self.apply(&[
            kevent(fd as usize, libc::EVFILT_READ, flags, 0, token),
            kevent(fd as usize, libc::EVFILT_WRITE, flags, 0, token),
        ])
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        for filter in [libc::EVFILT_READ, libc::EVFILT_WRITE] {
            match self.apply(&[kevent(fd as usize, filter, libc::EV_DELETE, 0, 0)]) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                other => other?,
            }
        }
        Ok(())
    }

    pub(crate) fn drain_notifications(&self) {
        // EV_CLEAR resets the user event when it is reported; nothing to read.
    }

    pub(crate) fn wait(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.len = 0;
        let ts = timeout.map(timespec);
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: the event buffer and the optional timespec are live for the call.
        let n = cvt(unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                std::ptr::null(),
                0,
                events.buf.as_mut_ptr(),
                events.buf.len() as _,
                ts_ptr,
            )
        })?;
        events.len = n as usize;
        Ok(())
    }
}
