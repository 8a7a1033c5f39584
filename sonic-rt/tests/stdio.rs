//! `io::stdin`/`stdout`/`stderr`: the test binary runs itself as a child whose standard streams
//! are pipes, or regular files, copies its stdin to its stdout through sonic's handles, and
//! reports whether its shared descriptors were left blocking.

use futures_util::{AsyncReadExt, AsyncWriteExt};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const BEGIN: &[u8] = b"<<sonic-begin>>";
const END: &[u8] = b"<<sonic-end>>";

/// The child's side; a no-op in a normal test run.
#[test]
fn child_copies_stdin_to_stdout() {
    let Ok(mode) = std::env::var("SONIC_STDIO_CHILD") else {
        return;
    };
    let rt = sonic_rt::Builder::new()
        .busy_poll(mode == "busy")
        .build()
        .unwrap();
    rt.block_on(async {
        let mut input = Vec::new();
        sonic_rt::io::stdin().read_to_end(&mut input).await.unwrap();
        let mut out = sonic_rt::io::stdout();
        out.write_all(BEGIN).await.unwrap();
        out.write_all(&input).await.unwrap();
        out.write_all(END).await.unwrap();
        out.flush().await.unwrap();
        let mut err = sonic_rt::io::stderr();
        err.write_all(b"to stderr\n").await.unwrap();
        err.flush().await.unwrap();
    });
    let nonblocking = |fd| {
        // SAFETY: F_GETFL on a standard fd number.
        unsafe { libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0 }
    };
    eprintln!(
        "NONBLOCK {} {} {}",
        nonblocking(0),
        nonblocking(1),
        nonblocking(2)
    );
}

fn payload() -> Vec<u8> {
    // More than a pipe's capacity, so both directions wait for readiness.
    (0..300_000u32).map(|i| (i % 251) as u8).collect()
}

fn child(mode: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "child_copies_stdin_to_stdout",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("SONIC_STDIO_CHILD", mode);
    c
}

fn check(stdout: &[u8], stderr: &[u8], want: &[u8]) {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let b = find(stdout, BEGIN).expect("no begin marker") + BEGIN.len();
    let e = find(stdout, END).expect("no end marker");
    assert!(&stdout[b..e] == want, "the copy differs");
    let stderr = String::from_utf8_lossy(stderr);
    assert!(stderr.contains("to stderr"), "{stderr}");
    assert!(
        stderr.contains("NONBLOCK false false false"),
        "a shared standard descriptor was left non-blocking: {stderr}"
    );
}

fn through_pipes(mode: &str) {
    let mut c = child(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = payload();
    let mut stdin = c.stdin.take().unwrap();
    let writer = std::thread::spawn({
        let data = data.clone();
        move || stdin.write_all(&data).unwrap()
    });
    let mut err = c.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    let err = err_reader.join().unwrap();
    assert!(c.wait().unwrap().success());
    check(&out, &err, &data);
}

fn through_regular_files(mode: &str) {
    let dir = std::env::temp_dir().join(format!("sonic-stdio-{}-{mode}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = payload();
    std::fs::write(dir.join("in"), &data).unwrap();
    let status = child(mode)
        .stdin(std::fs::File::open(dir.join("in")).unwrap())
        .stdout(std::fs::File::create(dir.join("out")).unwrap())
        .stderr(std::fs::File::create(dir.join("err")).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read(dir.join("out")).unwrap();
    let err = std::fs::read(dir.join("err")).unwrap();
    check(&out, &err, &data);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pipes_go_through_the_reactor_busy_poll() {
    through_pipes("busy");
}

#[test]
fn pipes_go_through_the_reactor_parked() {
    through_pipes("parked");
}

#[test]
fn regular_files_go_through_the_pool_busy_poll() {
    through_regular_files("busy");
}

#[test]
fn regular_files_go_through_the_pool_parked() {
    through_regular_files("parked");
}
