//! The async layer over an in-memory duplex pipe: handshake, echo, large and compressed
//! messages, subprotocols, close handshake, split halves, the Stream impl.

mod util;

use futures_core::Stream;
use sonic_ws::{
    accept, accept_with, client, client_with, ClientConfig, CloseCode, CloseFrame, Config,
    Decision, DeflateConfig, Error, HandshakeError, Message, MessageRef,
};
use std::future::poll_fn;
use std::pin::Pin;
use util::pipe::{duplex, run2, PipeEnd};

/// Echoes data messages until the peer closes; returns what it saw last.
async fn echo_server(io: PipeEnd, config: Config) -> Result<Option<CloseFrame>, Error> {
    let mut ws = accept_with(io, config, |_| Decision::accept()).await?;
    loop {
        match ws.recv().await? {
            Message::Close(c) => return Ok(c),
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            _ => {}
        }
    }
}

/// The same with `recv_ref` + `echo` (large messages go back from the receive buffer).
async fn echo_server_in_place(io: PipeEnd, config: Config) -> Result<Option<CloseFrame>, Error> {
    let mut ws = accept_with(io, config, |_| Decision::accept()).await?;
    loop {
        match ws.recv_ref().await? {
            MessageRef::Close(c) => {
                return Ok(c.map(|(code, reason)| CloseFrame {
                    code,
                    reason: reason.to_owned(),
                }))
            }
            MessageRef::Text(_) | MessageRef::Binary(_) => ws.echo().await?,
            _ => {}
        }
    }
}

fn payloads() -> Vec<Message> {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    vec![
        Message::text("hello"),
        Message::binary(vec![]),
        Message::binary(vec![1, 2, 3]),
        Message::text("κόσμε".repeat(3000)),
        Message::Binary(big.clone()),
        Message::text("x".repeat(70_000)),
    ]
}

fn echo_round_trip(server_cfg: Config, client_cfg: ClientConfig) {
    for in_place in [false, true] {
        echo_round_trip_with(server_cfg.clone(), client_cfg.clone(), in_place);
    }
}

fn echo_round_trip_with(server_cfg: Config, client_cfg: ClientConfig, in_place: bool) {
    let (a, b) = duplex(64 << 10);
    let msgs = payloads();
    let expect = msgs.clone();
    let server = async move {
        if in_place {
            echo_server_in_place(a, server_cfg).await
        } else {
            echo_server(a, server_cfg).await
        }
    };
    let (srv, cli) = run2(server, async move {
        let (mut ws, _) = client_with(b, "ws://localhost/echo", client_cfg).await?;
        for m in msgs {
            // Alternate owned and borrowed sends.
            match &m {
                Message::Binary(b) if b.len() % 2 == 0 => ws.send_binary(b).await?,
                Message::Text(t) if t.len() % 2 == 0 => ws.send_text(t).await?,
                _ => ws.send(m.clone()).await?,
            }
            let got = ws.recv().await?;
            assert_eq!(got, m);
        }
        ws.close(CloseCode(4001), "done").await?;
        Ok::<_, Error>(())
    });
    cli.unwrap();
    let close = srv.unwrap().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str()),
        (CloseCode(4001), "done")
    );
    let _ = expect;
}

#[test]
fn echo_plain() {
    echo_round_trip(Config::default(), ClientConfig::default());
}

#[test]
fn echo_compressed() {
    let d = DeflateConfig::default();
    echo_round_trip(
        Config::default().deflate(d.clone()),
        ClientConfig {
            config: Config::default().deflate(d),
            ..Default::default()
        },
    );
}

#[test]
fn echo_compressed_no_context_takeover_small_windows() {
    let d = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 9,
        client_max_window_bits: 9,
        ..DeflateConfig::default()
    };
    echo_round_trip(
        Config::default().deflate(DeflateConfig::default()),
        ClientConfig {
            config: Config::default().deflate(d),
            ..Default::default()
        },
    );
}

#[test]
fn server_declines_deflate_when_not_configured() {
    let (a, b) = duplex(4096);
    let (s, c) = run2(accept(a), async move {
        let cfg = ClientConfig {
            config: Config::default().deflate(DeflateConfig::default()),
            ..Default::default()
        };
        client_with(b, "ws://h/", cfg).await
    });
    let s = s.unwrap();
    let (c, resp) = c.unwrap();
    assert!(resp.deflate.is_none());
    assert!(!c.compresses(1000) && !s.compresses(1000));
}

#[test]
fn subprotocol_hook_picks_and_rejects() {
    let (a, b) = duplex(4096);
    let (s, c) = run2(
        accept_with(a, Config::default(), |req| {
            assert_eq!(req.path, "/chat?room=1");
            Decision::pick_protocol(req, &["b", "c"])
        }),
        async move {
            let cfg = ClientConfig {
                protocols: vec!["a".into(), "b".into()],
                headers: vec![("Origin".into(), "http://test".into())],
                ..Default::default()
            };
            client_with(b, "ws://h:1/chat?room=1", cfg).await
        },
    );
    assert_eq!(s.unwrap().protocol(), Some("b"));
    assert_eq!(c.unwrap().0.protocol(), Some("b"));

    let (a, b) = duplex(4096);
    let (s, c) = run2(
        accept_with(a, Config::default(), |req| {
            assert_eq!(req.header("origin"), None);
            Decision::Reject {
                status: 403,
                body: "no".into(),
            }
        }),
        client(b, "ws://h/"),
    );
    assert!(matches!(
        s,
        Err(Error::Handshake(HandshakeError::Rejected(403)))
    ));
    assert!(matches!(
        c,
        Err(Error::Handshake(HandshakeError::Status(403)))
    ));
}

