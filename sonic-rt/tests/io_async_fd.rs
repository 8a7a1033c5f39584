//! `AsyncFd` (tokio's `io::unix::AsyncFd`) on real fds: the ready guards (readiness stays set
//! until a guard clears it, and a guard never clears what a newer event reported), the first
//! event, `into_inner`, `O_NONBLOCK` left alone, end of stream, error readiness, several
//! waiting tasks, the `poll_*` path and `try_new`.

mod common;

#[global_allocator]
static ALLOC: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::{assert_steady_state_alloc_free, each_mode};

use sonic_rt::io::unix::AsyncFd;
use sonic_rt::io::{Interest, Ready};
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, JoinHandle, Runtime};
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

each_mode!(
    guards_drive_an_echo_over_a_socketpair,
    a_new_fd_is_ready_only_for_what_the_first_event_reports,
    a_guard_dropped_without_clearing_leaves_the_fd_ready,
    guard_try_io_clears_only_on_would_block,
    a_clear_after_a_newer_event_keeps_the_readiness,
    clear_ready_matching_clears_one_side_of_a_read_write_guard,
    clear_ready_matching_on_a_mut_guard,
    into_inner_deregisters_and_gives_the_fd_back_open,
    drop_closes_only_what_the_inner_object_owns,
    o_nonblock_is_left_as_the_caller_set_it,
    peer_close_is_read_closed_and_clearing_keeps_it,
    several_tasks_wait_on_one_async_fd,
    poll_read_ready_wakes_only_the_latest_poller,
    async_io_waits_and_retries,
    try_io_on_the_async_fd_follows_the_readiness,
    try_new_gives_the_object_back,
    the_guard_loop_allocates_nothing_once_warm,
    #[cfg(target_os = "linux")]
    error_readiness_of_a_refused_udp_send,
    #[cfg(target_os = "linux")]
    priority_readiness_of_out_of_band_data,
);

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Registers an object that owns its fd (or shares it through an `Arc`, see `Shared`).
fn register<T: AsRawFd>(io: T) -> AsyncFd<T> {
    // SAFETY: every object this file registers owns its fd or holds a reference that keeps
    // it open, and never replaces it while registered.
    unsafe { AsyncFd::register(io) }.unwrap()
}

/// `a` as an `AsyncFd`, its peer a plain (non-blocking) std stream.
fn pair() -> (AsyncFd<UnixStream>, UnixStream) {
    let (a, b) = nonblocking_pair();
    (register(a), b)
}

/// Lets the reactor deliver every event already queued, and spawned tasks run until they wait
/// (each yield lets the loop turn the reactor once; no timing involved).
async fn settle() {
    for _ in 0..8 {
        yield_now().await;
    }
}

/// Polls `fut` once: its output if it completes at once.
fn now<F: Future>(fut: F) -> Option<F::Output> {
    let fut = pin!(fut);
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// A wait that must complete; fails instead of hanging.
async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match timeout(Duration::from_secs(5), fut).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: never completed"),
    }
}

fn o_nonblock(fd: RawFd) -> bool {
    // SAFETY: F_GETFL on an open fd, integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(flags >= 0, "{}", io::Error::last_os_error());
    flags & libc::O_NONBLOCK != 0
}

