//! permessage-deflate codec (RFC 7692, section 7.2).
//!
//! Rules: a compressed message is raw DEFLATE ending in a sync flush whose trailing
//! `00 00 FF FF` is removed by the sender and appended back by the receiver. With
//! `*_no_context_takeover` the corresponding side starts every message with an empty window.
//! The inflater always runs with a 32 KiB window (15 bits): it decodes any stream made with a
//! smaller one. zlib cannot compress raw DEFLATE with an 8-bit window, so when a peer limits
//! us to 8 bits we simply never set RSV1 (a sender may leave any message uncompressed).

use super::error::ProtocolError;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// Most idle zlib states a thread keeps for reuse, per kind.
const POOL_SIZE: usize = 4;

thread_local! {
    /// Compressors of connections without context takeover, reset, with their level and
    /// window bits: the connections of a thread share them between messages (uWebSockets'
    /// shared compressor), so such a connection neither holds one nor allocates one per
    /// message.
    static COMPRESSORS: std::cell::RefCell<Vec<(u32, u8, Compress)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// Decompressors of connections whose peer resets its context, reset (all 15-bit).
    static DECOMPRESSORS: std::cell::RefCell<Vec<Decompress>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn pooled_compressor(level: u32, bits: u8) -> Compress {
    let found = COMPRESSORS.with(|p| {
        let mut p = p.borrow_mut();
        let i = p.iter().position(|(l, b, _)| *l == level && *b == bits)?;
        Some(p.swap_remove(i).2)
    });
    found.unwrap_or_else(|| Compress::new_with_window_bits(Compression::new(level), false, bits))
}

fn return_compressor(level: u32, bits: u8, mut c: Compress) {
    c.reset();
    COMPRESSORS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_SIZE {
            p.reserve_exact(POOL_SIZE);
            p.push((level, bits, c));
        }
    });
}

fn pooled_decompressor() -> Decompress {
    DECOMPRESSORS
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Decompress::new_with_window_bits(false, 15))
}

fn return_decompressor(mut d: Decompress) {
    d.reset(false);
    DECOMPRESSORS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_SIZE {
            p.reserve_exact(POOL_SIZE);
            p.push(d);
        }
    });
}

/// Compresses outgoing messages.
///
/// zlib's compressor state is about 260 KiB at the default settings (window, hash chains,
/// pending buffer), so it is allocated on the first compressed message, not at the
/// handshake, and with no context takeover it goes back to a per-thread pool after every
/// message: an idle connection holds none.
#[derive(Debug)]
pub struct Deflater {
    c: Option<Compress>,
    level: u32,
    bits: u8,
    reset_each_message: bool,
}

impl Deflater {
    /// A compressor with `window_bits` in 9..=15 and `level` in 0..=9 (allocated on first use).
    pub fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Self {
        Deflater {
            c: None,
            level: level.min(9),
            bits: window_bits.clamp(9, 15),
            reset_each_message,
        }
    }

    /// Whether zlib's compressor state is allocated (between messages: only with context
    /// takeover, once a message was compressed).
    pub fn is_allocated(&self) -> bool {
        self.c.is_some()
    }

    /// Appends the compressed form of `input` (without the `00 00 FF FF` tail) to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            // zlib emits nothing for a sync flush right after another one (Z_BUF_ERROR), and an
            // empty payload would then inflate the tail as a stored-block header that eats the
            // next message. A single 0x00 (an empty non-final stored block once the tail is
            // appended) is the canonical empty message (RFC 7692, section 7.2.3.6).
            out.push(0x00);
            return;
        }
        let (level, bits) = (self.level, self.bits);
        let c = match &mut self.c {
            Some(c) => c,
            None if self.reset_each_message => self.c.insert(pooled_compressor(level, bits)),
            None => self.c.insert(Compress::new_with_window_bits(
                Compression::new(level),
                false,
                bits,
            )),
        };
        let start_in = c.total_in();
        let start_len = out.len();
        loop {
            let consumed = (c.total_in() - start_in) as usize;
            out.reserve((input.len() - consumed) / 2 + 64);
            // zlib reports errors only for misuse (bad flush sequence), never for data; stop
            // rather than spin if it ever does.
            if c.compress_vec(&input[consumed..], out, FlushCompress::Sync)
                .is_err()
            {
                break;
            }
            let consumed = (c.total_in() - start_in) as usize;
            // The sync flush is complete once all input is in and zlib left output room unused.
            if consumed == input.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.len() - start_len >= 4 && out.ends_with(&TAIL) {
            out.truncate(out.len() - 4);
        }
        if self.reset_each_message {
            // No context to keep: the state goes back to the thread's pool.
            if let Some(c) = self.c.take() {
                return_compressor(level, bits, c);
            }
        }
    }
}

