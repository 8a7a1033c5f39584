//! Read-ahead on sonic-net's streams (`TcpStream::set_read_ahead`, `UnixStream::set_read_ahead`):
//! every way of reading a stream (futures-io and tokio `AsyncRead`, `try_read`, `peek`,
//! `readable`, the split halves) sees buffered bytes first; EOF and resets come after them;
//! `into_std` refuses to drop them. Every test runs with busy-poll on and off.

mod common;

use sonic_test_support::each_mode;

use common::{tcp_pair, within};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{Shutdown, TcpStream, UnixStream};
use sonic_rt::Runtime;
use std::io;
use std::rc::Rc;
use std::time::Duration;

each_mode!(
    read_exact_echo_with_read_ahead,
    small_and_large_messages_interleaved,
    peek_try_read_and_readable_see_buffered_bytes,
    peek_waiting_in_one_task_sees_bytes_another_task_buffered,
    split_halves_share_the_buffer,
    eof_after_buffered_data,
    reset_after_buffered_data,
    into_std_refuses_to_drop_buffered_bytes,
    unix_stream_read_ahead,
);

fn read_exact_echo_with_read_ahead(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        client.set_read_ahead(4096);
        server.set_read_ahead(4096);
        assert_eq!(client.read_ahead(), 4096);
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 64];
            while server.read_exact(&mut buf).await.is_ok() {
                server.write_all(&buf).await.unwrap();
            }
        });
        for i in 0..500u32 {
            let msg: Vec<u8> = (0..64).map(|k| (i as usize + k) as u8).collect();
            client.write_all(&msg).await.unwrap();
            let mut back = [0u8; 64];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(&back[..], &msg[..]);
        }
        client.shutdown(Shutdown::Write).unwrap();
        echo.await.unwrap();
    }));
}

fn small_and_large_messages_interleaved(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(1024);
        let sizes = [3usize, 65536, 17, 1024, 1023, 5000, 1];
        let data: Vec<u8> = (0..sizes.iter().sum::<usize>())
            .map(|i| (i % 241) as u8)
            .collect();
        let d = data.clone();
        let writer = sonic_rt::spawn(async move {
            client.write_all(&d).await.unwrap();
            client
        });
        let mut got = Vec::new();
        for &n in &sizes {
            let mut buf = vec![0u8; n];
            server.read_exact(&mut buf).await.unwrap();
            got.extend_from_slice(&buf);
        }
        assert_eq!(got, data);
        drop(writer.await.unwrap());
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }));
}

fn peek_try_read_and_readable_see_buffered_bytes(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(256);
        client.write_all(b"0123456789").await.unwrap();
        let mut two = [0u8; 2];
        server.read_exact(&mut two).await.unwrap();
        assert_eq!((&two, server.read_ahead_len()), (b"01", 8));
        // The fill was short: the socket is known drained, yet readable() must not wait.
        server.readable().await.unwrap();
        let mut peeked = [0u8; 4];
        assert_eq!(server.peek(&mut peeked).await.unwrap(), 4);
        assert_eq!(&peeked, b"2345");
        let mut three = [0u8; 3];
        assert_eq!(server.try_read(&mut three).unwrap(), 3);
        assert_eq!(&three, b"234");
        let mut rest = [0u8; 16];
        assert_eq!(server.try_read(&mut rest).unwrap(), 5);
        assert_eq!(&rest[..5], b"56789");
        // Now the buffer is empty and the kernel has nothing.
        assert_eq!(
            server.try_read(&mut rest).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(
            sonic_rt::time::timeout(Duration::from_millis(5), server.readable())
                .await
                .is_err(),
            "readable() with nothing buffered and nothing queued"
        );
        client.write_all(b"x").await.unwrap();
        server.readable().await.unwrap();
        assert_eq!(server.try_read(&mut rest).unwrap(), 1);
    }));
}

