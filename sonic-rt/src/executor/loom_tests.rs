//! Loom models of everything that crosses threads (run by `.ci/extra-loom.sh`):
//!
//! - the park handshake of the remote queue: a wake pushed from another thread while the owner
//!   is about to block is never lost (loom reports a deadlock if the owner sleeps forever);
//! - a wake of the `block_on` future from another thread, at any point of the owner's loop
//!   (between its look at the future's flag and its take of the remote queue, above all);
//! - `close` against concurrent pushes: every item is either refused or handed back, once;
//! - the task reference count under wakes, clones and drops of wakers on other threads while
//!   the owner releases its own references and drains the queue: the cell is freed exactly once,
//!   after its last user (a loom `Arc` in the task's output would leak, or be dropped twice).
//!
//! Handles (`JoinHandle`, `AbortHandle`) and the task state are `!Send`, owner-thread only, so
//! abort and join-handle drops never race with anything: the only cross-thread task operations
//! are the ones modelled here.

use super::cell::{self, raw, TaskRef};
use super::remote::{Notify, Remote, RemoteQueue, Shared};
use super::waker;
use crate::loom::{AtomicBool, AtomicUsize, Ordering};
use crate::reactor::Poller;
use loom::sync::Arc as LoomArc;
use loom::thread;
use std::sync::Arc;
use std::task::{Context, Waker};

/// The eventfd, modelled: a notification is remembered until the owner's wait consumes it.
#[derive(Clone)]
struct ModelNotifier(LoomArc<loom::sync::Notify>);

impl Notify for ModelNotifier {
    fn notify(&self) {
        self.0.notify();
    }
}

fn run_item() -> Remote {
    Remote::Run(Box::new(|| {}))
}

/// The owner's side of `Core::turn`: drain remote work (cheap check first), otherwise park and
/// block until notified. Returns once `want` items were received.
fn owner_loop(q: &RemoteQueue<ModelNotifier>, wait: &ModelNotifier, want: usize) {
    let mut got = 0;
    let mut buf = Vec::new();
    while got < want {
        if q.may_have_remote() && q.take(&mut buf) {
            got += buf.len();
            buf.clear();
            continue;
        }
        if q.park() {
            wait.0.wait();
            q.unparked();
        }
    }
}

#[test]
fn loom_park_handshake_never_loses_a_wake() {
    loom::model(|| {
        let n = ModelNotifier(LoomArc::new(loom::sync::Notify::new()));
        let q = LoomArc::new(RemoteQueue::new(n.clone()));
        let producer = {
            let q = q.clone();
            thread::spawn(move || assert!(q.push(run_item()).is_ok()))
        };
        owner_loop(&q, &n, 1);
        producer.join().unwrap();
    });
}

#[test]
fn loom_park_handshake_with_two_producers() {
    loom::model(|| {
        let n = ModelNotifier(LoomArc::new(loom::sync::Notify::new()));
        let q = LoomArc::new(RemoteQueue::new(n.clone()));
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || assert!(q.push(run_item()).is_ok()))
            })
            .collect();
        owner_loop(&q, &n, 2);
        for p in producers {
            p.join().unwrap();
        }
    });
}

/// `Runtime::block_on`'s loop over a root future that needs `wakes` wakes: poll the future if
/// its flag is set (`polls` counts them); otherwise `Core::wait` reads the flag, the turn
/// drains remote work (`run_remote`), and parks when it found none.
fn block_on_loop(
    q: &RemoteQueue<ModelNotifier>,
    wait: &ModelNotifier,
    woken: &AtomicBool,
    polls: &AtomicUsize,
    wakes: usize,
) {
    let mut buf = Vec::new();
    loop {
        if woken.swap(false, Ordering::Acquire) {
            if polls.fetch_add(1, Ordering::AcqRel) + 1 == wakes {
                return;
            }
            continue;
        }
        if woken.load(Ordering::Relaxed) {
            continue;
        }
        let work = if q.may_have_remote() && q.take(&mut buf) {
            buf.len()
        } else {
            0
        };
        buf.clear();
        if work > 0 {
            continue;
        }
        if q.park() {
            wait.0.wait();
            q.unparked();
        }
    }
}

#[test]
fn loom_root_wake_from_another_thread_is_never_lost() {
    loom::model(|| {
        let n = ModelNotifier(LoomArc::new(loom::sync::Notify::new()));
        let q = LoomArc::new(RemoteQueue::new(n.clone()));
        let woken = LoomArc::new(AtomicBool::new(false));
        let producer = {
            let (q, woken) = (q.clone(), woken.clone());
            thread::spawn(move || q.wake_root(&woken))
        };
        block_on_loop(&q, &n, &woken, &AtomicUsize::new(0), 1);
        producer.join().unwrap();
    });
}

