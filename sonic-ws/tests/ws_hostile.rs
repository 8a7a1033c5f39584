//! Hostile peers: each case ends with a clear error or close code and bounded memory,
//! never a panic or a hang.

mod util;

use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::Reader;
use sonic_ws::{
    accept, accept_with, client_with, ClientConfig, CloseCode, Config, Decision, Error,
    HandshakeError, Limits, Message, ProtocolError, Role,
};
use std::io;
use std::rc::Rc;
use std::time::Duration;
use util::cframe;
use util::pipe::{duplex, poll_until_stall, read_to_end, run, run2, sleep, write_all};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn timed() -> Config {
    Config {
        handshake_timeout: Duration::from_millis(100),
        close_timeout: Duration::from_millis(100),
        ..Config::default()
    }
    .timer(Rc::new(sleep))
}

/// Close frames found in bytes sent by a server (after its 101 response head).
fn server_close_codes(bytes: &[u8]) -> Vec<u16> {
    let start = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |p| p + 4);
    let mut r = Reader::new(Role::Client, Limits::default());
    r.feed(&bytes[start..]);
    let mut codes = Vec::new();
    while let Ok(Some(_)) = r.advance() {
        if let Some(Message::Close(c)) = r.take() {
            codes.push(c.map_or(1005, |c| c.code.0));
        }
    }
    codes
}

/// A raw client sends `frames` after a valid handshake; returns the server's first error and
/// the close codes it sent.
fn raw_client(frames: Vec<u8>) -> (Error, Vec<u16>) {
    let (a, mut b) = duplex(1 << 20);
    let (err, sent) = run2(
        async move {
            let mut ws = accept(a).await.unwrap();
            loop {
                match ws.recv().await {
                    Ok(_) => continue,
                    Err(e) => return e,
                }
            }
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            write_all(&mut b, &frames).await.unwrap();
            let out = read_to_end(&mut b).await;
            out
        },
    );
    (err, server_close_codes(&sent))
}

#[test]
fn length_2_pow_63_closes_1002() {
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&(1u64 << 63).to_be_bytes());
    f.extend_from_slice(&[0; 4]);
    let (e, codes) = raw_client(f);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::LengthOverflow)),
        "{e}"
    );
    assert_eq!(codes, vec![1002]);
}

#[test]
fn huge_but_legal_length_closes_1009_without_allocating() {
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&((1u64 << 62) + 5).to_be_bytes());
    f.extend_from_slice(&[0; 4]);
    let (e, codes) = raw_client(f);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::FrameTooLarge)),
        "{e}"
    );
    assert_eq!(codes, vec![1009]);
}

#[test]
fn truncated_header_with_huge_length_closes_1009_before_the_mask_key() {
    // Issue 13, defect 1: the first 10 bytes of a masked header announcing 2^63-1 bytes, and
    // never the key. The length is refused as soon as it is in; no timer is configured, so
    // before the fix the server waited forever (`run2` panics on the stall).
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    let (e, codes) = raw_client(f);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::FrameTooLarge)),
        "{e}"
    );
    assert_eq!(codes, vec![1009]);
}

#[test]
fn unmasked_client_frame_closes_1002() {
    let f = util::frame(OpCode::Text, true, b"hello", None);
    let (e, codes) = raw_client(f);
    assert!(
        matches!(e, Error::Protocol(ProtocolError::UnmaskedFrame)),
        "{e}"
    );
    assert_eq!(codes, vec![1002]);
}

#[test]
fn bad_utf8_closes_1007_and_close_echo_is_clean() {
    let (e, codes) = raw_client(cframe(OpCode::Text, true, &[0xFF]));
    assert!(matches!(e, Error::Protocol(ProtocolError::InvalidUtf8)));
    assert_eq!(codes, vec![1007]);
    let (e, codes) = raw_client(cframe(OpCode::Close, true, &1000u16.to_be_bytes()));
    assert!(matches!(e, Error::Closed), "{e}");
    assert_eq!(codes, vec![1000]);
}

#[test]
fn slowloris_handshake_times_out() {
    let (a, mut b) = duplex(4096);
    let (r, _) = run2(
        accept_with(a, timed(), |_| Decision::accept()),
        async move {
            write_all(&mut b, b"GET / HTTP/1.1\r\nHost: h\r\n")
                .await
                .unwrap();
            // Never finish; keep the connection open until the server gives up.
            read_to_end(&mut b).await
        },
    );
    assert!(matches!(r, Err(Error::Timeout)));
}

