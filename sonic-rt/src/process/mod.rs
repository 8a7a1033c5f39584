//! Child processes without blocking the loop: tokio's `process` surface.
//!
//! [`Command`] wraps `std::process::Command` (same builder methods) and spawns a [`Child`] whose
//! exit is awaited through a pidfd on the reactor (Linux 5.3+; elsewhere SIGCHLD through
//! sonic's signal driver), and whose piped stdin/stdout/stderr are non-blocking pipes on the
//! reactor with futures-io (and, with the `tokio` feature, tokio's) traits.
//!
//! No zombies: a `Child` dropped before its exit was collected is reaped in the background (see
//! [`Command::kill_on_drop`] to kill it first).
//!
//! ```
//! use futures_util::AsyncReadExt;
//! use sonic_rt::process::{Command, Stdio};
//!
//! sonic_rt::block_on(async {
//!     let out = Command::new("echo").arg("hello").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!
//!     let mut child = Command::new("printf").arg("abc").stdout(Stdio::piped()).spawn()?;
//!     let mut s = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut s).await?;
//!     assert_eq!(s, "abc");
//!     assert!(child.wait().await?.success());
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod exit;
pub(crate) mod pipe;

#[doc(hidden)]
pub use exit::force_sigchld_fallback;
pub use std::process::{ExitStatus, Output, Stdio};

use exit::Exit;
use pipe::{impl_read, impl_write, Pipe};
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// A process builder: `std::process::Command`'s methods, with async `spawn`ed children,
/// `status` and `output`.
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
}

impl Command {
    /// A command for the program `program` (looked up in `PATH` unless it is a path).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Clears the environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin (inherited by default for `spawn`/`status`, null for `output`).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's stdout (inherited by default for `spawn`/`status`, piped for `output`).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's stderr (inherited by default for `spawn`/`status`, piped for `output`).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] (before its exit was awaited) sends it `SIGKILL`.
    /// Off by default, as in tokio. Either way a dropped child is reaped once it exits.
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// The `std::process::Command` inside (for the Unix extension traits: `uid`, `pre_exec`...).
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The `std::process::Command` inside, mutably.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process. Its piped stdio handles are registered with the current runtime.
    ///
    /// # Errors
    /// As `std`'s spawn (`NotFound` for a missing program, `PermissionDenied`...), or if called
    /// outside a sonic runtime.
    pub fn spawn(&mut self) -> io::Result<Child> {
        if crate::context::current().is_none() {
            return Err(io::Error::other(
                "sonic_rt::process::Command::spawn must be called inside a sonic runtime",
            ));
        }
        exit::sweep_orphans();
        let mut std = self.std.spawn()?;
        let exit = match Exit::new(std.id()) {
            Ok(exit) => exit,
            Err(e) => {
                // Cannot watch it: do not leave it running unwatched.
                let _ = std.kill();
                let _ = std.wait();
                return Err(e);
            }
        };
        let stdin = std.stdin.take().map(ChildStdin::from_std).transpose();
        let stdout = std.stdout.take().map(ChildStdout::from_std).transpose();
        let stderr = std.stderr.take().map(ChildStderr::from_std).transpose();
        let mut child = Child {
            std: Some(std),
            exit: Some(exit),
            status: None,
            kill_on_drop: self.kill_on_drop,
            stdin: None,
            stdout: None,
            stderr: None,
        };
        child.stdin = stdin?;
        child.stdout = stdout?;
        child.stderr = stderr?;
        Ok(child)
    }

    /// Runs the command to its exit and returns its status (stdio inherited unless set).
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        // As tokio: no pipe handle is kept, so the child cannot block on one.
        child.stdin = None;
        child.stdout = None;
        child.stderr = None;
        child.wait().await
    }

    /// Runs the command to its exit, collecting its stdout and stderr (piped unless set; stdin
    /// is null unless set, as in tokio).
    pub async fn output(&mut self) -> io::Result<Output> {
        // As tokio: stdout and stderr are captured whatever was set; stdin is null unless set.
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn()?;
        child.wait_with_output().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

/// A running (or exited) child process.
pub struct Child {
    std: Option<std::process::Child>,
    exit: Option<Exit>,
    status: Option<ExitStatus>,
    kill_on_drop: bool,
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// The OS process id, or `None` once its exit was collected (as tokio).
    pub fn id(&self) -> Option<u32> {
        match (&self.std, self.status) {
            (Some(c), None) => Some(c.id()),
            _ => None,
        }
    }

    /// Waits for the child to exit and returns its status; stdin is closed first (so a child
    /// reading it sees the end). Cancel-safe; may be called again after it returned.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let (Some(std), Some(exit)) = (self.std.as_mut(), self.exit.as_mut()) else {
            return Err(io::Error::other("the child was already reaped"));
        };
        let status = exit::wait(std, exit).await?;
        self.status = Some(status);
        Ok(status)
    }

    /// The exit status if the child has exited (reaping it), else `None`, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(std) = self.std.as_mut() else {
            return Ok(None);
        };
        let status = std.try_wait()?;
        self.status = status;
        Ok(status)
    }

    /// Sends `SIGKILL` without waiting (an error if the child was already reaped).
    pub fn start_kill(&mut self) -> io::Result<()> {
        match (&mut self.std, self.status) {
            (Some(std), None) => std.kill(),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid argument: can't kill an exited process",
            )),
        }
    }

    /// Sends `SIGKILL` and waits for the child to exit.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Waits for the exit while reading all of stdout and stderr (the pipes that were set up).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        use futures_util_lite::read_to_end;
        let (out, err) = (self.stdout.take(), self.stderr.take());
        let (out, err) = crate::join!(read_to_end(out), read_to_end(err));
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out?,
            stderr: err?,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let (Some(mut std), Some(exit)) = (self.std.take(), self.exit.take()) else {
            return;
        };
        if self.kill_on_drop {
            let _ = std.kill();
        }
        exit::orphan(std, exit);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.std.as_ref().map(|c| c.id()))
            .field("status", &self.status)
            .finish()
    }
}

/// Reading a whole optional pipe, without pulling in futures-util.
mod futures_util_lite {
    use std::future::poll_fn;
    use std::io;
    use std::pin::Pin;

    pub(super) async fn read_to_end<R: futures_io::AsyncRead + Unpin>(
        r: Option<R>,
    ) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let Some(mut r) = r else { return Ok(out) };
        let mut buf = [0u8; 8192];
        loop {
            let n = poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut buf)).await?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

macro_rules! child_pipe {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            inner: Pipe,
        }

        impl $name {
            /// Wraps std's handle, registering it with the current runtime.
            pub fn from_std(std: $std) -> io::Result<$name> {
                Ok($name {
                    inner: Pipe::new(OwnedFd::from(std))?,
                })
            }

            /// Deregisters the pipe and gives its fd back (non-blocking).
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.inner.into_owned_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }
    };
}

child_pipe!(
    /// The writing end of a child's piped stdin (futures-io `AsyncWrite`). Drop it (or
    /// `close` it) to let the child see end of file.
    ChildStdin,
    std::process::ChildStdin
);
child_pipe!(
    /// The reading end of a child's piped stdout (futures-io `AsyncRead`).
    ChildStdout,
    std::process::ChildStdout
);
child_pipe!(
    /// The reading end of a child's piped stderr (futures-io `AsyncRead`).
    ChildStderr,
    std::process::ChildStderr
);
impl_write!(ChildStdin);
impl_read!(ChildStdout);
impl_read!(ChildStderr);
