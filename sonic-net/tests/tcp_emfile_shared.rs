//! `EMFILE` with several tasks accepting on one listener: each of them backs off on a timer of
//! its own and keeps retrying (none is left waiting on a timer that another task replaced), and
//! all of them accept once descriptors are free.
//! Its own test binary (so its own process): it lowers RLIMIT_NOFILE for the whole process.

use sonic_net::TcpListener;
use sonic_rt::time::{sleep, timeout};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

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

#[test]
fn every_accepting_task_backs_off_and_accepts_after_emfile() {
    // One test function for both modes: the fd limit is process-wide, so they must not overlap.
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        rt.block_on(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            // Three connections wait in the accept queue (the handshake completes in the
            // kernel).
            let clients: Vec<_> = (0..3)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();

            let old = set_nofile(64);
            let mut pairs = Vec::new();
            while let Ok(p) = std::os::unix::net::UnixStream::pair() {
                pairs.push(p);
            }
            let mut singles = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                singles.push(f);
            }

            let errors: Vec<Rc<Cell<u32>>> = (0..3).map(|_| Rc::default()).collect();
            let tasks: Vec<_> = errors
                .iter()
                .map(|errors| {
                    let (l, errors) = (listener.clone(), errors.clone());
                    sonic_rt::spawn(async move {
                        loop {
                            match l.accept().await {
                                Ok((s, _)) => return s,
                                Err(e) => {
                                    assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                                    errors.set(errors.get() + 1);
                                }
                            }
                        }
                    })
                })
                .collect();

            // Every task keeps retrying, one back-off after another.
            let all_retry = async {
                while errors.iter().any(|e| e.get() < 3) {
                    sleep(Duration::from_millis(1)).await;
                }
            };
            if timeout(Duration::from_secs(5), all_retry).await.is_err() {
                let counts: Vec<u32> = errors.iter().map(|e| e.get()).collect();
                panic!("a task stopped retrying after EMFILE (errors per task: {counts:?})");
            }

            drop(pairs);
            drop(singles);
            set_nofile(old);
            let mut peers = Vec::new();
            for t in tasks {
                let conn = timeout(Duration::from_secs(5), t)
                    .await
                    .expect("an accepting task never accepted once fds were free")
                    .unwrap();
                peers.push(conn.peer_addr().unwrap());
            }
            peers.sort();
            let mut want: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
            want.sort();
            assert_eq!(peers, want);
        });
    }
}