/// tokio's read loop over a guard: wait, try, and on `WouldBlock` (readiness cleared) wait
/// again.
async fn read(fd: &AsyncFd<UnixStream>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|fd| fd.get_ref().read(buf)) {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

async fn read_exact(fd: &AsyncFd<UnixStream>, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match read(fd, buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

async fn write_all(fd: &AsyncFd<UnixStream>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|fd| fd.get_ref().write(buf)) {
            Ok(result) => buf = &buf[result?..],
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

fn guards_drive_an_echo_over_a_socketpair(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = nonblocking_pair();
        let server = register(b);
        let echo = spawn(async move {
            let mut buf = [0u8; 100];
            let mut total = 0;
            loop {
                let n = read(&server, &mut buf).await.unwrap();
                if n == 0 {
                    return total;
                }
                write_all(&server, &buf[..n]).await.unwrap();
                total += n;
            }
        });
        let client = register(a);
        let mut sent = 0;
        for i in 0..200u32 {
            // Past the server's 100-byte reads and through many write waits.
            let msg = format!("message {i} ").repeat(1 + i as usize % 50);
            write_all(&client, msg.as_bytes()).await.unwrap();
            let mut back = vec![0u8; msg.len()];
            read_exact(&client, &mut back).await.unwrap();
            assert_eq!(back, msg.as_bytes());
            sent += msg.len();
        }
        client
            .get_ref()
            .shutdown(std::net::Shutdown::Write)
            .unwrap();
        assert_eq!(within("the echo task", echo).await.unwrap(), sent);
    });
    assert_eq!(rt.io_sources(), 0, "a dropped AsyncFd deregisters");
}

fn a_new_fd_is_ready_only_for_what_the_first_event_reports(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        // Not ready for anything before the reactor has heard from the kernel.
        assert!(now(a.readable()).is_none());
        assert!(now(a.writable()).is_none());
        let guard = within("writable", a.writable()).await.unwrap();
        assert_eq!(guard.ready(), Ready::WRITABLE);
        drop(guard);
        settle().await;
        assert!(now(a.readable()).is_none(), "nothing to read yet");
        b.write_all(b"x").unwrap();
        let guard = within("readable", a.readable()).await.unwrap();
        assert_eq!(guard.ready(), Ready::READABLE);
    });
}

fn a_guard_dropped_without_clearing_leaves_the_fd_ready(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.write_all(b"data").unwrap();
        let guard = within("readable", a.readable()).await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(a.get_ref().read(&mut buf).unwrap(), 4); // drained by hand
        drop(guard);
        settle().await;
        let mut guard = now(a.readable())
            .expect("still ready: nobody cleared it")
            .unwrap();
        guard.retain_ready();
        drop(guard);
        let mut guard = now(a.readable()).expect("still ready").unwrap();
        guard.clear_ready();
        assert_eq!(guard.ready(), Ready::EMPTY);
        settle().await;
        assert!(now(a.readable()).is_none(), "cleared: waits for an event");
        b.write_all(b"more").unwrap();
        within("readable after new data", a.readable())
            .await
            .unwrap()
            .clear_ready();
    });
}

fn guard_try_io_clears_only_on_would_block(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.write_all(b"0").unwrap();
        let mut guard = within("readable", a.readable()).await.unwrap();
        a.get_ref().read_exact(&mut [0]).unwrap();
        assert_eq!(guard.try_io(|_| Ok(7)).unwrap().unwrap(), 7);
        assert!(
            now(a.readable()).is_some(),
            "an Ok leaves the readiness set"
        );
        let err = guard.try_io(|_| io::Result::<()>::Err(io::ErrorKind::WouldBlock.into()));
        assert!(err.is_err(), "WouldBlock becomes TryIoError");
        assert_eq!(guard.ready(), Ready::EMPTY);
        // Another error is the operation's result, not "wait again".
        let mut guard2 = within("writable", a.writable()).await.unwrap();
        let other = guard2.try_io(|_| io::Result::<()>::Err(io::ErrorKind::Other.into()));
        assert_eq!(other.unwrap().unwrap_err().kind(), io::ErrorKind::Other);
        assert_eq!(guard2.ready(), Ready::WRITABLE);
        settle().await;
        assert!(now(a.readable()).is_none(), "WouldBlock cleared it");
        b.write_all(b"0").unwrap();
        within("readable again", a.readable())
            .await
            .unwrap()
            .clear_ready();
    });
}

/// tokio's rule: a guard clears only readiness that happened before it was made. Here the
/// guard is held across an await while new data arrives; clearing it then must not erase the
/// newer event, which the edge-triggered registration would never repeat.
fn a_clear_after_a_newer_event_keeps_the_readiness(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.write_all(b"one").unwrap();
        let mut guard = within("readable", a.readable()).await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(a.get_ref().read(&mut buf).unwrap(), 3);
        assert_eq!(
            a.get_ref().read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        b.write_all(b"two").unwrap();
        settle().await; // the reactor reports "two" while the guard is held
        guard.clear_ready();
        let mut guard = now(a.readable())
            .expect("the newer event's readiness was lost")
            .unwrap();
        let n = guard
            .try_io(|fd| fd.get_ref().read(&mut buf))
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"two");
    });
}

