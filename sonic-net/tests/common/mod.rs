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
