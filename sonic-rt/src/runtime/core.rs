//! The runtime's state on its own thread, and one turn of the event loop.

use crate::blocking::{BlockingPool, PoolConfig};
use crate::executor::remote::{self, Remote, Shared};
use crate::executor::{panic_message, Executor};
use crate::reactor::Reactor;
use crate::runtime::metrics::{LoopCounters, PollTiming, RuntimeMetrics, PUBLISH_EVERY};
use crate::runtime::Identity;
use crate::time::clock::Clock;
use crate::time::queue::TimerQueue;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::io;
use std::mem;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) busy_poll: bool,
    pub(crate) spin: Duration,
    pub(crate) event_capacity: usize,
    pub(crate) event_interval: usize,
    pub(crate) budget: u32,
    pub(crate) start_paused: bool,
    /// The read-ahead every new `Async` starts with (0: off).
    pub(crate) read_ahead: usize,
    pub(crate) blocking: PoolConfig,
    /// File I/O may use io_uring (Linux, where the kernel allows it).
    pub(crate) io_uring: bool,
    /// Per-poll timing: the poll time histogram and the slow-poll callback.
    pub(crate) timing: PollTiming,
    /// `Builder::name`.
    pub(crate) name: Option<Box<str>>,
}

/// How long one turn of the loop may wait for events, as decided by [`Core::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Tasks are ready to run: look at timers and the poller without blocking.
    Ready,
    /// No task is ready: wait for an event at most this long (`None`: until one comes, or the
    /// next timer). A paused clock may jump to the next timer once no I/O is pending either.
    Idle(Option<Duration>),
}

impl Wait {
    /// Idle, but not allowed to block (busy-poll, or spinning before parking).
    pub(crate) fn is_spin(self) -> bool {
        self == Wait::Idle(Some(Duration::ZERO))
    }
}

pub(crate) struct Core {
    pub(crate) executor: Executor,
    pub(crate) reactor: RefCell<Reactor>,
    pub(crate) timers: RefCell<TimerQueue>,
    pub(crate) clock: Clock,
    pub(crate) shared: Arc<Shared>,
    /// The blocking pool (`spawn_blocking`, file I/O, name lookups); threads start lazily.
    pub(crate) blocking: BlockingPool,
    config: Config,
    /// Reused buffers, so a turn allocates nothing in steady state.
    wake_buf: RefCell<Vec<Waker>>,
    remote_buf: RefCell<Vec<Remote>>,
    /// Tasks that yielded: woken only after the next reactor turn (tokio's `yield_now`).
    deferred: RefCell<Vec<Waker>>,
    /// When work was last found (tasks run, events, timers): `spin_before_park` keeps polling
    /// for `config.spin` after it. Read and written only when `spin` is set.
    last_work: Cell<Option<Instant>>,
    /// The first panic of a waker the runtime woke during the current turn (see `wake_all`).
    waker_panic: Cell<Option<Box<dyn Any + Send>>>,
    /// Turns, events, parks, remote items, timers (owner thread only, `runtime/metrics.rs`).
    counters: LoopCounters,
    /// While `block_on` or a manual run drives the loop: when it started, and the park time
    /// counted then (see [`Driving`]). Timed runtimes only.
    driving: Cell<Option<(Instant, u64)>>,
    /// Whether the loop reads the clock for the metrics (`config.timing.enabled()`): task polls,
    /// blocking waits, busy time.
    timed: bool,
}

impl Core {
    pub(crate) fn new(config: Config) -> io::Result<Rc<Core>> {
        let (reactor, notifier) = Reactor::new(config.event_capacity)?;
        Ok(Rc::new(Core {
            executor: Executor::new(config.budget, config.timing.clone()),
            reactor: RefCell::new(reactor),
            timers: RefCell::new(TimerQueue::new()),
            clock: Clock::new(config.start_paused),
            shared: Arc::new(Shared::with_identity(
                notifier,
                Identity::new(config.name.clone()),
            )),
            blocking: BlockingPool::new(config.blocking.clone()),
            wake_buf: RefCell::new(Vec::with_capacity(config.event_capacity.min(4096))),
            remote_buf: RefCell::new(Vec::with_capacity(remote::BATCH)),
            deferred: RefCell::new(Vec::new()),
            last_work: Cell::new(None),
            waker_panic: Cell::new(None),
            counters: LoopCounters::default(),
            driving: Cell::new(None),
            timed: config.timing.enabled(),
            config,
        }))
    }