fn clear_ready_matching_clears_one_side_of_a_read_write_guard(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        b.write_all(b"0").unwrap();
        settle().await;
        let mut guard = within("ready", a.ready(Interest::READABLE | Interest::WRITABLE))
            .await
            .unwrap();
        assert_eq!(guard.ready(), Ready::READABLE | Ready::WRITABLE);
        guard.clear_ready_matching(Ready::READABLE);
        assert_eq!(guard.ready(), Ready::WRITABLE);
        assert!(now(a.readable()).is_none(), "the read side was cleared");
        assert!(now(a.writable()).is_some(), "the write side was not");
        guard.clear_ready_matching(Ready::WRITABLE);
        assert_eq!(guard.ready(), Ready::EMPTY);
        assert!(now(a.writable()).is_none());
        // Nothing left to clear: a no-op.
        guard.clear_ready_matching(Ready::READABLE);
        guard.clear_ready();
    });
}

fn clear_ready_matching_on_a_mut_guard(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, mut b) = pair();
        b.write_all(b"0").unwrap();
        let mut guard = within(
            "ready_mut",
            a.ready_mut(Interest::READABLE | Interest::WRITABLE),
        )
        .await
        .unwrap();
        assert_eq!(guard.ready(), Ready::READABLE | Ready::WRITABLE);
        guard.clear_ready_matching(Ready::READABLE);
        assert_eq!(guard.ready(), Ready::WRITABLE);
        let n = guard
            .try_io(|fd| fd.get_mut().write(b"w"))
            .unwrap()
            .unwrap();
        assert_eq!(n, 1);
        assert!(guard.get_inner_mut().as_raw_fd() >= 0);
        guard.clear_ready_matching(Ready::WRITABLE);
        assert_eq!(guard.ready(), Ready::EMPTY);
        assert!(now(a.readable()).is_none());
        assert!(now(a.writable()).is_none());
        let mut buf = [0u8; 1];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"w");
    });
}

fn into_inner_deregisters_and_gives_the_fd_back_open(rt: &Runtime) {
    let (a, mut b) = rt.block_on(async {
        let (a, b) = pair();
        assert_eq!(rt.io_sources(), 1);
        let a: UnixStream = a.into_inner();
        assert_eq!(rt.io_sources(), 0, "into_inner deregisters");
        // Registered again: the fd was really taken out of the poller.
        let a = register(a);
        let _writable = within("writable", a.writable()).await.unwrap();
        (a.into_inner(), b)
    });
    assert_eq!(rt.io_sources(), 0);
    assert!(
        o_nonblock(a.as_raw_fd()),
        "still non-blocking, as the caller set it"
    );
    (&a).write_all(b"open").unwrap();
    let mut buf = [0u8; 4];
    b.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"open");
}

/// `AsRawFd` for a shared stream: dropping the `AsyncFd` drops only a reference.
struct Shared(Arc<UnixStream>);

impl AsRawFd for Shared {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

fn drop_closes_only_what_the_inner_object_owns(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        drop(a);
        assert_eq!(b.read(&mut [0]).unwrap(), 0, "the owned fd was closed");

        let (a, mut b) = nonblocking_pair();
        let a = Arc::new(a);
        let afd = register(Shared(a.clone()));
        drop(afd);
        assert_eq!(
            b.read(&mut [0]).unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "a shared fd stays open"
        );
        // And it can be registered again.
        let afd = register(Shared(a));
        let _writable = within("writable", afd.writable()).await.unwrap();
    });
    assert_eq!(rt.io_sources(), 0);
}

fn o_nonblock_is_left_as_the_caller_set_it(rt: &Runtime) {
    rt.block_on(async {
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(!o_nonblock(a.as_raw_fd()));
        let a = register(a);
        assert!(
            !o_nonblock(a.as_raw_fd()),
            "registering made it non-blocking"
        );
        let _writable = within("writable", a.writable()).await.unwrap();
        let a = a.into_inner();
        assert!(!o_nonblock(a.as_raw_fd()));
    });
}

