//! One test per bug found (by the fuzzers or by Autobahn), named after what broke.

use sonic_ws::proto::deflate::{Deflater, Inflater};

/// fuzz/deflate crash-08a1ea6c: an empty message after another message compressed to zero
/// bytes (zlib's second sync flush in a row emits nothing), so the receiver read the appended
/// 00 00 FF FF tail as a stored-block header and swallowed the next message's bytes.
#[test]
fn empty_compressed_message_after_another_message() {
    for level in [0, 1, 6, 9] {
        let mut d = Deflater::new(level, 15, false);
        let mut i = Inflater::new(false);
        for msg in [&b""[..], b"", b"\x00", b"", b"abc", b"", b""] {
            let mut z = Vec::new();
            d.compress(msg, &mut z);
            assert!(!z.is_empty());
            let mut out = Vec::new();
            i.inflate(&z, &mut out, 1 << 20).unwrap();
            i.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(out, msg, "level {level}");
        }
    }
}

/// fuzz/deflate crash-b4f23bdd: inflating wrote into all of the output Vec's spare capacity,
/// not just up to the limit, so a message over the limit could hold more memory than
/// `max_message_size` + 1 before it was refused (65,796 bytes for a 65,536 limit in the fuzz
/// case; with a reused, larger assembly buffer, up to its whole capacity).
#[test]
fn inflating_never_writes_past_the_limit_into_spare_capacity() {
    let limit = 64 << 10;
    let mut d = Deflater::new(6, 15, false);
    let mut z = Vec::new();
    d.compress(&vec![0u8; 1 << 20], &mut z);
    for spare in [0, 100, limit, 4 << 20] {
        let mut i = Inflater::new(false);
        let mut out = Vec::with_capacity(spare);
        let r = i.inflate(&z, &mut out, limit);
        assert_eq!(r, Err(sonic_ws::ProtocolError::MessageTooLarge));
        assert!(
            out.len() <= limit + 1,
            "{} bytes for a {limit} limit",
            out.len()
        );
        // Within the limit the whole message still comes out, whatever the spare capacity.
        let mut i = Inflater::new(false);
        let mut out = Vec::with_capacity(spare);
        i.inflate(&z, &mut out, 2 << 20).unwrap();
        i.finish(&mut out, 2 << 20).unwrap();
        assert_eq!(out.len(), 1 << 20);
        assert!(out.iter().all(|&b| b == 0));
    }
}
