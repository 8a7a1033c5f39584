//! TCP on loopback: many connections on one thread, half-close, reset, refused, timeouts, split
//! halves, options. Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::within;
use futures_util::{AsyncReadExt, AsyncWriteExt, StreamExt};
use sonic_net::{ListenOptions, Shutdown, TcpListener, TcpStream};
use sonic_rt::Runtime;
use std::io::{self, IoSlice};
use std::time::Duration;

each_mode!(
    echo_200_connections,
    half_close,
    peer_reset_is_connection_reset,
    connection_refused,
    connect_timeout_on_full_backlog,
    bad_addresses_are_errors,
    split_halves_from_two_tasks,
    borrowed_split_under_join,
    reunite_checks_origin,
    dropping_owned_write_half_sends_eof,
    vectored_write,
    options_round_trip,
    peek_leaves_data_queued,
    incoming_stream,
    reuse_port_shares_a_port,
    std_round_trip,
    connect_tries_each_address,
);

/// Spawns an echo server on `listener`: each connection echoes until EOF, then closes.
fn spawn_echo_server(listener: TcpListener) -> sonic_rt::JoinHandle<()> {
    sonic_rt::spawn(async move {
        loop {
            let (mut conn, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => panic!("accept: {e}"),
            };
            let _echo = sonic_rt::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}

fn echo_200_connections(rt: &Runtime) {
    const CONNS: usize = 200;
    const ROUNDS: usize = 20;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let clients: Vec<_> = (0..CONNS)
            .map(|i| {
                sonic_rt::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut got = vec![0u8; 1000];
                    for round in 0..ROUNDS {
                        let msg: Vec<u8> = (0..1000).map(|k| (i + round + k) as u8).collect();
                        s.write_all(&msg).await.unwrap();
                        s.read_exact(&mut got).await.unwrap();
                        assert_eq!(got, msg, "connection {i} round {round}");
                    }
                    s.close().await.unwrap();
                    let mut rest = Vec::new();
                    s.read_to_end(&mut rest).await.unwrap();
                    assert!(rest.is_empty());
                })
            })
            .collect();
        within(60, async {
            for c in clients {
                c.await.unwrap();
            }
        })
        .await;
        server.abort();
    });
}

fn half_close(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = sonic_rt::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            // Reads to EOF (the client shut its write side down)...
            let mut req = Vec::new();
            conn.read_to_end(&mut req).await.unwrap();
            assert_eq!(req, b"request");
            // ...and can still write back.
            conn.write_all(b"response after EOF").await.unwrap();
            conn.close().await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        // Writing after the shutdown is an error, not a panic.
        let err = client.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        let mut resp = Vec::new();
        client.read_to_end(&mut resp).await.unwrap();
        assert_eq!(resp, b"response after EOF");
        server.await.unwrap();
    }));
}

fn peer_reset_is_connection_reset(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // Make sure the connection carried data both ways first.
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        server.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
        drop(server); // RST
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        // Later calls keep failing cleanly (or see EOF), never panic.
        let _ = client.read(&mut buf).await;
        let err = client.write_all(b"after reset").await.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{err}"
        );
        let _ = client.close().await;
    }));
}

fn connection_refused(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        let err = TcpStream::connect_timeout(addr, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    }));
}

/// A listener with `listen(backlog = 1)` that never accepts: once its accept queue is full,
/// Linux drops further SYNs (`LISTENOVERFLOWS`; SYN cookies do not apply to a full accept
/// queue), so a connect hangs in SYN retransmission and the timeout must fire. Loopback only.
fn connect_timeout_on_full_backlog(rt: &Runtime) {
    rt.block_on(within(30, async {
        let opts = ListenOptions::new().backlog(1);
        let listener = TcpListener::bind_with("127.0.0.1:0", &opts).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut timed_out = None;
        for _ in 0..32 {
            match TcpStream::connect_timeout(addr, Duration::from_millis(200)).await {
                Ok(s) => held.push(s),
                Err(e) => {
                    timed_out = Some(e);
                    break;
                }
            }
        }
        let err = timed_out.expect("the backlog never filled up: no SYN was dropped");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(
            held.len() <= 4,
            "{} connections fit a backlog of 1",
            held.len()
        );
        // And again, now that the queue is known to be full; the elapsed time is the timeout.
        let start = std::time::Instant::now();
        let err = TcpStream::connect_timeout(addr, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(2),
            "{took:?}"
        );
        drop(listener);
    }));
}

