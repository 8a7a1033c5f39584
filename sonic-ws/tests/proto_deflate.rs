//! permessage-deflate through whole connections: both roles, context takeover on and off,
//! fragmented compressed messages, bad data and decompression bombs.

mod util;

use sonic_ws::proto::conn::Connection;
use sonic_ws::proto::deflate::Deflater;
use sonic_ws::proto::extension::{client_accept, client_offer, server_negotiate, DeflateParams};
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::Limits;
use sonic_ws::{ConnectionError, DeflateConfig, Message, ProtocolError, Role};

fn negotiated(client: &DeflateConfig, server: &DeflateConfig) -> (DeflateParams, DeflateParams) {
    let (resp, sp) = server_negotiate(&client_offer(client), server).unwrap();
    let cp = client_accept(&resp, client).unwrap().unwrap();
    (cp, sp)
}

fn pump(from: &mut Connection, to: &mut Connection) -> Vec<Message> {
    let bytes = from.output().to_vec();
    from.consume_output(bytes.len());
    to.feed(&bytes);
    let mut out = Vec::new();
    while to.advance().unwrap().is_some() {
        out.push(to.take().unwrap());
    }
    out
}

#[test]
fn compressed_round_trip_all_parameter_combinations() {
    for nct in [false, true] {
        for bits in [9u8, 15] {
            let cfg = DeflateConfig {
                server_no_context_takeover: nct,
                client_no_context_takeover: nct,
                server_max_window_bits: bits,
                client_max_window_bits: bits,
                min_size: 0,
                ..DeflateConfig::default()
            };
            let (cp, sp) = negotiated(&cfg, &cfg);
            let mut c = Connection::new(Role::Client, Limits::default(), Some(cp));
            let mut s = Connection::new(Role::Server, Limits::default(), Some(sp));
            for i in 0..20 {
                let text = format!("message {i} ").repeat(i * 30 + 1);
                assert!(c.will_compress(text.len()));
                c.send(OpCode::Text, text.as_bytes()).unwrap();
                let wire = c.output().len();
                if i > 5 {
                    assert!(
                        wire < text.len() / 2,
                        "compresses: {wire} vs {}",
                        text.len()
                    );
                }
                assert_eq!(pump(&mut c, &mut s), vec![Message::Text(text.clone())]);
                s.send(OpCode::Binary, text.as_bytes()).unwrap();
                assert_eq!(
                    pump(&mut s, &mut c),
                    vec![Message::Binary(text.into_bytes())]
                );
            }
        }
    }
}

#[test]
fn fragmented_compressed_message_with_interleaved_ping() {
    let cfg = DeflateConfig::default();
    let (_, sp) = negotiated(&cfg, &cfg);
    let mut s = Connection::new(Role::Server, Limits::default(), Some(sp));
    let mut d = Deflater::new(6, 15, false);
    let text = "fragmented and compressed ".repeat(100);
    let mut z = Vec::new();
    d.compress(text.as_bytes(), &mut z);
    let third = z.len() / 3;
    let mut bytes = util::frame_rsv(OpCode::Text, false, true, &z[..third], Some([9, 8, 7, 6]));
    bytes.extend(util::cframe(OpCode::Ping, true, b"hi"));
    bytes.extend(util::cframe(
        OpCode::Continuation,
        false,
        &z[third..2 * third],
    ));
    bytes.extend(util::cframe(OpCode::Continuation, true, &z[2 * third..]));
    for chunk in bytes.chunks(7) {
        s.feed(chunk);
    }
    let mut got = Vec::new();
    while s.advance().unwrap().is_some() {
        got.push(s.take().unwrap());
    }
    assert_eq!(
        got,
        vec![Message::Ping(b"hi".to_vec()), Message::Text(text)]
    );
}