/// A task waits in `peek` while another reads with read-ahead: the event wakes the reader
/// first (the `poll_*` slot before the list), which buffers everything and drains the kernel.
/// The peeker must then see the buffered bytes instead of waiting for an event that already
/// came: a lost wake-up otherwise.
fn peek_waiting_in_one_task_sees_bytes_another_task_buffered(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, server) = tcp_pair().await;
        server.set_read_ahead(256);
        let server = Rc::new(server);
        let s = server.clone();
        let peeker = sonic_rt::spawn(async move {
            let mut buf = [0u8; 16];
            let n = s.peek(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        let s = server.clone();
        let reader = sonic_rt::spawn(async move {
            let mut one = [0u8; 1];
            (&*s).read_exact(&mut one).await.unwrap();
            one[0]
        });
        sonic_rt::task::yield_now().await; // both wait now
        client.write_all(b"abc").await.unwrap();
        assert_eq!(reader.await.unwrap(), b'a');
        assert_eq!(peeker.await.unwrap(), b"bc");
    }));
}

fn split_halves_share_the_buffer(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(128);
        client.write_all(b"abcdefghij").await.unwrap();
        let mut one = [0u8; 1];
        server.read_exact(&mut one).await.unwrap();
        {
            let (mut rd, _wr) = TcpStream::split(&mut server);
            let mut two = [0u8; 2];
            assert_eq!(rd.peek(&mut two).await.unwrap(), 2);
            assert_eq!(&two, b"bc");
            rd.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"bc");
        }
        let (mut rd, wr) = server.into_split();
        let mut three = [0u8; 3];
        rd.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"def");
        let server = rd.reunite(wr).unwrap();
        assert_eq!(server.read_ahead_len(), 4);
        let mut rest = [0u8; 8];
        assert_eq!(server.try_read(&mut rest).unwrap(), 4);
        assert_eq!(&rest[..4], b"ghij");
    }));
}

fn eof_after_buffered_data(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(64);
        client.write_all(b"last words").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut four = [0u8; 4];
        server.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, b"last");
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b" words");
        assert_eq!(server.read(&mut four).await.unwrap(), 0);
    }));
}

fn reset_after_buffered_data(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(64);
        client.write_all(b"abcdef").await.unwrap();
        let mut one = [0u8; 1];
        server.read_exact(&mut one).await.unwrap();
        assert_eq!(server.read_ahead_len(), 5);
        client.set_linger(Some(Duration::ZERO)).unwrap();
        // RST (processed at once on loopback); the buffered bytes still come first.
        drop(client);
        let mut rest = [0u8; 16];
        assert_eq!(server.read(&mut rest).await.unwrap(), 5);
        assert_eq!(&rest[..5], b"bcdef");
        // No FIN was sent, so no EOF either: the next read is the reset's error.
        let err = server.read(&mut rest).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    }));
}

fn into_std_refuses_to_drop_buffered_bytes(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(64);
        client.write_all(b"pending").await.unwrap();
        let mut one = [0u8; 1];
        server.read_exact(&mut one).await.unwrap();
        let err = server.into_std().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");

        // Drained first with try_read, into_std works.
        let (mut client, mut server) = tcp_pair().await;
        server.set_read_ahead(64);
        client.write_all(b"pending").await.unwrap();
        server.read_exact(&mut one).await.unwrap();
        let mut rest = [0u8; 16];
        while server.read_ahead_len() > 0 {
            server.try_read(&mut rest).unwrap();
        }
        let _std = server.into_std().unwrap();
    }));
}

fn unix_stream_read_ahead(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.set_read_ahead(512);
        assert_eq!((a.read_ahead(), b.read_ahead()), (0, 512));
        a.write_all(b"hello unix").await.unwrap();
        let mut five = [0u8; 5];
        b.read_exact(&mut five).await.unwrap();
        assert_eq!((&five, b.read_ahead_len()), (b"hello", 5));
        b.readable().await.unwrap();
        let (mut rd, _wr) = UnixStream::split(&mut b);
        rd.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b" unix");
        assert_eq!(
            b.try_read(&mut five).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        drop(a);
        assert_eq!(b.read(&mut five).await.unwrap(), 0);
        let _std = b.into_std().unwrap();
    }));
}

#[test]
fn builder_default_applies_to_accepted_and_connected_streams() {
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new()
            .busy_poll(busy)
            .read_ahead(8192)
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, server) = tcp_pair().await;
            assert_eq!((client.read_ahead(), server.read_ahead()), (8192, 8192));
            let (a, _b) = UnixStream::pair().unwrap();
            assert_eq!(a.read_ahead(), 8192);
            server.set_read_ahead(0);
            assert_eq!((client.read_ahead(), server.read_ahead()), (8192, 0));
        });
    }
}
