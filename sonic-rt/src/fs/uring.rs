//! One io_uring per runtime (Linux), its completions reported to the epoll reactor through an
//! eventfd, so the loop still waits in a single `epoll_wait`.
//!
//! Rules:
//! - The ring belongs to one runtime thread (`Rc`, `RefCell`); a `RefCell` borrow is held only
//!   while pushing, submitting or reaping, never while user code runs (wakers are woken after).
//! - Each operation owns, for as long as the kernel may touch them, every resource its SQE points
//!   to: buffers (a `Vec`'s heap block does not move when the `Vec` does), paths (`CString`),
//!   and the file (an `Arc<File>` keeps the fd open). An operation future dropped before its
//!   completion hands those resources to its slot (`Orphaned`), which keeps them until the CQE
//!   arrives; the ring's drop waits for every operation still in flight.
//! - Submission happens at once (`io_uring_enter` per operation) and the completion queue is
//!   reaped right after it: a read of page-cached data completes inline, so its future is ready
//!   on its first poll, with no wake-up and no thread hand-off.
//! - Every completion signals the registered eventfd, inline ones too (at most one reaper wake
//!   per loop turn, which then finds nothing to do). Switching notifications off while nothing
//!   was in flight (`IORING_CQ_EVENTFD_DISABLED`) saved that, but lost a wake-up under load:
//!   our flag store and tail load race the kernel's tail store and flag load (a store-buffer
//!   pattern with no fence on the kernel's side), and a read hung. `IORING_REGISTER_EVENTFD_ASYNC`
//!   is no help either: it stays silent for completions posted through task work.
//! - A reaper task owns the eventfd as an `io::Async`, reaps on each readiness edge and wakes
//!   the operations' tasks. The reaper holds the ring: it lives as long as the runtime's tasks
//!   do.

use crate::io::Async;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, squeue, IoUring};

