//! Several tasks waiting on one shared socket (an `Rc`): every accept, receive and readiness
//! wait is woken, for TCP and Unix listeners, TCP streams, UDP, Unix datagrams and multicast
//! peers, and a cancelled wait leaves nothing behind. Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::{temp_dir, within};
use futures_util::AsyncWriteExt;
use sonic_net::multicast::Peer;
use sonic_net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, JoinHandle, Runtime};
use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

each_mode!(
    three_tasks_accept_on_one_tcp_listener,
    three_tasks_accept_on_one_unix_listener,
    tasks_recv_from_on_one_udp_socket,
    tasks_recv_on_one_connected_udp_socket,
    tasks_recv_from_on_one_unix_datagram,
    tasks_recv_from_on_one_multicast_peer,
    tasks_wait_readable_and_peek_on_one_tcp_stream,
    cancelled_accepts_leave_no_waiter,
);

/// Lets every spawned task run until it waits (each loop turn polls every ready task).
async fn settle() {
    for _ in 0..8 {
        yield_now().await;
    }
}

/// Awaits every task; fails instead of hanging if one is never woken.
async fn all_within<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        match timeout(Duration::from_secs(5), h).await {
            Ok(v) => out.push(v.unwrap()),
            Err(_) => panic!("a waiting task was never woken ({} were)", out.len()),
        }
    }
    out
}

fn three_tasks_accept_on_one_tcp_listener(rt: &Runtime) {
    rt.block_on(within(20, async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let l = listener.clone();
                spawn(async move { l.accept().await.unwrap().1 })
            })
            .collect();
        settle().await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut peers = all_within(tasks).await;
        peers.sort();
        let mut want: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        want.sort();
        assert_eq!(peers, want);
    }));
}

fn three_tasks_accept_on_one_unix_listener(rt: &Runtime) {
    rt.block_on(within(20, async {
        let path = temp_dir("shared-accept").join("l.sock");
        let listener = Rc::new(UnixListener::bind(&path).unwrap());
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let l = listener.clone();
                spawn(async move {
                    let (mut s, _) = l.accept().await.unwrap();
                    s.write_all(b"hi").await.unwrap();
                })
            })
            .collect();
        settle().await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(UnixStream::connect(&path).await.unwrap());
        }
        all_within(tasks).await;
    }));
}

fn tasks_recv_from_on_one_udp_socket(rt: &Runtime) {
    rt.block_on(within(20, async {
        let rx = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    let (n, _) = rx.recv_from(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                })
            })
            .collect();
        settle().await;
        for m in [b"one", b"two", b"six"] {
            tx.send_to(m, rx.local_addr().unwrap()).await.unwrap();
        }
        let mut got = all_within(tasks).await;
        got.sort();
        assert_eq!(got, [b"one", b"six", b"two"]);
    }));
}

fn tasks_recv_on_one_connected_udp_socket(rt: &Runtime) {
    rt.block_on(within(20, async {
        let rx = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        rx.connect(tx.local_addr().unwrap()).await.unwrap();
        tx.connect(rx.local_addr().unwrap()).await.unwrap();
        let mut tasks: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    rx.recv(&mut buf).await.unwrap()
                })
            })
            .collect();
        let rx2 = rx.clone();
        tasks.push(spawn(async move {
            rx2.readable().await.unwrap();
            0
        }));
        settle().await;
        tx.send(b"a").await.unwrap();
        tx.send(b"b").await.unwrap();
        let mut got = all_within(tasks).await;
        got.sort();
        assert_eq!(got, [0, 1, 1]);
    }));
}

fn tasks_recv_from_on_one_unix_datagram(rt: &Runtime) {
    rt.block_on(within(20, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let b = Rc::new(b);
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    b.recv_from(&mut buf).await.unwrap().0
                })
            })
            .collect();
        settle().await;
        for m in [&b"1"[..], b"22", b"333"] {
            a.send(m).await.unwrap();
        }
        let mut got = all_within(tasks).await;
        got.sort();
        assert_eq!(got, [1, 2, 3]);
    }));
}

fn tasks_recv_from_on_one_multicast_peer(rt: &Runtime) {
    rt.block_on(within(20, async {
        // Unicast to the peer is enough to exercise its receive path.
        let rx = Rc::new(Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap());
        let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let rx = rx.clone();
                spawn(async move {
                    let mut buf = [0u8; 16];
                    if i == 0 {
                        rx.recv_msg(&mut buf).await.unwrap().len
                    } else {
                        rx.recv_from(&mut buf).await.unwrap().0
                    }
                })
            })
            .collect();
        settle().await;
        for m in [&b"1"[..], b"22", b"333"] {
            tx.send_to(m, rx.local_addr()).await.unwrap();
        }
        let mut got = all_within(tasks).await;
        got.sort();
        assert_eq!(got, [1, 2, 3]);
    }));
}

fn tasks_wait_readable_and_peek_on_one_tcp_stream(rt: &Runtime) {
    rt.block_on(within(20, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Nothing queued: the new stream learns it is not readable, so `readable` waits.
        let err = server.try_read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        let server = Rc::new(server);
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let s = server.clone();
                spawn(async move {
                    if i % 2 == 0 {
                        s.readable().await.unwrap();
                        0
                    } else {
                        let mut buf = [0u8; 8];
                        s.peek(&mut buf).await.unwrap()
                    }
                })
            })
            .collect();
        settle().await;
        client.write_all(b"peek").await.unwrap();
        assert_eq!(all_within(tasks).await, [0, 4, 0, 4]);
    }));
}

/// Counts its wakes.
#[derive(Default)]
struct CountWake(AtomicUsize);

impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn cancelled_accepts_leave_no_waiter(rt: &Runtime) {
    rt.block_on(within(20, async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();

        // Many accepts cancelled by a `select!` branch that wins on its second poll.
        for _ in 0..1000 {
            sonic_rt::select! {
                biased;
                _ = yield_now() => {}
                _ = listener.accept() => panic!("no client connected"),
            }
        }
        // Accepts polled with a waker of their own and dropped while pending: none keeps its
        // waker, and the next connection wakes none of them.
        let counters: Vec<Arc<CountWake>> = (0..100).map(|_| Arc::default()).collect();
        for c in &counters {
            let waker = Waker::from(c.clone());
            let accept = pin!(listener.accept());
            assert!(accept.poll(&mut Context::from_waker(&waker)).is_pending());
        }
        for c in &counters {
            assert_eq!(Arc::strong_count(c), 1, "a cancelled accept kept its waker");
        }
        // (A poll past the task's I/O budget wakes at once: count only later wakes.)
        let wakes = || -> usize { counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum() };
        let before = wakes();

        // The listener still serves several live accepters.
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let l = listener.clone();
                spawn(async move { l.accept().await.unwrap().1 })
            })
            .collect();
        settle().await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        assert_eq!(all_within(tasks).await.len(), 3);
        assert_eq!(wakes(), before, "cancelled accepts were woken");
    }));
}
