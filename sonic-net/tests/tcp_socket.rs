//! `TcpSocket`: options set before the connect or the listen round-trip through their
//! getters and carry over, bind before connect uses the chosen local port (the Go library's
//! `BindSocket`), `SO_REUSEPORT` shards connections between two listeners, errors are errors.
//! Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::within;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{TcpListener, TcpSocket, TcpStream};
use sonic_rt::{spawn, Runtime};
use std::cell::Cell;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

each_mode!(
    every_option_round_trips_through_its_getter,
    options_set_before_connect_carry_over_to_the_stream,
    bind_before_connect_uses_the_chosen_local_port,
    reuseport_shards_connections_between_two_listeners,
    listen_then_connect_over_ipv6,
    from_std_stream_connects,
    errors_are_errors,
);

fn every_option_round_trips_through_its_getter(rt: &Runtime) {
    rt.block_on(within(10, async {
        let s = TcpSocket::new_v4().unwrap();
        for on in [true, false] {
            s.set_reuseaddr(on).unwrap();
            assert_eq!(s.reuseaddr().unwrap(), on);
            s.set_reuseport(on).unwrap();
            assert_eq!(s.reuseport().unwrap(), on);
            s.set_nodelay(on).unwrap();
            assert_eq!(s.nodelay().unwrap(), on);
            s.set_keepalive(on).unwrap();
            assert_eq!(s.keepalive().unwrap(), on);
        }
        // Linux doubles buffer sizes (for its bookkeeping); others keep them.
        s.set_send_buffer_size(64 * 1024).unwrap();
        let send = s.send_buffer_size().unwrap();
        assert!(send == 64 * 1024 || send == 128 * 1024, "{send}");
        s.set_recv_buffer_size(32 * 1024).unwrap();
        let recv = s.recv_buffer_size().unwrap();
        assert!(recv == 32 * 1024 || recv == 64 * 1024, "{recv}");
        s.set_linger(Some(Duration::from_secs(1))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(1)));
        s.set_zero_linger().unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::ZERO));
        s.set_linger(None).unwrap();
        assert_eq!(s.linger().unwrap(), None);
        s.set_tos_v4(0x10).unwrap();
        assert_eq!(s.tos_v4().unwrap(), 0x10);
        #[allow(deprecated)]
        {
            s.set_tos(0x08).unwrap();
            assert_eq!(s.tos().unwrap(), 0x08);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        common::check_bind_device(|d| s.bind_device(d), || s.device());
        assert!(s.take_error().unwrap().is_none());
        assert!(format!("{s:?}").contains("Socket"));

        let v6 = TcpSocket::new_v6().unwrap();
        v6.set_tclass_v6(0x20).unwrap();
        assert_eq!(v6.tclass_v6().unwrap(), 0x20);

        // The stream's new option too.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        stream.set_zero_linger().unwrap();
        assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
    }));
}

fn options_set_before_connect_carry_over_to_the_stream(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = TcpSocket::new_v4().unwrap();
        s.set_nodelay(true).unwrap();
        s.set_keepalive(true).unwrap();
        s.set_send_buffer_size(48 * 1024).unwrap();
        s.set_recv_buffer_size(40 * 1024).unwrap();
        let (send, recv) = (s.send_buffer_size().unwrap(), s.recv_buffer_size().unwrap());
        let stream = s.connect(listener.local_addr().unwrap()).await.unwrap();
        assert!(stream.nodelay().unwrap());
        assert!(stream.keepalive().unwrap());
        assert_eq!(stream.send_buffer_size().unwrap(), send as usize);
        assert_eq!(stream.recv_buffer_size().unwrap(), recv as usize);
    }));
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn bind_before_connect_uses_the_chosen_local_port(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Another process may take the port between `free_port` and `bind`: try a few.
        let (socket, local) = (0..10)
            .find_map(|_| {
                let local = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
                let s = TcpSocket::new_v4().unwrap();
                s.set_reuseaddr(true).unwrap();
                s.bind(local).ok().map(|()| (s, local))
            })
            .expect("no free port in ten tries");
        assert_eq!(socket.local_addr().unwrap(), local);
        let mut client = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local);
        assert_eq!(client.local_addr().unwrap(), local);
        client.write_all(b"from a chosen port").await.unwrap();
        client.close().await.unwrap();
        let mut got = String::new();
        server.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "from a chosen port");
    }));
}

fn reuseport_shards_connections_between_two_listeners(rt: &Runtime) {
    const CONNECTIONS: usize = 32;
    rt.block_on(within(20, async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        // Without SO_REUSEPORT the same bind fails.
        let third = TcpSocket::new_v4().unwrap();
        assert_eq!(
            third.bind(addr).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        let listeners = [first.listen(64).unwrap(), second.listen(64).unwrap()];
        let accepted: Rc<[Cell<usize>; 2]> = Rc::new([Cell::new(0), Cell::new(0)]);
        let acceptors: Vec<_> = listeners
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let accepted = accepted.clone();
                spawn(async move {
                    let mut conns = Vec::new();
                    loop {
                        let (c, _) = l.accept().await.unwrap();
                        conns.push(c);
                        accepted[i].set(accepted[i].get() + 1);
                    }
                })
            })
            .collect();
        // Each connection comes from its own port, so the kernel's hash spreads them; all 32
        // landing on one listener would be a 1 in 2^31 chance.
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        while accepted[0].get() + accepted[1].get() < CONNECTIONS {
            sonic_rt::task::yield_now().await;
        }
        let (a, b) = (accepted[0].get(), accepted[1].get());
        assert!(
            a > 0 && b > 0,
            "one listener took every connection: {a} + {b}"
        );
        for t in acceptors {
            t.abort();
        }
    }));
}

fn listen_then_connect_over_ipv6(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpSocket::new_v6().unwrap();
        if listener.bind((Ipv6Addr::LOCALHOST, 0).into()).is_err() {
            return; // no IPv6 on this host
        }
        let addr = listener.local_addr().unwrap();
        let listener = listener.listen(16).unwrap();
        let client = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.local_addr().unwrap(), addr);
    }));
}

fn from_std_stream_connects(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // An unconnected socket made elsewhere (socket2 here), handed over as a std stream.
        let raw = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(raw));
        socket.set_nodelay(true).unwrap();
        let stream = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        assert!(stream.nodelay().unwrap());
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
    }));
}

fn errors_are_errors(rt: &Runtime) {
    rt.block_on(within(10, async {
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(dead)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        // An IPv4 socket cannot bind an IPv6 address.
        let v4 = TcpSocket::new_v4().unwrap();
        assert!(v4.bind((Ipv6Addr::LOCALHOST, 0).into()).is_err());
    }));
    // Creating and configuring needs no runtime; listening does.
    let s = TcpSocket::new_v4().unwrap();
    s.set_reuseaddr(true).unwrap();
    s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let err = s.listen(8).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}
