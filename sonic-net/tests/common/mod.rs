//! Shared test helpers: run each test on both loop modes (busy-poll on and off), loopback
//! helpers.
#![allow(dead_code)]

use std::path::PathBuf;

#[allow(unused_imports)]
pub use sonic_test_support::rt;

/// A fresh, empty directory for socket files, unique per process, test thread (so per test and
/// mode) and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("main").replace("::", "-");
    let dir = std::env::temp_dir().join(format!("sonic-net-{}-{test}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Fails the test instead of hanging when `fut` does not finish within `secs` seconds.
pub async fn within<F: std::future::Future>(secs: u64, fut: F) -> F::Output {
    sonic_rt::time::timeout(std::time::Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("test step did not finish within {secs} s"))
}

/// A connected TCP pair on loopback, `TCP_NODELAY` on both ends: (client, server).
pub async fn tcp_pair() -> (sonic_net::TcpStream, sonic_net::TcpStream) {
    let listener = sonic_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = sonic_net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    (client, server)
}

/// `SO_BINDTODEVICE` to the loopback interface round-trips through the getter and comes off
/// again; before Linux 5.7 binding needs `CAP_NET_RAW`, so `PermissionDenied` is accepted.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn check_bind_device(
    bind: impl Fn(Option<&[u8]>) -> std::io::Result<()>,
    device: impl Fn() -> std::io::Result<Option<Vec<u8>>>,
) {
    match bind(Some(b"lo")) {
        Ok(()) => {
            assert_eq!(device().unwrap().as_deref(), Some(&b"lo"[..]));
            bind(None).unwrap();
            assert_eq!(device().unwrap(), None);
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
    }
}
