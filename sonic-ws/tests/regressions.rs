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
