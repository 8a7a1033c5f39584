//! Receive path and close state machine, byte by byte: fragmentation, control interleaving,
//! and every error path with its close code.

mod util;

use sonic_ws::proto::conn::{CloseState, Connection};
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::{Kind, Limits, Reader};
use sonic_ws::{CloseCode, ConnectionError, Message, MessageRef, ProtocolError, Role};
use util::{cframe, frame, frame_rsv};

fn server() -> Connection {
    Connection::new(Role::Server, Limits::default(), None)
}

fn server_with(limits: Limits) -> Connection {
    Connection::new(Role::Server, limits, None)
}

/// Feeds all bytes at once and collects messages until more bytes are needed or an error.
fn run(conn: &mut Connection, bytes: &[u8]) -> (Vec<Message>, Option<ProtocolError>) {
    conn.feed(bytes);
    drain(conn)
}

fn drain(conn: &mut Connection) -> (Vec<Message>, Option<ProtocolError>) {
    let mut out = Vec::new();
    loop {
        match conn.advance() {
            Ok(Some(_)) => out.push(conn.take().unwrap()),
            Ok(None) => return (out, None),
            Err(ConnectionError::Protocol(e)) => return (out, Some(e)),
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

/// Feeds one byte at a time.
fn run_bytewise(conn: &mut Connection, bytes: &[u8]) -> (Vec<Message>, Option<ProtocolError>) {
    let mut msgs = Vec::new();
    for b in bytes {
        conn.feed(std::slice::from_ref(b));
        let (m, e) = drain(conn);
        msgs.extend(m);
        if e.is_some() {
            return (msgs, e);
        }
    }
    (msgs, None)
}

/// Decodes what a server connection queued for the client.
fn sent_by_server(conn: &mut Connection) -> Vec<Message> {
    let mut r = Reader::new(Role::Client, Limits::default());
    r.feed(conn.output());
    let n = conn.output().len();
    conn.consume_output(n);
    let mut out = Vec::new();
    while r.advance().expect("server output must be valid").is_some() {
        out.push(r.take().unwrap());
    }
    out
}

fn close_msg(code: u16, reason: &str) -> Message {
    Message::Close(Some(sonic_ws::CloseFrame {
        code: CloseCode(code),
        reason: reason.into(),
    }))
}

fn expect_failure(bytes: &[u8], err: ProtocolError, code: u16) {
    for bytewise in [false, true] {
        let mut c = server();
        let (_, e) = if bytewise {
            run_bytewise(&mut c, bytes)
        } else {
            run(&mut c, bytes)
        };
        assert_eq!(e, Some(err), "bytewise={bytewise}");
        assert_eq!(c.state(), CloseState::Closed);
        let sent = sent_by_server(&mut c);
        assert_eq!(
            sent.last().and_then(|m| m.close_code()),
            Some(CloseCode(code))
        );
        // Further calls give Closed, never a panic.
        assert!(matches!(c.advance(), Err(ConnectionError::Closed)));
    }
}

#[test]
fn single_masked_text_is_delivered_in_place() {
    let mut c = server();
    c.feed(&cframe(OpCode::Text, true, b"Hello"));
    assert_eq!(c.advance().unwrap(), Some(Kind::Text));
    assert_eq!(c.view(), Some(MessageRef::Text("Hello")));
    assert_eq!(c.advance().unwrap(), None);
}

#[test]
fn fragmented_text_with_interleaved_ping() {
    let mut bytes = cframe(OpCode::Text, false, "κό".as_bytes());
    bytes.extend(cframe(OpCode::Ping, true, b"p1"));
    // Split a 2-byte character across fragments.
    let s = "σμε".as_bytes();
    bytes.extend(cframe(OpCode::Continuation, false, &s[..1]));
    bytes.extend(cframe(OpCode::Pong, true, b""));
    bytes.extend(cframe(OpCode::Continuation, true, &s[1..]));
    for bytewise in [false, true] {
        let mut c = server();
        let (msgs, e) = if bytewise {
            run_bytewise(&mut c, &bytes)
        } else {
            run(&mut c, &bytes)
        };
        assert_eq!(e, None);
        assert_eq!(
            msgs,
            vec![
                Message::Ping(b"p1".to_vec()),
                Message::Pong(vec![]),
                Message::text("κόσμε"),
            ]
        );
        assert_eq!(sent_by_server(&mut c), vec![Message::Pong(b"p1".to_vec())]);
    }
}

#[test]
fn many_messages_in_one_read_and_large_frames() {
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let mut bytes = Vec::new();
    for i in 0..50u8 {
        bytes.extend(cframe(OpCode::Binary, true, &[i; 3]));
    }
    bytes.extend(cframe(OpCode::Binary, true, &big));
    bytes.extend(cframe(OpCode::Binary, false, &big[..70_000]));
    bytes.extend(cframe(OpCode::Continuation, true, &big[70_000..]));
    let mut c = server();
    // Feed in odd-sized chunks.
    let mut msgs = Vec::new();
    for chunk in bytes.chunks(4099) {
        let (m, e) = run(&mut c, chunk);
        assert_eq!(e, None);
        msgs.extend(m);
    }
    assert_eq!(msgs.len(), 52);
    assert_eq!(msgs[49], Message::Binary(vec![49; 3]));
    assert_eq!(msgs[50], Message::Binary(big.clone()));
    assert_eq!(msgs[51], Message::Binary(big));
}

#[test]
fn empty_messages_and_fragments() {
    let mut bytes = cframe(OpCode::Text, true, b"");
    bytes.extend(cframe(OpCode::Binary, false, b""));
    bytes.extend(cframe(OpCode::Continuation, false, b""));
    bytes.extend(cframe(OpCode::Continuation, true, b""));
    let mut c = server();
    let (msgs, e) = run(&mut c, &bytes);
    assert_eq!(e, None);
    assert_eq!(msgs, vec![Message::text(""), Message::Binary(vec![])]);
}

#[test]
fn peer_close_is_echoed_once() {
    let mut c = server();
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    let mut bytes = cframe(OpCode::Close, true, &payload);
    bytes.extend(cframe(OpCode::Text, true, b"after close is ignored"));
    let (msgs, e) = run(&mut c, &bytes);
    assert_eq!(e, None);
    assert_eq!(msgs, vec![close_msg(1000, "bye")]);
    assert_eq!(c.state(), CloseState::Closed);
    assert_eq!(sent_by_server(&mut c), vec![close_msg(1000, "")]);
    assert!(matches!(
        c.send(OpCode::Text, b"x"),
        Err(ConnectionError::Closed)
    ));
    assert!(matches!(
        c.close(CloseCode::NORMAL, ""),
        Err(ConnectionError::Closed)
    ));
    assert_eq!(c.output(), b"");
}

#[test]
fn empty_close_is_echoed_empty() {
    let mut c = server();
    let (msgs, _) = run(&mut c, &cframe(OpCode::Close, true, b""));
    assert_eq!(msgs, vec![Message::Close(None)]);
    assert_eq!(sent_by_server(&mut c), vec![Message::Close(None)]);
}

#[test]
fn local_close_then_peer_close() {
    let mut c = server();
    c.close(CloseCode(4000), "done").unwrap();
    assert_eq!(c.state(), CloseState::CloseSent);
    assert_eq!(sent_by_server(&mut c), vec![close_msg(4000, "done")]);
    // Data may still arrive before the peer's Close; pings are not answered any more.
    let mut bytes = cframe(OpCode::Text, true, b"late");
    bytes.extend(cframe(OpCode::Ping, true, b""));
    bytes.extend(cframe(OpCode::Close, true, &4000u16.to_be_bytes()));
    let (msgs, e) = run(&mut c, &bytes);
    assert_eq!(e, None);
    assert_eq!(msgs.len(), 3);
    assert_eq!(c.state(), CloseState::Closed);
    assert!(
        sent_by_server(&mut c).is_empty(),
        "no second Close, no pong"
    );
}

#[test]
fn close_rejects_bad_input() {
    let mut c = server();
    assert!(matches!(
        c.close(CloseCode(1005), ""),
        Err(ConnectionError::InvalidInput(_))
    ));
    assert!(matches!(
        c.close(CloseCode(1000), &"x".repeat(124)),
        Err(ConnectionError::InvalidInput(_))
    ));
    assert!(matches!(
        c.send(OpCode::Ping, &[0; 126]),
        Err(ConnectionError::InvalidInput(_))
    ));
    assert!(c.close(CloseCode(1000), &"x".repeat(123)).is_ok());
}

#[test]
fn error_unmasked_client_frame() {
    expect_failure(
        &frame(OpCode::Text, true, b"hi", None),
        ProtocolError::UnmaskedFrame,
        1002,
    );
}

#[test]
fn error_masked_server_frame() {
    let mut c = Connection::new(Role::Client, Limits::default(), None);
    let (_, e) = run(&mut c, &cframe(OpCode::Text, true, b"hi"));
    assert_eq!(e, Some(ProtocolError::MaskedFrame));
    assert_eq!(c.state(), CloseState::Closed);
    assert!(!c.output().is_empty());
}

#[test]
fn error_reserved_bits_and_opcodes() {
    let k = Some([1, 2, 3, 4]);
    expect_failure(
        &frame_rsv(OpCode::Text, true, true, b"x", k),
        ProtocolError::ReservedBits,
        1002,
    );
    let mut f = cframe(OpCode::Binary, true, b"x");
    f[0] |= 0x20;
    expect_failure(&f, ProtocolError::ReservedBits, 1002);
    let mut f = cframe(OpCode::Binary, true, b"x");
    f[0] = 0x80 | 0x3;
    expect_failure(&f, ProtocolError::ReservedOpcode(3), 1002);
}

#[test]
fn error_length_2_pow_63() {
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&u64::MAX.to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    expect_failure(&f, ProtocolError::LengthOverflow, 1002);
}

#[test]
fn error_fragment_order() {
    expect_failure(
        &cframe(OpCode::Continuation, true, b"x"),
        ProtocolError::UnexpectedContinuation,
        1002,
    );
    let mut b = cframe(OpCode::Text, false, b"a");
    b.extend(cframe(OpCode::Text, true, b"b"));
    expect_failure(&b, ProtocolError::ExpectedContinuation, 1002);
}

#[test]
fn error_control_frames() {
    expect_failure(
        &cframe(OpCode::Ping, false, b""),
        ProtocolError::FragmentedControl,
        1002,
    );
    expect_failure(
        &cframe(OpCode::Ping, true, &[0; 126]),
        ProtocolError::ControlTooLong,
        1002,
    );
    expect_failure(
        &cframe(OpCode::Close, true, &[3]),
        ProtocolError::InvalidClosePayload,
        1002,
    );
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        expect_failure(
            &cframe(OpCode::Close, true, &code.to_be_bytes()),
            ProtocolError::InvalidCloseCode(code),
            1002,
        );
    }
    let mut p = 1000u16.to_be_bytes().to_vec();
    p.extend_from_slice(&[0xFF, 0xFE]);
    expect_failure(
        &cframe(OpCode::Close, true, &p),
        ProtocolError::InvalidUtf8,
        1007,
    );
}

#[test]
fn valid_close_codes_are_accepted() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        let mut c = server();
        let (m, e) = run(&mut c, &cframe(OpCode::Close, true, &code.to_be_bytes()));
        assert_eq!(e, None);
        assert_eq!(m, vec![close_msg(code, "")]);
        assert_eq!(sent_by_server(&mut c), vec![close_msg(code, "")]);
    }
}