fn peer_close_is_read_closed_and_clearing_keeps_it(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        settle().await;
        assert!(now(a.readable()).is_none());
        drop(b);
        let mut guard = within("readable at EOF", a.readable()).await.unwrap();
        assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
        let mut buf = [0u8; 8];
        assert_eq!(
            guard
                .try_io(|fd| fd.get_ref().read(&mut buf))
                .unwrap()
                .unwrap(),
            0
        );
        guard.clear_ready();
        let guard = now(a.readable()).expect("READ_CLOSED is final").unwrap();
        assert!(guard.ready().is_read_closed());
    });
}

fn several_tasks_wait_on_one_async_fd(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        let a = Rc::new(a);
        let tasks: Vec<JoinHandle<usize>> = (0..10)
            .map(|i| {
                let a = a.clone();
                spawn(async move {
                    let mut guard = a.readable().await.unwrap();
                    yield_now().await; // the others see the readiness too
                    guard.clear_ready();
                    i
                })
            })
            .collect();
        settle().await;
        assert!(tasks.iter().all(|t| !t.is_finished()));
        b.write_all(b"0").unwrap();
        let mut done = Vec::new();
        for t in tasks {
            done.push(within("a waiting task", t).await.unwrap());
        }
        assert_eq!(done, (0..10).collect::<Vec<_>>());
        assert!(now(a.readable()).is_none(), "cleared by the tasks");
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

fn poll_read_ready_wakes_only_the_latest_poller(rt: &Runtime) {
    rt.block_on(async {
        let (a, mut b) = pair();
        let guard = within("poll_write_ready", poll_fn(|cx| a.poll_write_ready(cx)))
            .await
            .unwrap();
        assert_eq!(guard.ready(), Ready::WRITABLE);
        drop(guard);
        let (first, second) = (
            Arc::new(CountWake::default()),
            Arc::new(CountWake::default()),
        );
        let (w1, w2) = (Waker::from(first.clone()), Waker::from(second.clone()));
        assert!(a
            .poll_read_ready(&mut Context::from_waker(&w1))
            .is_pending());
        assert!(a
            .poll_read_ready(&mut Context::from_waker(&w2))
            .is_pending());
        b.write_all(b"0").unwrap();
        settle().await;
        assert_eq!(
            first.0.load(Ordering::Relaxed),
            0,
            "replaced by the later poll"
        );
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
        let Poll::Ready(guard) = a.poll_read_ready(&mut Context::from_waker(&w1)) else {
            panic!("readable after the event");
        };
        assert_eq!(guard.unwrap().ready(), Ready::READABLE);

        // The mut forms; the readiness is still set, so they are ready on the first poll.
        let mut a = a;
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(guard) = a.poll_read_ready_mut(&mut cx) else {
            panic!("still readable");
        };
        let mut guard = guard.unwrap();
        let mut byte = [0u8; 1];
        guard
            .try_io(|fd| fd.get_mut().read(&mut byte))
            .unwrap()
            .unwrap();
        assert!(guard.try_io(|fd| fd.get_mut().read(&mut byte)).is_err());
        assert!(
            a.poll_read_ready_mut(&mut cx).is_pending(),
            "cleared by WouldBlock"
        );
        let Poll::Ready(guard) = a.poll_write_ready_mut(&mut cx) else {
            panic!("still writable");
        };
        assert!(guard.unwrap().ready().is_writable());
    });
}

fn async_io_waits_and_retries(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = pair();
        let calls = std::cell::Cell::new(0);
        let writer = spawn(async move {
            settle().await;
            (&b).write_all(b"late").unwrap();
            b
        });
        let mut buf = [0u8; 8];
        let n = within(
            "async_io",
            a.async_io(Interest::READABLE, |mut s| {
                calls.set(calls.get() + 1);
                s.read(&mut buf)
            }),
        )
        .await
        .unwrap();
        assert_eq!(&buf[..n], b"late");
        assert_eq!(calls.get(), 1, "not run before the fd was readable");
        let mut b = writer.await.unwrap();

        // A `WouldBlock` clears the readiness it ran on, and the retry waits for a new event:
        // the second try sees both bytes, so it ran after the second write.
        let mut a = a;
        b.write_all(b"1").unwrap();
        settle().await;
        let writer = spawn(async move {
            settle().await;
            b.write_all(b"2").unwrap();
            b
        });
        let mut tries = 0;
        let mut buf = [0u8; 8];
        let n = within(
            "async_io_mut",
            a.async_io_mut(Interest::READABLE, |s| {
                tries += 1;
                if tries == 1 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                s.read(&mut buf)
            }),
        )
        .await
        .unwrap();
        assert_eq!((tries, &buf[..n]), (2, &b"12"[..]));
        drop(writer.await.unwrap());
    });
}

