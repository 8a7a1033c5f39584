//! The receive side: frames in, messages out, with no I/O.
//!
//! Rules:
//! - The reader owns its read buffer. Fill it with [`Reader::read_buf`] + [`Reader::commit`]
//!   (or [`Reader::feed`]), then call [`Reader::advance`] until it returns `Ok(None)`.
//! - A completed item names bytes inside the reader (the read buffer or the assembly buffer). It
//!   stays valid until the next `&mut self` call; the bytes of a returned frame are released
//!   lazily at that next call, which is what makes [`Reader::view`] zero-copy.
//! - Payload bytes are unmasked and (for text) UTF-8 checked as they arrive, even before the
//!   frame is complete, so a bad byte fails the connection at once and a frame is touched once.
//! - A single-frame uncompressed message is delivered in place; fragmented or compressed
//!   messages are assembled (or inflated) into one buffer bounded by `max_message_size`.
//! - The read buffer's size never depends on how the bytes arrive (how much each read returns,
//!   how many frames it holds, where it cuts them), only on the frame sizes and on whether the
//!   peer streams: it starts at `read_buffer_size`, and the first time that is too small (a
//!   larger frame, or a streaming peer that fills whole read chunks) it takes the read window,
//!   twice the largest read chunk, at once. A frame of up to a chunk fits in the window with a
//!   whole chunk behind it, a larger one up to the window's size fits alone, so the window
//!   never grows again and is kept: once a connection's traffic has been seen, receiving
//!   allocates nothing. Growing in steps
//!   instead made the size a matter of timing, and a buffer grown past the window by a rare
//!   timing was given back and allocated again (the flaky `alloc_free` test). Only a frame
//!   larger than the window gets a buffer of its own size, given back once it is consumed.
//! - Memory is bounded: filled through `read_buf`, the read buffer never grows past
//!   `max_frame_size` (for a compressed frame, [`Limits::max_compressed_frame_size`]) + a
//!   header + the largest read chunk (bytes handed to `feed` always go in: the caller holds
//!   them already), the assembly buffer past `max_message_size` (+1 byte for detection). The buffer grows only where the reader decides to: its `ByteBuffer` limit is
//!   its capacity, so a short tail is made by moving the unread bytes to the front (at most
//!   the frame in progress, once per consumed frame), never by a reallocation.
//! - After a Close frame nothing more is parsed.

use super::close::{parse_close_payload, CloseCode};
use super::deflate::Inflater;
use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use super::mask::apply_mask;
use super::message::{Message, MessageRef};
use super::utf8::Utf8Validator;
use super::Role;
use sonic_buf::{ByteBuffer, Fifo};

/// Limits applied by a [`Reader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted (1009 beyond). A compressed frame (permessage-deflate)
    /// may exceed it by deflate's worst-case expansion ([`Limits::max_compressed_frame_size`]):
    /// a conforming peer that compresses an incompressible message of this size sends a
    /// slightly larger frame. The default equals `max_message_size`, so any message under
    /// `max_message_size` that a conforming peer sends in one frame is accepted; the read
    /// buffer is still bounded by one such frame.
    pub max_frame_size: usize,
    /// Largest message accepted, after decompression (1009 beyond).
    pub max_message_size: usize,
    /// Most frames in one message (1009 beyond).
    pub max_fragments: usize,
    /// Read chunk size, and the read buffer's first size. While reads keep filling a whole
    /// chunk (a streaming peer), the chunk doubles, up to [`READ_CHUNK_GROWTH`] times this, so
    /// that a burst is read with few syscalls; it halves again when reads come back small. The
    /// first time the buffer is too small (a larger frame, or a chunk grown past it), it takes
    /// the read window, twice the largest chunk, at once, and keeps it; only a frame larger
    /// than the window makes it grow further, and that memory is given back after the frame.
    pub read_buffer_size: usize,
    /// Accept unmasked frames from clients (breaks RFC 6455; for testing only).
    pub accept_unmasked_frames: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 64 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
            read_buffer_size: 16 << 10,
            accept_unmasked_frames: false,
        }
    }
}