enum Slot {
    Free(usize),
    /// Submitted; the waker of the task that awaits it, if it polled.
    InFlight(Option<Waker>),
    /// Submitted; its future was dropped: the resources are kept here until the completion.
    Orphaned(#[allow(dead_code)] Box<dyn Any>),
    /// Completed with this result (`-errno` or a count).
    Done(i32),
}

pub(crate) struct Ring {
    ring: RefCell<IoUring>,
    slots: RefCell<Vec<Slot>>,
    free: Cell<usize>,
    in_flight: Cell<usize>,
    /// Reused by `reap`, so reaping allocates nothing in steady state.
    wake_buf: RefCell<Vec<Waker>>,
}

const NONE: usize = usize::MAX;

/// Whether `/proc/sys/kernel/io_uring_disabled` allows this process a ring: 0 = yes, 1 = only
/// for members of `io_uring_group` (try, and fall back on EPERM), 2 = no.
pub(crate) fn sysctl_allows(contents: Option<&str>) -> bool {
    match contents.map(str::trim) {
        Some("2") => false,
        _ => true, // absent (older kernels), 0, or 1
    }
}

impl Ring {
    /// A ring with `entries` slots, its eventfd registered, and the reaper task spawned on the
    /// current runtime. Errors if the kernel refuses (disabled, seccomp, too old: the caller
    /// then uses the blocking pool).
    pub(crate) fn new(entries: u32, iowq_cpus: Option<&[usize]>) -> io::Result<Rc<Ring>> {
        let allowed = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok();
        if !sysctl_allows(allowed.as_deref()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring is disabled (kernel.io_uring_disabled = 2)",
            ));
        }
        let ring = IoUring::new(entries)?;
        if !ring.params().is_feature_rw_cur_pos() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring without IORING_FEAT_RW_CUR_POS (kernel older than 5.6)",
            ));
        }
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for code in [
            opcode::Read::CODE,
            opcode::Write::CODE,
            opcode::OpenAt::CODE,
            opcode::Fsync::CODE,
        ] {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("io_uring without opcode {code}"),
                ));
            }
        }
        if let Some(cpus) = iowq_cpus {
            // The kernel's io-wq workers are started from the (pinned) runtime thread: give
            // them the CPUs it had before pinning. Best effort.
            // SAFETY: cpu_set_t is plain data; CPU_SET stays in bounds (filtered).
            let set = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
                for &c in cpus.iter().filter(|&&c| c < max) {
                    libc::CPU_SET(c, &mut set);
                }
                set
            };
            let _ = ring.submitter().register_iowq_aff(&set);
        }
        // SAFETY: eventfd takes an initial value and flags, and returns a new fd or -1.
        let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `efd` was just created and is owned by nobody else.
        let efd = unsafe { OwnedFd::from_raw_fd(efd) };
        ring.submitter().register_eventfd(efd.as_raw_fd())?;
        let efd = Async::new(efd)?;
        let ring = Rc::new(Ring {
            ring: RefCell::new(ring),
            slots: RefCell::new(Vec::new()),
            free: Cell::new(NONE),
            in_flight: Cell::new(0),
            wake_buf: RefCell::new(Vec::new()),
        });
        drop(crate::task::spawn(reaper(efd, ring.clone())));
        Ok(ring)
    }

    fn alloc(&self) -> usize {
        let mut slots = self.slots.borrow_mut();
        let key = self.free.get();
        if key == NONE {
            slots.push(Slot::InFlight(None));
            return slots.len() - 1;
        }
        let Slot::Free(next) = slots[key] else {
            unreachable!("the free list points at a used slot")
        };
        self.free.set(next);
        slots[key] = Slot::InFlight(None);
        key
    }

    fn release(&self, slots: &mut [Slot], key: usize) {
        slots[key] = Slot::Free(self.free.get());
        self.free.set(key);
    }

    /// Pushes `entry` (tagged with a new slot) and submits it, then reaps what completed inline.
    /// Returns the slot, or the error if the SQE could not be queued (then nothing points at the
    /// resources any more).
    ///
    /// # Safety
    /// Every pointer in `entry` stays valid, and every fd open, until the slot completes: the
    /// caller keeps the resources in its [`Op`] (which orphans them into the slot on drop).
    unsafe fn submit(&self, entry: squeue::Entry) -> io::Result<usize> {
        let key = self.alloc();
        let entry = entry.user_data(key as u64);
        let mut ring = self.ring.borrow_mut();
        // SAFETY: the caller's contract covers the entry's pointers.
        let pushed = unsafe { ring.submission().push(&entry).is_ok() };
        if !pushed {
            // The submission queue is full: flush it and retry once.
            let _ = ring.submit();
            // SAFETY: as above.
            if unsafe { ring.submission().push(&entry).is_err() } {
                drop(ring);
                let mut slots = self.slots.borrow_mut();
                self.release(&mut slots, key);
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the io_uring submission queue is full",
                ));
            }
        }
        self.in_flight.set(self.in_flight.get() + 1);
        // An error here (EINTR; EAGAIN or EBUSY when the kernel is short of memory or the
        // completion queue is full) leaves the SQE queued: reaping makes room, and the next
        // submission or the reaper's `flush` hands it to the kernel again.
        let _ = ring.submit();
        drop(ring);
        self.reap();
        Ok(key)
    }

    /// Moves every completion into its slot and wakes the tasks waiting for them.
    fn reap(&self) {
        let mut wake = std::mem::take(&mut *self.wake_buf.borrow_mut());
        let mut orphans: Vec<Box<dyn Any>> = Vec::new();
        {
            let mut ring = self.ring.borrow_mut();
            let mut slots = self.slots.borrow_mut();
            for cqe in ring.completion() {
                let key = cqe.user_data() as usize;
                let Some(slot) = slots.get_mut(key) else {
                    continue;
                };
                match std::mem::replace(slot, Slot::Done(cqe.result())) {
                    Slot::InFlight(waker) => wake.extend(waker),
                    Slot::Orphaned(res) => {
                        orphans.push(res);
                        self.release(&mut slots, key);
                    }
                    other => *slot = other, // not ours (cannot happen): leave it
                }
                self.in_flight.set(self.in_flight.get() - 1);
            }
        }
        // Resources and wakers are dropped/woken with no borrow held.
        drop(orphans);
        for w in wake.drain(..) {
            w.wake();
        }
        let mut buf = self.wake_buf.borrow_mut();
        if buf.capacity() < wake.capacity() {
            *buf = wake;
        }
    }

    fn has_unsubmitted(&self) -> bool {
        !self.ring.borrow_mut().submission().is_empty()
    }

    /// Flushes submissions the kernel refused earlier (EAGAIN), then reaps.
    fn flush(&self) {
        let _ = self.ring.borrow_mut().submit();
        self.reap();
    }
}

/// `user_data` of the cancellations the ring's drop submits (their completions are skipped).
const CANCEL_TAG: u64 = u64::MAX;

