//! `examples/tcp_echo_server.rs` under the errors a production server sees all the time: peers
//! that reset their connections, and a process out of file descriptors. Its log must stay a
//! few lines a second, not one line per error.
//!
//! The example is loaded as a module and served on a runtime with a paused clock, so seconds of
//! back-off and reporting pass at once and every count is exact.

#[path = "../tcp_echo_server.rs"]
mod tcp_echo_server;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{TcpListener, TcpStream};
use sonic_rt::time;
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

/// The server's log, readable by the test.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.borrow().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }
}

/// The number in a summary line, "op: N more in the last 1 s: error".
fn summary_count(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once(": ")?;
    let (n, rest) = rest.split_once(' ')?;
    rest.starts_with("more in the last")
        .then(|| n.parse().ok())?
}

async fn start_server() -> (std::net::SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    sonic_rt::spawn(tcp_echo_server::serve(listener, log.clone()));
    (addr, log)
}

#[test]
fn reset_connections_are_counted_not_logged_one_by_one() {
    const PEERS: u64 = 30;
    let lines = sonic_rt::block_on(async {
        time::pause();
        let (addr, log) = start_server().await;
        for _ in 0..PEERS {
            let mut conn = TcpStream::connect(addr).await.unwrap();
            conn.write_all(b"ping").await.unwrap();
            let mut echo = [0u8; 4];
            conn.read_exact(&mut echo).await.unwrap();
            // Linger 0: closing sends a reset, and the server's read fails with ECONNRESET.
            conn.set_linger(Some(Duration::ZERO)).unwrap();
            drop(conn);
        }
        // The paused clock jumps once every socket is quiet: past the first report.
        time::sleep(tcp_echo_server::REPORT_EVERY + Duration::from_millis(500)).await;
        log.lines()
    });
    assert_eq!(
        lines.len(),
        2,
        "one line at the first reset, one summary: {lines:#?}"
    );
    assert!(lines[0].starts_with("read (127.0.0.1:"), "{lines:#?}");
    assert!(lines[0].contains("reset"), "{lines:#?}");
    assert_eq!(summary_count(&lines[1]), Some(PEERS - 1), "{lines:#?}");
}

/// Names the test a child process runs (see `run_in_child`).
const CHILD: &str = "SONIC_EXAMPLES_TEST_CHILD";

/// Whether this process is the child that runs the test `name` (and not, say, a run of
/// `cargo test -- --include-ignored`, where it would lower the limits of every test).
fn is_child(name: &str) -> bool {
    std::env::var_os(CHILD).is_some_and(|v| v == name)
}

/// Runs the ignored test `name` of this binary alone in a child process (it changes process-wide
/// state) and fails if it fails.
fn run_in_child(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in a child process: {}\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn accept_errors_while_out_of_fds_are_rate_limited() {
    run_in_child("out_of_fds_child");
}

/// The body of `accept_errors_while_out_of_fds_are_rate_limited`: lowers this process's file
/// descriptor limit, fills it with client connections the server cannot accept, and keeps the
/// server failing (an accept every 10 ms of back-off) for 5 s of paused time.
#[test]
#[ignore = "run by accept_errors_while_out_of_fds_are_rate_limited in a child process"]
fn out_of_fds_child() {
    const SECONDS: u64 = 5;
    if !is_child("out_of_fds_child") {
        return;
    }
    let lines = sonic_rt::block_on(async {
        time::pause();
        let (addr, log) = start_server().await;
        // Room for a few dozen more descriptors: fewer than the listen backlog, so every connect
        // completes in the kernel while the server is out of descriptors.
        set_fd_limit(open_fds() + 32);
        let mut clients = Vec::new();
        loop {
            match std::net::TcpStream::connect(addr) {
                Ok(c) => clients.push(c),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("connect: {e}"),
            }
        }
        assert!(clients.len() > 4, "only {} clients", clients.len());
        time::sleep(Duration::from_secs(SECONDS) + Duration::from_millis(500)).await;
        log.lines()
    });
    // The first failure at once, then one summary a second.
    assert!(lines[0].starts_with("accept: "), "{lines:#?}");
    assert!(lines.len() as u64 <= 1 + SECONDS, "{lines:#?}");
    let counted: u64 = lines[1..].iter().map(|l| summary_count(l).unwrap()).sum();
    // 10 ms of back-off between attempts: about 500 failures in 5 s.
    assert!(
        counted >= 100 * SECONDS - 10,
        "{counted} failures in {lines:#?}"
    );
}

fn open_fds() -> u64 {
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    std::fs::read_dir(dir).unwrap().count() as u64
}

fn set_fd_limit(soft: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for the kernel to fill and then read, during each call.
    let res = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            -1
        } else {
            lim.rlim_cur = (soft as libc::rlim_t).min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim)
        }
    };
    assert_eq!(res, 0, "RLIMIT_NOFILE: {}", io::Error::last_os_error());
}
