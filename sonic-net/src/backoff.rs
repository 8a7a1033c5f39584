//! Accept back-off after resource exhaustion.
//!
//! When `accept` fails with `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM`, the connection stays in
//! the kernel's backlog and the listener stays readable: trying again at once fails again, so a
//! loop that retries on error would spin at 100% CPU. After such an error the listener's next
//! accept first sleeps for a short delay (a timer, no CPU), then asks the kernel again. The
//! error itself is still returned to the caller, every time, so it can be logged or acted on.

use sonic_rt::time::{sleep, sleep_until, Instant, Sleep};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// The default pause after an accept failed for lack of file descriptors or memory.
pub(crate) const DEFAULT_DELAY: Duration = Duration::from_millis(10);

pub(crate) struct AcceptBackoff {
    delay: Cell<Duration>,
    /// When the running back-off ends. Each waiting `accept` future sleeps until then on a
    /// timer of its own, so every one of them is woken.
    until: Cell<Option<Instant>>,
    /// The `poll_accept` path's timer: one, shared, like that path's readiness waker (only the
    /// most recent poller is woken). `Sleep` is `Unpin` and lives inline: the error path
    /// allocates nothing either.
    pending: RefCell<Option<Sleep>>,
}

impl AcceptBackoff {
    pub(crate) fn new() -> AcceptBackoff {
        AcceptBackoff {
            delay: Cell::new(DEFAULT_DELAY),
            until: Cell::new(None),
            pending: RefCell::new(None),
        }
    }

    pub(crate) fn delay(&self) -> Duration {
        self.delay.get()
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        self.delay.set(delay);
    }

    /// Waits for the end of the running back-off, if any (the async `accept`s).
    pub(crate) async fn wait(&self) {
        if let Some(until) = self.until.get() {
            if Instant::now() < until {
                sleep_until(until).await;
            }
            // Over, unless a newer back-off started meanwhile.
            if self.until.get() == Some(until) {
                self.until.set(None);
            }
        }
    }

    /// Ready unless a back-off is running (the `poll_accept` path).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut pending = self.pending.borrow_mut();
        if let Some(sleep) = pending.as_mut() {
            ready!(Pin::new(sleep).poll(cx));
            *pending = None;
        }
        Poll::Ready(())
    }

    /// Looks at an accept error; starts a back-off if retrying at once would fail the same way.
    pub(crate) fn on_error(&self, err: &io::Error) {
        if is_resource_exhaustion(err) && !self.delay.get().is_zero() {
            let timer = sleep(self.delay.get());
            self.until.set(Some(timer.deadline()));
            *self.pending.borrow_mut() = Some(timer);
        }
    }
}

impl fmt::Debug for AcceptBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptBackoff")
            .field("delay", &self.delay.get())
            .field("until", &self.until.get())
            .finish()
    }
}

fn is_resource_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Accept errors that concern one connection only (it was reset before we took it): the next
/// connection in the backlog is fine, so accept retries at once instead of failing.
pub(crate) fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO)
    )
}
