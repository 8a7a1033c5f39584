//! The blocking pool: a bounded set of threads that run closures off the runtime's thread.
//!
//! Rules:
//! - One pool per runtime, shared through an `Arc` with its threads. All state is behind one
//!   mutex: the job queue, the thread counts, the shutdown flag. Two condvars: `work` (idle
//!   threads wait on it for a job, at most `keep_alive`) and `exited` (shutdown waits on it for
//!   the last thread).
//! - Threads start lazily: a job with no idle thread to take it starts a new one unless
//!   `max_threads` run already; then it waits in the queue for the next free thread. A thread
//!   idle for `keep_alive` exits.
//! - `idle` counts threads waiting on `work`; `notified` counts those already signalled for a
//!   job and not yet awake, so two jobs pushed back to back do not both count on one idle
//!   thread (they would otherwise wait for each other).
//! - Shutdown (tokio's semantics): jobs already running run to the end; queued jobs that have
//!   not started are dropped, except *mandatory* ones (file writes), which still run, so data a
//!   program wrote is not lost because the runtime went away. `shutdown(timeout)` waits for the
//!   threads at most `timeout` (`None`: until they are done); threads still running then are
//!   left to finish on their own. Only the first call does anything: a runtime that was shut
//!   down with a timeout and is then dropped does not wait again.
//! - Threads do not inherit the runtime thread's core pinning: each one restores the CPU set
//!   the building thread had before `pin_to_core` (captured by the builder).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A closure for the pool. Dropping it unrun is how a job is cancelled (its slot then says so).
pub(crate) struct Job {
    run: Box<dyn FnOnce() + Send + 'static>,
    mandatory: bool,
}

impl Job {
    pub(crate) fn new(run: Box<dyn FnOnce() + Send + 'static>, mandatory: bool) -> Job {
        Job { run, mandatory }
    }
}

/// Pool options, from the runtime's [`Builder`](crate::Builder).
#[derive(Clone, Debug)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    /// The CPUs pool threads may run on (the builder thread's set before pinning); `None`:
    /// inherit the spawning thread's.
    pub(crate) cpus: Option<Vec<usize>>,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_threads: 512,
            keep_alive: Duration::from_secs(10),
            cpus: None,
        }
    }
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    notified: usize,
    shutdown: bool,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    exited: Condvar,
    config: PoolConfig,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and are caught, so the state is consistent even if poisoned.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A runtime's blocking pool (cheap to clone: one `Arc`).
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                config,
            }),
        }
    }

    /// Queues `job`, starting a thread for it if none is idle and the bound allows. Gives the job
    /// back if the pool is shut down, or if no thread runs and none could be started.
    pub(crate) fn spawn(&self, job: Job) -> Result<(), (Job, io::Error)> {
        let mut st = self.inner.lock();
        if st.shutdown {
            return Err((
                job,
                io::Error::other("the runtime's blocking pool is shut down"),
            ));
        }
        st.queue.push_back(job);
        if st.idle > st.notified {
            st.notified += 1;
            drop(st);
            self.inner.work.notify_one();
            return Ok(());
        }
        if st.threads >= self.inner.config.max_threads {
            return Ok(()); // the next thread to finish takes it
        }
        st.threads += 1;
        drop(st);
        let inner = self.inner.clone();
        let started = std::thread::Builder::new()
            .name("sonic-blocking".into())
            .spawn(move || worker(inner));
        match started {
            Ok(_detached) => Ok(()),
            Err(e) => {
                let mut st = self.inner.lock();
                st.threads -= 1;
                if st.threads == 0 {
                    // Nobody will run it: hand it back (the queue holds only this one, or jobs
                    // queued behind it that no thread runs either; hand back the newest).
                    if let Some(job) = st.queue.pop_back() {
                        return Err((job, e));
                    }
                }
                Ok(())
            }
        }
    }

    /// Stops the pool: no new jobs; queued jobs that have not started are dropped (mandatory
    /// ones still run); waits for the threads at most `timeout` (`None`: until they finish).
    /// Returns whether every thread finished. Only the first call waits; later calls return at
    /// once with the current answer.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let mut st = self.inner.lock();
        if st.shutdown {
            return st.threads == 0;
        }
        st.shutdown = true;
        // Dropped here, on the runtime's thread, outside the lock: a queued job's captures may
        // have destructors.
        let (keep, dropped): (Vec<Job>, Vec<Job>) = st.queue.drain(..).partition(|j| j.mandatory);
        st.queue.extend(keep);
        let mandatory_left = !st.queue.is_empty();
        if mandatory_left && st.threads == 0 {
            // Mandatory work and no thread to run it: run it here.
            let jobs: Vec<Job> = st.queue.drain(..).collect();
            drop(st);
            drop(dropped);
            for job in jobs {
                run(job);
            }
            return true;
        }
        drop(st);
        self.inner.work.notify_all();
        drop(dropped);
        let deadline = timeout.map(|t| Instant::now().checked_add(t));
        let mut st = self.inner.lock();
        while st.threads > 0 {
            st = match deadline {
                None | Some(None) => self
                    .inner
                    .exited
                    .wait(st)
                    .unwrap_or_else(|p| p.into_inner()),
                Some(Some(deadline)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.inner
                        .exited
                        .wait_timeout(st, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        true
    }

    /// Threads alive now (running a job or idle).
    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        self.inner.lock().threads
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &st.threads)
            .field("idle", &st.idle)
            .field("queued", &st.queue.len())
            .field("shutdown", &st.shutdown)
            .finish()
    }
}

