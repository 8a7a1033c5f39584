//! Checks of the dual programs, compiled once per runtime (`super` is `on_tokio` or
//! `on_sonic`). They talk to the programs through blocking std sockets with read timeouts, so a
//! broken build fails instead of hanging.

use super::{block_on, chat, client, echo, rt, shutdown, NAME};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

/// Runs `serve` on a listener bound to a free loopback port, on its own runtime thread (left
/// running until the test process exits), and returns the address.
fn start<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(rt::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        block_on(async move {
            let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let _ = serve(listener).await;
        })
    });
    rx.recv_timeout(LIMIT).expect("the server did not start")
}

fn connect(addr: SocketAddr) -> StdStream {
    let s = StdStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

struct Lines {
    reader: BufReader<StdStream>,
    writer: StdStream,
}

impl Lines {
    fn connect(addr: SocketAddr) -> Lines {
        let s = connect(addr);
        Lines {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    /// The next line, without its newline; `None` at end of stream.
    fn next(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read (timed out?)");
        (n > 0).then(|| line.trim_end_matches('\n').to_string())
    }
}

#[test]
fn echo_server_echoes_many_clients_and_closes_on_eof() {
    let addr = start(echo::serve);
    let clients: Vec<_> = (0..4u8)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = connect(addr);
                let data: Vec<u8> = (0..200_000u32).map(|i| (i as u8) ^ c).collect();
                let mut writer = s.try_clone().unwrap();
                let sent = data.clone();
                let w = std::thread::spawn(move || {
                    writer.write_all(&sent).unwrap();
                    writer.shutdown(Shutdown::Write).unwrap();
                });
                let mut back = Vec::new();
                s.read_to_end(&mut back).unwrap(); // ends: the server closes after our EOF
                w.join().unwrap();
                assert_eq!(back.len(), data.len(), "{NAME}");
                assert!(back == data, "{NAME}: echoed bytes differ");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn chat_server_broadcasts_to_the_others() {
    let addr = start(chat::serve);
    let mut a = Lines::connect(addr);
    assert_eq!(a.next().as_deref(), Some("welcome 1"), "{NAME}");
    let mut b = Lines::connect(addr);
    assert_eq!(b.next().as_deref(), Some("welcome 2"));
    assert_eq!(a.next().as_deref(), Some("2 joined"));
    let mut c = Lines::connect(addr);
    assert_eq!(c.next().as_deref(), Some("welcome 3"));
    assert_eq!(a.next().as_deref(), Some("3 joined"));
    assert_eq!(b.next().as_deref(), Some("3 joined"));

    a.send("hello");
    assert_eq!(b.next().as_deref(), Some("1: hello"));
    assert_eq!(c.next().as_deref(), Some("1: hello"));
    b.send("hi");
    // A's next line is B's: A was not sent its own message.
    assert_eq!(a.next().as_deref(), Some("2: hi"));
    assert_eq!(c.next().as_deref(), Some("2: hi"));

    drop(c);
    assert_eq!(a.next().as_deref(), Some("3 left"));
    assert_eq!(b.next().as_deref(), Some("3 left"));
}

/// A line server on a std thread that answers the first `answer` lines and then goes silent
/// (keeping the connection open); returns its address and the arrival times of the lines.
fn pinged_server(answer: usize) -> (SocketAddr, std::thread::JoinHandle<Vec<Instant>>) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut arrivals = Vec::new();
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { break };
            arrivals.push(Instant::now());
            if arrivals.len() <= answer {
                w.write_all(format!("{line}\n").as_bytes()).unwrap();
            }
        }
        arrivals
    });
    (addr, t)
}

#[test]
fn client_pings_on_its_interval() {
    let (addr, server) = pinged_server(usize::MAX);
    let period = Duration::from_millis(20);
    let report = block_on(client::run(addr, 5, period, Duration::from_secs(2))).unwrap();
    assert_eq!(
        report,
        client::Report {
            replies: 5,
            timed_out: false
        },
        "{NAME}"
    );
    let arrivals = server.join().unwrap();
    assert_eq!(arrivals.len(), 5);
    let spread = arrivals[4] - arrivals[0];
    assert!(
        spread >= period * 4 - Duration::from_millis(5),
        "{NAME}: {spread:?}"
    );
}

#[test]
fn client_gives_up_on_a_silent_server() {
    let (addr, server) = pinged_server(2);
    let patience = Duration::from_millis(150);
    let t0 = Instant::now();
    let report = block_on(client::run(addr, 5, Duration::from_millis(5), patience)).unwrap();
    assert_eq!(
        report,
        client::Report {
            replies: 2,
            timed_out: true
        },
        "{NAME}"
    );
    assert!(t0.elapsed() >= patience, "{NAME}");
    assert!(t0.elapsed() < LIMIT, "{NAME}");
    drop(server); // it ends when the client's socket closes
}

#[test]
fn client_reports_a_refused_connection() {
    let addr = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap(); // closed now
    let err = block_on(client::run(addr, 1, Duration::from_millis(5), LIMIT)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{NAME}");
}

/// Not a test of its own: the body of the child process that `graceful_shutdown_on_ctrl_c`
/// starts (this test binary, filtered to this test, with `DUAL_CHILD` set).
#[test]
fn shutdown_child() {
    if std::env::var("DUAL_CHILD").as_deref() != Ok(NAME) {
        return;
    }
    block_on(async {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("ADDR {}", listener.local_addr().unwrap());
        let served = shutdown::run(listener).await.unwrap();
        println!("EXIT served={served}");
    });
}

#[test]
fn graceful_shutdown_on_ctrl_c() {
    let module = module_path!().split_once("::").unwrap().1;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &format!("{module}::shutdown_child")])
        .args(["--nocapture", "--test-threads=1", "-q"])
        .env("DUAL_CHILD", NAME)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "{NAME}: child exited early"
        );
        if let Some(a) = line.trim().strip_prefix("ADDR ") {
            break a.parse().unwrap();
        }
    };

    // Two clients, each served (a round trip proves the server is also listening for SIGINT:
    // its accept loop polled ctrl_c before the first accept completed).
    let mut clients: Vec<Lines> = (0..2).map(|_| Lines::connect(addr)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(&format!("line {i}"));
        assert_eq!(c.next(), Some(format!("line {i}")), "{NAME}");
    }

    // SAFETY: kill with the pid of our own child and a signal number.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);

    for c in &mut clients {
        assert_eq!(c.next().as_deref(), Some("bye"), "{NAME}");
        assert_eq!(c.next(), None, "{NAME}: the connection closes after bye");
    }
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "{NAME}: the server did not exit");
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{NAME}: {status}\n{rest}");
    assert!(rest.contains("EXIT served=2"), "{NAME}: {rest}");
}
