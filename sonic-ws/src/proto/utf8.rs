//! Incremental UTF-8 validation across frame and read boundaries.
//!
//! Rules: bytes are fed in arrival order; an error is reported at the first chunk that makes
//! the sequence impossible (a byte that cannot continue any valid sequence), not at the end of
//! the message. At most 3 bytes of an incomplete trailing sequence are carried to the next
//! chunk. Bulk validation uses `simdutf8`'s std-compatible API, whose `error_len() == None`
//! means "valid so far, but cut short at the end".

/// Invalid UTF-8 was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

/// An incremental validator.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: u8,
}

/// Expected sequence length from a leading byte (0 for bytes that cannot start one).
fn seq_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

impl Utf8Validator {
    /// A validator at a character boundary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any carried bytes (start of a new message).
    pub fn reset(&mut self) {
        self.carry_len = 0;
    }

    /// True when no partial character is pending.
    pub fn is_complete(&self) -> bool {
        self.carry_len == 0
    }

    /// Validates the next chunk.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), Utf8Error> {
        if self.carry_len > 0 {
            let have = usize::from(self.carry_len);
            let need = seq_len(self.carry[0]);
            let take = (need - have).min(data.len());
            self.carry[have..have + take].copy_from_slice(&data[..take]);
            let now = have + take;
            data = &data[take..];
            match simdutf8::compat::from_utf8(&self.carry[..now]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_none() => {
                    // Still a valid prefix; all of `data` was consumed.
                    self.carry_len = now as u8;
                    return Ok(());
                }
                Err(_) => return Err(Utf8Error),
            }
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) => {
                if e.error_len().is_some() {
                    return Err(Utf8Error);
                }
                let tail = &data[e.valid_up_to()..];
                // An incomplete sequence is at most 3 bytes.
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Checks that the message ended on a character boundary, then resets.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let ok = self.carry_len == 0;
        self.carry_len = 0;
        if ok {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }
}

/// Views validated bytes as `&str` without checking them again.
///
/// # Safety
/// `bytes` must be valid UTF-8 (the caller validated them with [`Utf8Validator`] and they have
/// not changed since).
pub(crate) unsafe fn assume_valid(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: the caller guarantees `bytes` is valid UTF-8 (see `# Safety`).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Turns validated bytes into a `String` without checking them again.
///
/// # Safety
/// As for [`assume_valid`].
pub(crate) unsafe fn assume_valid_owned(bytes: Vec<u8>) -> String {
    debug_assert!(std::str::from_utf8(&bytes).is_ok());
    // SAFETY: the caller guarantees `bytes` is valid UTF-8 (see `# Safety`).
    unsafe { String::from_utf8_unchecked(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_split(bytes: &[u8]) -> bool {
        // Whole and every 1-byte / 2-way split agree with std.
        let expect = std::str::from_utf8(bytes).is_ok();
        for split in 0..=bytes.len() {
            let mut v = Utf8Validator::new();
            let r = v
                .feed(&bytes[..split])
                .and_then(|_| v.feed(&bytes[split..]))
                .and_then(|_| v.finish());
            assert_eq!(r.is_ok(), expect, "{bytes:x?} split {split}");
        }
        let mut v = Utf8Validator::new();
        let mut ok = true;
        for b in bytes {
            if v.feed(std::slice::from_ref(b)).is_err() {
                ok = false;
                break;
            }
        }
        ok = ok && v.finish().is_ok();
        assert_eq!(ok, expect, "{bytes:x?} bytewise");
        expect
    }

    #[test]
    fn agrees_with_std() {
        let cases: &[&[u8]] = &[
            b"",
            b"hello",
            "κόσμε".as_bytes(),
            "\u{10FFFF}a".as_bytes(),
            &[0xF4, 0x90, 0x80, 0x80],
            &[0xED, 0xA0, 0x80],
            &[0xC0, 0xAF],
            &[0xE0, 0x80],
            &[0xF0, 0x9F, 0x98],
            &[
                0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80,
            ],
        ];
        for c in cases {
            check_split(c);
        }
    }

    #[test]
    fn fails_at_first_impossible_byte() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xF4]).is_ok());
        // 0xF4 0x90 can never be valid (above U+10FFFF): fail now, not at the end.
        assert!(v.feed(&[0x90]).is_err());
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"abc\xED").is_ok());
        assert!(v.feed(b"\xA0").is_err()); // surrogate
    }
}
