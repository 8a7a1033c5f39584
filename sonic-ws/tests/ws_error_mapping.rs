//! The boundary between the sans-I/O core and the async layer: every error the core's
//! `Connection` reports (`ConnectionError`) reaches the async API's caller as the
//! `sonic_ws::Error` variant of the same name with the same payload, and the async layer's own
//! handling of them (a second `close` is `Ok`, `InvalidInput` leaves the connection open) is
//! unchanged. Each case is checked against what a bare core `Connection` says for the same call
//! in the same state. Every test runs in both loop modes.

mod util;

use sonic_ws::proto::conn::Connection;
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::Reader;
use sonic_ws::{
    accept_with, CloseCode, Config, ConnectionError, Decision, Error, Limits, Message,
    ProtocolError, Role, WebSocket,
};
use util::cframe;
use util::pipe::{duplex, write_all, PipeEnd};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server over a pipe whose other end is a raw peer; the 101 response is already read.
async fn server_with_raw_peer() -> (WebSocket<PipeEnd>, PipeEnd) {
    let (a, mut b) = duplex(64 << 10);
    write_all(&mut b, REQUEST).await.unwrap();
    let ws = accept_with(a, Config::default(), |_| Decision::accept())
        .await
        .unwrap();
    assert!(b.try_read_all().starts_with(b"HTTP/1.1 101"));
    (ws, b)
}

/// A bare core connection in the server's state.
fn core() -> Connection {
    Connection::new(Role::Server, Limits::default(), None)
}

/// The async API's error for what the core reported: the variant of the same name, same
/// payload. Panics if the core did not fail.
fn expected<T: std::fmt::Debug>(core: Result<T, ConnectionError>) -> ConnectionError {
    core.expect_err("the core accepted the call")
}

/// Whether `got` (async API) is `want` (core) under the same name, with the same payload.
fn same(got: &Error, want: ConnectionError) -> bool {
    match (got, want) {
        (Error::Protocol(a), ConnectionError::Protocol(b)) => *a == b,
        (Error::Closed, ConnectionError::Closed) => true,
        (Error::InvalidInput(a), ConnectionError::InvalidInput(b)) => *a == b,
        _ => false,
    }
}

/// The frames the server sent, decoded as a client sees them.
fn frames(bytes: &[u8]) -> Vec<Message> {
    let mut r = Reader::new(Role::Client, Limits::default());
    r.feed(bytes);
    let mut out = Vec::new();
    while let Ok(Some(_)) = r.advance() {
        out.push(r.take().unwrap());
    }
    out
}

fn invalid_input_from_the_core_is_invalid_input_through_the_async_api(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        let (mut ws, peer) = server_with_raw_peer().await;
        let long_reason = "x".repeat(124);
        let cases: Vec<(&str, Result<(), Error>, ConnectionError)> = vec![
            (
                "feed(Close)",
                ws.feed(OpCode::Close, b"").await,
                expected(core().send(OpCode::Close, b"")),
            ),
            (
                "feed(Continuation)",
                ws.feed(OpCode::Continuation, b"x").await,
                expected(core().send(OpCode::Continuation, b"x")),
            ),
            (
                "ping(126 bytes)",
                ws.ping(&[0; 126]).await,
                expected(core().send(OpCode::Ping, &[0; 126])),
            ),
            (
                "send_frame(unfinished Ping)",
                ws.send_frame(OpCode::Ping, false, b"").await,
                expected(core().send_frame(OpCode::Ping, false, b"")),
            ),
            (
                "echo with nothing received",
                ws.echo().await,
                expected(core().echo(0, |_, _| 0)),
            ),
            (
                "close(1005)",
                ws.close(CloseCode(1005), "").await,
                expected(core().close(CloseCode(1005), "")),
            ),
            (
                "close(reason of 124 bytes)",
                ws.close(CloseCode::NORMAL, &long_reason).await,
                expected(core().close(CloseCode::NORMAL, &long_reason)),
            ),
        ];
        for (what, got, want) in cases {
            assert!(matches!(want, ConnectionError::InvalidInput(_)), "{what}");
            let got = got.expect_err(what);
            assert!(same(&got, want), "{what}: {got:?}, core said {want:?}");
        }
        // InvalidInput refuses the call only: nothing was sent and the connection is open.
        ws.send_text("still open").await.unwrap();
        assert_eq!(
            frames(&peer.try_read_all()),
            vec![Message::text("still open")]
        );
    });
}