fn bad_addresses_are_errors(rt: &Runtime) {
    rt.block_on(within(10, async {
        // None of these reach a resolver: each fails to parse, or names no address.
        for bad in ["", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1"] {
            let err = TcpStream::connect(bad).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {err}");
            let err = TcpListener::bind(bad).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {err}");
        }
        let none: &[std::net::SocketAddr] = &[];
        let err = TcpStream::connect(none).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // Port 0 and a broadcast address are refused by the kernel, cleanly.
        assert!(TcpStream::connect("127.0.0.1:0").await.is_err());
        assert!(TcpStream::connect("255.255.255.255:80").await.is_err());
        // Binding an address this host does not have.
        assert!(TcpListener::bind("192.0.2.1:0").await.is_err());
    }));
}

fn split_halves_from_two_tasks(rt: &Runtime) {
    const TOTAL: usize = 1 << 20;
    rt.block_on(within(30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut rd, mut wr) = stream.into_split();
        // The writer pushes 1 MiB while the reader drains the echo concurrently: neither could
        // finish alone once the socket buffers fill up.
        let writer = sonic_rt::spawn(async move {
            let chunk: Vec<u8> = (0..8192).map(|i| i as u8).collect();
            let mut sent = 0;
            while sent < TOTAL {
                wr.write_all(&chunk).await.unwrap();
                sent += chunk.len();
            }
            wr
        });
        let reader = sonic_rt::spawn(async move {
            let mut buf = vec![0u8; 65536];
            let mut got = 0;
            while got < TOTAL {
                let n = rd.read(&mut buf).await.unwrap();
                assert!(n > 0, "early EOF at {got}");
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, ((got + k) % 8192) as u8);
                }
                got += n;
            }
            rd
        });
        let wr = writer.await.unwrap();
        let rd = reader.await.unwrap();
        let stream = rd.reunite(wr).unwrap();
        drop(stream);
        server.abort();
    }));
}

fn borrowed_split_under_join(rt: &Runtime) {
    rt.block_on(within(30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // `TcpStream::split`, not `stream.split()`: with futures' `AsyncReadExt` in scope the
        // latter resolves to the trait's by-value, lock-based split.
        let (mut rd, mut wr) = TcpStream::split(&mut stream);
        let data = vec![7u8; 300_000];
        let write = async {
            wr.write_all(&data).await.unwrap();
            wr.close().await.unwrap(); // half-close through the borrowed half
        };
        let read = async {
            let mut out = Vec::new();
            rd.read_to_end(&mut out).await.unwrap();
            out
        };
        let ((), out) = futures_util::join!(write, read);
        assert_eq!(out.len(), data.len());
        server.abort();
    }));
}

fn reunite_checks_origin(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (ar, aw) = a.into_split();
        let (br, bw) = b.into_split();
        let err = ar.reunite(bw).unwrap_err();
        assert!(err.to_string().contains("not from the same"));
        let (ar, bw) = (err.0, err.1);
        let a = ar.reunite(aw).unwrap();
        let b = bw.reunite(br).unwrap();
        assert_ne!(a.local_addr().unwrap(), b.local_addr().unwrap());
    }));
}

fn dropping_owned_write_half_sends_eof(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (mut rd, wr) = client.into_split();
        drop(wr);
        let mut buf = Vec::new();
        server.read_to_end(&mut buf).await.unwrap(); // EOF
        server.write_all(b"still open").await.unwrap();
        let mut got = [0u8; 10];
        rd.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"still open");
    }));
}

fn vectored_write(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let bufs = [
            IoSlice::new(b"head|"),
            IoSlice::new(b""),
            IoSlice::new(b"body|"),
            IoSlice::new(b"tail"),
        ];
        let n = client.write_vectored(&bufs).await.unwrap();
        assert_eq!(n, 14); // loopback takes it all at once
        client.close().await.unwrap();
        let mut got = String::new();
        server.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "head|body|tail");
    }));
}