impl Drop for Ring {
    fn drop(&mut self) {
        // Orphaned operations still point into their resources: cancel them (a read of a pipe
        // might never complete otherwise) and wait for their completions before the ring (and
        // the resources, in the slots) go away.
        let in_flight: Vec<u64> = self
            .slots
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Slot::InFlight(_) | Slot::Orphaned(_)))
            .map(|(k, _)| k as u64)
            .collect();
        for key in in_flight {
            let cancel = opcode::AsyncCancel::new(key).build().user_data(CANCEL_TAG);
            let mut ring = self.ring.borrow_mut();
            // SAFETY: a cancellation points to no memory.
            while unsafe { ring.submission().push(&cancel).is_err() } {
                if ring.submit().is_err() {
                    break;
                }
            }
        }
        while self.in_flight.get() > 0 {
            let res = self.ring.borrow_mut().submit_and_wait(1);
            self.reap();
            if let Err(e) = res {
                if e.raw_os_error() != Some(libc::EINTR) {
                    // Cannot wait: leak the slots rather than free memory the kernel may
                    // still write to.
                    std::mem::forget(std::mem::take(&mut *self.slots.borrow_mut()));
                    return;
                }
            }
        }
    }
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("in_flight", &self.in_flight.get())
            .finish()
    }
}

/// Reaps on every eventfd edge. Holds the ring until the runtime drops its tasks.
async fn reaper(efd: Async<OwnedFd>, ring: Rc<Ring>) {
    let mut buf = [0u8; 8];
    loop {
        let res = efd
            .read_with(|fd| {
                // SAFETY: reads 8 bytes into a live local buffer from the eventfd owned by `efd`.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            })
            .await;
        match res {
            Ok(()) => ring.flush(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// One submitted operation and the resources its SQE points to. Resolves to the kernel's result
/// (`Ok(n)` or the errno as `io::Error`) and the resources back.
pub(crate) struct Op<R: 'static> {
    ring: Rc<Ring>,
    key: usize,
    res: Option<R>,
    /// The submission failed: report this instead.
    failed: Option<io::Error>,
}

impl<R: 'static> Op<R> {
    /// Submits `entry`, whose pointers refer into `res`.
    ///
    /// # Safety
    /// Every pointer in `entry` points into heap memory owned by `res` (or static memory) and
    /// every fd it names is kept open by `res`, so both stay valid while `res` is alive,
    /// wherever `res` is moved.
    pub(crate) unsafe fn submit(ring: Rc<Ring>, entry: squeue::Entry, res: R) -> Op<R> {
        // SAFETY: the caller's contract, and `Op` keeps `res` (or orphans it into the slot) until
        // the completion.
        match unsafe { ring.submit(entry) } {
            Ok(key) => Op {
                ring,
                key,
                res: Some(res),
                failed: None,
            },
            Err(e) => Op {
                ring,
                key: NONE,
                res: Some(res),
                failed: Some(e),
            },
        }
    }
}

impl<R: Unpin + 'static> Future for Op<R> {
    type Output = (io::Result<usize>, R);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Op` is `Unpin` (no field is pinned).
        let this = self.get_mut();
        if let Some(e) = this.failed.take() {
            return Poll::Ready((Err(e), this.res.take().expect("Op polled after completion")));
        }
        let mut slots = this.ring.slots.borrow_mut();
        match &mut slots[this.key] {
            Slot::Done(n) => {
                let n = *n;
                this.ring.release(&mut slots, this.key);
                this.key = NONE;
                let res = this.res.take().expect("Op polled after completion");
                let out = if n < 0 {
                    Err(io::Error::from_raw_os_error(-n))
                } else {
                    Ok(n as usize)
                };
                Poll::Ready((out, res))
            }
            Slot::InFlight(w) => {
                match w {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *w = Some(cx.waker().clone()),
                }
                drop(slots);
                if this.ring.has_unsubmitted() {
                    // The kernel refused a submission (short of memory): retry on the next
                    // poll rather than wait for a completion that cannot come.
                    this.ring.flush();
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            _ => unreachable!("an Op's slot is in flight or done"),
        }
    }
}

impl<R: 'static> Drop for Op<R> {
    fn drop(&mut self) {
        if self.key == NONE {
            return;
        }
        let mut slots = self.ring.slots.borrow_mut();
        match &slots[self.key] {
            Slot::Done(_) => self.ring.release(&mut slots, self.key),
            Slot::InFlight(_) => {
                let res = self.res.take().map(|r| Box::new(r) as Box<dyn Any>);
                let res = res.unwrap_or_else(|| Box::new(()));
                let old = std::mem::replace(&mut slots[self.key], Slot::Orphaned(res));
                drop(slots);
                drop(old); // the waker, outside the borrow
            }
            _ => {}
        }
    }
}

impl<R> fmt::Debug for Op<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op").field("key", &self.key).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::sysctl_allows;

    #[test]
    fn io_uring_disabled_sysctl_is_read_as_the_kernel_documents() {
        assert!(sysctl_allows(Some("0\n")));
        assert!(
            sysctl_allows(Some("1\n")),
            "1: allowed for a group; try and fall back"
        );
        assert!(!sysctl_allows(Some("2\n")));
        assert!(sysctl_allows(None), "no such file: a kernel before 6.6");
    }
}