fn closed_from_the_core_is_closed_through_the_async_api(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        let (mut ws, mut peer) = server_with_raw_peer().await;
        // The peer answers our Close before we even send it; the handshake completes.
        write_all(
            &mut peer,
            &cframe(OpCode::Close, true, &1000u16.to_be_bytes()),
        )
        .await
        .unwrap();
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        // The core in the same state: Close sent and answered.
        let mut c = core();
        c.close(CloseCode::NORMAL, "bye").unwrap();
        c.feed(&cframe(OpCode::Close, true, &1000u16.to_be_bytes()));
        assert!(c.advance().unwrap().is_some());
        let cases: Vec<(&str, Result<(), Error>, ConnectionError)> = vec![
            (
                "send_text",
                ws.send_text("late").await,
                expected(c.send(OpCode::Text, b"late")),
            ),
            (
                "feed",
                ws.feed(OpCode::Binary, b"late").await,
                expected(c.send(OpCode::Binary, b"late")),
            ),
            (
                "ping",
                ws.ping(b"").await,
                expected(c.send(OpCode::Ping, b"")),
            ),
            (
                "send_frame",
                ws.send_frame(OpCode::Text, true, b"late").await,
                expected(c.send_frame(OpCode::Text, true, b"late")),
            ),
            ("echo", ws.echo().await, expected(c.echo(0, |_, _| 0))),
        ];
        for (what, got, want) in cases {
            assert_eq!(want, ConnectionError::Closed, "{what}");
            let got = got.expect_err(what);
            assert!(same(&got, want), "{what}: {got:?}, core said {want:?}");
        }
        // The core refuses a second Close with Closed; the async API's close is still Ok.
        assert_eq!(c.close(CloseCode::NORMAL, ""), Err(ConnectionError::Closed));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(matches!(ws.recv().await, Err(Error::Closed)));
    });
}

fn protocol_error_from_the_core_is_protocol_through_the_async_api(rt: &sonic_rt::Runtime) {
    rt.block_on(async {
        let (mut ws, mut peer) = server_with_raw_peer().await;
        let bad = [0x83, 0x80, 0, 0, 0, 0]; // FIN, reserved opcode 3, masked, empty
        write_all(&mut peer, &bad).await.unwrap();
        let mut c = core();
        c.feed(&bad);
        let want = expected(c.advance());
        assert_eq!(
            want,
            ConnectionError::Protocol(ProtocolError::ReservedOpcode(3))
        );
        let got = ws.recv().await.unwrap_err();
        assert!(same(&got, want), "{got:?}, core said {want:?}");
        // The failed connection sent its Close 1002, and refuses sends as the core does.
        assert_eq!(
            frames(&peer.try_read_all())
                .iter()
                .map(|m| match m {
                    Message::Close(Some(f)) => f.code.0,
                    _ => 0,
                })
                .collect::<Vec<_>>(),
            vec![1002]
        );
        let want = expected(c.send(OpCode::Text, b"x"));
        let got = ws.send_text("x").await.unwrap_err();
        assert!(same(&got, want), "{got:?}, core said {want:?}");
        assert!(matches!(ws.recv().await, Err(Error::Closed)));
    });
}

sonic_test_support::each_mode!(
    invalid_input_from_the_core_is_invalid_input_through_the_async_api,
    closed_from_the_core_is_closed_through_the_async_api,
    protocol_error_from_the_core_is_protocol_through_the_async_api,
);
