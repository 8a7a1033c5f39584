//! The process-global half of signal handling: the handler, one delivery counter per signal, and
//! the list of self-pipes (one per runtime that listens) the handler writes to.
//!
//! Rules:
//! - The handler is installed through `signal-hook-registry` (tokio's choice), which chains to
//!   a handler that other code installed before (it runs after ours) and saves `errno` around
//!   the whole thing.
//! - The handler only does async-signal-safe things: atomic loads and read-modify-writes on
//!   lock-free atomics and `write(2)` of one byte to a non-blocking pipe. It never allocates,
//!   locks or blocks.
//! - It bumps the signal's counter *before* writing to the pipes. A reader drains its pipe
//!   *before* loading the counters, so a delivery is either seen by this drain's counter load or
//!   leaves a byte (and a new readiness edge) behind for the next one.
//! - Pipe slots are leaked nodes of an append-only list, never freed, so the handler can walk
//!   the list at any time. A slot is handed out by swapping its fd from `FREE` to a pipe's write
//!   end, and given back by swapping it to `FREE` and then waiting until no handler is inside
//!   the slot (`busy == 0`) before the fd is closed: the handler never writes to a closed (and
//!   possibly reused) fd.
//! - A handler, once installed for a signal, stays for the life of the process (like tokio): the
//!   signal's default action (terminating the process for SIGINT) is gone from then on.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// Signal numbers handled are `1..NSIG` (Linux real-time signals end at 64).
pub(crate) const NSIG: usize = 65;

const FREE: i32 = -1;

/// Deliveries per signal since the process started (wrapping; only changes are compared).
static COUNTS: [AtomicUsize; NSIG] = [const { AtomicUsize::new(0) }; NSIG];

/// Which signals have our handler installed.
static INSTALLED: Mutex<[bool; NSIG]> = Mutex::new([false; NSIG]);

/// Head of the append-only list of pipe slots.
static SLOTS: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());

/// One runtime's pipe, as the handler sees it.
pub(crate) struct Slot {
    /// The pipe's write end, or `FREE`.
    fd: AtomicI32,
    /// Handlers currently between loading `fd` and finishing their write.
    busy: AtomicUsize,
    /// The next slot; set before this one is published, never changed after.
    next: AtomicPtr<Slot>,
}

/// The number of deliveries of `signum` so far.
pub(crate) fn count(signum: usize) -> usize {
    COUNTS[signum].load(SeqCst)
}

fn on_signal(signum: usize) {
    if let Some(count) = COUNTS.get(signum) {
        count.fetch_add(1, SeqCst);
    }
    let byte = 1u8;
    let mut p = SLOTS.load(SeqCst);
    // SAFETY: slots are leaked `Box`es that are never freed, so every pointer in the list is
    // valid for the life of the process.
    while let Some(slot) = unsafe { p.as_ref() } {
        slot.busy.fetch_add(1, SeqCst);
        let fd = slot.fd.load(SeqCst);
        if fd != FREE {
            // SAFETY: `fd` is open: `release` swaps it out and waits for `busy == 0` before the
            // owner closes it. The buffer is one live byte. The pipe is non-blocking; a full
            // pipe (EAGAIN) already has a wake-up pending, so the result is ignored.
            unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
        }
        slot.busy.fetch_sub(1, SeqCst);
        p = slot.next.load(SeqCst);
    }
}

/// Installs the handler for `signum` unless it already is.
pub(crate) fn install(signum: libc::c_int) -> io::Result<()> {
    let idx = match usize::try_from(signum) {
        Ok(i) if (1..NSIG).contains(&i) => i,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signum} is out of range"),
            ))
        }
    };
    if [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ]
    .contains(&signum)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signum} cannot be listened for (it cannot be caught, or catching it is unsound)"),
        ));
    }
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if installed[idx] {
        return Ok(());
    }
    // SAFETY: the action is async-signal-safe (module rules); the signal is none of those
    // signal-hook-registry refuses (checked above).
    unsafe { signal_hook_registry::register(signum, move || on_signal(idx)) }?;
    installed[idx] = true;
    Ok(())
}

/// A self-pipe whose write end the handler knows about. Dropping it unregisters the write end
/// (waiting out any handler inside it) and then closes both ends' owner copies.
pub(crate) struct Pipe {
    slot: &'static Slot,
    write: Option<OwnedFd>,
}

impl Pipe {
    /// Creates a non-blocking, close-on-exec pipe, registers its write end with the handler and
    /// returns it with the read end.
    pub(crate) fn new() -> io::Result<(Pipe, OwnedFd)> {
        let (read, write) = pipe()?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&write);
        let slot = claim(fd);
        Ok((
            Pipe {
                slot,
                write: Some(write),
            },
            read,
        ))
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.slot.fd.swap(FREE, SeqCst);
        // A handler that loaded the fd before the swap has `busy` raised until its write is
        // done; it runs to completion (it never waits on anything), so this ends.
        while self.slot.busy.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        drop(self.write.take());
    }
}

/// Puts `fd` in a free slot, or in a new one appended to the list.
fn claim(fd: i32) -> &'static Slot {
    let mut p = SLOTS.load(SeqCst);
    // SAFETY: as in `on_signal`, listed slots are never freed.
    while let Some(slot) = unsafe { p.as_ref() } {
        if slot.fd.compare_exchange(FREE, fd, SeqCst, SeqCst).is_ok() {
            return slot;
        }
        p = slot.next.load(SeqCst);
    }
    let slot: &'static Slot = Box::leak(Box::new(Slot {
        fd: AtomicI32::new(fd),
        busy: AtomicUsize::new(0),
        next: AtomicPtr::new(ptr::null_mut()),
    }));
    let mut head = SLOTS.load(SeqCst);
    loop {
        slot.next.store(head, SeqCst);
        let new = ptr::from_ref(slot).cast_mut();
        match SLOTS.compare_exchange(head, new, SeqCst, SeqCst) {
            Ok(_) => return slot,
            Err(now) => head = now,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe writes two fds into the array it is given.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [fds[0], fds[1]] {
        // SAFETY: fcntl on fds owned above, with integer arguments only.
        let ok = unsafe {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            fl >= 0
                && libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) >= 0
                && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) >= 0
        };
        if !ok {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((r, w))
}
