//! Runtime metrics: the counters the loop keeps, and the snapshot users read.
//!
//! Rules (who counts, who reads):
//! - Every counter is a plain `Cell<u64>` owned by the runtime's thread: the executor counts
//!   spawns, polls and completions, `Core` counts turns, events, parks, remote items and timers.
//!   No atomic, no fence on the hot path: a count is one add to a field next to the code that
//!   already touches that cache line.
//! - The clock is read only on a *timed* runtime: one with the poll time histogram
//!   ([`Builder::enable_metrics_poll_time_histogram`]) or a slow-poll callback
//!   ([`Builder::on_slow_poll`]). There it is read around each task poll, around each blocking
//!   wait (parked time) and on entering and leaving `block_on` or a manual run (busy time).
//!   Elsewhere a poll and a park cost one branch more, and the durations stay zero: a clock read
//!   costs 25 to 60 ns (vDSO; more on a VM), and a same-thread ping-pong that parks once per
//!   round trip paid 2% for the two reads around the wait (BENCHMARKS.md, "Runtime metrics").
//! - Other threads never read the cells. [`Runtime::metrics`] and [`Handle::metrics`] on the
//!   runtime's thread copy them into a [`RuntimeMetrics`]; the runtime also *publishes* such a
//!   copy into its shared state (a mutex another thread's [`Handle::metrics`] reads) before each
//!   blocking wait, every [`PUBLISH_EVERY`] reactor turns, and when `block_on` or a manual run
//!   returns. So a snapshot taken on another thread is at most one park, or
//!   [`PUBLISH_EVERY`] turns, old; its remote queue depth is read live.
//!
//! [`Builder::enable_metrics_poll_time_histogram`]: crate::Builder::enable_metrics_poll_time_histogram
//! [`Builder::on_slow_poll`]: crate::Builder::on_slow_poll
//! [`Runtime::metrics`]: crate::Runtime::metrics
//! [`Handle::metrics`]: crate::Handle::metrics

use crate::task::Id;
use std::cell::Cell;
use std::fmt;
use std::ops::Range;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

/// Reactor turns between two publications of the metrics for other threads (see the module
/// rules); a busy-poll runtime never parks, so this bounds how stale another thread's copy is.
pub(crate) const PUBLISH_EVERY: u64 = 1024;

/// Number of buckets of the poll time histogram.
const BUCKETS: usize = 24;
/// log2 of the upper bound of the first bucket, in ns: bucket 0 holds polls under 128 ns.
const FIRST_BUCKET_LOG2: u32 = 7;

/// The bucket of a poll of `ns` nanoseconds: 0 for < 128 ns, then one bucket per power of two,
/// the last one open-ended (>= 2^29 ns, about 537 ms). No loop, no allocation.
fn bucket_of(ns: u64) -> usize {
    let log2 = 63 - (ns | 1).leading_zeros();
    (log2.saturating_sub(FIRST_BUCKET_LOG2 - 1) as usize).min(BUCKETS - 1)
}

/// The range of durations bucket `i` counts.
fn bucket_range(i: usize) -> Range<Duration> {
    let lo = if i == 0 {
        0
    } else {
        1u64 << (FIRST_BUCKET_LOG2 - 1 + i as u32)
    };
    let hi = if i + 1 >= BUCKETS {
        Duration::MAX
    } else {
        Duration::from_nanos(1u64 << (FIRST_BUCKET_LOG2 + i as u32))
    };
    Duration::from_nanos(lo)..hi
}

fn bump(c: &Cell<u64>) {
    c.set(c.get().wrapping_add(1));
}

fn add(c: &Cell<u64>, n: u64) {
    c.set(c.get().wrapping_add(n));
}

/// The executor's counters (owner thread only).
#[derive(Default)]
pub(crate) struct TaskCounters {
    pub(crate) spawned: Cell<u64>,
    pub(crate) completed: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) slow_polls: Cell<u64>,
    pub(crate) poll_ns: Cell<u64>,
    histogram: [Cell<u64>; BUCKETS],
}

impl TaskCounters {
    pub(crate) fn spawned(&self) {
        bump(&self.spawned);
    }