#[test]
fn error_invalid_utf8_single_and_fragmented() {
    expect_failure(
        &cframe(OpCode::Text, true, &[0xC0, 0xAF]),
        ProtocolError::InvalidUtf8,
        1007,
    );
    // Truncated sequence at the end of a message.
    expect_failure(
        &cframe(OpCode::Text, true, &[b'a', 0xE2, 0x82]),
        ProtocolError::InvalidUtf8,
        1007,
    );
    // The bad fragment fails the message before the final fragment arrives.
    let mut b = cframe(OpCode::Text, false, b"valid ");
    b.extend(cframe(OpCode::Continuation, false, &[0xED, 0xA0, 0x80]));
    expect_failure(&b, ProtocolError::InvalidUtf8, 1007);
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    // One 1000-byte text frame (8-byte header) whose 11th byte is bad: fed up to that byte.
    let mut payload = vec![b'a'; 1000];
    payload[10] = 0xFF;
    let f = cframe(OpCode::Text, true, &payload);
    let mut c = server();
    let (_, e) = run(&mut c, &f[..8 + 11]);
    assert_eq!(e, Some(ProtocolError::InvalidUtf8));
    // And a 4-byte sequence made impossible by its second byte fails at that byte.
    let f = cframe(OpCode::Text, true, &[0xF4, 0x90, 0x80, 0x80, b'a', b'b']);
    let mut c = server();
    let (_, e) = run(&mut c, &f[..6 + 1]);
    assert_eq!(e, None);
    let (_, e) = run(&mut c, &f[7..8]);
    assert_eq!(e, Some(ProtocolError::InvalidUtf8));
}

