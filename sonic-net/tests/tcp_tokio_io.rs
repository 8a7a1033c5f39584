//! With the `tokio` feature: tokio's `AsyncRead`/`AsyncWrite` on the same socket types, read
//! straight into a `ReadBuf`'s uninitialised part. `cargo test -p sonic-net --features tokio`.
#![cfg(feature = "tokio")]

mod common;

use sonic_test_support::each_mode;

use common::within;
use sonic_net::{TcpListener, TcpStream, UnixStream};
use sonic_rt::Runtime;
use std::mem::MaybeUninit;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

each_mode!(
    tokio_traits_echo,
    read_buf_fills_uninit_memory,
    tokio_unix_and_halves,
    read_buf_goes_through_read_ahead,
);

fn tokio_traits_echo(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let d = data.clone();
        let writer = sonic_rt::spawn(async move {
            AsyncWriteExt::write_all(&mut client, &d).await.unwrap();
            AsyncWriteExt::shutdown(&mut client).await.unwrap(); // FIN
            client
        });
        let mut got = Vec::new();
        AsyncReadExt::read_to_end(&mut server, &mut got)
            .await
            .unwrap();
        assert_eq!(got, data);
        let _client = writer.await.unwrap();
    }));
}

/// `poll_read` fills and initialises exactly what it received, leaving the rest untouched.
fn read_buf_fills_uninit_memory(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        AsyncWriteExt::write_all(&mut a, b"twelve bytes")
            .await
            .unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut storage);
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"twelve bytes");
        assert_eq!(buf.initialized().len(), 12);
        assert_eq!(buf.remaining(), 52);
    }));
}

fn tokio_unix_and_halves(rt: &Runtime) {
    rt.block_on(within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (mut crd, mut cwr) = client.into_split();
        let (mut srd, mut swr) = server.into_split();
        cwr.write_all(b"through owned halves").await.unwrap();
        let mut buf = [0u8; 20];
        srd.read_exact(&mut buf).await.unwrap();
        swr.write_all(&buf).await.unwrap();
        let mut back = [0u8; 20];
        crd.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"through owned halves");
    }));
}

/// With read-ahead, tokio's `ReadBuf` path sees buffered bytes first (copied into the
/// uninitialised part), fills the buffer for a small read, and reads a large one straight into
/// the `ReadBuf`; EOF comes after the buffered bytes.
fn read_buf_goes_through_read_ahead(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.set_read_ahead(64);
        AsyncWriteExt::write_all(&mut a, b"0123456789")
            .await
            .unwrap();
        let mut small = [MaybeUninit::<u8>::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut small);
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!((buf.filled(), b.read_ahead_len()), (&b"0123"[..], 6));
        // A large read still gets the buffered bytes first, and only them.
        let mut large = [MaybeUninit::<u8>::uninit(); 256];
        let mut buf = ReadBuf::uninit(&mut large);
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"456789");
        assert_eq!(buf.initialized().len(), 6);
        // Nothing buffered and a read larger than the read-ahead: straight into the ReadBuf.
        let data = [9u8; 200];
        AsyncWriteExt::write_all(&mut a, &data).await.unwrap();
        let mut buf = ReadBuf::uninit(&mut large);
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!((buf.filled(), b.read_ahead_len()), (&data[..], 0));
        AsyncWriteExt::write_all(&mut a, b"end").await.unwrap();
        drop(a);
        let mut got = Vec::new();
        let mut two = [0u8; 2];
        loop {
            match AsyncReadExt::read(&mut b, &mut two).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&two[..n]),
            }
        }
        assert_eq!(got, b"end");
    }));
}