#[test]
fn bad_compressed_data_closes_1007_and_bombs_close_1009() {
    let cfg = DeflateConfig::default();
    let (_, sp) = negotiated(&cfg, &cfg);
    let mut s = Connection::new(Role::Server, Limits::default(), Some(sp));
    s.feed(&util::frame_rsv(
        OpCode::Binary,
        true,
        true,
        &[0xFF; 20],
        Some([1, 2, 3, 4]),
    ));
    assert!(matches!(
        s.advance(),
        Err(ConnectionError::Protocol(ProtocolError::BadCompressedData))
    ));

    let limits = Limits {
        max_message_size: 1 << 20,
        ..Limits::default()
    };
    let mut s = Connection::new(Role::Server, limits, Some(sp));
    let mut d = Deflater::new(9, 15, false);
    let mut z = Vec::new();
    d.compress(&vec![b'a'; 50 << 20], &mut z);
    assert!(z.len() < 100 << 10);
    s.feed(&util::frame_rsv(
        OpCode::Binary,
        true,
        true,
        &z,
        Some([1, 2, 3, 4]),
    ));
    assert!(matches!(
        s.advance(),
        Err(ConnectionError::Protocol(ProtocolError::MessageTooLarge))
    ));
    assert!(
        s.reader().memory() < 4 << 20,
        "memory {}",
        s.reader().memory()
    );
}

#[test]
fn compressed_invalid_utf8_closes_1007() {
    let cfg = DeflateConfig::default();
    let (_, sp) = negotiated(&cfg, &cfg);
    let mut s = Connection::new(Role::Server, Limits::default(), Some(sp));
    let mut d = Deflater::new(6, 15, false);
    let mut z = Vec::new();
    d.compress(&[b'a', 0xFF, b'b'], &mut z);
    s.feed(&util::frame_rsv(
        OpCode::Text,
        true,
        true,
        &z,
        Some([1, 2, 3, 4]),
    ));
    assert!(matches!(
        s.advance(),
        Err(ConnectionError::Protocol(ProtocolError::InvalidUtf8))
    ));
}

#[test]
fn window_bits_8_means_uncompressed_sends() {
    let client = DeflateConfig::default();
    let mut offer = client_offer(&client);
    offer.push_str("; server_max_window_bits=8");
    let (resp, sp) = server_negotiate(
        &offer.replace("; client_max_window_bits", ""),
        &DeflateConfig::default(),
    )
    .unwrap();
    assert!(resp.contains("server_max_window_bits=8"));
    let s = Connection::new(Role::Server, Limits::default(), Some(sp));
    assert!(!s.will_compress(1000));
}

/// Bytes that deflate cannot shrink (a xorshift stream).
fn incompressible(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn incompressible_message_of_the_frame_limit_is_accepted_compressed() {
    // Issue 13, defect 3: node `ws` sends an incompressible 16 MiB message as a 16,781,763-byte
    // frame; the frame limit must leave room for deflate's expansion.
    let cfg = DeflateConfig {
        min_size: 0,
        ..DeflateConfig::default()
    };
    let (cp, sp) = negotiated(&cfg, &cfg);
    let limits = Limits {
        max_frame_size: 100_000,
        max_message_size: 100_000,
        ..Limits::default()
    };
    let mut c = Connection::new(Role::Client, Limits::default(), Some(cp));
    let mut s = Connection::new(Role::Server, limits, Some(sp));
    let data = incompressible(100_000);
    c.send(OpCode::Binary, &data).unwrap();
    let wire = c.output().len();
    assert!(wire > 100_000 + 14, "expanded: {wire}");
    assert_eq!(pump(&mut c, &mut s), vec![Message::Binary(data)]);
    // Memory is still bounded: a compressed frame past the allowance is refused.
    let mut over = vec![0xC2, 0xFF];
    over.extend_from_slice(&(limits.max_compressed_frame_size() as u64 + 1).to_be_bytes());
    over.extend_from_slice(&[0; 4]);
    s.feed(&over);
    assert!(matches!(
        s.advance(),
        Err(ConnectionError::Protocol(ProtocolError::FrameTooLarge))
    ));
}

#[test]
fn default_limits_accept_any_message_under_max_message_size_in_one_frame() {
    let l = Limits::default();
    assert!(l.max_frame_size >= l.max_message_size);
    // What zlib makes of 16 MiB of incompressible bytes at its default settings (node `ws`).
    assert!(l.max_compressed_frame_size() >= 16_781_763);
    let mut s = Connection::new(Role::Server, l, None);
    let mut h = vec![0x82, 0xFF];
    h.extend_from_slice(&(l.max_message_size as u64).to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    s.feed(&h);
    assert!(
        matches!(s.advance(), Ok(None)),
        "a whole-message frame is accepted"
    );
}
