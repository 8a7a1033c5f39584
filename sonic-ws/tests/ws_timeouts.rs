//! Timeouts and keepalive with the default timer (sonic-rt's, feature `net`), on sonic-rt's
//! paused clock: the runtime jumps to the next timer when every task waits, so a 10 s timeout
//! takes no real time and the tests are deterministic. Every test runs in both loop modes.

mod util;

use sonic_rt::time::{self, Instant};
use sonic_ws::{Config, Error, HandshakeError};
use std::time::Duration;
use util::pipe::{duplex, read_to_end, write_all};

/// Far longer than any timeout under test: reaching it means nothing timed out.
const NEVER: Duration = Duration::from_secs(3600);

fn plain_accept_times_out_a_slowloris_peer(rt: &sonic_rt::Runtime) {
    // Issue 13, defect 2: the default config has a timer with `net`.
    rt.block_on(async {
        time::pause();
        let (a, mut b) = duplex(4096);
        let start = Instant::now();
        let server = sonic_rt::spawn(async move { sonic_ws::accept(a).await.map(|_| ()) });
        write_all(&mut b, b"GET / HTTP/1.1\r\nHost: h\r\n")
            .await
            .unwrap();
        let r = time::timeout(NEVER, server)
            .await
            .expect("accept never gave up")
            .unwrap();
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        let waited = start.elapsed();
        let limit = Config::default().handshake_timeout;
        assert!(waited >= limit && waited < limit * 2, "{waited:?}");
        drop(b);
    });
}

fn plain_client_times_out_a_silent_server(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let (a, mut b) = duplex(4096);
        let client =
            sonic_rt::spawn(async move { sonic_ws::client(a, "ws://h/").await.map(|_| ()) });
        let peer = sonic_rt::spawn(async move { read_to_end(&mut b).await });
        let r = time::timeout(NEVER, client)
            .await
            .expect("client never gave up")
            .unwrap();
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        // The client dropped its end: the silent server sees EOF.
        peer.await.unwrap();
    });
}

fn wss_url_error_names_client_tls(rt: &sonic_rt::Runtime) {
    // Issue 13, defect 5.
    rt.block_on(async {
        match sonic_ws::connect("wss://localhost:1/").await {
            Err(Error::Handshake(HandshakeError::BadUrl(why))) => {
                assert!(why.contains("tls::client_tls"), "{why}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    });
}

sonic_test_support::each_mode!(
    plain_accept_times_out_a_slowloris_peer,
    plain_client_times_out_a_silent_server,
    wss_url_error_names_client_tls,
);