    /// The options the runtime was built with.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the loop busy-polls (never sleeps in the kernel).
    pub(crate) fn busy_poll(&self) -> bool {
        self.config.busy_poll
    }

    /// Whether `spin_before_park` applies (it means nothing in busy-poll mode).
    fn spins(&self) -> bool {
        !self.config.busy_poll && !self.config.spin.is_zero()
    }

    /// The loop's wait policy, decided here only; `block_on` and the manual `poll_once` /
    /// `run_one` / `run_one_for` ask it before each turn.
    ///
    /// - Something is ready (`ready`: the caller's own future was woken; or a queued or yielded
    ///   task): don't wait.
    /// - Busy-poll: never block, whatever `limit` says.
    /// - Spin-before-park: don't block while the last work (`ran` tasks just now count) is less
    ///   than `spin` ago.
    /// - Otherwise: block for at most `limit` (`None`: until an event or the next timer).
    // Out of line: asked once per turn, it should not bloat the loops that call it.
    #[inline(never)]
    pub(crate) fn wait(&self, ready: bool, ran: usize, limit: Option<Duration>) -> Wait {
        let spin = self.spins();
        if spin && ran > 0 {
            self.last_work.set(Some(Instant::now()));
        }
        if ready || self.executor.has_ready() || self.has_deferred() {
            return Wait::Ready;
        }
        let spinning = spin
            && self
                .last_work
                .get()
                .is_some_and(|t| t.elapsed() < self.config.spin);
        if self.config.busy_poll || spinning {
            return Wait::Idle(Some(Duration::ZERO));
        }
        Wait::Idle(limit)
    }

    /// One turn: remote work, due timers, then the poller for as long as `wait` allows
    /// (shortened to the next timer). Returns how much work it found.
    ///
    /// # Panics
    /// If a waker the turn woke panicked: every other waker of the turn was still woken, and
    /// the first payload is re-raised here, so it surfaces from `block_on` / `poll_once` like a
    /// panic of the `block_on` future (later ones of the same turn go to stderr). The runtime
    /// stays usable.
    pub(crate) fn turn(&self, wait: Wait) -> io::Result<usize> {
        let res = self.turn_inner(wait);
        if let Some(panic) = self.waker_panic.take() {
            resume_unwind(panic);
        }
        if let Ok(work) = res {
            if work > 0 && self.spins() {
                self.last_work.set(Some(Instant::now()));
            }
        }
        res
    }

    fn turn_inner(&self, wait: Wait) -> io::Result<usize> {
        let work = self.run_remote() + self.fire_timers();
        let (timeout, idle) = match wait {
            Wait::Ready => (Some(Duration::ZERO), false),
            Wait::Idle(limit) => (limit, true),
        };
        if work > 0 {
            return Ok(work + self.poll_reactor(Some(Duration::ZERO))? + self.fire_timers());
        }
        let next_timer = self.timers.borrow().next_deadline();
        if idle && self.clock.is_paused() {
            if let Some(deadline) = next_timer {
                return self.auto_advance(deadline);
            }
        }
        let mut timeout = timeout;
        if timeout != Some(Duration::ZERO) {
            if let Some(deadline) = next_timer {
                // `fire_timers` just read the clock (timers are queued), so the bound is fresh.
                let left = Duration::from_nanos(deadline.saturating_sub(self.clock.last_ns()));
                timeout = Some(timeout.map_or(left, |t| t.min(left)));
            }
        }
        let events = self.poll_reactor(timeout)?;
        Ok(events + self.fire_timers())
    }

    /// A paused clock with nothing to do jumps to the next timer, but only once no I/O is
    /// pending either: like tokio, look at the poller without blocking first, so events that
    /// are already there (a loopback reply) run before time moves.
    fn auto_advance(&self, deadline: u64) -> io::Result<usize> {
        let events = self.poll_reactor(Some(Duration::ZERO))?;
        if events > 0 {
            return Ok(events + self.fire_timers());
        }
        self.clock.advance_to_ns(deadline);
        Ok(self.fire_timers())
    }