/// A second wake after the future saw the first must be seen too (the first one's flag and
/// item are gone by then; a wake that finds the flag still set adds no item).
#[test]
fn loom_root_woken_again_after_its_poll_is_seen() {
    loom::model(|| {
        let n = ModelNotifier(LoomArc::new(loom::sync::Notify::new()));
        let q = LoomArc::new(RemoteQueue::new(n.clone()));
        let woken = LoomArc::new(AtomicBool::new(false));
        let polls = LoomArc::new(AtomicUsize::new(0));
        let producer = {
            let (q, woken, polls) = (q.clone(), woken.clone(), polls.clone());
            thread::spawn(move || {
                q.wake_root(&woken);
                while polls.load(Ordering::Acquire) == 0 {
                    thread::yield_now();
                }
                q.wake_root(&woken);
            })
        };
        block_on_loop(&q, &n, &woken, &polls, 2);
        producer.join().unwrap();
    });
}

#[test]
fn loom_close_refuses_or_returns_every_item_once() {
    loom::model(|| {
        let n = ModelNotifier(LoomArc::new(loom::sync::Notify::new()));
        let q = LoomArc::new(RemoteQueue::new(n));
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                (0..2)
                    .map(|_| usize::from(q.push(run_item()).is_err()))
                    .sum::<usize>()
            })
        };
        let mut buf = Vec::new();
        let taken = if q.take(&mut buf) { buf.len() } else { 0 };
        let returned = q.close().len();
        let refused = producer.join().unwrap();
        assert_eq!(taken + returned + refused, 2);
        assert!(q.push(run_item()).is_err(), "closed for good");
    });
}

/// A spawned task whose future has completed: its output holds `probe`. Returns the header
/// pointer with the two references `allocate` counted.
fn finished_task(shared: &Arc<Shared>, probe: LoomArc<()>) -> std::ptr::NonNull<cell::Header> {
    let ptr = cell::allocate(
        async move { probe },
        Some(shared.clone()),
        crate::task::Id::next(),
        std::panic::Location::caller(),
    );
    // SAFETY: a new, live task on this (its owner) thread; nobody else can reach it yet.
    let lock = unsafe { raw::lock_stage(ptr) }.expect("a new task's stage is free");
    assert!(lock
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready());
    ptr
}

fn real_shared() -> Arc<Shared> {
    let (_poller, notifier) = Poller::new().expect("poller");
    Arc::new(RemoteQueue::new(notifier))
}

/// A waker counted on the owner thread, then woken, cloned and dropped elsewhere, while the
/// owner drops its two references and drains the remote queue.
#[test]
fn loom_task_refs_under_remote_wakes() {
    loom::model(|| {
        let shared = real_shared();
        let probe = LoomArc::new(());
        let ptr = finished_task(&shared, probe.clone());
        // SAFETY: `ptr` is live (two references, taken over just below); the clone counts a
        // third for the waker that leaves for the other thread.
        let (executor_ref, handle_ref, waker) = unsafe {
            let waker = Waker::clone(&waker::borrowed(ptr));
            (
                TaskRef::from_counted(ptr),
                TaskRef::from_counted(ptr),
                waker,
            )
        };
        let remote = thread::spawn(move || {
            let other = waker.clone();
            waker.wake();
            other.wake_by_ref();
            drop(other);
        });
        drop(handle_ref);
        let mut buf = Vec::new();
        shared.take(&mut buf);
        buf.clear();
        drop(executor_ref);
        remote.join().unwrap();
        // The runtime goes away: queued wakes are released.
        drop(shared.close());
        drop(probe);
        // The cell held the last `shared` clone besides ours: it is freed by now.
        assert_eq!(Arc::strong_count(&shared), 1);
    });
}

/// Two threads each drop a waker while the owner drops the last task reference it has: whoever
/// is last frees the cell (and the output with it), exactly once.
#[test]
fn loom_last_reference_freed_once_on_any_thread() {
    loom::model(|| {
        let shared = real_shared();
        let probe = LoomArc::new(());
        let ptr = finished_task(&shared, probe.clone());
        // SAFETY: the two references of `allocate` become two wakers, one per thread.
        let (w1, w2) = unsafe {
            let w1 = Waker::clone(&waker::borrowed(ptr));
            let w2 = Waker::clone(&waker::borrowed(ptr));
            drop(TaskRef::from_counted(ptr));
            drop(TaskRef::from_counted(ptr));
            (w1, w2)
        };
        let a = thread::spawn(move || drop(w1));
        let b = thread::spawn(move || drop(w2));
        a.join().unwrap();
        b.join().unwrap();
        drop(probe);
        assert_eq!(Arc::strong_count(&shared), 1);
    });
}
