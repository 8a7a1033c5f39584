//! Name resolution: `lookup_host` and `connect("name:port")` look names up on the blocking
//! pool, never on the loop thread; IP literals need no lookup; resolver failures are errors.

use sonic_net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use sonic_rt::time::timeout;
use sonic_rt::{spawn_blocking, task::yield_now, Builder, Runtime};
use sonic_test_support::each_mode;
use std::sync::mpsc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

each_mode!(
    lookup_host_resolves_localhost,
    connect_and_send_to_by_name,
    resolver_failure_is_an_io_error,
);

fn lookup_host_resolves_localhost(rt: &Runtime) {
    rt.block_on(async {
        let addrs: Vec<_> = lookup_host("localhost:4242").await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|a| a.port() == 4242 && a.ip().is_loopback()));
        let addrs: Vec<_> = lookup_host(("localhost", 7)).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.port() == 7));
        // A literal resolves to itself.
        let addrs: Vec<_> = lookup_host("[::1]:9").await.unwrap().collect();
        assert_eq!(addrs, vec!["[::1]:9".parse().unwrap()]);
        let Err(e) = lookup_host("localhost").await else {
            panic!("no port: an error")
        };
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    });
}

fn connect_and_send_to_by_name(rt: &Runtime) {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // "localhost" may resolve to ::1 first: connect tries each address in turn.
        let conn = timeout(LIMIT, TcpStream::connect(format!("localhost:{port}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conn.peer_addr().unwrap().port(), port);

        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = rx.local_addr().unwrap().port();
        let tx = UdpSocket::bind(("localhost", 0)).await.unwrap();
        if tx.local_addr().unwrap().is_ipv4() {
            tx.send_to(b"hi", ("localhost", port)).await.unwrap();
            let mut buf = [0u8; 2];
            let (n, _) = rx.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hi");
        }
    });
}

fn resolver_failure_is_an_io_error(rt: &Runtime) {
    rt.block_on(async {
        // `.invalid` is reserved (RFC 6761): never a real host.
        let res = timeout(LIMIT, lookup_host("no-such-host.invalid:80"))
            .await
            .expect("the lookup hung");
        let Err(e) = res else {
            panic!("resolved a .invalid name")
        };
        assert!(!e.to_string().is_empty());
        let e = timeout(LIMIT, TcpStream::connect("no-such-host.invalid:80"))
            .await
            .expect("the connect hung")
            .unwrap_err();
        assert!(!e.to_string().is_empty());
    });
}

/// With the pool's only thread held, a name lookup cannot run, while the loop goes on: the
/// lookup is on the pool, not on the loop thread. An IP literal needs no lookup at all.
#[test]
fn name_lookup_runs_on_the_pool_not_the_loop() {
    let rt = Builder::new().max_blocking_threads(1).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let hold = spawn_blocking(move || {
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        held_rx.recv().unwrap();
        let by_name = sonic_rt::spawn(TcpStream::connect(format!("localhost:{port}")));
        // A literal connects while the pool is held.
        timeout(LIMIT, TcpStream::connect(("127.0.0.1", port)))
            .await
            .unwrap()
            .unwrap();
        for _ in 0..50 {
            yield_now().await;
        }
        assert!(
            !by_name.is_finished(),
            "the name was resolved without the pool"
        );
        release_tx.send(()).unwrap();
        hold.await.unwrap();
        timeout(LIMIT, by_name).await.unwrap().unwrap().unwrap();
    });
}
