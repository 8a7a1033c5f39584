//! Child processes: spawn, status, output, wait, try_wait, kill, kill_on_drop, piped stdio, a
//! child killed by a signal, and no zombies. Every test runs in both loop modes, on the pidfd
//! path and on the SIGCHLD fallback.

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_rt::process::{force_sigchld_fallback, Command, Stdio};
use sonic_rt::time::{sleep, timeout};
use sonic_rt::{Builder, Runtime};
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

macro_rules! each_way {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn pidfd_busy_poll() {
                super::run(false, true, super::$name);
            }
            #[test]
            fn pidfd_parked() {
                super::run(false, false, super::$name);
            }
            #[test]
            fn sigchld_busy_poll() {
                super::run(true, true, super::$name);
            }
            #[test]
            fn sigchld_parked() {
                super::run(true, false, super::$name);
            }
        }
    )*};
}

fn run(sigchld: bool, busy: bool, test: fn(&Runtime)) {
    force_sigchld_fallback(sigchld);
    let rt = Builder::new().busy_poll(busy).build().unwrap();
    test(&rt);
}

each_way!(
    status_of_a_successful_and_a_failing_child,
    output_collects_stdout_stderr_and_status,
    piped_stdin_and_stdout_stream,
    try_wait_before_and_after_exit,
    kill_reports_death_by_signal,
    child_killed_by_another_signal_reports_it,
    missing_program_is_not_found,
    wait_does_not_block_the_loop,
    dropped_child_is_reaped,
    kill_on_drop_kills_and_reaps,
    many_children_at_once,
);

fn status_of_a_successful_and_a_failing_child(rt: &Runtime) {
    rt.block_on(async {
        assert!(Command::new("true").status().await.unwrap().success());
        let st = Command::new("sh")
            .args(["-c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(st.code(), Some(3));
    });
}

fn output_collects_stdout_stderr_and_status(rt: &Runtime) {
    rt.block_on(async {
        let out = Command::new("sh")
            .args([
                "-c",
                "echo out; echo err >&2; head -c 200000 /dev/zero; exit 2",
            ])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(&out.stdout[..4], b"out\n");
        assert_eq!(
            out.stdout.len(),
            4 + 200_000,
            "a pipe's worth and more is read"
        );
        assert_eq!(out.stderr, b"err\n");
    });
}

fn piped_stdin_and_stdout_stream(rt: &Runtime) {
    rt.block_on(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let writer = sonic_rt::spawn({
            let data = data.clone();
            async move {
                stdin.write_all(&data).await.unwrap();
                drop(stdin); // end of file for cat
            }
        });
        let mut back = Vec::new();
        stdout.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == data);
        assert!(child.wait().await.unwrap().success());
    });
}

fn try_wait_before_and_after_exit(rt: &Runtime) {
    rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "cat > /dev/null"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(child.try_wait().unwrap().is_none());
        assert!(child.id().is_some());
        let st = timeout(LIMIT, child.wait()).await.unwrap().unwrap(); // wait closes stdin
        assert!(st.success());
        assert_eq!(child.try_wait().unwrap(), Some(st));
        assert_eq!(child.id(), None);
        assert_eq!(
            child.wait().await.unwrap(),
            st,
            "wait again gives the same status"
        );
    });
}

fn kill_reports_death_by_signal(rt: &Runtime) {
    rt.block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        timeout(LIMIT, child.kill()).await.unwrap().unwrap();
        let st = child.wait().await.unwrap();
        assert!(!st.success());
        assert_eq!(st.code(), None);
        assert_eq!(st.signal(), Some(libc::SIGKILL));
        assert_eq!(
            child.start_kill().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

fn child_killed_by_another_signal_reports_it(rt: &Runtime) {
    rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "kill -TERM $$; sleep 5"])
            .spawn()
            .unwrap();
        let st = timeout(LIMIT, child.wait()).await.unwrap().unwrap();
        assert_eq!(st.signal(), Some(libc::SIGTERM));
    });
}

fn missing_program_is_not_found(rt: &Runtime) {
    rt.block_on(async {
        let e = Command::new("/nonexistent/sonic-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = Command::new("/nonexistent/x").output().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    });
}

/// While a child runs, a 1 ms timer keeps firing: waiting is on the reactor.
fn wait_does_not_block_the_loop(rt: &Runtime) {
    rt.block_on(async {
        let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
        let counter = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let c = counter.clone();
        let count = sonic_rt::spawn(async move {
            loop {
                sleep(Duration::from_millis(1)).await;
                c.set(c.get() + 1);
            }
        });
        assert!(timeout(LIMIT, child.wait())
            .await
            .unwrap()
            .unwrap()
            .success());
        count.abort();
        assert!(
            counter.get() >= 20,
            "the loop ran only {} 1 ms timers in 200 ms",
            counter.get()
        );
    });
}

/// `/proc/<pid>` exists while the process exists, zombie or not.
fn gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn until_gone(pid: u32) {
    let t = Instant::now();
    while !gone(pid) {
        assert!(
            t.elapsed() < LIMIT,
            "process {pid} was never reaped (a zombie)"
        );
        sleep(Duration::from_millis(2)).await;
    }
}

fn dropped_child_is_reaped(rt: &Runtime) {
    rt.block_on(async {
        let child = Command::new("true").spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_gone(pid).await;
    });
}

fn kill_on_drop_kills_and_reaps(rt: &Runtime) {
    rt.block_on(async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_gone(pid).await;
    });
}

fn many_children_at_once(rt: &Runtime) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                sonic_rt::spawn(async move {
                    Command::new("sh")
                        .args(["-c", &format!("exit {i}")])
                        .status()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(
                timeout(LIMIT, t).await.unwrap().unwrap().code(),
                Some(i as i32)
            );
        }
    });
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    assert!(Command::new("true").spawn().is_err());
}
