//! Proves the no-allocation claims with a counting global allocator: once warmed up, a ready
//! read/write, a wake, and re-arming or firing a timer allocate nothing.

mod common;

use sonic_rt::io::Async;
use sonic_rt::task::yield_now;
use sonic_rt::time::{sleep, Instant};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::assert_steady_state_alloc_free;

fn ping_pong_read_write(busy: bool, spin_reads: bool) {
    let rt = common::rt(busy);
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
        a.set_spin_reads(spin_reads);
        b.set_spin_reads(spin_reads);
        // The echo side runs as its own task, so every round also exercises task wakes.
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            loop {
                let n = b.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                if n == 0 {
                    return;
                }
                b.write_with(|mut s| s.write(&buf[..n])).await.unwrap();
            }
        });
        let mut buf = [0u8; 64];
        assert_steady_state_alloc_free!("read/write ping-pong", {
            a.write_with(|mut s| s.write(&[1u8; 64])).await.unwrap();
            let mut got = 0;
            while got < 64 {
                got += a.read_with(|mut s| s.read(&mut buf[got..])).await.unwrap();
            }
        });
        drop(echo);
    });
}

#[test]
fn read_write_and_wake_allocate_nothing() {
    ping_pong_read_write(false, false);
    ping_pong_read_write(true, false);
    ping_pong_read_write(true, true);
}

/// A read-ahead ping-pong with `read_exact` through `AsyncRead`: the buffer is allocated by the
/// first fill (in the warm-up), never again.
fn ping_pong_read_exact_with_read_ahead(busy: bool) {
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    let rt = common::rt(busy);
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
        a.set_read_ahead(4096);
        b.set_read_ahead(4096);
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            while b.read_exact(&mut buf).await.is_ok() {
                b.write_all(&buf).await.unwrap();
            }
        });
        let mut buf = [0u8; 64];
        assert_steady_state_alloc_free!("read-ahead read_exact ping-pong", {
            a.write_all(&[1u8; 64]).await.unwrap();
            // Two halves: the second is served from the buffer, no syscall.
            a.read_exact(&mut buf[..40]).await.unwrap();
            a.read_exact(&mut buf[40..]).await.unwrap();
        });
        drop(a);
        echo.await.unwrap();
    });
}

#[test]
fn read_ahead_reads_allocate_nothing() {
    ping_pong_read_exact_with_read_ahead(false);
    ping_pong_read_exact_with_read_ahead(true);
}

#[test]
fn timers_allocate_nothing() {
    for busy in [false, true] {
        let rt = common::rt(busy);
        rt.block_on(async {
            // Create, fire and drop a sleep.
            assert_steady_state_alloc_free!("sleep fire", sleep(Duration::from_micros(1)).await);
            // Create, register and cancel a sleep.
            assert_steady_state_alloc_free!("sleep cancel", {
                let mut s = sleep(Duration::from_secs(60));
                let _ = sonic_rt::time::timeout(Duration::ZERO, &mut s).await;
            });
            // Re-arm one sleep over and over.
            let mut s = sleep(Duration::from_secs(60));
            let _ = sonic_rt::time::timeout(Duration::ZERO, &mut s).await;
            assert_steady_state_alloc_free!("sleep reset", {
                s.reset_mut(Instant::now() + Duration::from_micros(1));
                (&mut s).await;
            });
            // Interval ticks.
            let mut iv = sonic_rt::time::interval(Duration::from_micros(2));
            assert_steady_state_alloc_free!("interval tick", iv.tick().await);
            // Yield (a self-wake through the run queue).
            assert_steady_state_alloc_free!("yield_now", yield_now().await);
        });
    }
}