    pub(crate) fn completed(&self) {
        bump(&self.completed);
    }

    pub(crate) fn polled(&self) {
        bump(&self.polls);
    }

    /// A timed poll of `ns` nanoseconds.
    pub(crate) fn timed(&self, ns: u64) {
        add(&self.poll_ns, ns);
        bump(&self.histogram[bucket_of(ns)]);
    }

    pub(crate) fn slow(&self) {
        bump(&self.slow_polls);
    }
}

/// The loop's counters (owner thread only).
#[derive(Default)]
pub(crate) struct LoopCounters {
    pub(crate) turns: Cell<u64>,
    pub(crate) events: Cell<u64>,
    pub(crate) parks: Cell<u64>,
    pub(crate) unparks: Cell<u64>,
    pub(crate) park_ns: Cell<u64>,
    pub(crate) busy_ns: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
    pub(crate) remote_posts: Cell<u64>,
    pub(crate) timers_fired: Cell<u64>,
}

impl LoopCounters {
    pub(crate) fn turn(&self, events: usize) {
        bump(&self.turns);
        add(&self.events, events as u64);
    }

    /// A blocking wait of `ns`; `notified`: another thread ended it.
    pub(crate) fn parked(&self, ns: u64, notified: bool) {
        bump(&self.parks);
        add(&self.park_ns, ns);
        if notified {
            bump(&self.unparks);
        }
    }

    pub(crate) fn remote(&self, wakes: u64, posts: u64) {
        add(&self.remote_wakes, wakes);
        add(&self.remote_posts, posts);
    }

    pub(crate) fn fired(&self, timers: usize) {
        add(&self.timers_fired, timers as u64);
    }

    pub(crate) fn busy(&self, ns: u64) {
        add(&self.busy_ns, ns);
    }
}

/// What [`Builder::on_slow_poll`](crate::Builder::on_slow_poll) calls back with: one poll of one
/// task that took longer than the threshold.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SlowPoll {
    /// The task that was polled.
    pub id: Id,
    /// How long the poll took.
    pub duration: Duration,
    /// Where the task was spawned (`spawn`, `spawn_local`, `Handle::spawn`, `JoinSet::spawn`...).
    pub location: &'static Location<'static>,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {} (spawned at {}) was polled for {:?}",
            self.id, self.location, self.duration
        )
    }
}

/// The callback of [`Builder::on_slow_poll`](crate::Builder::on_slow_poll).
pub(crate) type SlowPollHook = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// Whether, and why, task polls are timed (fixed when the runtime is built).
#[derive(Clone, Default)]
pub(crate) struct PollTiming {
    pub(crate) histogram: bool,
    pub(crate) slow: Option<(Duration, SlowPollHook)>,
}

impl PollTiming {
    pub(crate) fn enabled(&self) -> bool {
        self.histogram || self.slow.is_some()
    }
}

impl fmt::Debug for PollTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollTiming")
            .field("histogram", &self.histogram)
            .field("slow_poll_threshold", &self.slow.as_ref().map(|s| s.0))
            .finish()
    }
}

/// A snapshot of a runtime's metrics: [`Runtime::metrics`](crate::Runtime::metrics) or
/// [`Handle::metrics`](crate::Handle::metrics). Counters start at zero when the runtime is
/// built and only grow (they wrap at `u64::MAX`); gauges say how things are now. Names follow
/// tokio's `RuntimeMetrics` where the two overlap (without tokio's `worker_` prefix: a sonic
/// runtime is one thread).
///
/// Taken on the runtime's thread, a snapshot is exact. Taken on another thread through a
/// [`Handle`](crate::Handle), it is the copy the runtime published last (before its last
/// blocking wait, at most 1024 reactor turns ago, or when `block_on` last returned), with a live
/// [`remote_queue_depth`](RuntimeMetrics::remote_queue_depth); all zeros before the first
/// publication.
///
/// # Examples
/// ```
/// let rt = sonic_rt::Runtime::new().unwrap();
/// rt.block_on(async {
///     for _ in 0..5 {
///         sonic_rt::spawn(async {}).await.unwrap();
///     }
/// });
/// let m = rt.metrics();
/// assert_eq!(m.spawned_tasks_count(), 5);
/// assert_eq!(m.completed_tasks_count(), 5);
/// assert_eq!(m.num_alive_tasks(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeMetrics {
    pub(crate) spawned: u64,
    pub(crate) completed: u64,
    pub(crate) polls: u64,
    pub(crate) slow_polls: u64,
    pub(crate) poll_ns: u64,
    pub(crate) histogram_enabled: bool,
    pub(crate) histogram: [u64; BUCKETS],
    pub(crate) turns: u64,
    pub(crate) events: u64,
    pub(crate) parks: u64,
    pub(crate) unparks: u64,
    pub(crate) park_ns: u64,
    pub(crate) busy_ns: u64,
    pub(crate) remote_wakes: u64,
    pub(crate) remote_posts: u64,
    pub(crate) timers_fired: u64,
    pub(crate) remote_queue_depth: usize,
    pub(crate) alive_tasks: usize,
    pub(crate) pending_timers: usize,
    pub(crate) io_sources: usize,
}

