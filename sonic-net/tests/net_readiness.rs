//! tokio's readiness surface on the byte streams: `ready(Interest)`, `poll_read_ready` /
//! `poll_write_ready`, `try_read` / `try_read_vectored` / `try_read_buf` / `try_write` /
//! `try_write_vectored`, `try_io` / `async_io`, on TCP and Unix streams and their halves, with
//! read-ahead honoured by every read, several tasks waiting at once, and the `PRIORITY`
//! interest. Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::{tcp_pair, within};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use socket2::SockRef;
use sonic_net::{TcpStream, UnixStream};
use sonic_rt::io::{Interest, Ready};
use sonic_rt::task::yield_now;
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::rc::Rc;
use std::task::{Context, Waker};

each_mode!(
    tcp_ready_reports_readiness_and_read_closed,
    unix_ready_reports_readiness_and_read_closed,
    tcp_poll_read_ready_and_poll_write_ready,
    unix_poll_read_ready_and_poll_write_ready,
    tcp_try_read_write_fill_and_drain,
    unix_try_read_write_fill_and_drain,
    several_tasks_waiting_in_ready_are_all_woken,
    ready_with_both_interests_wakes_for_either,
    halves_wait_and_try_like_the_stream,
    read_ahead_is_served_first_by_every_try_read,
    try_io_and_async_io_run_the_callers_operation,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    priority_interest_sees_out_of_band_data,
);

async fn unix_pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().unwrap()
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    match res {
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        Ok(v) => panic!("expected WouldBlock, got Ok({v:?})"),
    }
}

/// The same test body for TCP and Unix streams (they share every method name).
macro_rules! for_both_streams {
    ($tcp:ident, $unix:ident, |$a:ident, $b:ident| $body:block) => {
        fn $tcp(rt: &Runtime) {
            rt.block_on(within(20, async {
                let ($a, $b) = tcp_pair().await;
                $body
            }));
        }

        fn $unix(rt: &Runtime) {
            rt.block_on(within(20, async {
                let ($a, $b) = unix_pair().await;
                $body
            }));
        }
    };
}

for_both_streams!(
    tcp_ready_reports_readiness_and_read_closed,
    unix_ready_reports_readiness_and_read_closed,
    |client, server| {
        // Nothing queued: the first try learns it, and readiness says only "writable".
        assert!(would_block(server.try_read(&mut [0u8; 8])));
        let ready = server
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
        let mut ready_fut = Box::pin(server.ready(Interest::READABLE));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(ready_fut.as_mut().poll(&mut cx).is_pending());
        client.try_write(b"ping").unwrap();
        let ready = ready_fut.await.unwrap();
        assert!(ready.is_readable() && !ready.is_read_closed(), "{ready:?}");
        assert!(!ready.is_writable(), "only the interest's bits: {ready:?}");
        let mut buf = [0u8; 8];
        assert_eq!(server.try_read(&mut buf).unwrap(), 4);
        // The peer goes away: the read side reports closed (best effort, as in tokio).
        drop(client);
        for _ in 0..100 {
            let ready = server.ready(Interest::READABLE).await.unwrap();
            if ready.is_read_closed() {
                assert_eq!(server.try_read(&mut buf).unwrap(), 0, "end of stream");
                return;
            }
            yield_now().await;
        }
        panic!("READ_CLOSED never reported");
    }
);

/// tokio's `poll_read_ready` / `poll_write_ready` tests, from the first `WouldBlock` on (a
/// new sonic socket starts out ready until an operation says otherwise, tokio's waits for an
/// event).
macro_rules! poll_ready_case {
    ($name:ident, $pair:ident) => {
        fn $name(rt: &Runtime) {
            rt.block_on(within(20, async {
                let (mut client, mut server) = $pair().await;
                let mut cx = Context::from_waker(Waker::noop());
                assert!(would_block(server.try_read(&mut [0u8; 8])));
                assert!(server.poll_read_ready(&mut cx).is_pending());
                client.write_all(b"ping").await.unwrap();
                poll_fn(|cx| server.poll_read_ready(cx)).await.unwrap();
                // Readable until a read says otherwise.
                let mut buf = [0u8; 4];
                server.read_exact(&mut buf).await.unwrap();
                poll_fn(|cx| server.poll_read_ready(cx)).await.unwrap();
                while server.try_read(&mut [0u8; 1024]).is_ok() {}
                assert!(server.poll_read_ready(&mut cx).is_pending());

                // Writable until the send buffer is full.
                poll_fn(|cx| client.poll_write_ready(cx)).await.unwrap();
                let chunk = vec![7u8; 256 * 1024];
                while client.try_write(&chunk).is_ok() {}
                assert!(client.poll_write_ready(&mut cx).is_pending());
                // The peer's going away makes it "writable" (the write then fails).
                drop(server);
                poll_fn(|cx| client.poll_write_ready(cx)).await.unwrap();
                assert!(client.try_write(b"x").is_err());
            }));
        }
    };
}

poll_ready_case!(tcp_poll_read_ready_and_poll_write_ready, tcp_pair);
poll_ready_case!(unix_poll_read_ready_and_poll_write_ready, unix_pair);