impl Limits {
    /// Largest compressed frame payload accepted: `max_frame_size` plus zlib's worst-case
    /// expansion for any compression settings (`deflateBound` without its tight form: 1/8 +
    /// 1/64 + 5 bytes, the cost of stored blocks at the smallest `memLevel`), so that whatever
    /// a conforming compressor makes of a `max_frame_size` payload is accepted. Node `ws`
    /// sends a 16 MiB incompressible message as a 16,781,763-byte frame (+4,547 bytes).
    pub fn max_compressed_frame_size(&self) -> usize {
        let n = self.max_frame_size;
        n.saturating_add(n.div_ceil(8))
            .saturating_add(n.div_ceil(64))
            .saturating_add(5)
    }
}

/// How far the read chunk may grow over [`Limits::read_buffer_size`] for a streaming peer.
pub const READ_CHUNK_GROWTH: usize = 8;

/// The first read chunk and the read buffer's first size.
fn base_chunk(limits: &Limits) -> usize {
    limits.read_buffer_size.max(MAX_HEADER_LEN)
}

fn max_chunk(limits: &Limits) -> usize {
    base_chunk(limits).saturating_mul(READ_CHUNK_GROWTH)
}

/// The read buffer's size once `read_buffer_size` is too small: twice the largest chunk (no
/// more than the largest frame and a chunk need). A frame of up to a chunk (header included)
/// plus a whole chunk behind it fits, as does any frame up to the window itself, so from then
/// on the buffer never grows for such frames.
fn read_window(limits: &Limits) -> usize {
    max_chunk(limits)
        .saturating_mul(2)
        .min(read_buffer_limit(limits))
}

/// The read buffer never grows past one whole frame, its header and the largest read chunk.
fn read_buffer_limit(limits: &Limits) -> usize {
    limits
        .max_compressed_frame_size()
        .saturating_add(MAX_HEADER_LEN)
        .saturating_add(max_chunk(limits))
}

/// Text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
}

/// Where a message's payload lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    /// `start..end` of the read buffer (an unfragmented, uncompressed message).
    Buf(usize, usize),
    /// The assembly buffer.
    Assembled,
}

/// What [`Reader::advance`] completed; look at it with [`Reader::view`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A text message.
    Text,
    /// A binary message.
    Binary,
    /// A ping.
    Ping,
    /// A pong.
    Pong,
    /// A close frame (nothing more will be parsed).
    Close,
}

/// A completed item: where its bytes are. Private so that `view` can trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ready {
    /// A text or binary message.
    Data(DataKind, Loc),
    /// A ping with its payload range in the read buffer.
    Ping(usize, usize),
    /// A pong with its payload range in the read buffer.
    Pong(usize, usize),
    /// A close frame: its code (if any) and the reason's range in the read buffer.
    Close(Option<CloseCode>, usize, usize),
}

#[derive(Clone, Copy, Debug)]
struct Partial {
    header: FrameHeader,
    header_len: usize,
    payload_len: usize,
    /// Payload bytes already unmasked (and validated).
    done: usize,
    /// Validate payload as UTF-8 while it arrives.
    validate: bool,
}

#[derive(Clone, Copy, Debug)]
struct Assembly {
    kind: DataKind,
    compressed: bool,
    fragments: usize,
}