impl RuntimeMetrics {
    pub(crate) fn fill_tasks(&mut self, c: &TaskCounters, histogram_enabled: bool) {
        self.spawned = c.spawned.get();
        self.completed = c.completed.get();
        self.polls = c.polls.get();
        self.slow_polls = c.slow_polls.get();
        self.poll_ns = c.poll_ns.get();
        self.histogram_enabled = histogram_enabled;
        for (out, cell) in self.histogram.iter_mut().zip(&c.histogram) {
            *out = cell.get();
        }
    }

    pub(crate) fn fill_loop(&mut self, c: &LoopCounters) {
        self.turns = c.turns.get();
        self.events = c.events.get();
        self.parks = c.parks.get();
        self.unparks = c.unparks.get();
        self.park_ns = c.park_ns.get();
        self.busy_ns = c.busy_ns.get();
        self.remote_wakes = c.remote_wakes.get();
        self.remote_posts = c.remote_posts.get();
        self.timers_fired = c.timers_fired.get();
    }

    /// Tasks spawned on the runtime (every `spawn`, `spawn_local`, `Handle::spawn`, `JoinSet`
    /// and `LocalSet` task, `spawn_blocking`'s waiting task).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.spawned
    }

    /// Tasks that are done: returned, panicked or aborted (and released by the executor).
    pub fn completed_tasks_count(&self) -> u64 {
        self.completed
    }

    /// Tasks spawned and not completed (the runtime's `live_tasks`).
    pub fn num_alive_tasks(&self) -> usize {
        self.alive_tasks
    }

    /// Task polls (the `block_on` future's polls are not counted).
    pub fn poll_count(&self) -> u64 {
        self.polls
    }

    /// Polls longer than the [`on_slow_poll`](crate::Builder::on_slow_poll) threshold (zero if
    /// none is set).
    pub fn slow_poll_count(&self) -> u64 {
        self.slow_polls
    }

    /// Whether the runtime is timed (built with
    /// [`enable_metrics_poll_time_histogram`](crate::Builder::enable_metrics_poll_time_histogram)
    /// or [`on_slow_poll`](crate::Builder::on_slow_poll)): the poll time histogram,
    /// [`total_poll_duration`](Self::total_poll_duration),
    /// [`total_busy_duration`](Self::total_busy_duration) and
    /// [`total_park_duration`](Self::total_park_duration) are measured only then.
    pub fn poll_time_histogram_enabled(&self) -> bool {
        self.histogram_enabled
    }

    /// Number of buckets of the poll time histogram (24: under 128 ns, then one bucket per
    /// power of two, the last one from 2^29 ns, about 537 ms, up).
    pub fn poll_time_histogram_num_buckets(&self) -> usize {
        BUCKETS
    }

    /// The durations bucket `bucket` counts (`end` is `Duration::MAX` for the last one).
    ///
    /// # Panics
    /// If `bucket` is not below [`poll_time_histogram_num_buckets`](Self::poll_time_histogram_num_buckets).
    pub fn poll_time_histogram_bucket_range(&self, bucket: usize) -> Range<Duration> {
        assert!(bucket < BUCKETS, "bucket {bucket} out of range");
        bucket_range(bucket)
    }

    /// How many timed polls fell into bucket `bucket`.
    ///
    /// # Panics
    /// If `bucket` is not below [`poll_time_histogram_num_buckets`](Self::poll_time_histogram_num_buckets).
    pub fn poll_time_histogram_bucket_count(&self, bucket: usize) -> u64 {
        self.histogram[bucket]
    }

    /// Sum of the timed polls' durations (zero unless polls are timed).
    pub fn total_poll_duration(&self) -> Duration {
        Duration::from_nanos(self.poll_ns)
    }

    /// Time the thread spent driving the runtime (inside `block_on`, `poll_once`, `run_one`...)
    /// and not asleep in a blocking wait. A busy-poll runtime is busy all the time it is driven.
    /// Measured on timed runtimes only (see
    /// [`poll_time_histogram_enabled`](Self::poll_time_histogram_enabled)); zero elsewhere.
    pub fn total_busy_duration(&self) -> Duration {
        Duration::from_nanos(self.busy_ns)
    }

    /// Time spent asleep in blocking waits (see [`park_count`](Self::park_count)). Measured on
    /// timed runtimes only, as [`total_busy_duration`](Self::total_busy_duration).
    pub fn total_park_duration(&self) -> Duration {
        Duration::from_nanos(self.park_ns)
    }

    /// Blocking waits: the loop went to sleep in the kernel (never in busy-poll mode, nor while
    /// `spin_before_park` spins).
    pub fn park_count(&self) -> u64 {
        self.parks
    }

    /// Blocking waits that another thread ended (a remote wake, a `Handle::post`, a blocking
    /// job's completion) rather than an event or a timer.
    pub fn unpark_count(&self) -> u64 {
        self.unparks
    }

    /// Looks at the poller (`epoll_wait`/`kevent`), blocking or not.
    pub fn reactor_turn_count(&self) -> u64 {
        self.turns
    }

    /// Readiness events delivered to I/O sources, over all reactor turns (tokio's
    /// `io_driver_ready_count`); divided by [`reactor_turn_count`](Self::reactor_turn_count) it
    /// is the mean events per turn.
    pub fn io_driver_ready_count(&self) -> u64 {
        self.events
    }

    /// Tasks woken from other threads (tokio's `remote_schedule_count`).
    pub fn remote_schedule_count(&self) -> u64 {
        self.remote_wakes
    }

    /// Closures run for other threads ([`Handle::post`](crate::Handle::post), and through it
    /// `Handle::spawn` and `spawn_with` from another thread).
    pub fn remote_post_count(&self) -> u64 {
        self.remote_posts
    }

    /// Timers that fired (a sleep that was due at its first poll completes without a timer and
    /// is not counted).
    pub fn timers_fired_count(&self) -> u64 {
        self.timers_fired
    }

    /// Remote wakes and posts queued by other threads and not yet taken by the runtime's thread
    /// (tokio's `global_queue_depth`).
    #[doc(alias = "global_queue_depth")]
    pub fn remote_queue_depth(&self) -> usize {
        self.remote_queue_depth
    }

    /// Timers waiting to fire (the runtime's `pending_timers`).
    pub fn pending_timers(&self) -> usize {
        self.pending_timers
    }

    /// File descriptors registered with the reactor (the runtime's `io_sources`).
    pub fn io_sources(&self) -> usize {
        self.io_sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_from_128_ns() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(127), 0);
        assert_eq!(bucket_of(128), 1);
        assert_eq!(bucket_of(255), 1);
        assert_eq!(bucket_of(256), 2);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        for i in 0..BUCKETS {
            let r = bucket_range(i);
            assert_eq!(bucket_of(r.start.as_nanos() as u64), i, "start of {i}");
            if i + 1 < BUCKETS {
                assert_eq!(bucket_of(r.end.as_nanos() as u64 - 1), i, "end of {i}");
                assert_eq!(r.end, bucket_range(i + 1).start);
            }
        }
        assert_eq!(
            bucket_range(BUCKETS - 1).start,
            Duration::from_nanos(1 << 29)
        );
    }
}