#[test]
fn error_limits() {
    let limits = Limits {
        max_frame_size: 1000,
        max_message_size: 1500,
        max_fragments: 4,
        ..Limits::default()
    };
    // A frame over the limit fails on its header alone.
    let f = cframe(OpCode::Binary, true, &[0; 1001]);
    let mut c = server_with(limits);
    let (_, e) = run(&mut c, &f[..8]);
    assert_eq!(e, Some(ProtocolError::FrameTooLarge));
    assert_eq!(
        sent_by_server(&mut c)[0].close_code(),
        Some(CloseCode::TOO_BIG)
    );
    // A message over the limit across fragments.
    let mut b = cframe(OpCode::Binary, false, &[0; 1000]);
    b.extend(cframe(OpCode::Continuation, true, &[0; 501]));
    let mut c = server_with(limits);
    assert_eq!(run(&mut c, &b).1, Some(ProtocolError::MessageTooLarge));
    // Too many fragments.
    let mut b = cframe(OpCode::Binary, false, b"");
    for _ in 0..4 {
        b.extend(cframe(OpCode::Continuation, false, b""));
    }
    let mut c = server_with(limits);
    assert_eq!(run(&mut c, &b).1, Some(ProtocolError::TooManyFragments));
    assert_eq!(
        sent_by_server(&mut c)[0].close_code(),
        Some(CloseCode::TOO_BIG)
    );
}