/// The receive-side state machine.
///
/// # Examples
/// A masked frame, fed in two pieces:
/// ```
/// use sonic_ws::proto::read::{Kind, Limits, Reader};
/// use sonic_ws::{MessageRef, Role};
///
/// // "Hello" from a client, masked (RFC 6455, section 5.7).
/// let frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let mut r = Reader::new(Role::Server, Limits::default());
/// r.feed(&frame[..4]);
/// assert_eq!(r.advance()?, None); // the header is not complete yet
/// r.feed(&frame[4..]);
/// assert_eq!(r.advance()?, Some(Kind::Text));
/// assert_eq!(r.view(), Some(MessageRef::Text("Hello")));
/// # Ok::<_, sonic_ws::ProtocolError>(())
/// ```
#[derive(Debug)]
pub struct Reader {
    role: Role,
    limits: Limits,
    /// Received bytes; positions below are relative to the start of its readable window, which
    /// stays put until `pending_consume` is applied. Its limit is its capacity: only
    /// [`Reader::resize`] changes its size.
    buf: ByteBuffer,
    pending_consume: usize,
    /// Current read chunk: between `read_buffer_size` and `READ_CHUNK_GROWTH` times it.
    chunk: usize,
    /// Free space the last `read_buf` offered.
    offered: usize,
    frame: Option<Partial>,
    msg: Option<Assembly>,
    assembled: Vec<u8>,
    utf8: Utf8Validator,
    inflater: Option<Inflater>,
    closed: bool,
    /// The item returned by the last `advance`; cleared by every `&mut self` call, so a view
    /// can never name bytes that changed since they were validated.
    last: Option<Ready>,
}

impl Reader {
    /// A reader for `role` (a server expects masked frames, a client unmasked ones).
    pub fn new(role: Role, limits: Limits) -> Self {
        Reader {
            role,
            limits,
            buf: ByteBuffer::new().with_limit(0),
            pending_consume: 0,
            chunk: base_chunk(&limits),
            offered: 0,
            frame: None,
            msg: None,
            assembled: Vec::new(),
            utf8: Utf8Validator::new(),
            inflater: None,
            closed: false,
            last: None,
        }
    }

    /// Enables permessage-deflate decoding (RSV1 becomes legal on data frames).
    pub fn set_inflater(&mut self, inflater: Option<Inflater>) {
        self.last = None;
        self.inflater = inflater;
    }