    /// Waits for events (the cross-thread park handshake around a blocking wait), wakes their
    /// tasks and the tasks that yielded. Returns the events and remote items handled.
    fn poll_reactor(&self, mut timeout: Option<Duration>) -> io::Result<usize> {
        let blocking = timeout != Some(Duration::ZERO);
        if blocking || self.counters.turns.get() % PUBLISH_EVERY == 0 {
            // Before the park handshake, so the window it guards stays short.
            self.publish();
        }
        if blocking && !self.shared.park() {
            timeout = Some(Duration::ZERO);
        }
        let parks = timeout != Some(Duration::ZERO);
        // Timed runtimes only: a clock read costs 25 to 60 ns, a fair part of a turn.
        let parked_at = (parks && self.timed).then(Instant::now);
        let mut wake = mem::take(&mut *self.wake_buf.borrow_mut());
        let res = {
            let span = crate::trace::turn(timeout);
            let res = self.reactor.borrow_mut().turn(timeout, &mut wake);
            crate::trace::turn_events(&span, res.as_ref().map_or(0, |r| r.0));
            res
        };
        if blocking {
            self.shared.unparked();
        }
        let (delivered, notified) = match &res {
            Ok(r) => *r,
            Err(_) => (0, false),
        };
        self.counters.turn(delivered);
        if parks {
            let ns = parked_at.map_or(0, |at| nanos(at.elapsed()));
            self.counters.parked(ns, notified);
        }
        // Time passed in the kernel: the next timer that needs "now" reads the clock again.
        self.clock.mark_stale();
        self.wake_all(wake);
        self.wake_deferred();
        let (events, notified) = res?;
        Ok(if notified {
            events + self.run_remote()
        } else {
            events
        })
    }

    /// Wakes a batch of wakers (readiness, fired timers). A waker that panics does not stop
    /// the batch: the rest are still woken, and the first panic is kept for `turn` to re-raise.
    fn wake_all(&self, mut wake: Vec<Waker>) {
        self.wake_batch(&mut wake);
        let mut buf = self.wake_buf.borrow_mut();
        if buf.capacity() < wake.capacity() {
            *buf = wake;
        }
    }

    fn wake_batch(&self, wake: &mut Vec<Waker>) {
        let mut batch = wake.drain(..);
        // One `catch_unwind` for the whole batch (free while nothing panics); after a panic the
        // loop goes on with the next waker.
        while let Err(panic) =
            catch_unwind(AssertUnwindSafe(|| batch.by_ref().for_each(Waker::wake)))
        {
            self.note_waker_panic(panic);
        }
    }

    fn note_waker_panic(&self, panic: Box<dyn Any + Send>) {
        match self.waker_panic.take() {
            None => self.waker_panic.set(Some(panic)),
            Some(first) => {
                self.waker_panic.set(Some(first));
                eprintln!(
                    "sonic-rt: another waker panicked in the same turn: {}",
                    panic_message(&*panic)
                );
            }
        }
    }

    /// Parks a yielding task's waker until after the next reactor turn.
    pub(crate) fn defer(&self, waker: &Waker) {
        self.deferred.borrow_mut().push(waker.clone());
    }

    pub(crate) fn has_deferred(&self) -> bool {
        !self.deferred.borrow().is_empty()
    }

    fn wake_deferred(&self) {
        if !self.has_deferred() {
            return;
        }
        let mut deferred = mem::take(&mut *self.deferred.borrow_mut());
        self.wake_batch(&mut deferred);
        let mut slot = self.deferred.borrow_mut();
        if slot.capacity() < deferred.capacity() {
            *slot = deferred;
        }
    }

    pub(crate) fn fire_timers(&self) -> usize {
        let Some(next) = self.timers.borrow().next_deadline() else {
            return 0;
        };
        let now = self.clock.now_ns();
        if next > now {
            return 0;
        }
        let mut wake = mem::take(&mut *self.wake_buf.borrow_mut());
        let fired = self.timers.borrow_mut().fire(now, &mut wake);
        self.counters.fired(fired);
        self.wake_all(wake);
        fired
    }