#[test]
fn oversized_handshake_gets_431() {
    let (a, mut b) = duplex(1 << 20);
    let (r, resp) = run2(accept(a), async move {
        let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        req.extend(b"X-Junk: ".iter().chain([b'a'; 20_000].iter()));
        let _ = write_all(&mut b, &req).await;
        read_to_end(&mut b).await
    });
    assert!(matches!(r, Err(Error::Handshake(HandshakeError::TooLarge))));
    assert!(resp.starts_with(b"HTTP/1.1 431"));
}

#[test]
fn garbage_handshake_gets_400() {
    let (a, mut b) = duplex(1 << 20);
    let (r, resp) = run2(accept(a), async move {
        write_all(&mut b, b"\x16\x03\x01garbage\r\n\r\n")
            .await
            .unwrap();
        read_to_end(&mut b).await
    });
    assert!(matches!(r, Err(Error::Handshake(_))));
    assert!(resp.starts_with(b"HTTP/1.1 400"));
}

#[test]
fn duplicate_host_gets_400() {
    // Issue 13, defect 4: two Host lines are answered with 400, not upgraded.
    let (a, mut b) = duplex(1 << 20);
    let (r, resp) = run2(accept(a), async move {
        let req = String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replace("Host: h\r\n", "Host: h\r\nHost: evil\r\n");
        write_all(&mut b, req.as_bytes()).await.unwrap();
        read_to_end(&mut b).await
    });
    assert!(
        matches!(
            r,
            Err(Error::Handshake(HandshakeError::DuplicateHeader("Host")))
        ),
        "{r:?}"
    );
    assert!(resp.starts_with(b"HTTP/1.1 400"));
}

#[test]
fn server_that_never_answers_the_handshake_times_out() {
    let (a, b) = duplex(4096);
    let cfg = ClientConfig {
        config: timed(),
        ..Default::default()
    };
    let (_, r) = run2(
        async move {
            let mut a = a;
            read_to_end(&mut a).await
        },
        client_with(b, "ws://h/", cfg),
    );
    assert!(matches!(r, Err(Error::Timeout)));
}

#[test]
fn close_times_out_when_peer_never_answers() {
    let (a, mut b) = duplex(1 << 16);
    let (r, _) = run2(
        async move {
            let mut ws = accept_with(a, timed(), |_| Decision::accept()).await?;
            ws.close(CloseCode::NORMAL, "").await
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            // Read the response and the Close, never answer, keep the stream open.
            read_to_end(&mut b).await
        },
    );
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
}

