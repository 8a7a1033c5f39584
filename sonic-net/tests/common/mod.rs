//! Shared test helpers: run each test on both loop modes (busy-poll on and off), loopback
//! helpers.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn rt(busy_poll: bool) -> sonic_rt::Runtime {
    sonic_rt::Builder::new()
        .busy_poll(busy_poll)
        .build()
        .expect("runtime")
}

/// Generates, for each named `fn NAME(rt: &Runtime)`, a module with one test per loop mode.
/// Attributes before a name apply to both tests.
#[macro_export]
macro_rules! each_mode {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                $(#[$attr])*
                fn busy_poll() {
                    super::$name(&super::common::rt(true));
                }
                #[test]
                $(#[$attr])*
                fn parked() {
                    super::$name(&super::common::rt(false));
                }
            }
        )*
    };
}

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