fn options_round_trip(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        s.set_nodelay(true).unwrap();
        assert!(s.nodelay().unwrap());
        s.set_nodelay(false).unwrap();
        assert!(!s.nodelay().unwrap());
        s.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
        s.set_linger(None).unwrap();
        assert_eq!(s.linger().unwrap(), None);
        s.set_send_buffer_size(64 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() >= 64 * 1024);
        s.set_recv_buffer_size(64 * 1024).unwrap();
        assert!(s.recv_buffer_size().unwrap() >= 64 * 1024);
        s.set_keepalive(Some(Duration::from_secs(30))).unwrap();
        assert!(s.keepalive().unwrap());
        s.set_keepalive(None).unwrap();
        assert!(!s.keepalive().unwrap());
        s.set_ttl(42).unwrap();
        assert_eq!(s.ttl().unwrap(), 42);
        listener.set_ttl(43).unwrap();
        assert_eq!(listener.ttl().unwrap(), 43);
        assert!(s.take_error().unwrap().is_none());
        // SO_BUSY_POLL: set and read back where allowed (root here); an error, never a panic,
        // where not (EPERM above net.core.busy_read without CAP_NET_ADMIN, or not Linux).
        match s.set_busy_poll(Duration::from_micros(50)) {
            Ok(()) => assert_eq!(s.busy_poll().unwrap(), Duration::from_micros(50)),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::Unsupported
                ),
                "{e}"
            ),
        }
        let err = s.set_busy_poll(Duration::from_secs(10_000)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(s.peer_addr().unwrap(), listener.local_addr().unwrap());
        assert!(format!("{s:?}").contains("TcpStream"));
        assert!(format!("{listener:?}").contains("TcpListener"));
    }));
}

fn peek_leaves_data_queued(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let peeker = sonic_rt::spawn(async move {
            let mut buf = [0u8; 16];
            let n = server.peek(&mut buf).await.unwrap(); // waits for data
            assert_eq!(&buf[..n], b"peekaboo");
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"peekaboo");
        });
        sonic_rt::time::sleep(Duration::from_millis(5)).await;
        client.write_all(b"peekaboo").await.unwrap();
        peeker.await.unwrap();
    }));
}

fn incoming_stream(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = sonic_rt::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(TcpStream::connect(addr).await.unwrap());
            }
            v
        });
        let conns: Vec<_> = listener.incoming().take(3).collect().await;
        assert_eq!(conns.len(), 3);
        for c in conns {
            c.unwrap().peer_addr().unwrap();
        }
        clients.await.unwrap();
    }));
}

fn reuse_port_shares_a_port(rt: &Runtime) {
    rt.block_on(within(10, async {
        let opts = ListenOptions::new().reuse_port(true);
        let a = TcpListener::bind_with("127.0.0.1:0", &opts).await.unwrap();
        let addr = a.local_addr().unwrap();
        let b = TcpListener::bind_with(addr, &opts).await.unwrap();
        assert_eq!(b.local_addr().unwrap(), addr);
        // Without SO_REUSEPORT on the new one, the port is taken.
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        // Connections reach one of the two.
        let mut clients = Vec::new();
        for _ in 0..16 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut accepted = 0;
        for l in [&a, &b] {
            while let Ok(Ok(_)) =
                sonic_rt::time::timeout(Duration::from_millis(50), l.accept()).await
            {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 16);
    }));
}

fn std_round_trip(rt: &Runtime) {
    rt.block_on(within(10, async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"x").await.unwrap();
        let mut server = server.into_std().unwrap();
        server.set_nonblocking(false).unwrap();
        let mut b = [0u8; 1];
        io::Read::read_exact(&mut server, &mut b).unwrap();
        assert_eq!(&b, b"x");
        let client = client.into_std().unwrap();
        drop(client);
    }));
    assert_eq!(rt.io_sources(), 0);
}

fn connect_tries_each_address(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap()
        };
        // The first address refuses; the second works.
        let s = TcpStream::connect(&[dead, good][..]).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), good);
        // All refuse: the last error comes back.
        let err = TcpStream::connect(&[dead, dead][..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }));
}

#[test]
fn outside_a_runtime_is_an_error() {
    let err = sonic_rt::block_on(async { Ok::<_, io::Error>(()) })
        .and_then(|()| TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()));
    assert!(err.is_err());
}
