//! Timeouts and keepalive with the default timer (sonic-rt's, feature `net`), on sonic-rt's
//! paused clock: the runtime jumps to the next timer when every task waits, so a 10 s timeout
//! takes no real time and the tests are deterministic. Every test runs in both loop modes.

mod util;

use sonic_rt::time::{self, Instant};
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::Reader;
use sonic_ws::{accept_with, client, Config, Decision, Error, Limits, Message, Role, WebSocket};
use std::time::Duration;
use util::pipe::{duplex, read_to_end, write_all, PipeEnd};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server over a pipe whose other end is a raw peer that has sent its request; returns the
/// server and the peer with the 101 response already read.
async fn server_with_raw_peer(cfg: Config, cap: usize) -> (WebSocket<PipeEnd>, PipeEnd) {
    let (a, mut b) = duplex(cap);
    write_all(&mut b, REQUEST).await.unwrap();
    let ws = accept_with(a, cfg, |_| Decision::accept()).await.unwrap();
    let head = b.try_read_all();
    assert!(head.starts_with(b"HTTP/1.1 101"));
    (ws, b)
}

/// The frames a server sent, decoded as a client sees them.
fn frames(bytes: &[u8]) -> Vec<Message> {
    let mut r = Reader::new(Role::Client, Limits::default());
    r.feed(bytes);
    let mut out = Vec::new();
    while let Ok(Some(_)) = r.advance() {
        out.push(r.take().unwrap());
    }
    out
}

fn close_code(m: &Message) -> Option<u16> {
    match m {
        Message::Close(c) => c.as_ref().map(|c| c.code.0),
        _ => None,
    }
}

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

#[cfg(not(feature = "tls"))]
fn wss_url_error_names_client_tls(rt: &sonic_rt::Runtime) {
    // Issue 13, defect 5.
    rt.block_on(async {
        match sonic_ws::connect("wss://localhost:1/").await {
            Err(Error::Handshake(sonic_ws::HandshakeError::BadUrl(why))) => {
                assert!(why.contains("tls::client_tls"), "{why}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    });
}

fn keepalive_pings_a_silent_peer_then_closes_1011(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let cfg = Config::default().keepalive(Duration::from_secs(10), Duration::from_secs(5));
        let (mut ws, b) = server_with_raw_peer(cfg, 1 << 16).await;
        let start = Instant::now();
        // The peer reads nothing back and answers nothing.
        let r = time::timeout(NEVER, ws.recv()).await.expect("no keepalive");
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(15) && waited < Duration::from_secs(16),
            "{waited:?}"
        );
        let sent = frames(&b.try_read_all());
        assert_eq!(sent[0], Message::Ping(Vec::new()), "{sent:?}");
        assert_eq!(close_code(&sent[1]), Some(1011), "{sent:?}");
        assert!(matches!(ws.recv().await, Err(Error::Closed)));
    });
}

fn keepalive_keeps_an_answering_peer(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let (a, b) = duplex(1 << 16);
        let cfg = Config::default().keepalive(Duration::from_secs(10), Duration::from_secs(5));
        let server = sonic_rt::spawn(async move {
            let mut ws = accept_with(a, cfg, |_| Decision::accept()).await.unwrap();
            // Nothing but pongs arrives for 100 s: the connection stays up.
            let r = time::timeout(Duration::from_secs(100), ws.recv_data()).await;
            assert!(r.is_err(), "{r:?}");
            ws
        });
        let peer = sonic_rt::spawn(async move {
            let mut ws = client(b, "ws://h/").await.unwrap();
            let mut pings = 0;
            // Auto-pong answers each ping while we read.
            while let Ok(Message::Ping(_)) = ws.recv().await {
                pings += 1;
            }
            pings
        });
        let ws = server.await.unwrap();
        drop(ws);
        let pings = peer.await.unwrap();
        assert!((9..=10).contains(&pings), "{pings} pings in 100 s");
    });
}

fn read_timeout_fails_a_silent_peer(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let cfg = Config::default().read_timeout(Duration::from_secs(30));
        let (mut ws, mut b) = server_with_raw_peer(cfg, 1 << 16).await;
        let start = Instant::now();
        // One message 20 s in restarts the clock.
        let peer = sonic_rt::spawn(async move {
            time::sleep(Duration::from_secs(20)).await;
            let f = util::cframe(OpCode::Text, true, b"hi");
            write_all(&mut b, &f).await.unwrap();
            b
        });
        assert_eq!(ws.recv().await.unwrap(), Message::Text("hi".into()));
        let r = time::timeout(NEVER, ws.recv())
            .await
            .expect("no read timeout");
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(50) && waited < Duration::from_secs(51),
            "{waited:?}"
        );
        let b = peer.await.unwrap();
        let sent = frames(&b.try_read_all());
        assert_eq!(
            sent.iter().filter_map(close_code).collect::<Vec<_>>(),
            vec![1011]
        );
    });
}

fn send_timeout_fails_a_send_to_a_peer_that_stopped_reading(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let cfg = Config::default().send_timeout(Duration::from_secs(5));
        let (mut ws, b) = server_with_raw_peer(cfg, 4096).await;
        let start = Instant::now();
        let big = vec![7u8; 1 << 20];
        let r = time::timeout(NEVER, ws.send_binary(&big))
            .await
            .expect("send never gave up");
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
            "{waited:?}"
        );
        // The frame is half written: the connection refuses to go on rather than corrupt
        // the stream.
        assert!(ws.send_binary(b"more").await.is_err());
        drop((ws, b));
        // Same through the split sender, with a queued (copied) message.
        let cfg = Config::default().send_timeout(Duration::from_secs(5));
        let (ws, b) = server_with_raw_peer(cfg, 4096).await;
        let (mut tx, _rx) = ws.split();
        let start = Instant::now();
        let r = time::timeout(NEVER, tx.send_text(&"x".repeat(100_000)))
            .await
            .expect("send never gave up");
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(6));
        drop(b);
    });
}

fn send_timeout_spares_a_slow_peer_that_keeps_reading(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        time::pause();
        let cfg = Config::default().send_timeout(Duration::from_secs(5));
        let (mut ws, b) = server_with_raw_peer(cfg, 4096).await;
        // The peer drains the pipe every 3 s: 64 KiB take about a minute, never 5 s stalled.
        let peer = sonic_rt::spawn(async move {
            let mut got = 0;
            while got < (64 << 10) + 10 {
                time::sleep(Duration::from_secs(3)).await;
                got += b.try_read_all().len();
            }
            got
        });
        let start = Instant::now();
        ws.send_binary(&vec![1u8; 64 << 10]).await.unwrap();
        assert!(start.elapsed() > Duration::from_secs(30));
        assert_eq!(peer.await.unwrap(), (64 << 10) + 10);
    });
}

sonic_test_support::each_mode!(
    keepalive_pings_a_silent_peer_then_closes_1011,
    keepalive_keeps_an_answering_peer,
    read_timeout_fails_a_silent_peer,
    send_timeout_fails_a_send_to_a_peer_that_stopped_reading,
    send_timeout_spares_a_slow_peer_that_keeps_reading,
);

sonic_test_support::each_mode!(
    plain_accept_times_out_a_slowloris_peer,
    plain_client_times_out_a_silent_server,
);

#[cfg(not(feature = "tls"))]
sonic_test_support::each_mode!(wss_url_error_names_client_tls);
