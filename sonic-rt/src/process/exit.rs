//! Waiting for a child's exit without blocking the loop, and reaping children nobody waits for.
//!
//! Rules:
//! - On Linux a child gets a pidfd (`pidfd_open`), registered with the reactor: it becomes
//!   readable when the child exits, with no signal handler involved. Elsewhere, or when
//!   `pidfd_open` fails (a kernel before 5.3, a seccomp filter), the waiter listens for SIGCHLD
//!   (sonic's signal driver) and tries `waitpid(WNOHANG)` after each delivery. The listener is
//!   created before the first try, so an exit between the two is not missed.
//! - Either way the exit status is taken with `waitpid(pid, WNOHANG)` (std's `try_wait`), which
//!   reaps the child: a child is reaped by exactly one call that saw it exit.
//! - A `Child` dropped before its exit was reaped is handed to a detached reaper task on the
//!   runtime (after `SIGKILL` if `kill_on_drop`); if that task is itself dropped first (the
//!   runtime shuts down), the child goes to a process-wide orphan list that every later spawn
//!   and wait sweeps with `WNOHANG`. So no exited child stays a zombie for longer than the
//!   program keeps using processes.

use crate::io::Async;
use crate::signal::unix::{signal, Signal, SignalKind};
use std::cell::Cell;
use std::io;
use std::os::fd::OwnedFd;
use std::process::{Child as StdChild, ExitStatus};
use std::sync::Mutex;

/// How a child's exit is noticed.
#[derive(Debug)]
pub(crate) enum Exit {
    /// Readable when the child has exited.
    Pidfd(Async<OwnedFd>),
    /// SIGCHLD deliveries, each a hint to try `waitpid` again.
    Sigchld(Signal),
}

thread_local! {
    /// Tests force the SIGCHLD path on their thread.
    static FORCE_SIGCHLD: Cell<bool> = const { Cell::new(false) };
}

/// Makes children spawned on this thread use the SIGCHLD fallback instead of a pidfd (tests).
#[doc(hidden)]
pub fn force_sigchld_fallback(on: bool) {
    FORCE_SIGCHLD.with(|f| f.set(on));
}

impl Exit {
    /// The way to wait for `pid`, set up right after the spawn.
    pub(crate) fn new(pid: u32) -> io::Result<Exit> {
        if !FORCE_SIGCHLD.with(Cell::get) {
            if let Some(fd) = pidfd_open(pid) {
                return Ok(Exit::Pidfd(Async::new(fd)?));
            }
        }
        Ok(Exit::Sigchld(signal(SignalKind::child())?))
    }

    /// Waits until the child may have changed state.
    async fn changed(&mut self) -> io::Result<()> {
        match self {
            Exit::Pidfd(fd) => {
                // Level-triggered in meaning: once the child exited the fd stays readable, so
                // readiness is cleared only after a `try_wait` that found the child running.
                fd.readable().await
            }
            Exit::Sigchld(sig) => {
                sig.recv().await;
                Ok(())
            }
        }
    }

    fn clear(&self) {
        if let Exit::Pidfd(fd) = self {
            fd.clear_readable();
        }
    }
}

/// Waits for `child`'s exit (reaping it).
pub(crate) async fn wait(child: &mut StdChild, exit: &mut Exit) -> io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            sweep_orphans();
            return Ok(status);
        }
        exit.clear();
        // Re-check after clearing: an exit between the try and the clear left no new edge.
        if let Some(status) = child.try_wait()? {
            sweep_orphans();
            return Ok(status);
        }
        exit.changed().await?;
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just created this fd for us.
    Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pidfd_open(_pid: u32) -> Option<OwnedFd> {
    None
}

/// Children dropped unreaped whose reaper task is gone.
static ORPHANS: Mutex<Vec<StdChild>> = Mutex::new(Vec::new());

/// Reaps every orphan that has exited.
pub(crate) fn sweep_orphans() {
    let mut orphans = ORPHANS.lock().unwrap_or_else(|p| p.into_inner());
    orphans.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
}

/// Owns a dropped child until it is reaped; if dropped first, files it with the orphans.
struct Orphan(Option<StdChild>);

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            if matches!(child.try_wait(), Ok(None)) {
                ORPHANS
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(child);
            }
        }
    }
}

/// A `Child` was dropped before its exit was reaped: reap it in the background.
pub(crate) fn orphan(child: StdChild, exit: Exit) {
    let mut orphan = Orphan(Some(child));
    if matches!(orphan.0.as_mut().map(StdChild::try_wait), Some(Ok(Some(_)))) {
        orphan.0 = None;
        return;
    }
    if crate::context::current().is_none() {
        return; // dropped outside a runtime: the orphan list takes it
    }
    drop(crate::task::spawn(async move {
        let mut exit = exit;
        if let Some(child) = orphan.0.as_mut() {
            if wait(child, &mut exit).await.is_ok() {
                drop(orphan.0.take()); // reaped: nothing for the orphan list
            }
        }
    }));
}
