//! `Connection::echo`: a received message goes back without a copy when the writer takes it,
//! only the unwritten rest is queued, and every other case is queued like `send`.

use sonic_ws::proto::conn::Connection;
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::read::Limits;
use sonic_ws::{ConnectionError, Message, MessageRef, Role};

const IN_PLACE_FROM: usize = 1024;

fn pair() -> (Connection, Connection) {
    (
        Connection::new(Role::Client, Limits::default(), None),
        Connection::new(Role::Server, Limits::default(), None),
    )
}

/// Client sends `payload`; the server reads it and returns the view's address range.
fn deliver(
    c: &mut Connection,
    s: &mut Connection,
    opcode: OpCode,
    payload: &[u8],
) -> (usize, usize) {
    c.send(opcode, payload).unwrap();
    let wire = c.output().to_vec();
    c.consume_output(wire.len());
    s.feed(&wire);
    assert!(s.advance().unwrap().is_some());
    let bytes = match s.view().unwrap() {
        MessageRef::Binary(b) => b,
        MessageRef::Text(t) => t.as_bytes(),
        other => panic!("{other:?}"),
    };
    (bytes.as_ptr() as usize, bytes.len())
}

/// Everything the server wrote (through `echo`'s writer and its queue), as messages the client reads.
fn client_reads(c: &mut Connection, written: &[u8], s: &mut Connection) -> Vec<Message> {
    c.feed(written);
    let rest = s.output().to_vec();
    s.consume_output(rest.len());
    c.feed(&rest);
    let mut out = Vec::new();
    while c.advance().unwrap().is_some() {
        out.push(c.take().unwrap());
    }
    out
}

#[test]
fn large_echo_hands_the_receive_buffer_to_the_writer() {
    let (mut c, mut s) = pair();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (at, len) = deliver(&mut c, &mut s, OpCode::Binary, &payload);
    let mut wire = Vec::new();
    let called = s
        .echo(IN_PLACE_FROM, |out, p| {
            assert_eq!(
                p.as_ptr() as usize,
                at,
                "payload is the received bytes, in place"
            );
            assert_eq!(p.len(), len);
            wire.extend_from_slice(out);
            wire.extend_from_slice(p);
            out.len() + p.len()
        })
        .unwrap();
    assert!(called);
    assert_eq!(s.queued(), 0, "nothing copied into the queue");
    // Echoed once: a retry (say after a cancelled flush) cannot send it twice.
    assert!(s.view().is_none());
    assert!(matches!(
        s.echo(0, |_, _| 0),
        Err(ConnectionError::InvalidInput(_))
    ));
    assert_eq!(
        client_reads(&mut c, &wire, &mut s),
        vec![Message::Binary(payload)]
    );
}

#[test]
fn a_short_write_queues_exactly_the_rest() {
    for taken in [0, 1, 3, 4, 5, 50_000, 59_999] {
        let (mut c, mut s) = pair();
        // Something queued first: the echo's header goes after it.
        s.send(OpCode::Text, b"before").unwrap();
        let ahead = s.queued();
        let text = "é".repeat(30_000); // 60,000 bytes: a 4-byte header
        deliver(&mut c, &mut s, OpCode::Text, text.as_bytes());
        let mut wire = Vec::new();
        s.echo(IN_PLACE_FROM, |out, p| {
            let all: Vec<u8> = [out, p].concat();
            assert_eq!(all.len(), ahead + 4 + text.len());
            wire.extend_from_slice(&all[..taken.min(all.len())]);
            taken
        })
        .unwrap();
        assert_eq!(s.queued(), ahead + 4 + text.len() - taken);
        assert_eq!(
            client_reads(&mut c, &wire, &mut s),
            vec![Message::text("before"), Message::Text(text)],
            "taken {taken}"
        );
    }
}

#[test]
fn small_client_and_error_cases_are_queued_whole() {
    // Small: queued, writer not called.
    let (mut c, mut s) = pair();
    deliver(&mut c, &mut s, OpCode::Binary, b"tiny");
    assert!(!s
        .echo(IN_PLACE_FROM, |_, _| panic!("small echo is queued"))
        .unwrap());
    assert_eq!(
        client_reads(&mut c, &[], &mut s),
        vec![Message::binary(b"tiny".to_vec())]
    );

    // Client: masked while copied into the queue; the server reads it back.
    let big = vec![7u8; 20_000];
    deliver(&mut s, &mut c, OpCode::Binary, &big);
    assert!(!c
        .echo(IN_PLACE_FROM, |_, _| panic!("a client must mask"))
        .unwrap());
    assert_eq!(
        client_reads(&mut s, &[], &mut c),
        vec![Message::Binary(big.clone())]
    );

    // A writer that could not write (its error stays with it): the frame is queued whole.
    deliver(&mut c, &mut s, OpCode::Binary, &big);
    assert!(s.echo(IN_PLACE_FROM, |_, _| 0).unwrap());
    assert_eq!(
        client_reads(&mut c, &[], &mut s),
        vec![Message::Binary(big)]
    );
}

#[test]
fn echo_needs_a_data_message_still_in_view() {
    let (mut c, mut s) = pair();
    // Nothing received yet.
    assert!(matches!(
        s.echo(0, |_, _| 0),
        Err(ConnectionError::InvalidInput(_))
    ));
    // A ping is not echoed as data.
    c.send(OpCode::Ping, b"p").unwrap();
    let wire = c.output().to_vec();
    c.consume_output(wire.len());
    s.feed(&wire);
    assert!(s.advance().unwrap().is_some());
    assert!(matches!(
        s.echo(0, |_, _| 0),
        Err(ConnectionError::InvalidInput(_))
    ));
    // A message already taken is gone.
    deliver(&mut c, &mut s, OpCode::Binary, b"x");
    s.take().unwrap();
    assert!(matches!(
        s.echo(0, |_, _| 0),
        Err(ConnectionError::InvalidInput(_))
    ));
    // After we sent Close nothing more goes out.
    deliver(&mut c, &mut s, OpCode::Binary, b"y");
    s.close_with(None).unwrap();
    assert!(matches!(s.echo(0, |_, _| 0), Err(ConnectionError::Closed)));
}