#[test]
fn read_buffer_stays_bounded_with_many_small_frames() {
    let mut c = server();
    let f = cframe(OpCode::Binary, true, &[7; 100]);
    for _ in 0..10_000 {
        let (m, e) = run(&mut c, &f);
        assert_eq!((m.len(), e), (1, None));
    }
    assert!(
        c.reader().memory() < 64 << 10,
        "memory {}",
        c.reader().memory()
    );
}

#[test]
fn read_buffer_gives_back_a_huge_frame_but_keeps_a_read_window() {
    let mut c = server();
    let (m, e) = run(&mut c, &cframe(OpCode::Binary, true, &vec![1; 4 << 20]));
    assert_eq!((m.len(), e), (1, None));
    // The next read after the huge frame is gone shrinks the buffer...
    let (m, e) = run(&mut c, &cframe(OpCode::Binary, true, &[2; 100]));
    assert_eq!((m.len(), e), (1, None));
    assert!(
        c.reader().memory() < 512 << 10,
        "memory {}",
        c.reader().memory()
    );
    // ...while 64 KiB frames (within the largest read window) keep theirs between frames.
    let f = cframe(OpCode::Binary, true, &vec![3; 64 << 10]);
    run(&mut c, &f);
    let kept = c.reader().memory();
    for _ in 0..100 {
        let (m, e) = run(&mut c, &f);
        assert_eq!((m.len(), e), (1, None));
        assert_eq!(c.reader().memory(), kept, "the read buffer was reallocated");
    }
}

/// Reads `bytes` into `r` through `read_buf`/`commit`, each read taking a pseudo-random amount
/// (from `seed`) of what is offered; returns the messages completed.
fn read_cut(r: &mut Reader, bytes: &[u8], seed: &mut u64) -> usize {
    let (mut at, mut done) = (0, 0);
    while at < bytes.len() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let cut = match *seed % 4 {
            0 => 1 + (*seed >> 8) as usize % 16,
            1 => 1 + (*seed >> 8) as usize % 70_000,
            _ => usize::MAX,
        };
        let dst = r.read_buf();
        let n = dst.len().min(cut).min(bytes.len() - at);
        dst[..n].copy_from_slice(&bytes[at..at + n]);
        r.commit(n);
        at += n;
        while r.advance().unwrap().is_some() {
            done += 1;
        }
    }
    done
}