/// Decompresses incoming messages frame by frame, with a limit on the output size.
///
/// The decompressor (its 32 KiB window and state) is allocated on the first compressed
/// message and, when the peer agreed to no context takeover, goes back to a per-thread pool
/// after every message (taken again at the next one's first frame, so a fragmented message
/// keeps its own).
#[derive(Debug)]
pub struct Inflater {
    d: Option<Decompress>,
    reset_each_message: bool,
    ended: bool,
}

impl Inflater {
    /// A decompressor; `reset_each_message` when the peer agreed to no context takeover.
    pub fn new(reset_each_message: bool) -> Self {
        Inflater {
            d: None,
            reset_each_message,
            ended: false,
        }
    }

    /// Whether zlib's decompressor state is allocated.
    pub fn is_allocated(&self) -> bool {
        self.d.is_some()
    }

    /// Inflates one frame's payload, appending to `out`, which must stay within `limit` bytes.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        if self.ended {
            // Data after a BFINAL block within the same message is ignored (RFC 7692 allows
            // BFINAL; nothing valid can follow it).
            return Ok(());
        }
        let d = match &mut self.d {
            Some(d) => d,
            None if self.reset_each_message => self.d.insert(pooled_decompressor()),
            None => self.d.insert(Decompress::new_with_window_bits(false, 15)),
        };
        let start_in = d.total_in();
        loop {
            let consumed = (d.total_in() - start_in) as usize;
            // Room for one byte past the limit, so that "over the limit" is detectable. The
            // output goes into a slice of exactly that size: `decompress_vec` would fill all
            // spare capacity, which a reused or doubled Vec has more of than the limit allows.
            let room = (limit + 1)
                .saturating_sub(out.len())
                .min((input.len() - consumed).saturating_mul(4).max(4096));
            let before_out = out.len();
            out.resize(before_out + room, 0);
            let total_out = d.total_out();
            let status = d.decompress(
                &input[consumed..],
                &mut out[before_out..],
                FlushDecompress::Sync,
            );
            out.truncate(before_out + (d.total_out() - total_out) as usize);
            let status = status.map_err(|_| ProtocolError::BadCompressedData)?;
            if out.len() > limit {
                return Err(ProtocolError::MessageTooLarge);
            }
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            let consumed_now = (d.total_in() - start_in) as usize;
            // Output space left over means the decompressor has nothing more to give for now.
            let room_left = out.len() < before_out + room;
            let progress = consumed_now != consumed || out.len() != before_out;
            if (consumed_now == input.len() && room_left) || !progress {
                return Ok(());
            }
        }
    }

    /// Ends a message: feeds the removed `00 00 FF FF` tail and resets if required.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        let r = self.inflate(&TAIL, out, limit);
        if self.reset_each_message {
            // No context to keep: the state goes back to the thread's pool.
            if let Some(d) = self.d.take() {
                return_decompressor(d);
            }
        } else if self.ended {
            if let Some(d) = &mut self.d {
                d.reset(false);
            }
        }
        self.ended = false;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_context() {
        for reset in [false, true] {
            for bits in [9u8, 12, 15] {
                let mut d = Deflater::new(6, bits, reset);
                let mut i = Inflater::new(reset);
                for n in 0..5 {
                    let msg: Vec<u8> = format!("hello hello hello {n} ").repeat(50 * n + 1).into();
                    let mut wire = Vec::new();
                    d.compress(&msg, &mut wire);
                    let mut out = Vec::new();
                    // Feed in two frames.
                    let cut = wire.len() / 2;
                    i.inflate(&wire[..cut], &mut out, 1 << 20).unwrap();
                    i.inflate(&wire[cut..], &mut out, 1 << 20).unwrap();
                    i.finish(&mut out, 1 << 20).unwrap();
                    assert_eq!(out, msg);
                }
            }
        }
    }

    #[test]
    fn state_is_allocated_on_first_use_and_released_without_context_takeover() {
        for reset in [false, true] {
            let mut d = Deflater::new(6, 15, reset);
            let mut i = Inflater::new(reset);
            assert!(!d.is_allocated() && !i.is_allocated());
            for _ in 0..3 {
                let mut wire = Vec::new();
                d.compress(b"hello hello hello hello", &mut wire);
                let mut out = Vec::new();
                i.inflate(&wire, &mut out, 1 << 20).unwrap();
                i.finish(&mut out, 1 << 20).unwrap();
                assert_eq!(out, b"hello hello hello hello");
                assert_eq!(d.is_allocated(), !reset);
                assert_eq!(i.is_allocated(), !reset);
            }
        }
    }

    #[test]
    fn pooled_states_serve_interleaved_messages_of_two_connections() {
        // Two connections on one thread without context takeover: a fragmented message of
        // one is inflated while the other compresses and inflates whole messages.
        let mut d1 = Deflater::new(6, 15, true);
        let mut d2 = Deflater::new(6, 15, true);
        let (mut i1, mut i2) = (Inflater::new(true), Inflater::new(true));
        let m1 = "first connection, fragmented ".repeat(200);
        let m2 = "second connection ".repeat(100);
        for _ in 0..3 {
            let mut w1 = Vec::new();
            d1.compress(m1.as_bytes(), &mut w1);
            let mut out1 = Vec::new();
            let cut = w1.len() / 2;
            i1.inflate(&w1[..cut], &mut out1, 1 << 20).unwrap();
            assert!(i1.is_allocated(), "held for the whole message");
            let mut w2 = Vec::new();
            d2.compress(m2.as_bytes(), &mut w2);
            let mut out2 = Vec::new();
            i2.inflate(&w2, &mut out2, 1 << 20).unwrap();
            i2.finish(&mut out2, 1 << 20).unwrap();
            assert_eq!(out2, m2.as_bytes());
            i1.inflate(&w1[cut..], &mut out1, 1 << 20).unwrap();
            i1.finish(&mut out1, 1 << 20).unwrap();
            assert_eq!(out1, m1.as_bytes());
            assert!(!d1.is_allocated() && !d2.is_allocated() && !i1.is_allocated());
        }
    }

    #[test]
    fn rfc7692_hello_example() {
        // RFC 7692 section 7.2.3.1: "Hello" compressed.
        let wire = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        i.inflate(&wire, &mut out, 100).unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn bomb_is_bounded() {
        let mut d = Deflater::new(9, 15, true);
        let big = vec![0u8; 10 << 20];
        let mut wire = Vec::new();
        d.compress(&big, &mut wire);
        assert!(wire.len() < 64 << 10);
        let mut i = Inflater::new(true);
        let mut out = Vec::new();
        let r = i.inflate(&wire, &mut out, 1 << 20);
        assert_eq!(r, Err(ProtocolError::MessageTooLarge));
        assert!(out.capacity() < 3 << 20, "capacity {}", out.capacity());
    }

    #[test]
    fn garbage_is_an_error() {
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        let r = i
            .inflate(&[0xff, 0xff, 0xff, 0xff, 0x00], &mut out, 1000)
            .and_then(|_| i.finish(&mut out, 1000));
        assert_eq!(r, Err(ProtocolError::BadCompressedData));
    }
}
