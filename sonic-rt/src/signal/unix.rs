//! Unix signals: `signal(SignalKind)` returns a `Signal` stream of deliveries.

use super::driver::Driver;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Which signal to listen for: a Unix signal number with tokio's constructor names.
///
/// # Examples
/// ```
/// use sonic_rt::signal::unix::SignalKind;
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal number. `signal` refuses the ones that cannot (SIGKILL, SIGSTOP) or should not
    /// (SIGSEGV, SIGBUS, SIGILL, SIGFPE) be caught this way.
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// SIGALRM.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGCHLD.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGHUP.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGINT (Ctrl-C in a terminal).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGIO.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// SIGPIPE.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGQUIT.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGTERM.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGWINCH.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }
}

/// Starts listening for `kind` on the current runtime.
///
/// The first call for a signal installs a process-wide handler that stays for the life of the
/// process: the signal's default action (terminating, for SIGINT and SIGTERM) no longer
/// happens, whether or not a listener exists. Deliveries before this call are not reported.
///
/// Errors outside a sonic runtime, for a signal number out of range or one that cannot be
/// caught (SIGKILL, SIGSTOP) or must not be (SIGSEGV, SIGBUS, SIGILL, SIGFPE), and if the
/// runtime's self-pipe cannot be created (EMFILE).
///
/// # Examples
/// ```
/// use sonic_rt::signal::unix::{signal, SignalKind};
///
/// sonic_rt::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     // SAFETY: raise takes a signal number; our handler is installed, so it does not kill.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     usr1.recv().await;
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.0;
    super::registry::install(signum)?;
    let driver = Driver::current()?;
    let idx = signum as usize; // in 1..NSIG: checked by install
    let (key, seen) = driver.add_listener(idx);
    Ok(Signal {
        driver,
        signum: idx,
        key,
        seen,
    })
}

/// A listener for one signal on one runtime (`!Send`). Any number of listeners, on any number
/// of runtimes, may wait on the same signal: each of them sees each delivery.
///
/// Deliveries that arrive while nobody polls coalesce: `recv` reports "at least one since the
/// last `recv`", as Unix signals themselves do.
pub struct Signal {
    driver: Rc<Driver>,
    signum: usize,
    key: usize,
    seen: u64,
}

impl Signal {
    /// Waits for the next delivery. Always `Some(())`; the `Option` mirrors tokio's signature.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; `Ready(Some(()))` once per generation of deliveries.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let now = self.driver.generation(self.signum);
        if now != self.seen {
            self.seen = now;
            return Poll::Ready(Some(()));
        }
        self.driver.register(self.signum, self.key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.driver.remove_listener(self.signum, self.key);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.signum)
            .finish_non_exhaustive()
    }
}

// Compile-time checks: a `Signal` belongs to its runtime's thread (`!Send`, `!Sync`: it holds the
// runtime's driver by `Rc`); a `SignalKind` is plain data.
const _: fn() = || {
    fn plain_data<T: Send + Sync + Copy>() {}
    plain_data::<SignalKind>();

    // If `Signal` implemented `Send` (or `Sync`), both impls would apply and naming `probe`
    // without choosing one would be ambiguous: a compile error.
    trait NotSend<Which> {
        fn probe() {}
    }
    impl<T: ?Sized> NotSend<()> for T {}
    struct IsSend;
    impl<T: ?Sized + Send> NotSend<IsSend> for T {}
    let _ = <Signal as NotSend<_>>::probe;

    trait NotSync<Which> {
        fn probe() {}
    }
    impl<T: ?Sized> NotSync<()> for T {}
    struct IsSync;
    impl<T: ?Sized + Sync> NotSync<IsSync> for T {}
    let _ = <Signal as NotSync<_>>::probe;
};
