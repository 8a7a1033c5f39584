//! Unix sockets in Linux's abstract namespace: a path with a leading NUL byte (tokio's reading)
//! and `std`'s `SocketAddrExt::from_abstract_name` addresses, for bind and connect of listeners,
//! streams and datagram sockets, and the addresses they report. Both loop modes.
#![cfg(any(target_os = "linux", target_os = "android"))]

mod common;

use sonic_test_support::each_mode;

use common::within;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{UnixDatagram, UnixListener, UnixStream};
use sonic_rt::Runtime;
use std::ffi::OsStr;
use std::io;
#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;

each_mode!(
    stream_bind_and_connect_by_leading_nul_path,
    stream_bind_and_connect_by_abstract_socket_addr,
    abstract_name_is_free_again_once_the_listener_is_gone,
    abstract_names_may_hold_any_bytes,
    connecting_to_an_unbound_abstract_name_is_refused,
    datagram_bind_connect_and_send_to_abstract_names,
);

/// An abstract name unique to this process, test and mode (the namespace is shared by the host's
/// network namespace, so names from parallel tests must not collide).
fn unique_name(tag: &str) -> String {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("main").replace("::", "-");
    format!("sonic-net-{}-{test}-{tag}", std::process::id())
}

/// The path form of an abstract name: a NUL byte, then the name.
fn nul_path(name: &str) -> PathBuf {
    PathBuf::from(format!("\0{name}"))
}

fn stream_bind_and_connect_by_leading_nul_path(rt: &Runtime) {
    let name = unique_name("nul");
    rt.block_on(within(10, async {
        let listener = UnixListener::bind(nul_path(&name)).unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
        assert_eq!(local.as_pathname(), None);

        let mut client = UnixStream::connect(nul_path(&name)).await.unwrap();
        let peer = client.peer_addr().unwrap();
        assert_eq!(peer.as_abstract_name(), Some(name.as_bytes()));
        let (mut conn, from) = listener.accept().await.unwrap();
        assert!(from.is_unnamed());
        let conn_local = conn.local_addr().unwrap();
        assert_eq!(conn_local.as_abstract_name(), Some(name.as_bytes()));

        client.write_all(b"abstract").await.unwrap();
        let mut buf = [0u8; 8];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");
    }));
}

fn stream_bind_and_connect_by_abstract_socket_addr(rt: &Runtime) {
    let name = unique_name("addr");
    rt.block_on(within(10, async {
        let addr = SocketAddr::from_abstract_name(&name).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_abstract_name(),
            Some(name.as_bytes())
        );
        // Either form reaches the same socket.
        let by_addr = UnixStream::connect_addr(&addr).await.unwrap();
        let by_path = UnixStream::connect(nul_path(&name)).await.unwrap();
        for client in [&by_addr, &by_path] {
            let peer = client.peer_addr().unwrap();
            assert_eq!(peer.as_abstract_name(), Some(name.as_bytes()));
        }
        let (mut a, _) = listener.accept().await.unwrap();
        let (_b, _) = listener.accept().await.unwrap();
        (&by_addr).write_all(b"first").await.unwrap();
        let mut buf = [0u8; 5];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"first");
    }));
}

fn abstract_name_is_free_again_once_the_listener_is_gone(rt: &Runtime) {
    let name = unique_name("reuse");
    rt.block_on(within(10, async {
        let listener = UnixListener::bind(nul_path(&name)).unwrap();
        let err = UnixListener::bind(nul_path(&name)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        drop(listener);
        // No file is left behind: the name can be bound again at once.
        let again = UnixListener::bind(nul_path(&name)).unwrap();
        let _client = UnixStream::connect(nul_path(&name)).await.unwrap();
        again.accept().await.unwrap();
    }));
}

fn abstract_names_may_hold_any_bytes(rt: &Runtime) {
    let mut name = unique_name("bytes").into_bytes();
    name.extend_from_slice(b"\0with\xffnul");
    let mut path = vec![0u8];
    path.extend_from_slice(&name);
    let path = PathBuf::from(OsStr::from_bytes(&path));
    rt.block_on(within(10, async {
        let listener = UnixListener::bind(&path).unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(local.as_abstract_name(), Some(&name[..]));
        let client = UnixStream::connect(&path).await.unwrap();
        let peer = client.peer_addr().unwrap();
        assert_eq!(peer.as_abstract_name(), Some(&name[..]));
        listener.accept().await.unwrap();
    }));
}

fn connecting_to_an_unbound_abstract_name_is_refused(rt: &Runtime) {
    let name = unique_name("nobody");
    rt.block_on(within(10, async {
        let err = UnixStream::connect(nul_path(&name)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        let addr = SocketAddr::from_abstract_name(&name).unwrap();
        let err = UnixStream::connect_addr(&addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    }));
}

fn datagram_bind_connect_and_send_to_abstract_names(rt: &Runtime) {
    let (a_name, b_name) = (unique_name("dga"), unique_name("dgb"));
    rt.block_on(within(10, async {
        let a = UnixDatagram::bind(nul_path(&a_name)).unwrap();
        let b_addr = SocketAddr::from_abstract_name(&b_name).unwrap();
        let b = UnixDatagram::bind_addr(&b_addr).unwrap();
        let a_local = a.local_addr().unwrap();
        assert_eq!(a_local.as_abstract_name(), Some(a_name.as_bytes()));
        let b_local = b.local_addr().unwrap();
        assert_eq!(b_local.as_abstract_name(), Some(b_name.as_bytes()));

        let mut buf = [0u8; 16];
        a.send_to(b"by path", nul_path(&b_name)).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"by path");
        assert_eq!(from.as_abstract_name(), Some(a_name.as_bytes()));
        a.send_to_addr(b"by addr", &b_addr).await.unwrap();
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"by addr");

        b.connect(nul_path(&a_name)).unwrap();
        let b_peer = b.peer_addr().unwrap();
        assert_eq!(b_peer.as_abstract_name(), Some(a_name.as_bytes()));
        b.send(b"reply").await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
        assert_eq!(from.as_abstract_name(), Some(b_name.as_bytes()));

        // The address a socket reports can be connected to as it is.
        let c = UnixDatagram::unbound().unwrap();
        c.connect_addr(&a_local).unwrap();
        c.send(b"connected").await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        assert!(from.is_unnamed());
    }));
}
