//! Drives the programs of this directory from outside, over loopback, with blocking std
//! sockets, and asserts their transcripts. The same file is the test of both builds
//! (`on-tokio` and `on-sonic-tokio`), so both must produce the same output line for line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The binary of `program` in whichever build this test belongs to.
fn exe(program: &str) -> &'static str {
    let found = match program {
        "chat" => option_env!("CARGO_BIN_EXE_chat-on-tokio")
            .or(option_env!("CARGO_BIN_EXE_chat-on-sonic-tokio")),
        "kv" => option_env!("CARGO_BIN_EXE_kv-on-tokio")
            .or(option_env!("CARGO_BIN_EXE_kv-on-sonic-tokio")),
        "fanout" => option_env!("CARGO_BIN_EXE_fanout-on-tokio")
            .or(option_env!("CARGO_BIN_EXE_fanout-on-sonic-tokio")),
        "proxy" => option_env!("CARGO_BIN_EXE_proxy-on-tokio")
            .or(option_env!("CARGO_BIN_EXE_proxy-on-sonic-tokio")),
        "fd_echo" => option_env!("CARGO_BIN_EXE_fd-echo-on-tokio")
            .or(option_env!("CARGO_BIN_EXE_fd-echo-on-sonic-tokio")),
        _ => None,
    };
    found.expect("the program's binary is a target of this package")
}

struct Server {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Server {
    fn start(program: &str) -> Server {
        let mut child = Command::new(exe(program))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Server {
            child,
            stdout,
            addr,
        }
    }

    fn connect(&self) -> Client {
        let w = TcpStream::connect(&self.addr).unwrap();
        // A bound on every read: a hung server fails the test instead of hanging it.
        w.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    /// What the server printed after its first line, once it exited.
    fn finish(mut self) -> String {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        assert!(self.child.wait().unwrap().success());
        rest
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn send(&mut self, line: &str) {
        self.w.write_all(format!("{line}\n").as_bytes()).unwrap();
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.r.read_line(&mut s).expect("a line before the timeout");
        s.trim_end().to_string()
    }

    fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }

    /// True once the server has shut its write side (a read returns end-of-stream).
    fn at_eof(&mut self) -> bool {
        let mut s = String::new();
        matches!(self.r.read_line(&mut s), Ok(0))
    }
}

#[test]
fn chat_transcript() {
    let server = Server::start("chat");
    let mut a = server.connect();
    assert_eq!(a.line(), "welcome 1");
    let mut b = server.connect();
    assert_eq!(b.line(), "welcome 2");
    assert_eq!(a.line(), "2 joined");

    a.send("hello");
    assert_eq!(b.line(), "1: hello");
    b.send("hi there");
    assert_eq!(a.line(), "2: hi there");

    a.send("/ticks 3");
    assert_eq!(
        [a.line(), a.line(), a.line()],
        ["tick 1", "tick 2", "tick 3"]
    );
    assert_eq!(a.ask("/timeout"), "timed out");
    assert_eq!(b.ask("/thread"), "thread says hi to 2");
    assert_eq!(b.ask("/batch"), "batch a b thread");

    drop(b);
    assert_eq!(a.line(), "2 left");

    let status = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.finish(), "bye\n");
}

#[test]
fn kv_transcript() {
    let server = Server::start("kv");
    let mut a = server.connect();
    let mut b = server.connect();
    assert_eq!(a.ask("SET greeting hello world"), "OK");
    assert_eq!(b.ask("GET greeting"), "hello world");
    assert_eq!(b.ask("GET nothing"), "nil");

    // The semaphore serves two connections at once: a third waits until one leaves.
    let mut c = server.connect();
    c.send("GET greeting");
    assert_eq!(b.ask("SUB"), "subscribed");
    assert_eq!(a.ask("PUB news of the day"), "published to 1");
    assert_eq!(b.line(), "msg news of the day");
    assert_eq!(a.ask("QUIT"), "bye");
    assert!(a.at_eof(), "QUIT ends with an async shutdown of the stream");
    assert_eq!(c.line(), "hello world");

    assert_eq!(c.ask("SHUTDOWN"), "bye");
    assert!(c.at_eof());
    assert_eq!(b.line(), "server shutting down");
    assert!(b.at_eof());
    assert_eq!(server.finish(), "shut down cleanly\n");
}

/// Runs `program` to its end (bounded: a hung program fails the test instead of hanging it)
/// and returns its standard output.
fn run_to_end(program: &str) -> String {
    let mut child = Command::new(exe(program))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{program} did not finish");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn fanout_output() {
    assert_eq!(
        run_to_end("fanout"),
        "receivers of events: 2\n\
         alpha starts at level 1\n\
         alpha sees level 2\n\
         alpha got deploy\n\
         alpha sees level 3\n\
         beta starts at level 1\n\
         beta sees level 2\n\
         beta got deploy\n\
         beta sees level 3\n\
         Err(Lagged(3))\n\
         Ok(3)\n\
         Ok(4)\n\
         Err(Closed)\n"
    );
}

#[test]
fn proxy_transcript() {
    let server = Server::start("proxy");
    let mut client = server.connect();
    assert_eq!(client.ask("through the proxy"), "through the proxy");
    assert_eq!(client.ask("and back"), "and back");
    client.w.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(client.at_eof(), "the proxy closes once upstream has");
    let mut server = server;
    let mut report = String::new();
    server.stdout.read_line(&mut report).unwrap();
    assert_eq!(report, "proxied 27 bytes up, 27 down\n");
}

#[test]
fn fd_echo_output() {
    assert_eq!(
        run_to_end("fd_echo"),
        "echoed 5 bytes: hello\n\
         echoed 18 bytes: through an AsyncFd\n\
         echoed 1000 bytes: 1000 x\n\
         server echoed 1023 bytes, then saw the read side closed: true\n\
         read \"ping\"\n\
         after a dropped guard: ready at once\n\
         try_io would block: true\n\
         after try_io cleared it: waits for new data\n\
         read \"pong\"\n"
    );
}
