//! The runtime's state on its own thread, and one turn of the event loop.

use crate::executor::remote::{Remote, Shared};
use crate::executor::Executor;
use crate::reactor::Reactor;
use crate::time::clock::Clock;
use crate::time::queue::TimerQueue;
use std::cell::{Cell, RefCell};
use std::io;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) busy_poll: bool,
    pub(crate) spin: Duration,
    pub(crate) event_capacity: usize,
    pub(crate) event_interval: usize,
    pub(crate) budget: u32,
    pub(crate) start_paused: bool,
}

pub(crate) struct Core {
    pub(crate) executor: Executor,
    pub(crate) reactor: RefCell<Reactor>,
    pub(crate) timers: RefCell<TimerQueue>,
    pub(crate) clock: Clock,
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Config,
    /// Reused buffers, so a turn allocates nothing in steady state.
    wake_buf: RefCell<Vec<Waker>>,
    remote_buf: RefCell<Vec<Remote>>,
    /// Tasks that yielded: woken only after the next reactor turn (tokio's `yield_now`).
    deferred: RefCell<Vec<Waker>>,
    /// The clock as last read by the timer queue (ns): a lower bound on "now" for free.
    last_now: Cell<u64>,
}

impl Core {
    pub(crate) fn new(config: Config) -> io::Result<Rc<Core>> {
        let (reactor, notifier) = Reactor::new(config.event_capacity)?;
        Ok(Rc::new(Core {
            executor: Executor::new(config.budget),
            reactor: RefCell::new(reactor),
            timers: RefCell::new(TimerQueue::new()),
            clock: Clock::new(config.start_paused),
            shared: Arc::new(Shared::new(notifier)),
            wake_buf: RefCell::new(Vec::with_capacity(config.event_capacity.min(4096))),
            remote_buf: RefCell::new(Vec::new()),
            deferred: RefCell::new(Vec::new()),
            last_now: Cell::new(0),
            config,
        }))
    }

    /// One turn: remote work, due timers, then the poller for at most `timeout` (shortened to the
    /// next timer; `None` waits for an event). `idle` says no task is ready to run, which lets a
    /// paused clock jump to the next timer. Returns how much work it found.
    pub(crate) fn turn(&self, timeout: Option<Duration>, idle: bool) -> io::Result<usize> {
        let mut work = self.run_remote() + self.fire_timers();
        let mut timeout = if work > 0 {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        if idle && work == 0 && self.clock.is_paused() {
            if let Some(deadline) = self.timers.borrow().next_deadline() {
                // Nothing else to do: a paused clock jumps to the next timer.
                self.clock.advance_to_ns(deadline);
                timeout = Some(Duration::ZERO);
            }
        }
        if timeout != Some(Duration::ZERO) {
            if let Some(deadline) = self.timers.borrow().next_deadline() {
                let left = Duration::from_nanos(deadline.saturating_sub(self.clock.now_ns()));
                timeout = Some(timeout.map_or(left, |t| t.min(left)));
            }
        }
        let blocking = timeout != Some(Duration::ZERO);
        if blocking && !self.shared.park() {
            timeout = Some(Duration::ZERO);
        }
        let mut wake = mem::take(&mut *self.wake_buf.borrow_mut());
        let res = self.reactor.borrow_mut().turn(timeout, &mut wake);
        if blocking {
            self.shared.unparked();
        }
        self.wake_all(wake);
        self.wake_deferred();
        let (events, notified) = res?;
        work += events;
        if notified {
            work += self.run_remote();
        }
        work += self.fire_timers();
        Ok(work)
    }

    fn wake_all(&self, mut wake: Vec<Waker>) {
        for w in wake.drain(..) {
            w.wake();
        }
        let mut buf = self.wake_buf.borrow_mut();
        if buf.capacity() < wake.capacity() {
            *buf = wake;
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
        for w in deferred.drain(..) {
            w.wake();
        }
        let mut slot = self.deferred.borrow_mut();
        if slot.capacity() < deferred.capacity() {
            *slot = deferred;
        }
    }

    /// A time no later than now, without reading the clock (the last reading of a turn).
    pub(crate) fn last_now_ns(&self) -> u64 {
        self.last_now.get()
    }

    pub(crate) fn fire_timers(&self) -> usize {
        let Some(next) = self.timers.borrow().next_deadline() else {
            return 0;
        };
        let now = self.clock.now_ns();
        self.last_now.set(now);
        if next > now {
            return 0;
        }
        let mut wake = mem::take(&mut *self.wake_buf.borrow_mut());
        let fired = self.timers.borrow_mut().fire(now, &mut wake);
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
        for item in items.drain(..) {
            match item {
                // SAFETY: this runtime's remote queue carries only its own tasks, each with a
                // counted reference (`task`) held across the call; this is the owner thread.
                Remote::Wake(task) => unsafe { self.executor.schedule_local(task.ptr()) },
                Remote::Run(f) => {
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                        report_posted_panic(&*panic);
                    }
                }
            }
        }
        *self.remote_buf.borrow_mut() = items;
        n
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
}

fn report_posted_panic(panic: &(dyn std::any::Any + Send)) {
    let msg = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string payload)");
    eprintln!("sonic-rt: a closure posted through Handle::post panicked: {msg}");
}
