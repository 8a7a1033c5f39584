//! Message framing on top of the buffers, with no copy out of the readable window.
//!
//! * A [`Decoder`] first says how long the message at the front of the readable bytes is
//!   ([`Decoder::frame_len`]), then parses exactly those bytes into an item that may borrow them
//!   ([`Decoder::decode`]). Splitting the two steps keeps the item borrowed from the buffer
//!   without re-parsing and lets a decoder reject an oversized message as soon as its header
//!   arrives.
//! * An [`Encoder`] says how many bytes an item needs, then writes it into claimed space.
//! * [`FramedRead`] and [`FramedWrite`] drive them over any `futures_io` stream and any [`Fifo`].
//! * [`LengthPrefixed`] is a ready codec: a 4-byte big-endian length, then the payload, with a
//!   maximum frame size.
//!
//! Errors are `io::Error`s whose payload is a [`FrameError`] when framing itself failed.
//!
//! # Examples
//!
//! Parse every whole message the buffer holds, then drop them all at once:
//!
//! ```
//! use sonic_buf::codec::{decode_next, Encoder, LengthPrefixed};
//! use sonic_buf::{ByteBuffer, Fifo};
//!
//! let mut codec = LengthPrefixed::new(1024);
//! let mut buf = ByteBuffer::new();
//! for msg in [&b"one"[..], b"two"] {
//!     let space = buf.claim(codec.encoded_len(msg)?);
//!     let n = codec.encode(msg, space)?;
//!     buf.commit(n);
//! }
//! buf.push(&[0, 0]); // half a header: stays for the next read
//!
//! let data = buf.data();
//! let mut off = 0;
//! let mut seen = Vec::new();
//! while let Some((msg, len)) = decode_next(&mut codec, &data[off..])? {
//!     seen.push(msg); // borrowed from the buffer, not copied
//!     off += len;
//! }
//! assert_eq!(seen, [b"one", b"two"]);
//! buf.consume(off);
//! assert_eq!(buf.len(), 2);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::error::Error;
use std::fmt;
use std::io;

use crate::fifo::Fifo;

mod framed;
mod length;

pub use framed::{FramedRead, FramedWrite};
pub use length::LengthPrefixed;

/// Finds and parses messages in the readable window.
pub trait Decoder {
    /// A parsed message; it may borrow the frame's bytes.
    type Item<'a>;
    /// The error type; framing errors arrive as `io::Error`s.
    type Error: From<io::Error>;

    /// Length of the complete message at the front of `src`, or `None` when more bytes are
    /// needed. A result must lie in `1..=src.len()`; anything else is reported as
    /// [`FrameError::BadLength`] by the helpers here. May be called repeatedly as bytes arrive.
    fn frame_len(&mut self, src: &[u8]) -> Result<Option<usize>, Self::Error>;

    /// Parses one complete message: the first `frame_len(src)` bytes of the window, exactly.
    fn decode<'a>(&mut self, frame: &'a [u8]) -> Result<Self::Item<'a>, Self::Error>;
}

/// Writes messages into claimed buffer space.
pub trait Encoder<Item: ?Sized> {
    /// The error type; framing errors arrive as `io::Error`s.
    type Error: From<io::Error>;

    /// Exact number of bytes `encode` will write for `item`; an error when the item cannot be
    /// encoded (for example when it exceeds a maximum size).
    fn encoded_len(&self, item: &Item) -> Result<usize, Self::Error>;

    /// Writes `item` at the start of `dst` and returns the number of bytes written. `dst` is at
    /// least `encoded_len(item)` long when called by this crate; a shorter `dst` is an error.
    fn encode(&mut self, item: &Item, dst: &mut [u8]) -> Result<usize, Self::Error>;
}