for_both_streams!(
    tcp_try_read_write_fill_and_drain,
    unix_try_read_write_fill_and_drain,
    |client, server| {
        // tokio's `try_read_write`: fill the send buffer with plain then vectored writes, drain
        // it with plain then vectored reads, waiting with `writable`/`readable` in between.
        const DATA: &[u8] = &[2u8; 4000];
        let mut written = Vec::new();
        for vectored in [false, true] {
            client.writable().await.unwrap();
            let bufs: Vec<_> = DATA.chunks(10).map(IoSlice::new).collect();
            loop {
                let res = if vectored {
                    client.try_write_vectored(&bufs)
                } else {
                    client.try_write(DATA)
                };
                match res {
                    Ok(n) => written.extend_from_slice(&DATA[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            // Full: `writable` waits (and is woken by the drain below).
            let mut writable = Box::pin(client.writable());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(writable.as_mut().poll(&mut cx).is_pending());
            let mut read = vec![0u8; written.len()];
            let mut i = 0;
            while i < read.len() {
                server.readable().await.unwrap();
                let res = if vectored {
                    let half = (read.len() - i) / 2;
                    let (a, b) = read[i..].split_at_mut(half);
                    server.try_read_vectored(&mut [IoSliceMut::new(a), IoSliceMut::new(b)])
                } else {
                    server.try_read(&mut read[i..])
                };
                match res {
                    Ok(n) => i += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(read, written);
            writable.await.unwrap();
            written.clear();
        }
    }
);

fn several_tasks_waiting_in_ready_are_all_woken(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (client, server) = tcp_pair().await;
        assert!(would_block(server.try_read(&mut [0u8; 8])));
        let server = Rc::new(server);
        let woken = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (s, woken) = (server.clone(), woken.clone());
                spawn(async move {
                    let ready = s.ready(Interest::READABLE).await.unwrap();
                    woken.set(woken.get() + 1);
                    ready
                })
            })
            .collect();
        for _ in 0..8 {
            yield_now().await;
        }
        assert_eq!(woken.get(), 0, "nothing to read yet");
        client.try_write(b"x").unwrap();
        for t in tasks {
            assert!(t.await.unwrap().is_readable());
        }
        assert_eq!(woken.get(), 4);
    }));
}

fn ready_with_both_interests_wakes_for_either(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (client, server) = unix_pair().await;
        // Make the client neither readable (nothing to read) nor writable (buffer full).
        assert!(would_block(client.try_read(&mut [0u8; 8])));
        // As in tokio, `try_write` answers `WouldBlock` until an event said writable.
        client.writable().await.unwrap();
        let chunk = vec![1u8; 64 * 1024];
        while client.try_write(&chunk).is_ok() {}
        let mut both = Box::pin(client.ready(Interest::READABLE | Interest::WRITABLE));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(both.as_mut().poll(&mut cx).is_pending());
        // Data to read wakes it, with readable set and writable not.
        server.writable().await.unwrap();
        server.try_write(b"hello").unwrap();
        let ready = both.await.unwrap();
        assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
        // Room to write wakes a wait for writing alone.
        let mut w = Box::pin(client.ready(Interest::WRITABLE));
        assert!(w.as_mut().poll(&mut cx).is_pending());
        let mut sink = vec![0u8; 1 << 20];
        while server.try_read(&mut sink).is_ok() {}
        let ready = w.await.unwrap();
        assert_eq!(ready & Ready::WRITABLE, Ready::WRITABLE);
    }));
}

fn halves_wait_and_try_like_the_stream(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (client, server) = tcp_pair().await;
        let (rd, wr) = server.into_split();
        let (mut crd, cwr) = client.into_split();
        assert!(would_block(rd.try_read(&mut [0u8; 4])));
        let reader = spawn(async move {
            let ready = rd.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable());
            rd.readable().await.unwrap();
            let mut buf = [0u8; 16];
            let n = rd.try_read(&mut buf).unwrap();
            (rd, buf[..n].to_vec())
        });
        for _ in 0..4 {
            yield_now().await;
        }
        cwr.writable().await.unwrap();
        assert!(cwr.ready(Interest::WRITABLE).await.unwrap().is_writable());
        cwr.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
            .unwrap();
        let (rd, got) = reader.await.unwrap();
        assert_eq!(got, b"abcd");
        wr.try_write(b"back").unwrap();
        let mut buf = [0u8; 4];
        crd.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
        // Borrowed halves too.
        let mut server = rd.reunite(wr).unwrap();
        let (brd, bwr) = TcpStream::split(&mut server);
        bwr.try_write(b"!").unwrap();
        let mut one = [0u8; 1];
        crd.read_exact(&mut one).await.unwrap();
        assert!(would_block(brd.try_read(&mut one)));
        let mut split_bufs = [0u8; 2];
        let (a, b) = split_bufs.split_at_mut(1);
        let mut cwr = cwr;
        cwr.write_all(b"yz").await.unwrap();
        brd.readable().await.unwrap();
        let n = brd
            .try_read_vectored(&mut [IoSliceMut::new(a), IoSliceMut::new(b)])
            .unwrap();
        assert_eq!((n, &split_bufs), (2, b"yz"));
    }));
}

