//! Length-prefixed frames: a 4-byte big-endian payload length, then the payload.

use std::io;

use super::{Decoder, Encoder, FrameError};

/// A frame codec with a 4-byte big-endian length prefix and a maximum payload size.
///
/// Decoding yields the payload borrowed from the buffer. A header announcing more than the
/// maximum is rejected as soon as the header has arrived, before any of the payload is buffered.
///
/// # Examples
///
/// ```
/// use sonic_buf::codec::{decode_next, Encoder, LengthPrefixed};
///
/// let mut codec = LengthPrefixed::new(16);
/// let mut wire = [0u8; 9];
/// assert_eq!(codec.encode(&b"hello"[..], &mut wire)?, 9);
/// assert_eq!(wire, *b"\0\0\0\x05hello");
/// assert_eq!(decode_next(&mut codec, &wire)?, Some((&b"hello"[..], 9)));
///
/// // A header announcing 17 bytes is refused at once.
/// let err = decode_next(&mut codec, &[0, 0, 0, 17]).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthPrefixed {
    max: usize,
}

impl LengthPrefixed {
    /// Bytes in the length prefix.
    pub const HEADER_LEN: usize = 4;

    /// A codec accepting payloads of at most `max_payload` bytes (capped at `u32::MAX`, the
    /// largest length the header can carry).
    pub fn new(max_payload: usize) -> Self {
        Self {
            max: max_payload.min(u32::MAX as usize),
        }
    }

    /// The largest payload accepted.
    pub fn max_payload(&self) -> usize {
        self.max
    }

    fn too_large(&self, len: usize, encoding: bool) -> io::Error {
        FrameError::TooLarge {
            len,
            max: self.max,
            encoding,
        }
        .into()
    }
}

impl Decoder for LengthPrefixed {
    type Item<'a> = &'a [u8];
    type Error = io::Error;

    fn frame_len(&mut self, src: &[u8]) -> io::Result<Option<usize>> {
        let Some(&[a, b, c, d]) = src.get(..Self::HEADER_LEN) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([a, b, c, d]) as usize;
        if len > self.max {
            return Err(self.too_large(len, false));
        }
        let total = Self::HEADER_LEN + len;
        Ok((src.len() >= total).then_some(total))
    }

    fn decode<'a>(&mut self, frame: &'a [u8]) -> io::Result<&'a [u8]> {
        match self.frame_len(frame)? {
            Some(total) if total == frame.len() => Ok(&frame[Self::HEADER_LEN..]),
            _ => Err(FrameError::BadLength {
                len: frame.len(),
                available: frame.len(),
            }
            .into()),
        }
    }
}

impl Encoder<[u8]> for LengthPrefixed {
    type Error = io::Error;

    fn encoded_len(&self, item: &[u8]) -> io::Result<usize> {
        if item.len() > self.max {
            return Err(self.too_large(item.len(), true));
        }
        Ok(Self::HEADER_LEN + item.len())
    }

    fn encode(&mut self, item: &[u8], dst: &mut [u8]) -> io::Result<usize> {
        let need = self.encoded_len(item)?;
        let Some(dst) = dst.get_mut(..need) else {
            return Err(FrameError::ShortDestination {
                need,
                got: dst.len(),
            }
            .into());
        };
        // `encoded_len` checked `item.len() <= max <= u32::MAX`.
        let len = item.len() as u32;
        dst[..Self::HEADER_LEN].copy_from_slice(&len.to_be_bytes());
        dst[Self::HEADER_LEN..].copy_from_slice(item);
        Ok(need)
    }
}
