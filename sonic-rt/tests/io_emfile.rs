//! File-descriptor exhaustion (EMFILE) is an error, never a panic, and the runtime survives it.
//! Its own test binary (so its own process): it lowers RLIMIT_NOFILE for the whole process.

use sonic_rt::io::Async;
use std::io;
use std::os::unix::net::UnixStream;

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
fn fd_exhaustion_is_reported_as_emfile() {
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        let old = set_nofile(64);
        let mut hoard = Vec::new();
        let err = loop {
            match UnixStream::pair() {
                Ok(p) => hoard.push(p),
                Err(e) => break e,
            }
        };
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE));
        // Building a runtime needs fds: a clear error, not a panic.
        let build_err = sonic_rt::Builder::new()
            .busy_poll(busy)
            .build()
            .unwrap_err();
        assert_eq!(build_err.raw_os_error(), Some(libc::EMFILE), "{build_err}");
        // The existing runtime keeps working: free a pair, use it, then hit the limit again.
        let out: io::Result<usize> = rt.block_on(async {
            let (a, b) = hoard.pop().unwrap();
            let (a, b) = (Async::new(a)?, Async::new(b)?);
            use std::io::{Read, Write};
            a.write_with(|mut s| s.write(b"still alive")).await?;
            let mut buf = [0u8; 32];
            let n = b.read_with(|mut s| s.read(&mut buf)).await?;
            assert_eq!(&buf[..n], b"still alive");
            // Still at the limit: a new pair fails cleanly inside the runtime too.
            assert_eq!(
                UnixStream::pair().unwrap_err().raw_os_error(),
                Some(libc::EMFILE)
            );
            Ok(n)
        });
        assert_eq!(out.unwrap(), 11);
        drop(hoard);
        set_nofile(old);
        assert_eq!(rt.io_sources(), 0);
    }
}