/// Decodes the message at the front of `src`, if it is complete: the item (borrowed from `src`)
/// and how many bytes it used, to pass to [`Fifo::consume`] once the item is no longer needed.
pub fn decode_next<'a, D: Decoder + ?Sized>(
    decoder: &mut D,
    src: &'a [u8],
) -> Result<Option<(D::Item<'a>, usize)>, D::Error> {
    match checked_frame_len(decoder, src)? {
        Some(n) => Ok(Some((decoder.decode(&src[..n])?, n))),
        None => Ok(None),
    }
}

/// Encodes `item` into claimed space of `buf`. Returns `Ok(false)` (and leaves `buf` unchanged)
/// when the buffer cannot offer enough contiguous room right now.
pub fn encode_into<I, E, B>(encoder: &mut E, item: &I, buf: &mut B) -> Result<bool, E::Error>
where
    I: ?Sized,
    E: Encoder<I> + ?Sized,
    B: Fifo + ?Sized,
{
    let need = encoder.encoded_len(item)?;
    let space = buf.claim(need);
    if space.len() < need {
        buf.commit(0);
        return Ok(false);
    }
    match encoder.encode(item, space) {
        Ok(n) => {
            buf.commit(n);
            Ok(true)
        }
        Err(e) => {
            buf.commit(0);
            Err(e)
        }
    }
}

/// `frame_len` with its contract enforced.
pub(crate) fn checked_frame_len<D: Decoder + ?Sized>(
    decoder: &mut D,
    src: &[u8],
) -> Result<Option<usize>, D::Error> {
    match decoder.frame_len(src)? {
        Some(n) if n == 0 || n > src.len() => Err(io::Error::from(FrameError::BadLength {
            len: n,
            available: src.len(),
        })
        .into()),
        other => Ok(other),
    }
}

/// Why framing failed. Carried inside an `io::Error` (reach it with `get_ref` and
/// `downcast_ref`); the conversion picks the `io::ErrorKind` listed with each variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame announces (or an item needs) `len` bytes, more than the maximum `max`.
    /// Kind `InvalidData` when decoding, `InvalidInput` when encoding.
    TooLarge {
        /// Announced or needed length.
        len: usize,
        /// The configured maximum.
        max: usize,
        /// `true` when the oversized item was being encoded.
        encoding: bool,
    },
    /// The stream ended inside a frame, `buffered` bytes into it. Kind `UnexpectedEof`.
    Truncated {
        /// Bytes of the incomplete frame that had arrived.
        buffered: usize,
    },
    /// The buffer is full and still holds no complete frame, or cannot take an encoded item even
    /// when empty. Kind `InvalidData`.
    BufferFull {
        /// Bytes held when it gave up.
        buffered: usize,
        /// The buffer's capacity.
        capacity: usize,
    },
    /// A decoder reported a frame length outside `1..=available`. Kind `InvalidData`.
    BadLength {
        /// The reported length.
        len: usize,
        /// Bytes that were readable.
        available: usize,
    },
    /// The destination given to an encoder was shorter than the encoded length. Kind
    /// `InvalidInput`.
    ShortDestination {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        got: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max, .. } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            Self::Truncated { buffered } => {
                write!(
                    f,
                    "stream ended inside a frame ({buffered} bytes of it received)"
                )
            }
            Self::BufferFull { buffered, capacity } => write!(
                f,
                "buffer full without room for a whole frame ({buffered} of {capacity} bytes held)"
            ),
            Self::BadLength { len, available } => write!(
                f,
                "decoder reported a frame of {len} bytes with {available} readable"
            ),
            Self::ShortDestination { need, got } => {
                write!(f, "encoder needs {need} bytes, destination has {got}")
            }
        }
    }
}

impl Error for FrameError {}

impl From<FrameError> for io::Error {
    fn from(err: FrameError) -> Self {
        let kind = match err {
            FrameError::TooLarge { encoding: true, .. } | FrameError::ShortDestination { .. } => {
                io::ErrorKind::InvalidInput
            }
            FrameError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}
