//! Proves with a counting global allocator that a steady-state WebSocket echo over loopback TCP
//! (client `send_binary` + `recv_ref`, server `recv_ref` + `echo`; small messages queued, large
//! ones written from the receive buffer) allocates nothing on either end, in both loop modes,
//! and goes on allocating nothing when the read and write sizes change after the warm-up.

mod util;

use futures_io::{AsyncRead, AsyncWrite};
use sonic_test_support::assert_steady_state_alloc_free;
use sonic_ws::proto::conn::Connection;
use sonic_ws::{CloseCode, Limits, MessageRef, OpCode, Role};
use std::cell::Cell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use util::pipe::{duplex, run2, PipeEnd};

/// Rounds with whole reads and writes before counting, in the varied-timing tests.
const WARM_UP: usize = 20;

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

#[cfg(feature = "net")]
fn echo_round_trips(busy: bool) {
    echo_round_trips_with(busy, sonic_ws::Config::default());
}

/// Keepalive, read idle and send timeouts armed on both ends (issue 13): the steady state still
/// allocates nothing (the idle sleep is armed once and only re-armed when it fires; the send
/// timeout only arms when a write blocks).
#[cfg(feature = "net")]
fn timeouts() -> sonic_ws::Config {
    use std::time::Duration;
    sonic_ws::Config::default()
        .keepalive(Duration::from_secs(3600), Duration::from_secs(60))
        .read_timeout(Duration::from_secs(7200))
        .send_timeout(Duration::from_secs(60))
}

#[test]
#[cfg(feature = "net")]
fn echo_with_keepalive_and_timeouts_parked() {
    echo_round_trips_with(false, timeouts());
}

#[test]
#[cfg(feature = "net")]
fn echo_with_keepalive_and_timeouts_busy_poll() {
    echo_round_trips_with(true, timeouts());
}

#[cfg(feature = "net")]
fn echo_round_trips_with(busy: bool, cfg: sonic_ws::Config) {
    use sonic_net::{TcpListener, TcpStream};

    sonic_test_support::rt(busy).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // One thread runs both ends, so the counter sees the server's allocations too.
        let server_cfg = cfg.clone();
        let server = sonic_rt::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut ws = sonic_ws::accept_with(s, server_cfg, |_| sonic_ws::Decision::accept())
                .await
                .unwrap();
            loop {
                match ws.recv_ref().await.unwrap() {
                    MessageRef::Binary(_) => ws.echo().await.unwrap(),
                    MessageRef::Close(_) => return,
                    other => panic!("{other:?}"),
                }
            }
        });
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        let opts = sonic_ws::ClientConfig {
            config: cfg,
            ..Default::default()
        };
        let (mut ws, _) = sonic_ws::client_with(s, "ws://127.0.0.1/", opts)
            .await
            .unwrap();
        for size in [64usize, 1024, 64 << 10] {
            let payload = vec![0x5a; size];
            assert_steady_state_alloc_free!(format!("ws echo of {size} B"), {
                ws.send_binary(&payload).await.unwrap();
                match ws.recv_ref().await.unwrap() {
                    MessageRef::Binary(b) => assert_eq!(b.len(), size),
                    other => panic!("{other:?}"),
                }
            });
        }
        // Bursts: several messages written with one flush, echoes read back together (the
        // receive buffers grow to hold a window and must stay grown).
        for (size, window) in [(64usize, 64), (64 << 10, 2), (64 << 10, 4)] {
            let payload = vec![0xa5; size];
            assert_steady_state_alloc_free!(format!("ws burst of {window} x {size} B"), {
                for _ in 0..window {
                    ws.feed(OpCode::Binary, &payload).await.unwrap();
                }
                ws.flush().await.unwrap();
                for _ in 0..window {
                    match ws.recv_ref().await.unwrap() {
                        MessageRef::Binary(b) => assert_eq!(b.len(), size),
                        other => panic!("{other:?}"),
                    }
                }
            });
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    });
}

#[test]
#[cfg(feature = "net")]
fn echo_parked() {
    echo_round_trips(false);
}

#[test]
#[cfg(feature = "net")]
fn echo_busy_poll() {
    echo_round_trips(true);
}

/// Read and write sizes as a loaded machine produces them, made repeatable: while `varied` is
/// set, each read or write of a [`Choppy`] stream takes a pseudo-random amount (from one byte
/// to everything, or nothing: not ready, woken at once) from a fixed seed; otherwise all it can.
struct Timing {
    varied: Cell<bool>,
    state: Cell<u64>,
}

impl Timing {
    /// How much the next read or write may move; 0: none (not ready).
    fn next_limit(&self) -> usize {
        if !self.varied.get() {
            return usize::MAX;
        }
        // xorshift64
        let mut x = self.state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.set(x);
        let r = (x >> 8) as usize;
        match x % 8 {
            0 => 0,
            1 => 1 + r % 16,
            2 => 1 + r % 4096,
            3 => 1 + r % 70_000,
            _ => usize::MAX,
        }
    }
}

/// An in-memory stream whose reads and writes are cut as its [`Timing`] says.
struct Choppy {
    io: PipeEnd,
    timing: Rc<Timing>,
}

