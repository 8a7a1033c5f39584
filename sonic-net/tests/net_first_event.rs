//! A new socket's readiness, as in tokio: the readiness API (`ready`, `readable`,
//! `poll_read_ready`, and the `try_*` calls, which answer `WouldBlock` without a syscall while
//! no readiness is cached) reports nothing until the socket's first event (edge-triggered
//! registration reports the fd's state at the next reactor turn), even when bytes are already
//! queued. Reads and writes still go to the kernel at once (no wait for that first event), and
//! one that did not block counts as readiness from then on, as tokio's would after its wait.
//! tokio's own tests check the first half (tcp_stream.rs: `poll_read_ready`,
//! `try_read_write`). Both loop modes.

mod common;

use common::within;
use futures_util::AsyncReadExt;
use sonic_net::{TcpStream, UdpSocket, UnixStream};
use sonic_rt::io::Interest;
use sonic_rt::Runtime;
use sonic_test_support::each_mode;
use std::future::Future;
use std::io::{self, Write};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

each_mode!(
    queued_bytes_are_not_readiness_before_the_first_event,
    a_read_of_a_new_stream_goes_to_the_kernel_and_counts_as_readiness,
    a_queued_datagram_is_not_readiness_before_the_first_event,
    a_new_stream_is_not_writable_for_try_write_before_the_first_event,
);

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    match res {
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        Ok(v) => panic!("expected WouldBlock, got Ok({v:?})"),
    }
}

/// A TCP stream accepted with `std`, with `bytes` already queued to it, then wrapped: its
/// registration happens after the bytes arrived.
fn tcp_with_queued(bytes: &[u8]) -> (std::net::TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    peer.write_all(bytes).unwrap();
    (peer, TcpStream::from_std(accepted).unwrap())
}

fn queued_bytes_are_not_readiness_before_the_first_event(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (_peer, stream) = tcp_with_queued(b"ping");
        let mut buf = [0u8; 8];
        let mut cx = Context::from_waker(Waker::noop());
        assert!(would_block(stream.try_read(&mut buf)));
        assert!(stream.poll_read_ready(&mut cx).is_pending());
        let mut ready = pin!(stream.ready(Interest::READABLE));
        assert!(ready.as_mut().poll(&mut cx).is_pending());
        // The registration's event arrives at the next reactor turn.
        assert!(ready.await.unwrap().is_readable());
        assert_eq!(stream.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
    }));
}

fn a_read_of_a_new_stream_goes_to_the_kernel_and_counts_as_readiness(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (_peer, mut stream) = tcp_with_queued(b"ping");
        let mut cx = Context::from_waker(Waker::noop());
        let mut buf = [0u8; 4];
        {
            // No reactor turn in between: the read did not wait for the first event.
            let mut read = pin!(stream.read(&mut buf));
            assert!(matches!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(4))));
        }
        assert_eq!(&buf, b"ping");
        // A full read proves nothing about what is left, so readiness stays until the kernel
        // says `WouldBlock`, as in tokio after its wait.
        assert!(stream.poll_read_ready(&mut cx).is_ready());
        assert!(would_block(stream.try_read(&mut buf)));
        assert!(stream.poll_read_ready(&mut cx).is_pending());
    }));
}

fn a_queued_datagram_is_not_readiness_before_the_first_event(rt: &Runtime) {
    rt.block_on(within(10, async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .send_to(b"dgram", std_socket.local_addr().unwrap())
            .unwrap();
        let socket = UdpSocket::from_std(std_socket).unwrap();
        let mut buf = [0u8; 16];
        assert!(would_block(socket.try_recv_from(&mut buf)));
        socket.readable().await.unwrap();
        let (n, from) = socket.try_recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"dgram"[..], sender.local_addr().unwrap())
        );
    }));
}

fn a_new_stream_is_not_writable_for_try_write_before_the_first_event(rt: &Runtime) {
    rt.block_on(within(10, async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(would_block(a.try_write(b"x")));
        assert!(a.poll_write_ready(&mut cx).is_pending());
        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"x").unwrap(), 1);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut [0u8; 4]).unwrap(), 1);
    }));
}