fn run(job: Job) {
    // The job's own closure catches the user's panic and sends it to the awaiting task; this
    // only guards the pool thread against a panicking destructor of the captures.
    let _ = catch_unwind(AssertUnwindSafe(job.run));
}

fn worker(inner: Arc<Inner>) {
    if let Some(cpus) = &inner.config.cpus {
        affinity::set(cpus);
    }
    let keep_alive = inner.config.keep_alive;
    let mut st = inner.lock();
    loop {
        if let Some(job) = st.queue.pop_front() {
            drop(st);
            run(job);
            st = inner.lock();
            continue;
        }
        if st.shutdown {
            break;
        }
        st.idle += 1;
        let (guard, res) = inner
            .work
            .wait_timeout(st, keep_alive)
            .unwrap_or_else(|p| p.into_inner());
        st = guard;
        st.idle -= 1;
        st.notified = st.notified.saturating_sub(1);
        if res.timed_out() && st.queue.is_empty() && !st.shutdown {
            break; // idle for `keep_alive`: exit
        }
    }
    // Shutting down: a thread still here runs what is left (only mandatory jobs remain).
    while let Some(job) = st.queue.pop_front() {
        drop(st);
        run(job);
        st = inner.lock();
    }
    st.threads -= 1;
    let last = st.threads == 0;
    drop(st);
    if last {
        inner.exited.notify_all();
    }
}

/// The CPU set of pool threads (Linux only; elsewhere pinning is not supported at all).
pub(crate) mod affinity {
    /// The CPUs the calling thread may run on, if the platform says.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn current() -> Option<Vec<usize>> {
        // SAFETY: cpu_set_t is plain data (all-zero is the empty set); sched_getaffinity writes
        // at most `size_of::<cpu_set_t>()` bytes into it.
        let set = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return None;
            }
            set
        };
        let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: CPU_ISSET reads bit `i` of the set; `i` is within its size.
        Some(
            (0..max)
                .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
                .collect(),
        )
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn current() -> Option<Vec<usize>> {
        None
    }

    /// Lets the calling thread run on `cpus` (best effort: a failure leaves it as it was).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn set(cpus: &[usize]) {
        let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: as in `current`; CPU_SET stays within the set (indices checked); the kernel
        // reads the set during the call only and changes only the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in cpus.iter().filter(|&&c| c < max) {
                libc::CPU_SET(cpu, &mut set);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn set(_cpus: &[usize]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    fn job(f: impl FnOnce() + Send + 'static, mandatory: bool) -> Job {
        Job::new(Box::new(f), mandatory)
    }

    #[test]
    fn bounded_shutdown_returns_while_a_job_still_runs_and_later_calls_do_not_wait() {
        let pool = BlockingPool::new(PoolConfig::default());
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.spawn(job(
            move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            },
            false,
        ))
        .ok()
        .unwrap();
        started_rx.recv().unwrap();
        let t = Instant::now();
        assert!(!pool.shutdown(Some(Duration::from_millis(20))));
        assert!(t.elapsed() < Duration::from_secs(5));
        // A drop after `shutdown_timeout` calls again with no bound: it must not wait.
        assert!(!pool.shutdown(None));
        assert!(pool.spawn(job(|| {}, false)).is_err());
        release_tx.send(()).unwrap();
        while pool.threads() > 0 {
            std::thread::yield_now();
        }
        assert!(pool.shutdown(None));
    }

    #[test]
    fn mandatory_jobs_queued_at_shutdown_still_run() {
        let pool = BlockingPool::new(PoolConfig {
            max_threads: 1,
            ..PoolConfig::default()
        });
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.spawn(job(
            move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            },
            false,
        ))
        .ok()
        .unwrap();
        started_rx.recv().unwrap();
        let (ran_m, ran_o) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (m, o) = (ran_m.clone(), ran_o.clone());
        pool.spawn(job(move || m.store(true, Ordering::SeqCst), true))
            .ok()
            .unwrap();
        pool.spawn(job(move || o.store(true, Ordering::SeqCst), false))
            .ok()
            .unwrap();
        // Shut down while the first job still runs, so both others are queued at that moment.
        let p = pool.clone();
        let shutdown = std::thread::spawn(move || p.shutdown(None));
        while !pool.inner.lock().shutdown {
            std::thread::yield_now();
        }
        release_tx.send(()).unwrap();
        assert!(shutdown.join().unwrap());
        assert!(
            ran_m.load(Ordering::SeqCst),
            "a queued mandatory job was dropped"
        );
        assert!(
            !ran_o.load(Ordering::SeqCst),
            "a queued ordinary job ran after shutdown"
        );
    }
}
