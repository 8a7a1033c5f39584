//! Proves with a counting global allocator that steady-state TCP and UDP echo loops (read,
//! write, wake, on both loop modes) allocate nothing.

mod common;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use sonic_rt::io::Interest;
use std::io::{self, IoSlice, IoSliceMut};

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::assert_steady_state_alloc_free;

fn tcp_echo(busy: bool) {
    common::rt(busy).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        client.set_nodelay(true).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        server.set_nodelay(true).unwrap();
        // The echo side is its own task with owned halves, so every round also crosses tasks.
        let echo = sonic_rt::spawn(async move {
            let (mut rd, mut wr) = server.into_split();
            let mut buf = [0u8; 256];
            loop {
                let n = rd.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                wr.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut buf = [0u8; 64];
        assert_steady_state_alloc_free!("tcp echo (futures-io)", {
            client.write_all(&[1u8; 64]).await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
        });
        // Read-ahead: the buffer is allocated by the first fill (in the warm-up), never again;
        // `peek` and `try_read` serve buffered bytes without allocating either.
        client.set_read_ahead(4096);
        assert_steady_state_alloc_free!("tcp echo (read-ahead read_exact, peek, try_read)", {
            client.write_all(&[4u8; 64]).await.unwrap();
            client.read_exact(&mut buf[..16]).await.unwrap();
            assert_eq!(client.peek(&mut buf[16..32]).await.unwrap(), 16);
            assert_eq!(client.try_read(&mut buf[16..40]).unwrap(), 24);
            client.read_exact(&mut buf[40..]).await.unwrap();
        });
        client.set_read_ahead(0);
        // tokio's readiness style: `ready` (a waiter in each direction's list) + `try_*`.
        assert_steady_state_alloc_free!("tcp echo (ready + try_write/try_read_vectored)", {
            let mut sent = 0;
            while sent < 64 {
                let ready = client.ready(Interest::WRITABLE).await.unwrap();
                assert!(ready.is_writable());
                match client.try_write(&[6u8; 64][sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
            let mut got = 0;
            while got < 64 {
                client.ready(Interest::READABLE).await.unwrap();
                let (a, b) = buf[got..].split_at_mut((64 - got) / 2);
                match client.try_read_vectored(&mut [IoSliceMut::new(a), IoSliceMut::new(b)]) {
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
        });
        assert_steady_state_alloc_free!("tcp echo (vectored write, borrowed split)", {
            let (mut rd, mut wr) = TcpStream::split(&mut client);
            let bufs = [IoSlice::new(&[2u8; 32]), IoSlice::new(&[3u8; 32])];
            let n = wr.write_vectored(&bufs).await.unwrap();
            assert_eq!(n, 64);
            rd.read_exact(&mut buf).await.unwrap();
        });
        drop(client);
        echo.await.unwrap();
    });
}

fn udp_echo(busy: bool) {
    common::rt(busy).block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 256];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 64];
        assert_steady_state_alloc_free!("udp send_to/recv_from", {
            client.send_to(&[7u8; 64], server_addr).await.unwrap();
            let (n, _) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(n, 64);
        });
        client.connect(server_addr).await.unwrap();
        assert_steady_state_alloc_free!("udp connected send/recv", {
            client.send(&[8u8; 64]).await.unwrap();
            assert_eq!(client.recv(&mut buf).await.unwrap(), 64);
        });
        assert_steady_state_alloc_free!("udp try_send/readable/try_recv, poll_recv", {
            client.writable().await.unwrap();
            client.try_send(&[9u8; 64]).unwrap();
            loop {
                client.readable().await.unwrap();
                match client.try_recv(&mut buf) {
                    Ok(n) => break assert_eq!(n, 64),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
            client.send(&[10u8; 64]).await.unwrap();
            let n = std::future::poll_fn(|cx| client.poll_recv(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(n, 64);
        });
        echo.abort();
    });
}

fn unix_echo(busy: bool) {
    common::rt(busy).block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 256];
            loop {
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                b.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut buf = [0u8; 64];
        assert_steady_state_alloc_free!("unix stream echo", {
            a.write_all(&[5u8; 64]).await.unwrap();
            a.read_exact(&mut buf).await.unwrap();
        });
        drop(a);
        echo.await.unwrap();
    });
}

#[test]
fn tcp_echo_allocates_nothing() {
    tcp_echo(false);
    tcp_echo(true);
}

#[test]
fn udp_echo_allocates_nothing() {
    udp_echo(false);
    udp_echo(true);
}

#[test]
fn unix_echo_allocates_nothing() {
    unix_echo(false);
    unix_echo(true);
}