#[test]
fn ping_is_answered_and_returned() {
    let (a, b) = duplex(4096);
    let (s, c) = run2(
        async move {
            let mut ws = accept(a).await?;
            ws.ping(b"are you there").await?;
            let m = ws.recv().await?;
            assert_eq!(m, Message::Pong(b"are you there".to_vec()));
            let m = ws.recv().await?;
            assert_eq!(m, Message::Close(None));
            Ok::<_, Error>(())
        },
        async move {
            let mut ws = client(b, "ws://h/").await?;
            assert_eq!(ws.recv().await?, Message::Ping(b"are you there".to_vec()));
            ws.send(Message::Close(None)).await?;
            // After our Close, the server's echo arrives and ends the stream.
            assert_eq!(ws.recv().await?, Message::Close(None));
            assert!(matches!(ws.recv().await, Err(Error::Closed)));
            Ok::<_, Error>(())
        },
    );
    s.unwrap();
    c.unwrap();
}

#[test]
fn recv_ref_is_zero_copy_view() {
    let (a, b) = duplex(1 << 20);
    let (s, c) = run2(
        async move {
            let mut ws = accept(a).await?;
            for i in 0..100u32 {
                match ws.recv_ref().await? {
                    MessageRef::Text(t) => assert_eq!(t, format!("msg {i}")),
                    other => panic!("{other:?}"),
                }
            }
            assert!(matches!(
                ws.recv_ref().await?,
                MessageRef::Close(Some((CloseCode::NORMAL, "")))
            ));
            Ok::<_, Error>(())
        },
        async move {
            let mut ws = client(b, "ws://h/").await?;
            for i in 0..100u32 {
                ws.feed(sonic_ws::OpCode::Text, format!("msg {i}").as_bytes())
                    .await?;
            }
            ws.flush().await?;
            ws.close(CloseCode::NORMAL, "").await
        },
    );
    s.unwrap();
    c.unwrap();
}

#[test]
fn stream_yields_all_then_ends() {
    let (a, b) = duplex(4096);
    let (s, c) = run2(
        async move {
            let mut ws = accept(a).await.unwrap();
            let mut got = Vec::new();
            while let Some(m) = poll_fn(|cx| Pin::new(&mut ws).poll_next(cx)).await {
                got.push(m.unwrap());
            }
            got
        },
        async move {
            let mut ws = client(b, "ws://h/").await?;
            ws.send_text("a").await?;
            ws.send_binary(b"b").await?;
            ws.close(CloseCode::GOING_AWAY, "bye").await
        },
    );
    c.unwrap();
    assert_eq!(
        s,
        vec![
            Message::text("a"),
            Message::binary(b"b".to_vec()),
            Message::Close(Some(CloseFrame {
                code: CloseCode::GOING_AWAY,
                reason: "bye".into()
            })),
        ]
    );
}

#[test]
fn split_halves_work_from_two_tasks() {
    let (a, b) = duplex(8192);
    let (srv, cli) = run2(echo_server(a, Config::default()), async move {
        let ws = client(b, "ws://h/").await?;
        let (mut tx, mut rx) = ws.split();
        let n = 200usize;
        let sender = async move {
            for i in 0..n {
                let m = if i % 2 == 0 {
                    Message::text(format!("m{i}"))
                } else {
                    Message::Binary(vec![i as u8; 20_000 + i])
                };
                tx.send(m).await?;
            }
            tx.close(CloseCode::NORMAL, "").await?;
            Ok::<_, Error>(())
        };
        let receiver = async move {
            let mut count = 0;
            loop {
                match rx.recv().await? {
                    Message::Close(_) => return Ok::<_, Error>(count),
                    Message::Text(t) => assert_eq!(t, format!("m{count}")),
                    Message::Binary(b) => assert_eq!(b.len(), 20_000 + count),
                    _ => {}
                }
                count += 1;
            }
        };
        let (s, r) = futures_join(sender, receiver).await;
        s?;
        assert_eq!(r?, n);
        Ok::<_, Error>(())
    });
    cli.unwrap();
    srv.unwrap();
}

/// Joins two futures inside one task.
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

#[test]
fn echo_answers_a_burst_and_works_for_a_client() {
    let (a, b) = duplex(16 << 10);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    let sent = big.clone();
    let (s, c) = run2(
        async move {
            // Server: echoes a burst of small messages, then has the client echo ours.
            let mut ws = accept(a).await?;
            for _ in 0..200 {
                assert!(matches!(ws.recv_ref().await?, MessageRef::Text(_)));
                ws.echo().await?;
            }
            ws.send_binary(&sent).await?;
            assert_eq!(ws.recv().await?, Message::Binary(sent));
            ws.close(CloseCode::NORMAL, "").await
        },
        async move {
            let mut ws = client(b, "ws://h/").await?;
            for i in 0..200u32 {
                ws.feed(sonic_ws::OpCode::Text, format!("msg {i}").as_bytes())
                    .await?;
            }
            ws.flush().await?;
            for i in 0..200u32 {
                assert_eq!(ws.recv().await?, Message::Text(format!("msg {i}")));
            }
            // recv took the last message: nothing left to echo.
            assert!(matches!(ws.echo().await, Err(Error::InvalidInput(_))));
            let MessageRef::Binary(got) = ws.recv_ref().await? else {
                panic!("expected the binary message")
            };
            assert_eq!(got, &big[..]);
            ws.echo().await?; // a client masks its echo
            assert!(matches!(
                ws.recv_ref().await?,
                MessageRef::Close(Some((CloseCode::NORMAL, "")))
            ));
            Ok::<_, Error>(())
        },
    );
    s.unwrap();
    c.unwrap();
}
