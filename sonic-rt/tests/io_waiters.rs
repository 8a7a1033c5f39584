//! Several tasks waiting on one `Async` through its async fns (`readable`, `writable`,
//! `read_with`, `write_with`): every waiter is woken when the readiness arrives, a cancelled
//! waiter leaves the source's list, and the multi-waiter path allocates nothing once warm.

mod common;

#[global_allocator]
static ALLOC: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::{assert_steady_state_alloc_free, each_mode};

use sonic_rt::io::Async;
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, JoinHandle, Runtime};
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

each_mode!(
    readable_wakes_every_waiting_task,
    read_with_wakes_every_waiting_task,
    writable_wakes_every_waiting_task,
    write_with_wakes_every_waiting_task,
    cancelled_waiters_leave_the_list,
    waiters_of_one_direction_do_not_wake_the_other,
    peer_close_wakes_every_reader,
);

/// A connected pair; `a` does not start out believing it is readable (a new source is
/// optimistically ready), so its readers really wait.
fn pair() -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
    a.clear_readable();
    (a, b)
}

/// Yields until `done()` holds; panics instead of hanging if it never does.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        yield_now().await;
    }
    panic!("{what}: never happened");
}

/// Lets every spawned task run until it waits (no timing involved: each turn of the loop polls
/// every task that is ready).
async fn settle() {
    for _ in 0..8 {
        yield_now().await;
    }
}

/// Fails instead of hanging when a waiter is never woken.
async fn all_within<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        match timeout(Duration::from_secs(5), h).await {
            Ok(v) => out.push(v.unwrap()),
            Err(_) => panic!(
                "a waiting task was never woken ({} of them were)",
                out.len()
            ),
        }
    }
    out
}

/// Fills the socket's send buffer, so that its next write would block.
fn fill(a: &Async<UnixStream>) {
    let chunk = [0u8; 65536];
    loop {
        match a.get_ref().write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    a.clear_writable();
}

/// Reads everything queued on `b` (blocking std reads on the non-blocking fd until EAGAIN).
fn drain(b: &Async<UnixStream>) {
    let mut buf = [0u8; 65536];
    loop {
        match b.get_ref().read(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
}

fn readable_wakes_every_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let a = Rc::new(a);
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let a = a.clone();
                spawn(async move {
                    a.readable().await.unwrap();
                    i
                })
            })
            .collect();
        settle().await;
        b.write_with(|mut s| s.write(b"x")).await.unwrap();
        assert_eq!(all_within(tasks).await, [0, 1, 2]);
    });
}

fn read_with_wakes_every_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let a = Rc::new(a);
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let a = a.clone();
                spawn(async move {
                    let mut byte = [0u8; 1];
                    a.read_with(|mut s| s.read(&mut byte)).await.unwrap();
                    byte[0]
                })
            })
            .collect();
        settle().await;
        // One event for three bytes: each woken task takes one.
        b.write_with(|mut s| s.write(b"abc")).await.unwrap();
        let mut got = all_within(tasks).await;
        got.sort();
        assert_eq!(got, b"abc");
    });
}

fn writable_wakes_every_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        fill(&a);
        let a = Rc::new(a);
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let a = a.clone();
                spawn(async move {
                    a.writable().await.unwrap();
                    i
                })
            })
            .collect();
        settle().await;
        drain(&b);
        assert_eq!(all_within(tasks).await, [0, 1, 2]);
    });
}

fn write_with_wakes_every_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        fill(&a);
        let a = Rc::new(a);
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let a = a.clone();
                spawn(async move { a.write_with(|mut s| s.write(b"w")).await.unwrap() })
            })
            .collect();
        settle().await;
        drain(&b);
        assert_eq!(all_within(tasks).await, [1, 1, 1]);
    });
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountWake(AtomicUsize);

impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `fut` once with `waker`; it must be pending.
fn poll_pending<F: Future>(fut: F, waker: &Waker) {
    let fut = pin!(fut);
    let mut cx = Context::from_waker(waker);
    assert!(fut.poll(&mut cx).is_pending());
    // Dropped here, while pending: the waiter must leave the source's list.
}