    /// True once a close frame was returned.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes buffered but not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pending_consume
    }

    /// Bytes of memory held by the read and assembly buffers.
    pub fn memory(&self) -> usize {
        self.buf.capacity() + self.assembled.capacity()
    }

    fn consume_pending(&mut self) {
        self.last = None;
        self.buf.consume(self.pending_consume);
        self.pending_consume = 0;
    }

    /// Free space to read into, sized for the frame in progress. Ends any [`view`](Self::view).
    ///
    /// Empty only if the allocator refused to grow the buffer, or if [`advance`](Self::advance)
    /// did not run until `Ok(None)` since the last fill (otherwise there is always room for the
    /// rest of the frame in progress, or for the next header).
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.consume_pending_and_trim();
        let have = self.buf.len();
        // What the frame in progress (or the next header) still needs.
        let rest = match &self.frame {
            Some(f) => f.header_len + f.payload_len,
            None => MAX_HEADER_LEN,
        }
        .saturating_sub(have);
        let want = rest.max(self.chunk);
        let cap = self.buf.capacity();
        // Grow when the frame does not fit, or when a streaming peer (the chunk grew) wants
        // more than the buffer can offer and the buffer is not yet the read window. A read
        // chunk alone never grows a buffer that holds the frame: the chunk is then what fits.
        let window = read_window(&self.limits);
        if have + rest > cap
            || (cap < window && self.chunk > base_chunk(&self.limits) && have + self.chunk > cap)
        {
            self.resize(self.size_for(have + want));
        }
        // The whole free tail is offered, so a read takes as much as the socket has. A tail
        // shorter than the chunk is made by moving the unread bytes to the front (the buffer's
        // limit is its capacity, so it never reallocates for it).
        let room = self.buf.capacity() - have;
        let space = self.buf.claim_all(want.min(room));
        self.offered = space.len();
        space
    }

    /// The size to give the buffer for `need` bytes: the read buffer size, else the read
    /// window, else (a frame larger than the window) exactly `need`.
    fn size_for(&self, need: usize) -> usize {
        let window = read_window(&self.limits);
        if need <= base_chunk(&self.limits) {
            base_chunk(&self.limits)
        } else if need <= window {
            window
        } else {
            need
        }
    }

    /// Moves the unread bytes into a new buffer of `cap` bytes (at least what is buffered),
    /// whose limit is its capacity. If the allocator refuses, the old buffer stays.
    fn resize(&mut self, cap: usize) {
        let cap = cap.max(self.buf.len());
        let mut next = ByteBuffer::with_capacity(cap).with_limit(cap);
        if next.push(self.buf.data()) == self.buf.len() {
            self.buf = next;
        }
    }

    /// Applies the pending consume and gives back a buffer grown for a frame larger than the
    /// read window once it is empty (the next read starts again at `read_buffer_size`).
    fn consume_pending_and_trim(&mut self) {
        self.consume_pending();
        if self.buf.is_empty() && self.buf.capacity() > read_window(&self.limits) {
            self.buf = ByteBuffer::new().with_limit(0);
        }
    }

    /// Marks `n` bytes of [`read_buf`](Self::read_buf) as filled.
    pub fn commit(&mut self, n: usize) {
        self.last = None;
        // Adapt the read chunk: a read that filled a whole chunk and all the space offered
        // suggests more is waiting; reads far below the chunk mean the burst is over.
        let base = base_chunk(&self.limits);
        if n > 0 && n >= self.offered && n >= self.chunk {
            self.chunk = (self.chunk * 2).min(max_chunk(&self.limits));
        } else if n < self.chunk / 8 && self.chunk > base {
            self.chunk = (self.chunk / 2).max(base);
        }
        self.offered = 0;
        self.buf.commit(n);
    }

    /// Copies `data` in (for tests, fuzzing and callers that already hold bytes, such as what
    /// followed a handshake in the same read). All of it goes in, even past the read buffer's
    /// limit (several whole frames not yet advanced can exceed it): the caller already holds
    /// the bytes, so this bounds nothing.
    pub fn feed(&mut self, data: &[u8]) {
        self.consume_pending_and_trim();
        let have = self.buf.len();
        if have + data.len() > self.buf.capacity() {
            self.resize(self.size_for(have + data.len()));
        }
        if self.buf.push(data) < data.len() {
            // Only the allocator can refuse: report it as `Vec` would, never drop bytes.
            std::alloc::handle_alloc_error(
                std::alloc::Layout::array::<u8>(data.len())
                    .unwrap_or(std::alloc::Layout::new::<u8>()),
            );
        }
    }

    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv2 || h.rsv3 {
            return Err(ProtocolError::ReservedBits);
        }
        if h.rsv1 && (self.inflater.is_none() || !matches!(h.opcode, OpCode::Text | OpCode::Binary))
        {
            return Err(ProtocolError::ReservedBits);
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) if !self.limits.accept_unmasked_frames => {
                return Err(ProtocolError::UnmaskedFrame)
            }
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let compressed = match (h.opcode, &self.msg) {
            (OpCode::Continuation, Some(m)) => m.compressed,
            _ => h.rsv1,
        };
        let max_frame = if compressed {
            self.limits.max_compressed_frame_size()
        } else {
            self.limits.max_frame_size
        };
        if h.payload_len > max_frame as u64 {
            return Err(ProtocolError::FrameTooLarge);
        }
        match (h.opcode, &self.msg) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (OpCode::Continuation, Some(m)) => {
                if m.fragments >= self.limits.max_fragments {
                    return Err(ProtocolError::TooManyFragments);
                }
                if !m.compressed
                    && self.assembled.len() as u64 + h.payload_len
                        > self.limits.max_message_size as u64
                {
                    return Err(ProtocolError::MessageTooLarge);
                }
            }
            (OpCode::Text | OpCode::Binary, None)
                if !h.rsv1 && h.payload_len > self.limits.max_message_size as u64 =>
            {
                return Err(ProtocolError::MessageTooLarge);
            }
            _ => {}
        }
        Ok(())
    }

    /// Parses buffered bytes until a message or control frame is complete.
    ///
    /// `Ok(None)` means more bytes are needed (or the close frame was already returned).
    ///
    /// # Errors
    /// The first protocol violation; the connection must then be failed with
    /// [`ProtocolError::close_code`]. Later calls keep returning errors or `None`.
    pub fn advance(&mut self) -> Result<Option<Kind>, ProtocolError> {
        let r = self.advance_inner()?;
        self.last = r;
        Ok(r.map(|r| match r {
            Ready::Data(DataKind::Text, _) => Kind::Text,
            Ready::Data(DataKind::Binary, _) => Kind::Binary,
            Ready::Ping(..) => Kind::Ping,
            Ready::Pong(..) => Kind::Pong,
            Ready::Close(..) => Kind::Close,
        }))
    }

    fn advance_inner(&mut self) -> Result<Option<Ready>, ProtocolError> {
        loop {
            self.consume_pending();
            if self.closed {
                return Ok(None);
            }
            let f = match self.frame {
                Some(f) => f,
                None => {
                    // The header is checked as soon as its length is in, before the masking
                    // key: a peer that announces a huge frame and then stalls is refused at
                    // once (1009), not held open waiting for 4 more bytes.
                    let data = self.buf.data();
                    let Some((mut header, header_len)) = FrameHeader::decode_prefix(data)? else {
                        return Ok(None);
                    };
                    self.check_header(&header)?;
                    let data = self.buf.data();
                    if data.len() < header_len {
                        return Ok(None);
                    }
                    if let Some(key) = &mut header.mask {
                        key.copy_from_slice(&data[header_len - 4..header_len]);
                    }
                    let text = match header.opcode {
                        OpCode::Text => {
                            self.utf8.reset();
                            true
                        }
                        OpCode::Continuation => {
                            matches!(self.msg, Some(m) if m.kind == DataKind::Text && !m.compressed)
                        }
                        _ => false,
                    };
                    let f = Partial {
                        header,
                        header_len,
                        // Bounded by max_frame_size (a usize) in check_header.
                        payload_len: header.payload_len as usize,
                        done: 0,
                        validate: text && !header.rsv1,
                    };
                    self.frame = Some(f);
                    f
                }
            };
            let p0 = f.header_len;
            // The header stays buffered until the frame completes, so `len >= header_len`.
            let have = (self.buf.len() - f.header_len).min(f.payload_len);
            if have > f.done {
                let seg = &mut self.buf.data_mut()[p0 + f.done..p0 + have];
                if let Some(key) = f.header.mask {
                    apply_mask(seg, key, f.done);
                }
                if f.validate {
                    self.utf8
                        .feed(seg)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                if let Some(p) = &mut self.frame {
                    p.done = have;
                }
            }
            if have < f.payload_len {
                return Ok(None);
            }
            self.frame = None;
            let p1 = p0 + f.payload_len;
            self.pending_consume = f.header_len + f.payload_len;
            let h = f.header;
            match h.opcode {
                OpCode::Ping => return Ok(Some(Ready::Ping(p0, p1))),
                OpCode::Pong => return Ok(Some(Ready::Pong(p0, p1))),
                OpCode::Close => {
                    let parsed = parse_close_payload(&self.buf.data()[p0..p1])?;
                    self.closed = true;
                    return Ok(Some(match parsed {
                        None => Ready::Close(None, p1, p1),
                        Some((code, _)) => Ready::Close(Some(code), p0 + 2, p1),
                    }));
                }
                OpCode::Text | OpCode::Binary => {
                    let kind = if h.opcode == OpCode::Text {
                        DataKind::Text
                    } else {
                        DataKind::Binary
                    };
                    if h.fin && !h.rsv1 {
                        if kind == DataKind::Text {
                            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                        }
                        return Ok(Some(Ready::Data(kind, Loc::Buf(p0, p1))));
                    }
                    self.msg = Some(Assembly {
                        kind,
                        compressed: h.rsv1,
                        fragments: 1,
                    });
                    self.assembled.clear();
                    self.append(p0, p1)?;
                    if h.fin {
                        return self.finish_message().map(Some);
                    }
                }
                OpCode::Continuation => {
                    if let Some(m) = &mut self.msg {
                        m.fragments += 1;
                    }
                    self.append(p0, p1)?;
                    if h.fin {
                        return self.finish_message().map(Some);
                    }
                }
            }
        }
    }

    /// Adds a completed frame's payload to the message being assembled.
    fn append(&mut self, p0: usize, p1: usize) -> Result<(), ProtocolError> {
        let Some(m) = self.msg else {
            return Err(ProtocolError::UnexpectedContinuation);
        };
        let payload = &self.buf.data()[p0..p1];
        if m.compressed {
            let inflater = self.inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
            let before = self.assembled.len();
            inflater.inflate(payload, &mut self.assembled, self.limits.max_message_size)?;
            if m.kind == DataKind::Text {
                self.utf8
                    .feed(&self.assembled[before..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        } else {
            // Already unmasked and validated while arriving; size checked in check_header.
            self.assembled.extend_from_slice(payload);
        }
        Ok(())
    }

    fn finish_message(&mut self) -> Result<Ready, ProtocolError> {
        let Some(m) = self.msg.take() else {
            return Err(ProtocolError::UnexpectedContinuation);
        };
        if m.compressed {
            let inflater = self.inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
            let before = self.assembled.len();
            inflater.finish(&mut self.assembled, self.limits.max_message_size)?;
            if m.kind == DataKind::Text {
                self.utf8
                    .feed(&self.assembled[before..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        if m.kind == DataKind::Text {
            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        Ok(Ready::Data(m.kind, Loc::Assembled))
    }

    /// Borrows the item the last [`advance`](Self::advance) returned; `None` after any other
    /// `&mut self` call.
    pub fn view(&self) -> Option<MessageRef<'_>> {
        Some(match self.last? {
            Ready::Ping(a, b) => MessageRef::Ping(&self.buf.data()[a..b]),
            Ready::Pong(a, b) => MessageRef::Pong(&self.buf.data()[a..b]),
            Ready::Close(None, _, _) => MessageRef::Close(None),
            Ready::Close(Some(code), a, b) => MessageRef::Close(Some((
                code,
                // Validated by parse_close_payload; a failure here is impossible and maps to "".
                std::str::from_utf8(&self.buf.data()[a..b]).unwrap_or(""),
            ))),
            Ready::Data(kind, loc) => {
                let bytes = match loc {
                    Loc::Buf(a, b) => &self.buf.data()[a..b],
                    Loc::Assembled => &self.assembled[..],
                };
                match kind {
                    DataKind::Binary => MessageRef::Binary(bytes),
                    // SAFETY: `last` is only set by `advance` for a text message whose every
                    // byte was accepted by the UTF-8 validator (incrementally as it arrived,
                    // then `finish` for a cut-off sequence at the end), and `last` is cleared
                    // by every `&mut self` method before the buffers can change, so `bytes`
                    // are exactly the validated bytes.
                    DataKind::Text => MessageRef::Text(unsafe { super::utf8::assume_valid(bytes) }),
                }
            }
        })
    }

    /// Ends the current [`view`](Self::view) without taking the item (its bytes are released
    /// at the next fill or advance as usual).
    pub(crate) fn release_view(&mut self) {
        self.last = None;
    }

    /// Takes the last item as an owned [`Message`]: an assembled message's buffer moves out
    /// without a copy, an in-place one is copied once.
    pub fn take(&mut self) -> Option<Message> {
        let last = self.last?;
        let msg = match last {
            Ready::Data(kind, Loc::Assembled) => {
                let bytes = std::mem::take(&mut self.assembled);
                match kind {
                    DataKind::Binary => Message::Binary(bytes),
                    DataKind::Text => {
                        // SAFETY: as in `view`: `last` names a text message, so the assembled
                        // buffer holds exactly bytes the validator accepted in full, unchanged
                        // since.
                        let s = unsafe { super::utf8::assume_valid_owned(bytes) };
                        Message::Text(s)
                    }
                }
            }
            _ => self.view()?.to_owned(),
        };
        self.last = None;
        Some(msg)
    }
}
