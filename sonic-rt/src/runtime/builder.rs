//! `Builder`: runtime options.

use super::core::{Config, Core};
use super::metrics::{PollTiming, SlowPoll};
use super::Runtime;
use crate::blocking::{affinity, PoolConfig};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Configures and builds a [`Runtime`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = sonic_rt::Builder::new()
///     .busy_poll(true)            // never sleep in the kernel
///     .spin_before_park(Duration::from_micros(50))
///     .event_capacity(1024)
///     .task_budget(128)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
    pin_to_core: Option<usize>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// Default options: sleep in the kernel when idle, 1024 events per wait, a budget of 128
    /// I/O operations per task poll, the reactor polled at least every 61 tasks.
    pub fn new() -> Builder {
        Builder {
            config: Config {
                busy_poll: false,
                spin: Duration::ZERO,
                event_capacity: 1024,
                event_interval: 61,
                budget: 128,
                start_paused: false,
                read_ahead: 0,
                blocking: PoolConfig::default(),
                io_uring: true,
                timing: PollTiming::default(),
                name: None,
            },
            pin_to_core: None,
        }
    }

    /// Same as [`Builder::new`]; the name tokio users know (every sonic runtime is one thread).
    pub fn new_current_thread() -> Builder {
        Builder::new()
    }

    /// Accepted for tokio compatibility; sonic has no optional drivers to enable.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Busy-poll: the loop never sleeps in the kernel, polling with a zero timeout and reading
    /// the clock every turn. For a thread pinned to an isolated core: lowest latency, 100% CPU.
    pub fn busy_poll(&mut self, on: bool) -> &mut Builder {
        self.config.busy_poll = on;
        self
    }

    /// Spin-then-sleep: after the last work, keep polling without sleeping for `idle` before
    /// blocking in the kernel. Zero (the default) sleeps at once.
    pub fn spin_before_park(&mut self, idle: Duration) -> &mut Builder {
        self.config.spin = idle;
        self
    }

    /// Pins the thread that builds (and so runs) the runtime to CPU `core` (Linux
    /// `sched_setaffinity`). `build` fails with a clear error where the platform cannot pin or
    /// the core is not available to this process.
    pub fn pin_to_core(&mut self, core: usize) -> &mut Builder {
        self.pin_to_core = Some(core);
        self
    }

    /// How many readiness events one wait may return (at least 1).
    pub fn event_capacity(&mut self, n: usize) -> &mut Builder {
        self.config.event_capacity = n.max(1);
        self
    }

    /// How many I/O operations a task may do in one poll before it must yield (at least 1).
    pub fn task_budget(&mut self, n: u32) -> &mut Builder {
        self.config.budget = n.clamp(1, u32::MAX - 1);
        self
    }

    /// How many tasks may run between two looks at the reactor and the timers (at least 1).
    pub fn event_interval(&mut self, n: usize) -> &mut Builder {
        self.config.event_interval = n.max(1);
        self
    }

    /// Starts with a paused clock (see [`time::pause`](crate::time::pause)).
    pub fn start_paused(&mut self, on: bool) -> &mut Builder {
        self.config.start_paused = on;
        self
    }

    /// The most threads the blocking pool ([`spawn_blocking`](crate::blocking::spawn_blocking),
    /// file I/O, name lookups) runs at once (512 by default, as in tokio); more jobs wait in
    /// its queue. Threads start when needed.
    ///
    /// # Panics
    /// If `n` is zero (as tokio's).
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "max_blocking_threads cannot be set to 0");
        self.config.blocking.max_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits (10 s by default,
    /// as in tokio).
    pub fn thread_keep_alive(&mut self, idle: Duration) -> &mut Builder {
        self.config.blocking.keep_alive = idle;
        self
    }

    /// Whether file I/O ([`fs`](crate::fs)) may use an io_uring on Linux (default `true`; the
    /// ring is still not used where the kernel refuses it). `false` runs every file operation
    /// on the blocking pool, as other platforms do.
    pub fn io_uring(&mut self, on: bool) -> &mut Builder {
        self.config.io_uring = on;
        self
    }

    /// Times every task poll and counts it in the poll time histogram of
    /// [`Runtime::metrics`](crate::Runtime::metrics) (tokio's builder option of the same name),
    /// and measures the loop's busy and parked time (`total_busy_duration`,
    /// `total_park_duration`). Off by default: timing costs two clock reads per poll and per
    /// blocking wait (25 to 60 ns each; see BENCHMARKS.md, "Runtime metrics"). The counters
    /// (spawns, polls, parks, turns, events, remote items, timers) are always kept.
    ///
    /// # Examples
    /// ```
    /// let rt = sonic_rt::Builder::new()
    ///     .enable_metrics_poll_time_histogram()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { sonic_rt::spawn(async {}).await.unwrap() });
    /// let m = rt.metrics();
    /// let timed: u64 = (0..m.poll_time_histogram_num_buckets())
    ///     .map(|b| m.poll_time_histogram_bucket_count(b))
    ///     .sum();
    /// assert_eq!(timed, m.poll_count());
    /// ```
    pub fn enable_metrics_poll_time_histogram(&mut self) -> &mut Builder {
        self.config.timing.histogram = true;
        self
    }

    /// The stall detector: after a task poll that took longer than `threshold`, `callback` is
    /// called on the runtime's thread with the task's [`Id`](crate::task::Id), the poll's
    /// duration and where the task was spawned (the caller of `spawn`, `spawn_local`,
    /// `Handle::spawn`, `JoinSet::spawn`...), so the task that blocked the loop can be found.
    /// glommio's stall detector and tokio's poll time histogram answer the same question.
    ///
    /// Setting it times every task poll (two clock reads per poll, as
    /// [`enable_metrics_poll_time_histogram`](Builder::enable_metrics_poll_time_histogram),
    /// whose histogram it fills too). The callback runs after the poll returned, outside the
    /// task; a panic in it is reported on stderr and the loop goes on. Polls slower than the
    /// threshold are also counted in `RuntimeMetrics::slow_poll_count`.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let rt = sonic_rt::Builder::new()
    ///     .on_slow_poll(Duration::from_millis(1), |slow| eprintln!("stall: {slow}"))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     sonic_rt::spawn(async {
    ///         let start = Instant::now();
    ///         while start.elapsed() < Duration::from_millis(2) {} // blocks the loop: reported
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// assert_eq!(rt.metrics().slow_poll_count(), 1);
    /// ```
    pub fn on_slow_poll<F>(&mut self, threshold: Duration, callback: F) -> &mut Builder
    where
        F: Fn(&SlowPoll) + Send + Sync + 'static,
    {
        self.config.timing.slow = Some((threshold, Arc::new(callback)));
        self
    }

    /// Builds the runtime on this thread (on Linux it also sets the thread's timer slack to
    /// 1 ns, so sleeps wake on time instead of up to 50 µs late). Errors if the poller cannot be created (for example
    /// `EMFILE` when the process is out of file descriptors) or pinning fails.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let mut config = self.config.clone();
        if config.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "sonic_rt::Builder::name: a runtime name must not be empty",
            ));
        }
        if let Some(cpu) = self.pin_to_core {
            // Blocking-pool threads are started from this thread and would inherit its pin:
            // they get the CPU set it had before.
            config.blocking.cpus = affinity::current();
            pin_current_thread(cpu)?;
        }
        tighten_timer_slack();
        Ok(Runtime::from_core(Core::new(config)?))
    }

    /// Names the runtime: [`Handle::name`](crate::Handle::name) returns it (tokio's
    /// `Builder::name`). An empty or blank name makes [`build`](Builder::build) fail with
    /// `InvalidInput` (tokio's panics).
    ///
    /// # Examples
    /// ```
    /// let rt = sonic_rt::Builder::new().name("feed-handler").build().unwrap();
    /// assert_eq!(rt.handle().name(), Some("feed-handler"));
    /// ```
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.config.name = Some(name.into().into_boxed_str());
        self
    }

    /// The read-ahead every I/O object registered on this runtime starts with, in bytes (0,
    /// the default, is off): a stream read smaller than this is served from one kernel read of
    /// this size, so a small `read_exact` costs one `read(2)` and a short read proves the
    /// socket drained (no `EAGAIN` call before the next wait). Each socket can change it
    /// ([`Async::set_read_ahead`](crate::io::Async::set_read_ahead), and sonic-net's
    /// `TcpStream::set_read_ahead`/`UnixStream::set_read_ahead`). The buffer is allocated by
    /// the first read that uses it, so sockets that never do a small stream read (listeners,
    /// datagram sockets) cost nothing. 4096 suits request/response traffic of small messages.
    pub fn read_ahead(&mut self, bytes: usize) -> &mut Builder {
        self.config.read_ahead = bytes;
        self
    }
}

/// Linux lets a sleeping thread's timer fire up to its "timer slack" late (50 µs by default),
/// which would make every sub-millisecond sleep 50 µs late. A runtime thread asks for 1 ns.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes an integer and affects only the calling thread. Failure
    // (a seccomp filter, say) just leaves the default slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}

#[cfg(any(not(any(target_os = "linux", target_os = "android")), miri))]
fn tighten_timer_slack() {}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pin_current_thread(cpu: usize) -> io::Result<()> {
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    if cpu >= max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("pin_to_core({cpu}): CPU index beyond the {max} a cpu_set_t can hold"),
        ));
    }
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set; CPU_SET stays in bounds
    // (checked above); sched_setaffinity reads the set during the call only.
    let res = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if res != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("pin_to_core({cpu}): sched_setaffinity failed: {err} (is CPU {cpu} online and allowed?)"),
        ));
    }
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pin_current_thread(cpu: usize) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("pin_to_core({cpu}): this platform has no thread-to-CPU pinning"),
    ))
}