fn cancelled_waiters_leave_the_list(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let counters: Vec<Arc<CountWake>> = (0..1000).map(|_| Arc::default()).collect();
        let mut buf = [0u8; 8];
        for (i, c) in counters.iter().enumerate() {
            let waker = Waker::from(c.clone());
            match i % 3 {
                0 => poll_pending(a.readable(), &waker),
                1 => poll_pending(a.read_with(|mut s| s.read(&mut buf)), &waker),
                _ => poll_pending(async { a.readable().await }, &waker),
            }
        }
        // No cancelled waiter keeps its waker (no leak)...
        for c in &counters {
            assert_eq!(Arc::strong_count(c), 1, "a cancelled waiter kept its waker");
        }
        // ...and none is woken by the next event. (Some were woken while alive: `read_with`
        // spends the task's I/O budget, and a poll past it wakes and yields.)
        let wakes = || -> usize { counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum() };
        let before = wakes();
        b.write_with(|mut s| s.write(b"x")).await.unwrap();
        a.readable().await.unwrap();
        let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(wakes(), before, "cancelled waiters were woken");
    });
}

fn waiters_of_one_direction_do_not_wake_the_other(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        fill(&a);
        let reader = Arc::new(CountWake::default());
        let reader_waker = Waker::from(reader.clone());
        let mut read = pin!(a.readable());
        let mut cx = Context::from_waker(&reader_waker);
        assert!(read.as_mut().poll(&mut cx).is_pending());
        // Room to write: the writer wakes, the reader does not.
        drain(&b);
        a.writable().await.unwrap();
        assert_eq!(reader.0.load(Ordering::Relaxed), 0);
        // Data to read: now it does.
        b.write_with(|mut s| s.write(b"x")).await.unwrap();
        wait_for("the reader is woken", || {
            reader.0.load(Ordering::Relaxed) > 0
        })
        .await;
        assert!(read.as_mut().poll(&mut cx).is_ready());
    });
}

fn peer_close_wakes_every_reader(rt: &Runtime) {
    rt.block_on(async {
        // The peer closing is an event for both directions' waiters.
        let (a, b) = pair();
        let a = Rc::new(a);
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let a = a.clone();
                spawn(async move {
                    let mut buf = [0u8; 4];
                    a.read_with(|mut s| s.read(&mut buf)).await.unwrap()
                })
            })
            .collect();
        settle().await;
        drop(b);
        assert_eq!(all_within(tasks).await, [0, 0, 0]);
    });
}

/// Three tasks wait for one socket and are all woken, round after round: the waiter list and the
/// wake buffer are reused, nothing is allocated once warm.
#[test]
fn three_waiters_allocate_nothing() {
    for busy in [false, true] {
        let rt = sonic_test_support::rt(busy);
        rt.block_on(async {
            let (a, b) = pair();
            let a = Rc::new(a);
            let round_over = Rc::new(sonic_rt::sync::Notify::new());
            let woken = Rc::new(std::cell::Cell::new(0u32));
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let (a, round_over, woken) = (a.clone(), round_over.clone(), woken.clone());
                    spawn(async move {
                        loop {
                            a.readable().await.unwrap();
                            woken.set(woken.get() + 1);
                            // Wait for the round to end before waiting again.
                            round_over.notified().await;
                        }
                    })
                })
                .collect();
            let mut buf = [0u8; 8];
            assert_steady_state_alloc_free!("three readable() waiters on one socket", {
                settle().await;
                woken.set(0);
                b.write_with(|mut s| s.write(b"x")).await.unwrap();
                wait_for("all three waiters are woken", || woken.get() == 3).await;
                a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                // The one byte is gone: wait for the next event.
                a.clear_readable();
                round_over.notify_waiters();
            });
            for t in tasks {
                t.abort();
            }
        });
    }
}
