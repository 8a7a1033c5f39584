//! A paused clock next to sockets: time jumps to the next timer only when no task is ready and
//! no I/O event is waiting, so socket round trips under `pause()` take no virtual time.

use sonic_test_support::each_mode;

use sonic_rt::io::Async;
use sonic_rt::time::{self, sleep, Instant};
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

/// A key/value server's expiry test in miniature: a 1 s timer must not fire while requests
/// travel over a socket (Unix sockets deliver synchronously, so every reply is already waiting
/// when the runtime looks).
fn paused_clock_waits_for_pending_io_before_jumping(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let (client, server) = UnixStream::pair().unwrap();
        let (client, server) = (Async::new(client).unwrap(), Async::new(server).unwrap());
        let echo = spawn(async move {
            let mut buf = [0u8; 64];
            loop {
                let n = server.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                if n == 0 {
                    return;
                }
                server.write_with(|mut s| s.write(&buf[..n])).await.unwrap();
            }
        });
        let fired = Rc::new(Cell::new(false));
        let f = fired.clone();
        let expiry = spawn(async move {
            sleep(Duration::from_secs(1)).await;
            f.set(true);
        });
        let start = Instant::now();
        let mut buf = [0u8; 64];
        for i in 0..100u8 {
            client.write_with(|mut s| s.write(&[i; 8])).await.unwrap();
            let mut got = 0;
            while got < 8 {
                got += client
                    .read_with(|mut s| s.read(&mut buf[got..8]))
                    .await
                    .unwrap();
            }
            assert_eq!(buf[..8], [i; 8]);
            assert!(!fired.get(), "the 1 s timer fired during round trip {i}");
        }
        assert_eq!(Instant::now(), start, "round trips took virtual time");
        // Once only the timer is left, the clock jumps to it.
        expiry.await.unwrap();
        assert!(fired.get());
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        drop(client);
        echo.await.unwrap();
        time::resume();
    });
}

each_mode!(
    #[cfg_attr(miri, ignore = "needs FIONBIO on a socket")]
    paused_clock_waits_for_pending_io_before_jumping,
);