#[test]
fn reset_mid_frame_is_an_io_error() {
    let (a, mut b) = duplex(1 << 16);
    let (r, _) = run2(
        async move {
            let mut ws = accept(a).await?;
            ws.recv().await
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            let f = cframe(OpCode::Binary, true, &[1; 1000]);
            write_all(&mut b, &f[..500]).await.unwrap();
            b.reset();
            b
        },
    );
    match r {
        Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
}

#[test]
fn eof_mid_frame_is_an_io_error() {
    let (a, mut b) = duplex(1 << 16);
    let (r, _) = run2(
        async move {
            let mut ws = accept(a).await?;
            ws.recv().await
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            let f = cframe(OpCode::Binary, true, &[1; 1000]);
            write_all(&mut b, &f[..500]).await.unwrap();
            // Wait for the 101 response, then close our side (FIN, no Close frame).
            let mut buf = [0u8; 512];
            let _ = std::future::poll_fn(|cx| {
                futures_io::AsyncRead::poll_read(std::pin::Pin::new(&mut b), cx, &mut buf)
            })
            .await;
            let _ = std::future::poll_fn(|cx| {
                futures_io::AsyncWrite::poll_close(std::pin::Pin::new(&mut b), cx)
            })
            .await;
            b
        },
    );
    match r {
        Err(Error::Io(e)) => {
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
            assert!(e.to_string().contains("middle of a frame"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn peer_that_stops_reading_gets_backpressure_not_our_memory() {
    // The peer floods pings and never reads our pongs: the pipe to it fills, our pong queue
    // reaches write_buffer_size, then we stop reading, so the peer's writes block.
    let (a, mut b) = duplex(64 << 10);
    let cfg = Config {
        write_buffer_size: 128 << 10,
        ..Config::default()
    };
    let mut ws = run2(accept_with(a, cfg, |_| Decision::accept()), async {
        write_all(&mut b, REQUEST).await.unwrap();
    })
    .0
    .unwrap();
    let _ = b.try_read_all(); // the 101 response
    let ping = cframe(OpCode::Ping, true, &[7; 125]);
    let mut sent = 0usize;
    loop {
        // Peer writes as much as the pipe takes.
        let mut w = Box::pin(write_all(&mut b, &ping));
        let done = poll_until_stall(&mut w).is_some();
        drop(w);
        if done {
            sent += 1;
        }
        // Server runs until it stalls.
        let mut r = Box::pin(ws.recv());
        while let Some(m) = poll_until_stall(&mut r) {
            assert!(matches!(m, Ok(Message::Ping(_))));
            drop(r);
            r = Box::pin(ws.recv());
        }
        drop(r);
        if !done {
            break;
        }
        assert!(sent < 100_000, "server never pushed back");
    }
    let queued = ws.connection().queued();
    assert!(queued <= (128 << 10) + 200, "queued {queued}");
    assert!(ws.connection().reader().memory() < 256 << 10);
    assert!(
        b.unread_by_peer() > 0,
        "the peer's unread pings stay in its socket buffer"
    );
}

#[test]
fn too_many_fragments_and_big_messages_close_1009() {
    let (a, mut b) = duplex(1 << 20);
    let cfg = Config {
        limits: Limits {
            max_message_size: 10_000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let (r, sent) = run2(
        async move {
            let mut ws = accept_with(a, cfg, |_| Decision::accept()).await.unwrap();
            ws.recv().await
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            let mut f = cframe(OpCode::Binary, false, &[0; 6000]);
            f.extend(cframe(OpCode::Continuation, true, &[0; 6000]));
            write_all(&mut b, &f).await.unwrap();
            read_to_end(&mut b).await
        },
    );
    assert!(matches!(
        r,
        Err(Error::Protocol(ProtocolError::MessageTooLarge))
    ));
    assert_eq!(server_close_codes(&sent), vec![1009]);
}

#[test]
fn errors_do_not_panic_when_used_after_failure() {
    let (a, mut b) = duplex(1 << 16);
    let r = run2(
        async move {
            let mut ws = accept(a).await.unwrap();
            let first = ws.recv().await;
            let second = ws.recv().await;
            let send = ws.send_text("x").await;
            (first, second, send)
        },
        async move {
            write_all(&mut b, REQUEST).await.unwrap();
            write_all(&mut b, &[0x8F, 0x80, 0, 0, 0, 0]).await.unwrap();
            read_to_end(&mut b).await
        },
    )
    .0;
    assert!(matches!(
        r.0,
        Err(Error::Protocol(ProtocolError::ReservedOpcode(0xF)))
    ));
    assert!(matches!(r.1, Err(Error::Closed)));
    assert!(matches!(r.2, Err(Error::Closed)));
    run(async {});
}

#[test]
fn frames_sent_with_the_handshake_beyond_the_read_limit_do_not_hang() {
    // Regression: bytes that arrive in the same read as the handshake go in through `feed`;
    // with small limits 8 KiB of them used to spin `from_raw` forever.
    let limits = sonic_ws::Limits {
        max_frame_size: 1024,
        read_buffer_size: 512,
        ..sonic_ws::Limits::default()
    };
    let mut client = sonic_ws::proto::conn::Connection::new(
        sonic_ws::Role::Client,
        sonic_ws::Limits::default(),
        None,
    );
    for _ in 0..12 {
        client.send(sonic_ws::OpCode::Binary, &[9; 800]).unwrap();
    }
    let leftover = client.output().to_vec();
    assert!(leftover.len() > 8 << 10);
    let (a, _b) = util::pipe::duplex(1 << 20);
    let config = sonic_ws::Config {
        limits,
        ..sonic_ws::Config::default()
    };
    let mut ws = sonic_ws::WebSocket::from_raw(a, sonic_ws::Role::Server, config, None, &leftover);
    util::pipe::run(async move {
        for _ in 0..12 {
            assert_eq!(
                ws.recv().await.unwrap(),
                sonic_ws::Message::binary(vec![9; 800])
            );
        }
    });
}