    /// Moves wakes and closures from other threads onto this one.
    fn run_remote(&self) -> usize {
        if !self.shared.may_have_remote() {
            return 0;
        }
        let mut items = mem::take(&mut *self.remote_buf.borrow_mut());
        if !self.shared.take(&mut items) {
            *self.remote_buf.borrow_mut() = items;
            return 0;
        }
        let n = items.len();
        let (mut wakes, mut posts) = (0, 0);
        for item in items.drain(..) {
            match item {
                Remote::Wake(task) => {
                    wakes += 1;
                    // SAFETY: this runtime's remote queue carries only its own tasks, each with
                    // a counted reference (`task`) held across the call; this is the owner
                    // thread.
                    unsafe { self.executor.schedule_local(task.ptr()) }
                }
                Remote::Run(f) => {
                    posts += 1;
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                        report_posted_panic(&*panic);
                    }
                }
                // Counted as work, so this turn does not sleep: `block_on` sees its flag next.
                Remote::Root => {}
            }
        }
        *self.remote_buf.borrow_mut() = items;
        self.counters.remote(wakes, posts);
        n
    }

    /// A snapshot of the metrics (owner thread).
    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let mut m = self.snapshot();
        m.remote_queue_depth = self.shared.depth();
        m
    }

    /// The metrics without the remote queue depth (which takes the queue's lock).
    fn snapshot(&self) -> RuntimeMetrics {
        let mut m = RuntimeMetrics::default();
        self.executor.fill_metrics(&mut m);
        m.fill_loop(&self.counters);
        if let Some((start, parked)) = self.driving.get() {
            // The run in progress counts too.
            m.busy_ns = m.busy_ns.wrapping_add(self.busy_since(start, parked));
        }
        m.pending_timers = self.timers.try_borrow().map_or(0, |t| t.len());
        m.io_sources = self.reactor.try_borrow().map_or(0, |r| r.source_count());
        m
    }

    /// Publishes the metrics for other threads' `Handle::metrics` (which read the remote queue
    /// depth themselves).
    pub(crate) fn publish(&self) {
        self.shared.publish(&self.snapshot());
    }

    /// Time since `start` not spent parked (`parked`: the park time counted at `start`).
    fn busy_since(&self, start: Instant, parked: u64) -> u64 {
        let parked_since = self.counters.park_ns.get().wrapping_sub(parked);
        nanos(start.elapsed()).saturating_sub(parked_since)
    }

    /// Marks the loop as driven (by `block_on` or a manual run) until the guard drops: that time,
    /// minus blocking waits, is busy time. Timed runtimes only (it reads the clock).
    pub(crate) fn driving(&self) -> Driving<'_> {
        if self.timed {
            self.driving
                .set(Some((Instant::now(), self.counters.park_ns.get())));
        }
        Driving { core: self }
    }

    /// Drops every task, timer and queued remote item (runtime shutdown).
    pub(crate) fn shutdown(&self) {
        self.executor.shutdown();
        let leftovers = self.shared.close();
        drop(leftovers);
        drop(mem::take(&mut *self.remote_buf.borrow_mut()));
        self.timers.borrow_mut().clear();
        drop(mem::take(&mut *self.deferred.borrow_mut()));
        // Tasks dropped above may have spawned or woken; drop those too.
        self.executor.shutdown();
    }

    /// Shuts the blocking pool down (after [`Core::shutdown`]): queued jobs that have not
    /// started are dropped (mandatory file writes still run), running ones are waited for at
    /// most `timeout` (`None`: until they return, as tokio's `Runtime` drop does). Only the
    /// first call waits. Returns whether every pool thread finished.
    pub(crate) fn shutdown_blocking(&self, timeout: Option<Duration>) -> bool {
        self.blocking.shutdown(timeout)
    }
}

/// Returned by [`Core::driving`]: adds the run's busy time when dropped.
pub(crate) struct Driving<'a> {
    core: &'a Core,
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        if let Some((start, parked)) = self.core.driving.take() {
            self.core.counters.busy(self.core.busy_since(start, parked));
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn report_posted_panic(panic: &(dyn Any + Send)) {
    eprintln!(
        "sonic-rt: a closure posted through Handle::post panicked: {}",
        panic_message(panic)
    );
}
