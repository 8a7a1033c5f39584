//! The wire format of `feed_publisher` and `feed_handler` (compiled into both as a module).
//!
//! Datagram, on both lines (big-endian):
//!
//! ```text
//! 0       kind: 1 = message, 2 = heartbeat
//! 1       0 (reserved)
//! 2..4    payload length (u16): the datagram's length minus the 20-byte header
//! 4..12   message: its sequence number; heartbeat: the next sequence number to be sent
//! 12..20  send time, nanoseconds since the Unix epoch
//! 20..    payload (messages only): byte i is (sequence number + i) mod 256, so a receiver can
//!         check it
//! ```
//!
//! Recovery over TCP: the handler sends requests of 16 bytes, `start` and `end` (u64 each: the
//! sequence numbers `start..end`); the publisher answers each with frames of a u16 length and
//! one message datagram as first sent, for every number of the range it has, then a frame of
//! length 0.

#![allow(dead_code)]

/// Bytes before the payload.
pub const HEADER: usize = 20;
/// Largest datagram either side sends or accepts (an Ethernet MTU's worth of UDP payload).
pub const MAX_DATAGRAM: usize = 1472;
/// Largest payload.
pub const MAX_PAYLOAD: usize = MAX_DATAGRAM - HEADER;
/// A recovery request's length.
pub const REQUEST_LEN: usize = 16;

const KIND_MESSAGE: u8 = 1;
const KIND_HEARTBEAT: u8 = 2;

/// A decoded datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A sequenced message.
    Message {
        /// Its sequence number.
        seq: u64,
        /// When it was sent (ns since the Unix epoch).
        sent_ns: u64,
        /// The payload.
        payload: &'a [u8],
    },
    /// "Every sequence number below `next` was sent."
    Heartbeat {
        /// The next sequence number to be sent.
        next: u64,
    },
}

/// Why a datagram does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the header.
    Short,
    /// An unknown kind.
    Kind,
    /// The length field disagrees with the datagram's length (or a heartbeat has a payload).
    Length,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(w)
}

/// Decodes a datagram; every field is checked against the datagram's real length.
pub fn decode(b: &[u8]) -> Result<Frame<'_>, Malformed> {
    if b.len() < HEADER {
        return Err(Malformed::Short);
    }
    let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
    if len != b.len() - HEADER {
        return Err(Malformed::Length);
    }
    let (num, sent_ns) = (u64_at(b, 4), u64_at(b, 12));
    match b[0] {
        KIND_MESSAGE => Ok(Frame::Message {
            seq: num,
            sent_ns,
            payload: &b[HEADER..],
        }),
        KIND_HEARTBEAT if len == 0 => Ok(Frame::Heartbeat { next: num }),
        KIND_HEARTBEAT => Err(Malformed::Length),
        _ => Err(Malformed::Kind),
    }
}

fn header(out: &mut [u8], kind: u8, len: usize, num: u64, sent_ns: u64) {
    out[0] = kind;
    out[1] = 0;
    out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    out[4..12].copy_from_slice(&num.to_be_bytes());
    out[12..20].copy_from_slice(&sent_ns.to_be_bytes());
}

/// Writes message `seq` with a `size`-byte payload (at most [`MAX_PAYLOAD`]) into `out`;
/// returns its length.
pub fn encode_message(out: &mut [u8], seq: u64, sent_ns: u64, size: usize) -> usize {
    let size = size.min(MAX_PAYLOAD);
    header(out, KIND_MESSAGE, size, seq, sent_ns);
    for (i, b) in out[HEADER..HEADER + size].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(i as u8);
    }
    HEADER + size
}

/// Writes a heartbeat into `out`; returns its length.
pub fn encode_heartbeat(out: &mut [u8], next: u64, sent_ns: u64) -> usize {
    header(out, KIND_HEARTBEAT, 0, next, sent_ns);
    HEADER
}

/// Whether `payload` is what the publisher sends for `seq`.
pub fn payload_ok(seq: u64, payload: &[u8]) -> bool {
    payload
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (seq as u8).wrapping_add(i as u8))
}

/// A recovery request for `start..end`.
pub fn encode_request(start: u64, end: u64) -> [u8; REQUEST_LEN] {
    let mut r = [0u8; REQUEST_LEN];
    r[..8].copy_from_slice(&start.to_be_bytes());
    r[8..].copy_from_slice(&end.to_be_bytes());
    r
}

/// The range of a recovery request.
pub fn decode_request(r: &[u8; REQUEST_LEN]) -> (u64, u64) {
    (u64_at(r, 0), u64_at(r, 8))
}

/// Nanoseconds since the Unix epoch (the send timestamp's clock).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
