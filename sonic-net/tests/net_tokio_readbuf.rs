//! With the `tokio` feature: the `poll_*` receive methods take tokio's `ReadBuf` (filled and
//! advanced, returning what tokio's do), and the `BufMut` methods (`try_read_buf`,
//! `recv_buf`, `recv_buf_from` and their `try_` forms) read into spare capacity; slices keep
//! working next to them. `cargo test -p sonic-net --features tokio`.
#![cfg(feature = "tokio")]

mod common;

use sonic_test_support::each_mode;

use common::within;
use futures_util::AsyncWriteExt;
use sonic_net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use sonic_rt::Runtime;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use tokio::io::ReadBuf;

each_mode!(
    unix_datagrams_fill_read_bufs_and_spare_capacity,
    udp_poll_receives_fill_a_read_buf,
    tcp_poll_peek_fills_a_read_buf,
    buf_mut_receives_fill_spare_capacity,
);

fn udp_poll_receives_fill_a_read_buf(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 32];

        a.send(b"first").await.unwrap();
        let mut buf = ReadBuf::uninit(&mut storage);
        let from = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
        assert_eq!(
            (buf.filled(), from),
            (&b"first"[..], a.local_addr().unwrap())
        );
        let mut buf = ReadBuf::uninit(&mut storage);
        let () = poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"first");
        let mut buf = ReadBuf::uninit(&mut storage);
        let () = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"first");
        assert_eq!(
            buf.initialized().len(),
            5,
            "only what was received is initialised"
        );

        // Appends after what is already filled, as tokio's does.
        a.send(b"second").await.unwrap();
        let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!(
            (buf.filled(), from),
            (&b"firstsecond"[..], a.local_addr().unwrap())
        );
        assert_eq!(buf.remaining(), 32 - 11);
    }));
}

fn tcp_poll_peek_fills_a_read_buf(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"peek me").await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut storage);
        let n = poll_fn(|cx| server.poll_peek(cx, &mut buf)).await.unwrap();
        assert_eq!((n, buf.filled()), (7, &b"peek me"[..]));
        // With read-ahead bytes buffered, the peek copies them out of the buffer.
        server.set_read_ahead(64);
        let mut two = [0u8; 2];
        futures_util::AsyncReadExt::read_exact(&mut &server, &mut two)
            .await
            .unwrap();
        assert_eq!(server.read_ahead_len(), 5);
        let mut buf = ReadBuf::uninit(&mut storage);
        let n = poll_fn(|cx| server.poll_peek(cx, &mut buf)).await.unwrap();
        assert_eq!((n, buf.filled()), (5, &b"ek me"[..]));
        // And into a slice, as before.
        let mut slice = [0u8; 3];
        let n = poll_fn(|cx| server.poll_peek(cx, &mut slice))
            .await
            .unwrap();
        assert_eq!((n, &slice), (3, b"ek "));
    }));
}

fn buf_mut_receives_fill_spare_capacity(rt: &Runtime) {
    rt.block_on(within(10, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        let mut v: Vec<u8> = Vec::with_capacity(64);
        let err = b.try_recv_buf(&mut v).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        a.send_to(b"one", b.local_addr().unwrap()).await.unwrap();
        assert_eq!(b.recv_buf(&mut v).await.unwrap(), 3);
        a.send_to(b"two", b.local_addr().unwrap()).await.unwrap();
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_buf(&mut v).unwrap(), 3);
        assert_eq!(v, b"onetwo");
        let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.send_to(b"three", c.local_addr().unwrap()).await.unwrap();
        let mut w = Vec::with_capacity(16);
        let (n, from) = c.recv_buf_from(&mut w).await.unwrap();
        assert_eq!(
            (n, from, &w[..]),
            (5, b.local_addr().unwrap(), &b"three"[..])
        );
        assert!(c.try_recv_buf_from(&mut w).is_err());
        b.send_to(b"four", c.local_addr().unwrap()).await.unwrap();
        c.readable().await.unwrap();
        let (n, _) = c.try_recv_buf_from(&mut w).unwrap();
        assert_eq!((n, &w[..]), (4, &b"threefour"[..]));

        // Streams: into a Vec's spare capacity.
        let (x, y) = UnixStream::pair().unwrap();
        x.writable().await.unwrap();
        x.try_write(b"stream bytes").unwrap();
        y.readable().await.unwrap();
        let mut s = Vec::with_capacity(100);
        assert_eq!(y.try_read_buf(&mut s).unwrap(), 12);
        assert_eq!(s, b"stream bytes");
        let (rd, _wr) = y.into_split();
        x.try_write(b"!").unwrap();
        rd.readable().await.unwrap();
        assert_eq!(rd.try_read_buf(&mut s).unwrap(), 1);
        assert_eq!(s, b"stream bytes!");
    }));
}

/// `UnixDatagram` has UDP's receive forms, as tokio's: `poll_recv`/`poll_recv_from` into a
/// `ReadBuf`, `recv_buf`/`recv_buf_from` and their `try_` forms into spare capacity, with the
/// sender's address whether it is a path, unnamed (never bound) or abstract, and
/// `poll_send_to`.
fn unix_datagrams_fill_read_bufs_and_spare_capacity(rt: &Runtime) {
    rt.block_on(within(10, async {
        static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sonic-udg-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (a_path, b_path) = (dir.join("a"), dir.join("b"));
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 32];

        // poll_send_to, then poll_recv_from into a ReadBuf: the sender is a path.
        poll_fn(|cx| a.poll_send_to(cx, b"first", &b_path))
            .await
            .unwrap();
        let mut buf = ReadBuf::uninit(&mut storage);
        let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"first");
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));

        // An unnamed sender (never bound), received into a Vec's spare capacity.
        let unnamed = UnixDatagram::unbound().unwrap();
        unnamed.send_to(b"anon", &b_path).await.unwrap();
        let mut v = Vec::with_capacity(16);
        let (n, from) = b.recv_buf_from(&mut v).await.unwrap();
        assert_eq!((n, &v[..]), (4, &b"anon"[..]));
        assert!(from.is_unnamed(), "{from:?}");
        assert!(
            matches!(b.try_recv_buf_from(&mut v), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
        );

        // Connected: recv_buf and poll_recv into a ReadBuf.
        a.connect(&b_path).unwrap();
        b.connect(&a_path).unwrap();
        a.send(b"two").await.unwrap();
        let n = b.recv_buf(&mut v).await.unwrap();
        assert_eq!((n, &v[..]), (3, &b"anontwo"[..]));
        a.send(b"three").await.unwrap();
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"three");
        assert!(matches!(b.try_recv_buf(&mut v), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        a.send(b"four").await.unwrap();
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_buf(&mut v).unwrap(), 4);
        assert_eq!(&v[..], b"anontwofour");

        // An abstract sender (Linux), seen as one (by a receiver not connected elsewhere).
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("\0sonic-udg-{}-{run}", std::process::id());
            let sender = UnixDatagram::bind(&name).unwrap();
            let receiver = UnixDatagram::bind(dir.join("c")).unwrap();
            sender
                .send_to(b"from abstract", dir.join("c"))
                .await
                .unwrap();
            let mut w = Vec::with_capacity(32);
            let (n, from) = receiver.recv_buf_from(&mut w).await.unwrap();
            assert_eq!(&w[..n], b"from abstract");
            assert_eq!(from.as_abstract_name(), Some(&name.as_bytes()[1..]));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }));
}
