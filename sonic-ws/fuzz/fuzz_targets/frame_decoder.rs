//! Arbitrary bytes into a server and a client connection, fed in fuzzer-chosen chunks.
//! Must never panic; memory stays within the limits; every error is a protocol error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonic_ws::proto::conn::Connection;
use sonic_ws::proto::extension::DeflateParams;
use sonic_ws::{ConnectionError, Limits, MessageRef, Role};

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let limits = Limits {
        max_frame_size: 1 << 16,
        max_message_size: 1 << 17,
        max_fragments: 64,
        read_buffer_size: 64 + usize::from(ctl & 0x3F) * 16,
        accept_unmasked_frames: false,
    };
    let deflate = (ctl & 0x40 != 0).then_some(DeflateParams {
        local_no_context_takeover: false,
        remote_no_context_takeover: ctl & 0x80 != 0,
        local_max_window_bits: 15,
        level: 1,
        min_size: 0,
    });
    for role in [Role::Server, Role::Client] {
        let mut c = Connection::new(role, limits, deflate);
        let chunk = 1 + usize::from(ctl) % 17;
        'outer: for part in rest.chunks(chunk) {
            c.feed(part);
            loop {
                match c.advance() {
                    Ok(Some(_)) => {
                        if let Some(MessageRef::Text(t)) = c.view() {
                            assert!(std::str::from_utf8(t.as_bytes()).is_ok());
                        }
                    }
                    Ok(None) => break,
                    Err(ConnectionError::Protocol(_) | ConnectionError::Closed) => break 'outer,
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            assert!(c.reader().memory() < (1 << 19), "memory {}", c.reader().memory());
        }
    }
});