impl Choppy {
    fn limit(&self, cx: &mut Context<'_>) -> Option<usize> {
        match self.timing.next_limit() {
            0 => {
                cx.waker().wake_by_ref();
                None
            }
            n => Some(n),
        }
    }
}

impl AsyncRead for Choppy {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let Some(n) = self.limit(cx) else {
            return Poll::Pending;
        };
        let n = n.min(buf.len());
        Pin::new(&mut self.io).poll_read(cx, &mut buf[..n])
    }
}

impl AsyncWrite for Choppy {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(n) = self.limit(cx) else {
            return Poll::Pending;
        };
        let n = n.min(data.len());
        Pin::new(&mut self.io).poll_write(cx, &data[..n])
    }

    /// A real gathering write (as a socket's): up to the limit, across the slices.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let Some(mut left) = self.limit(cx) else {
            return Poll::Pending;
        };
        let mut done = 0;
        for b in bufs.iter().filter(|b| !b.is_empty()) {
            let want = left.min(b.len());
            match Pin::new(&mut self.io).poll_write(cx, &b[..want]) {
                Poll::Ready(Ok(n)) => {
                    done += n;
                    left -= n;
                    if n < b.len() || left == 0 {
                        break;
                    }
                }
                Poll::Ready(Err(e)) if done == 0 => return Poll::Ready(Err(e)),
                Poll::Pending if done == 0 => return Poll::Pending,
                _ => break,
            }
        }
        Poll::Ready(Ok(done))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

/// An echo client and server over an in-memory pipe: warmed up with whole reads and writes,
/// then, with reads and writes cut at every size (short reads, frames split anywhere, several
/// frames per read, partial and refused writes), `rounds` bursts of `window` messages of `size`
/// bytes must allocate nothing.
fn alloc_free_under_varied_timing(size: usize, window: usize, rounds: usize) {
    let timing = Rc::new(Timing {
        varied: Cell::new(false),
        state: Cell::new(0x9e37_79b9_7f4a_7c15),
    });
    let (a, b) = duplex(1 << 20);
    let server_io = Choppy {
        io: a,
        timing: timing.clone(),
    };
    let client_io = Choppy {
        io: b,
        timing: timing.clone(),
    };
    let server = async move {
        let mut ws = sonic_ws::accept(server_io).await.unwrap();
        loop {
            match ws.recv_ref().await.unwrap() {
                MessageRef::Binary(_) => ws.echo().await.unwrap(),
                MessageRef::Close(_) => return,
                other => panic!("{other:?}"),
            }
        }
    };
    let client = async move {
        let mut ws = sonic_ws::client(client_io, "ws://127.0.0.1/")
            .await
            .unwrap();
        let payload = vec![0xa5; size];
        let mut round = async || {
            for _ in 0..window {
                ws.feed(OpCode::Binary, &payload).await.unwrap();
            }
            ws.flush().await.unwrap();
            for _ in 0..window {
                match ws.recv_ref().await.unwrap() {
                    MessageRef::Binary(b) => assert_eq!(b.len(), size),
                    other => panic!("{other:?}"),
                }
            }
        };
        for _ in 0..WARM_UP {
            round().await;
        }
        timing.varied.set(true);
        let before = sonic_test_support::allocations();
        sonic_test_support::trace_allocations(true);
        for _ in 0..rounds {
            round().await;
        }
        sonic_test_support::trace_allocations(false);
        let n = sonic_test_support::allocations() - before;
        assert_eq!(
            n,
            0,
            "{window} x {size} B: {n} allocations in {rounds} rounds; the first ones:\n{}",
            sonic_test_support::traced_allocations()
        );
        timing.varied.set(false);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    };
    run2(server, client);
}

/// The flaky failure of `echo_*` under load, made deterministic. Before the buffers were sized
/// from the limits, a burst of two 64 KiB messages could grow the read buffer past the size it
/// keeps between frames (doubling 131,092 bytes overshot it), so it was given back and
/// allocated again; a small frame cut by a read grew the read buffer for a whole read chunk
/// behind it; and the bytes of a large echo a write did not take grew the output queue.
mod alloc_free_whatever_the_read_and_write_sizes {
    use super::alloc_free_under_varied_timing as check;

    #[test]
    fn echo_of_64_b() {
        check(64, 1, 5000);
    }

    #[test]
    fn burst_of_64_x_64_b() {
        check(64, 64, 500);
    }

    #[test]
    fn echo_of_64_kib() {
        check(64 << 10, 1, 300);
    }

    #[test]
    fn burst_of_2_x_64_kib() {
        check(64 << 10, 2, 200);
    }

    #[test]
    fn burst_of_4_x_64_kib() {
        check(64 << 10, 4, 100);
    }
}

/// A peer that reads a little less than we write, so the output queue never empties: written
/// bytes were kept in front of the queue until it did, so it grew without bound.
#[test]
fn output_queue_that_never_empties_stays_put() {
    let mut c = Connection::new(Role::Server, Limits::default(), None);
    let payload = [7; 100];
    assert_steady_state_alloc_free!("a queue never drained", {
        c.send(OpCode::Binary, &payload).unwrap();
        let n = c.output().len();
        c.consume_output(n - 50);
    });
}
