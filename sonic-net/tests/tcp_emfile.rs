//! `EMFILE` on accept: an error, the connection stays in the backlog, the listener stays usable,
//! and a loop that retries at once does not spin (the listener backs off on a timer).
//! Its own test binary (so its own process): it lowers RLIMIT_NOFILE for the whole process.

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{TcpListener, TcpStream};
use std::io::{Read, Write};

use std::time::{Duration, Instant};

fn set_nofile(soft: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write a live local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        old
    }
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a live local timespec.
    let res = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(res, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn emfile_on_accept_keeps_the_listener_usable() {
    // One test function for both modes: the fd limit is process-wide, so they must not overlap.
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // A blocking std client: the handshake completes in the kernel, the connection
            // waits in the accept queue.
            let mut client = std::net::TcpStream::connect(addr).unwrap();

            let old = set_nofile(64);
            let mut hoard = Vec::new();
            loop {
                match std::os::unix::net::UnixStream::pair() {
                    Ok(p) => hoard.push(p),
                    Err(e) => {
                        assert_eq!(e.raw_os_error(), Some(libc::EMFILE));
                        break;
                    }
                }
            }
            // A pair needs two fds: fill a last single free slot too.
            let mut singles = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                singles.push(f);
            }

            // Accept fails with EMFILE: a clear error, not a panic.
            let err = listener.accept().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");

            // A caller that retries at once, in a tight loop, for 300 ms: each retry waits for
            // the back-off (10 ms), so there are a few dozen attempts, not millions, and in
            // parked mode the thread sleeps in between.
            let cpu0 = thread_cpu();
            let start = Instant::now();
            let mut errors = 0;
            while start.elapsed() < Duration::from_millis(300) {
                match listener.accept().await {
                    Err(e) => {
                        assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                        errors += 1;
                    }
                    Ok(_) => panic!("accept succeeded with no fd free"),
                }
            }
            let cpu = thread_cpu() - cpu0;
            assert!(
                (3..=40).contains(&errors),
                "{errors} accept attempts in 300 ms (expected about 30: one per 10 ms back-off)"
            );
            if !busy {
                assert!(
                    cpu < Duration::from_millis(150),
                    "the retry loop used {cpu:?} of CPU in 300 ms"
                );
            }

            // Free descriptors: the connection that waited in the backlog is accepted.
            drop(hoard);
            drop(singles);
            set_nofile(old);
            let (mut conn, peer) =
                sonic_rt::time::timeout(Duration::from_secs(5), listener.accept())
                    .await
                    .expect("accept after EMFILE timed out")
                    .unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            client.write_all(b"survived").unwrap();
            let mut buf = [0u8; 8];
            conn.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"survived");
            conn.write_all(b"ok").await.unwrap();
            let mut reply = [0u8; 2];
            client.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"ok");

            // And the listener keeps accepting new connections.
            let again = TcpStream::connect(addr).await.unwrap();
            let (c2, _) = listener.accept().await.unwrap();
            assert_eq!(c2.peer_addr().unwrap(), again.local_addr().unwrap());
        });
    }
}
