//! tokio's `runtime`: [`Builder`], [`Runtime`], [`Handle`].
//!
//! Only the current-thread runtime exists: [`Builder::new_multi_thread`] is there so that code
//! naming it compiles, and its [`build`](Builder::build) fails with an error that says to use
//! [`Builder::new_current_thread`].

use std::fmt;
use std::io;
use std::time::Duration;

pub use sonic_rt::{EnterGuard, Handle, Runtime, RuntimeFlavor, TryCurrentError};

/// tokio's `runtime::Id`: sonic-rt's [`RuntimeId`](sonic_rt::RuntimeId).
pub use sonic_rt::RuntimeId as Id;

/// Builds a [`Runtime`] with tokio's method names (sonic-rt's [`Builder`](sonic_rt::Builder)
/// underneath; [`sonic`](Builder::sonic) reaches its own options, such as busy-polling).
pub struct Builder {
    inner: sonic_rt::Builder,
    multi_thread: bool,
}

impl Builder {
    /// A builder for the single-thread runtime (the only kind sonic has).
    pub fn new_current_thread() -> Builder {
        Builder {
            inner: sonic_rt::Builder::new_current_thread(),
            multi_thread: false,
        }
    }

    /// tokio's multi-thread runtime is not available: this builder's
    /// [`build`](Builder::build) fails, naming [`Builder::new_current_thread`]. (Run one
    /// current-thread runtime per core to scale out.)
    pub fn new_multi_thread() -> Builder {
        Builder {
            inner: sonic_rt::Builder::new_current_thread(),
            multi_thread: true,
        }
    }

    /// Enables every driver. A no-op: a sonic runtime always has I/O, time and signals.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Enables the I/O driver (always on; a no-op).
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Enables the timer (always on; a no-op).
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Starts the clock paused (tokio's `test-util` option; always available here).
    pub fn start_paused(&mut self, on: bool) -> &mut Builder {
        self.inner.start_paused(on);
        self
    }

    /// The most threads the blocking pool may start (default 512, as tokio's).
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.inner.max_blocking_threads(n);
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits (default 10 s).
    pub fn thread_keep_alive(&mut self, idle: Duration) -> &mut Builder {
        self.inner.thread_keep_alive(idle);
        self
    }

    /// Tasks run between two reactor turns (default 61, as tokio's).
    pub fn event_interval(&mut self, n: u32) -> &mut Builder {
        self.inner.event_interval(n as usize);
        self
    }

    /// Names the runtime (`Handle::name` returns it); an empty name fails the build.
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.inner.name(name);
        self
    }

    /// tokio's worker-thread count. Ignored on a current-thread builder, as in tokio (and the
    /// multi-thread builder fails to build anyway).
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        let _ = n;
        self
    }

    /// sonic-rt's builder, for the options tokio does not have (`busy_poll`,
    /// `spin_before_park`, `pin_to_core`, `task_budget`, `read_ahead`, `io_uring`...).
    pub fn sonic(&mut self) -> &mut sonic_rt::Builder {
        &mut self.inner
    }

    /// Builds the runtime. Fails on a [`new_multi_thread`](Builder::new_multi_thread) builder.
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.multi_thread {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "sonic-tokio has no multi-thread runtime: use \
                 `Builder::new_current_thread()` (or `#[tokio::main(flavor = \"current_thread\")]`), \
                 and one runtime per core to scale out",
            ));
        }
        self.inner.build()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("inner", &self.inner)
            .field("multi_thread", &self.multi_thread)
            .finish()
    }
}