fn try_io_on_the_async_fd_follows_the_readiness(rt: &Runtime) {
    rt.block_on(async {
        let (mut a, mut b) = pair();
        settle().await;
        let mut called = false;
        let _ = a.try_io_mut(Interest::READABLE, |_| {
            called = true;
            Ok(())
        });
        assert!(!called, "not readable: no call");

        b.write_all(&[0]).unwrap();
        settle().await;
        let mut called = false;
        let _ = a.try_io(Interest::READABLE, |_| {
            called = true;
            Ok(())
        });
        assert!(called, "readable: called");

        let err = a
            .try_io(Interest::READABLE, |_| {
                io::Result::<()>::Err(io::ErrorKind::WouldBlock.into())
            })
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        let mut called = false;
        let err = a
            .try_io(Interest::READABLE, |_| {
                called = true;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(!called, "the WouldBlock cleared the readiness");

        let mut called = false;
        a.try_io(Interest::WRITABLE, |_| {
            called = true;
            Ok(())
        })
        .unwrap();
        assert!(called, "writable is a separate readiness");
    });
}

/// An object whose fd is not one.
#[derive(Debug)]
struct NoFd;

impl AsRawFd for NoFd {
    fn as_raw_fd(&self) -> RawFd {
        -1
    }
}

/// `register` gives the object back on failure; so do the deprecated safe constructors (the
/// names tokio programs written before tokio 1.54 use).
#[allow(deprecated)]
fn try_new_gives_the_object_back(rt: &Runtime) {
    rt.block_on(async {
        let original = Arc::new(NoFd);
        // SAFETY: the contract concerns open fds; registration refuses -1 before using it.
        let err = unsafe { AsyncFd::register(original.clone()) }.unwrap_err();
        let (back, cause) = err.into_parts();
        assert!(Arc::ptr_eq(&original, &back));
        assert_eq!(cause.raw_os_error(), Some(libc::EBADF));
        // SAFETY: as above.
        let err = unsafe { AsyncFd::register_with_interest(original.clone(), Interest::ERROR) };
        assert!(Arc::ptr_eq(&original, &err.unwrap_err().into_parts().0));
        let (a, _b) = nonblocking_pair();
        let a = AsyncFd::new(a).unwrap();
        let _writable = within("writable", a.writable()).await.unwrap();

        let err = AsyncFd::try_new(original.clone()).unwrap_err();
        let (back, cause) = err.into_parts();
        assert!(Arc::ptr_eq(&original, &back));
        assert_eq!(cause.raw_os_error(), Some(libc::EBADF));

        let err = AsyncFd::try_with_interest(original.clone(), Interest::READABLE).unwrap_err();
        assert!(Arc::ptr_eq(&original, &err.into_parts().0));
        let err: io::Error = AsyncFd::with_interest(NoFd, Interest::READABLE).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));

        #[cfg(target_os = "linux")]
        {
            // epoll refuses regular files (EPERM): the file comes back, still open.
            let file = std::fs::File::open("/proc/self/exe").unwrap();
            let fd = file.as_raw_fd();
            // SAFETY: the file owns its fd.
            let err = unsafe { AsyncFd::register(file) }.unwrap_err();
            let (file, cause) = err.into_parts();
            assert_eq!(cause.raw_os_error(), Some(libc::EPERM));
            assert_eq!(file.as_raw_fd(), fd);
            assert!(file.metadata().is_ok());
        }
    });
    assert_eq!(rt.io_sources(), 0, "a failed registration leaves no source");
}

