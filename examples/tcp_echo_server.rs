//! A TCP echo server: one task per connection, all on one thread.
//!
//! `cargo run -p sonic-examples --example tcp_echo_server [-- ADDR]` (default 127.0.0.1:7007),
//! then `cargo run -p sonic-examples --example tcp_echo_client`.
//!
//! Errors are logged as a server under load must log them: a peer that resets its connection is
//! routine, and while the process is out of file descriptors every accept fails (the listener
//! retries every 10 ms). Writing a line per error would flood stderr, so the first error of a
//! kind is written at once and the rest are counted: one summary line per kind and second while
//! they go on (see [`ErrorLog`]).

use futures_util::{AsyncReadExt, AsyncWriteExt, StreamExt};
use sonic_net::TcpListener;
use sonic_rt::time::{self, Instant};
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

/// How often the counted errors are summarised.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

#[allow(dead_code)] // tests/tcp_echo_server.rs loads this file as a module and calls `serve`
fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7007".into());
    let rt = sonic_rt::Builder::new().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server on {}", listener.local_addr()?);
        serve(listener, io::stderr()).await
    })
}

/// Accepts connections and echoes each one in a task of its own, forever; errors go to `log`
/// through an [`ErrorLog`].
pub async fn serve(listener: TcpListener, log: impl Write + 'static) -> io::Result<()> {
    let errors = Rc::new(RefCell::new(ErrorLog::new(log)));
    let reporter = errors.clone();
    let _report = sonic_rt::spawn(async move {
        let mut tick = time::interval_at(Instant::now() + REPORT_EVERY, REPORT_EVERY);
        loop {
            tick.tick().await;
            reporter.borrow_mut().report();
        }
    });
    let mut incoming = listener.incoming();
    while let Some(conn) = incoming.next().await {
        let mut conn = match conn {
            Ok(conn) => conn,
            // EMFILE and friends: the listener backs off by itself, so log and go on.
            Err(e) => {
                errors.borrow_mut().note("accept", None, &e);
                continue;
            }
        };
        let errors = errors.clone();
        let _task = sonic_rt::spawn(async move {
            let peer = conn.peer_addr().ok();
            if let Err(e) = conn.set_nodelay(true) {
                errors.borrow_mut().note("set_nodelay", peer, &e);
            }
            let mut buf = [0u8; 4096];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Err(e) = conn.write_all(&buf[..n]).await {
                            errors.borrow_mut().note("write", peer, &e);
                            break;
                        }
                    }
                    Err(e) => {
                        errors.borrow_mut().note("read", peer, &e);
                        break;
                    }
                }
            }
        });
    }
    Ok(())
}

/// A rate-limited error log. The first error of a kind (an operation and an OS error code, or an
/// [`io::ErrorKind`] where there is no code) is written at once; later ones of that kind are only
/// counted, and [`report`](ErrorLog::report), called every [`REPORT_EVERY`], writes one line per
/// kind with its count. A kind with nothing to report is forgotten, so its next error is written
/// at once again. At most one line per kind and second, however fast the errors come.
struct ErrorLog<W> {
    out: W,
    /// The kinds seen since their last report, with how many of each were not written.
    kinds: Vec<Seen>,
}

struct Seen {
    op: &'static str,
    code: Option<i32>,
    kind: io::ErrorKind,
    count: u64,
}

impl<W: Write> ErrorLog<W> {
    /// A log writing to `out`.
    fn new(out: W) -> Self {
        ErrorLog {
            out,
            kinds: Vec::new(),
        }
    }

    /// Notes that `op` (on a connection from `peer`, if any) failed with `err`.
    fn note(&mut self, op: &'static str, peer: Option<std::net::SocketAddr>, err: &io::Error) {
        let (code, kind) = (err.raw_os_error(), err.kind());
        let same = |s: &&mut Seen| s.op == op && s.code == code && s.kind == kind;
        if let Some(seen) = self.kinds.iter_mut().find(same) {
            seen.count += 1;
            return;
        }
        self.kinds.push(Seen {
            op,
            code,
            kind,
            count: 0,
        });
        // A log that cannot be written has nowhere to report that to.
        let _ = match peer {
            Some(peer) => writeln!(self.out, "{op} ({peer}): {err}"),
            None => writeln!(self.out, "{op}: {err}"),
        };
    }

    /// Writes the counts noted since the last report, and forgets the kinds that had none.
    fn report(&mut self) {
        let out = &mut self.out;
        self.kinds.retain_mut(|seen| {
            if seen.count == 0 {
                return false;
            }
            let err = match seen.code {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::from(seen.kind),
            };
            let (op, n, every) = (seen.op, seen.count, REPORT_EVERY.as_secs());
            let _ = writeln!(out, "{op}: {n} more in the last {every} s: {err}");
            seen.count = 0;
            true
        });
    }
}