#[test]
fn read_buffer_size_does_not_depend_on_how_reads_cut_the_bytes() {
    // Small frames, however cut, fit the first size; 64 KiB frames take the read window at
    // once (twice the largest chunk, 8 x read_buffer_size) and keep it. Before, the size
    // followed the cuts: a small frame cut by a read grew the buffer for a chunk behind it,
    // and two 64 KiB frames grew it in steps, once past the window (then given back).
    let limits = Limits::default();
    let window = 2 * 8 * limits.read_buffer_size;
    let small = frame(OpCode::Binary, true, &[1; 100], None).repeat(40);
    let large = frame(OpCode::Binary, true, &vec![2; 64 << 10], None).repeat(2);
    for seed in 1..=20u64 {
        let mut seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut r = Reader::new(Role::Client, limits);
        for _ in 0..50 {
            assert_eq!(read_cut(&mut r, &small, &mut seed), 40);
            assert_eq!(r.memory(), limits.read_buffer_size);
        }
        for _ in 0..50 {
            assert_eq!(read_cut(&mut r, &large, &mut seed), 2);
            assert_eq!(r.memory(), window);
            assert_eq!(read_cut(&mut r, &small, &mut seed), 40);
            assert_eq!(r.memory(), window);
        }
    }
}

#[test]
fn client_side_sends_masked_frames_server_reads_them() {
    let mut client = Connection::new(Role::Client, Limits::default(), None);
    client.send(OpCode::Text, b"hello").unwrap();
    client.send(OpCode::Ping, b"x").unwrap();
    client.close(CloseCode::NORMAL, "bye").unwrap();
    let bytes = client.output().to_vec();
    // Masked: the payload is not in clear text.
    assert!(!bytes.windows(5).any(|w| w == b"hello"));
    let mut s = server();
    let (msgs, e) = run(&mut s, &bytes);
    assert_eq!(e, None);
    assert_eq!(
        msgs,
        vec![
            Message::text("hello"),
            Message::Ping(b"x".to_vec()),
            close_msg(1000, "bye")
        ]
    );
}

#[test]
fn feed_takes_more_than_the_read_buffer_limit() {
    // Regression: with a small limit, feeding many whole frames at once (what follows a
    // handshake in the same read) spun forever once the buffer was full.
    let limits = Limits {
        max_frame_size: 1000,
        read_buffer_size: 64,
        ..Limits::default()
    };
    let frame = cframe(OpCode::Binary, true, &[5; 900]);
    let burst: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 5)
        .collect();
    let mut c = server_with(limits);
    let (m, e) = run(&mut c, &burst);
    assert_eq!((m.len(), e), (5, None));
    // Twice without advancing in between: the second feed must not stop either.
    let mut c = server_with(limits);
    c.feed(&burst);
    c.feed(&burst);
    let (m, e) = drain(&mut c);
    assert_eq!((m.len(), e), (10, None));
    assert!(m.iter().all(|m| *m == Message::binary(vec![5; 900])));
    // And the buffer returns to its bound once drained: a later frame needs no big buffer.
    let (m, e) = run(&mut c, &cframe(OpCode::Binary, true, &[6; 10]));
    assert_eq!((m.len(), e), (1, None));
    assert!(
        c.reader().memory() < 64 << 10,
        "memory {}",
        c.reader().memory()
    );
}

#[test]
fn oversized_length_is_refused_before_the_mask_key_arrives() {
    // Issue 13, defect 1: 2 + 8 length bytes of a masked frame, no key yet.
    let mut conn = server_with(Limits {
        max_frame_size: 1000,
        ..Limits::default()
    });
    let mut f = vec![0x82, 0xFE];
    f.extend_from_slice(&1001u16.to_be_bytes());
    let (_, e) = run(&mut conn, &f);
    assert_eq!(e, Some(ProtocolError::FrameTooLarge));
    // A legal length still waits for its key, then the payload.
    let mut conn = server_with(Limits {
        max_frame_size: 1000,
        ..Limits::default()
    });
    let full = cframe(OpCode::Binary, true, &[5; 1000]);
    let (m, e) = run(&mut conn, &full[..4]);
    assert_eq!((m.len(), e), (0, None));
    let (m, e) = run(&mut conn, &full[4..]);
    assert_eq!((m, e), (vec![Message::binary(vec![5; 1000])], None));
}