fn read_ahead_is_served_first_by_every_try_read(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(256);
        client.write_all(b"0123456789abcdef").await.unwrap();
        let mut two = [0u8; 2];
        server.read_exact(&mut two).await.unwrap();
        assert_eq!((&two, server.read_ahead_len()), (b"01", 14));
        // The fill was short (the kernel is drained), yet everything that reads sees the
        // buffered bytes at once.
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable(), "{ready:?}");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(server.poll_read_ready(&mut cx).is_ready());
        // Vectored: scattered across the slices in order.
        let (mut a, mut b) = ([0u8; 3], [0u8; 2]);
        let n = server
            .try_read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .unwrap();
        assert_eq!((n, &a, &b), (5, b"234", b"56"));
        // `try_io` runs the caller's op while bytes are buffered, whatever the readiness.
        let ran = Cell::new(false);
        let res = server.try_io(Interest::READABLE, || {
            ran.set(true);
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
        assert!(ran.get() && would_block(res));
        #[cfg(feature = "bytes")]
        {
            let mut v: Vec<u8> = Vec::with_capacity(4);
            assert_eq!(server.try_read_buf(&mut v).unwrap(), 4);
            assert_eq!(v, b"789a");
        }
        #[cfg(not(feature = "bytes"))]
        {
            let mut four = [0u8; 4];
            assert_eq!(server.try_read(&mut four).unwrap(), 4);
            assert_eq!(&four, b"789a");
        }
        let mut rest = [0u8; 64];
        assert_eq!(server.try_read(&mut rest).unwrap(), 5);
        assert_eq!(&rest[..5], b"bcdef");
        assert!(would_block(server.try_read(&mut rest)));
        assert!(server.poll_read_ready(&mut cx).is_pending());
        // A vectored read larger than the read-ahead goes straight to the kernel.
        client.write_all(&[9u8; 300]).await.unwrap();
        server.readable().await.unwrap();
        let mut big = [0u8; 200];
        let mut big2 = [0u8; 200];
        let n = server
            .try_read_vectored(&mut [IoSliceMut::new(&mut big), IoSliceMut::new(&mut big2)])
            .unwrap();
        assert_eq!((n, server.read_ahead_len()), (300, 0));
    }));
}

fn try_io_and_async_io_run_the_callers_operation(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (client, server) = tcp_pair().await;
        let calls = Cell::new(0);
        let mut buf = [0u8; 8];
        let peek = |buf: &mut [u8]| {
            calls.set(calls.get() + 1);
            SockRef::from(&server).peek(unsafe_uninit(buf))
        };
        // No event has said readable (as in tokio, a new socket's readiness is empty until
        // one does): the op is not even called.
        assert!(would_block(
            server.try_io(Interest::READABLE, || peek(&mut buf))
        ));
        assert!(would_block(
            server.try_io(Interest::READABLE, || peek(&mut buf))
        ));
        assert_eq!(calls.get(), 0);
        let waiter = server.async_io(Interest::READABLE, || peek(&mut [0u8; 8]));
        let writer = async {
            yield_now().await;
            client.try_write(b"abc").unwrap();
        };
        let (n, ()) = sonic_rt::join!(waiter, writer);
        assert_eq!(n.unwrap(), 3);
        assert_eq!(
            calls.get(),
            2,
            "async_io waited for the event instead of retrying"
        );
        // Writing through async_io: the op runs at once on a writable socket.
        let n = client
            .async_io(Interest::WRITABLE, || SockRef::from(&client).send(b"de"))
            .await
            .unwrap();
        assert_eq!(n, 2);
        server.readable().await.unwrap();
        assert_eq!(server.try_read(&mut buf).unwrap(), 5);
    }));
}

/// `peek` takes uninitialised memory; an initialised buffer is a valid one.
fn unsafe_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: `MaybeUninit<u8>` has `u8`'s layout; `peek` writes only initialised bytes.
    unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn priority_interest_sees_out_of_band_data(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (client, server) = tcp_pair().await;
        let mut urgent = Box::pin(server.ready(Interest::PRIORITY));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(urgent.as_mut().poll(&mut cx).is_pending());
        SockRef::from(&client).send_out_of_band(b"!").unwrap();
        let ready = urgent.await.unwrap();
        assert!(ready.is_priority(), "{ready:?}");
        // The urgent byte is read with MSG_OOB; then the priority readiness is spent.
        let mut one = [std::mem::MaybeUninit::new(0u8); 1];
        let n = server
            .try_io(Interest::PRIORITY, || {
                SockRef::from(&server).recv_out_of_band(&mut one)
            })
            .unwrap();
        assert_eq!(n, 1);
        let res = server.try_io(Interest::PRIORITY, || {
            SockRef::from(&server).recv_out_of_band(&mut one)
        });
        // No more urgent data: EINVAL from the kernel, not a wait.
        assert!(res.is_err());
    }));
}