#[test]
#[allow(deprecated)]
fn outside_a_runtime_registration_fails_and_gives_the_object_back() {
    let (a, _b) = nonblocking_pair();
    let fd = a.as_raw_fd();
    // SAFETY: the stream owns its fd.
    let (a, cause) = unsafe { AsyncFd::register(a) }.unwrap_err().into_parts();
    assert_eq!(a.as_raw_fd(), fd);
    assert!(
        cause.to_string().contains("inside a sonic runtime"),
        "{cause}"
    );
    let (a, _) = AsyncFd::try_new(a).unwrap_err().into_parts();
    assert_eq!(a.as_raw_fd(), fd);
    assert!(
        cause.to_string().contains("inside a sonic runtime"),
        "{cause}"
    );
    assert!(AsyncFd::new(a).is_err());
}

/// Error readiness (`EPOLLERR`): a connected UDP socket whose datagram was refused (ICMP port
/// unreachable on loopback). `ERROR` interest is satisfied by it, `READABLE` is not (tokio's
/// masks), and clearing the guard after taking the error makes the next wait wait.
#[cfg(target_os = "linux")]
fn error_readiness_of_a_refused_udp_send(rt: &Runtime) {
    use std::net::UdpSocket;
    rt.block_on(async {
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = closed.local_addr().unwrap();
        drop(closed);
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.connect(dest).unwrap();
        s.set_nonblocking(true).unwrap();
        let s = register(s);
        settle().await;
        assert!(now(s.ready(Interest::ERROR)).is_none(), "no error yet");

        s.get_ref().send(b"anyone?").unwrap();
        let mut guard = within("error readiness", s.ready(Interest::ERROR))
            .await
            .unwrap();
        assert_eq!(guard.ready(), Ready::ERROR);
        assert!(
            now(s.readable()).is_none(),
            "an error alone is not READABLE"
        );
        assert!(
            s.poll_read_ready(&mut Context::from_waker(Waker::noop()))
                .is_pending(),
            "nor for the poll path"
        );
        let err = s.get_ref().take_error().unwrap().expect("a pending error");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        guard.clear_ready();
        settle().await;
        assert!(
            now(s.ready(Interest::ERROR)).is_none(),
            "cleared after take_error"
        );
    });
}

/// A byte each way through the guards, each read followed by one that would block (so every
/// round waits for the reactor's event): nothing allocated once warm.
fn the_guard_loop_allocates_nothing_once_warm(rt: &Runtime) {
    rt.block_on(async {
        let (a, b) = nonblocking_pair();
        let (a, b) = (register(a), register(b));
        let mut buf = [0u8; 8];
        assert_steady_state_alloc_free!("a byte each way through AsyncFd guards", {
            write_all(&a, b"x").await.unwrap();
            assert_eq!(read(&b, &mut buf).await.unwrap(), 1);
            let drained = b.try_io(Interest::READABLE, |mut s| s.read(&mut buf));
            assert_eq!(drained.unwrap_err().kind(), io::ErrorKind::WouldBlock);
            write_all(&b, b"y").await.unwrap();
            assert_eq!(read(&a, &mut buf).await.unwrap(), 1);
            let drained = a.try_io(Interest::READABLE, |mut s| s.read(&mut buf));
            assert_eq!(drained.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        });
    });
}

/// `PRIORITY` readiness (`EPOLLPRI`): TCP urgent data on loopback satisfies
/// `ready(Interest::PRIORITY)`, which waits until it comes.
#[cfg(target_os = "linux")]
fn priority_readiness_of_out_of_band_data(rt: &Runtime) {
    use std::net::{TcpListener, TcpStream};
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.set_nonblocking(true).unwrap();
        // SAFETY: the stream owns its fd.
        let client =
            unsafe { AsyncFd::register_with_interest(client, Interest::PRIORITY) }.unwrap();
        settle().await;
        assert!(
            now(client.ready(Interest::PRIORITY)).is_none(),
            "no urgent data yet"
        );
        // SAFETY: send(2) on an open socket, with a buffer that outlives the call.
        let sent =
            unsafe { libc::send(server.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) };
        assert_eq!(sent, 1, "{}", io::Error::last_os_error());
        let guard = within("priority readiness", client.ready(Interest::PRIORITY))
            .await
            .unwrap();
        assert!(guard.ready().is_priority(), "{:?}", guard.ready());
    });
}
