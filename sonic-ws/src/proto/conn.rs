//! A whole connection without I/O: reader + writer + output queue + close state machine.
//!
//! Rules:
//! - Bytes from the peer go in through [`Connection::read_buf`]/[`Connection::commit`]; bytes
//!   for the peer come out of [`Connection::output`] and are released with
//!   [`Connection::consume_output`]. The output queue only ever holds whole frames.
//! - Pings are answered (auto-pong) and a peer's Close is echoed by queueing frames; nothing
//!   is ever written twice and at most one Close frame is ever queued.
//! - A protocol error queues a Close with the matching code (1002/1007/1009) and moves to
//!   `Closed`: RFC 6455 7.1.7 says to fail the connection, i.e. send Close, then drop TCP.
//! - While a zero-copy payload is being written after a header in the queue
//!   ([`Connection::begin_frame`]), control frames wait in a side queue so that they cannot be
//!   interleaved inside the payload; [`Connection::end_frame`] releases them.
//! - The output queue's size never depends on how much each write took: it starts at 16 KiB,
//!   and the first time a frame does not fit it takes, at once, all that backpressure lets it
//!   hold (`write_buffer_size` queued plus that frame), which it keeps. Room for a zero-copy
//!   echo is made before the write, as if the write took nothing. Bytes already written are
//!   dropped from the front before the queue grows (they used to stay until the queue
//!   emptied, so a queue that never emptied grew without bound).
//!
//! State: `Open` → (we close) `CloseSent` → (peer's Close) `Closed`;
//! `Open` → (peer's Close, we echo) `Closed`; any → (protocol error) `Closed`.

use super::close::{encode_close_payload, CloseCode};
use super::error::{ConnectionError, ProtocolError};
use super::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use super::message::{Message, MessageRef};
use super::read::{Kind, Limits, Reader};
use super::write::Writer;
use super::{deflate::Inflater, extension::DeflateParams, Role};

/// Where the close handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseState {
    /// Messages flow both ways.
    Open,
    /// We sent Close and wait for the peer's.
    CloseSent,
    /// Both Close frames were exchanged, or the connection failed: flush output, then drop the
    /// transport.
    Closed,
}

/// The output queue's first size: room for a burst of small frames.
const QUEUE_START: usize = 16 << 10;

/// `Config::write_buffer_size`'s default.
const DEFAULT_WRITE_BUFFER_SIZE: usize = 256 << 10;

/// Makes room for `add` more bytes at the end of the queue `out` (whose bytes before `pos` are
/// written), without reallocating unless that is the only way; see the module rules.
fn reserve_output(out: &mut Vec<u8>, pos: &mut usize, write_buffer_size: usize, add: usize) {
    if out.capacity() - out.len() >= add {
        return;
    }
    if *pos > 0 {
        // The copy a reallocation would make, without the allocation.
        out.drain(..*pos);
        *pos = 0;
        if out.capacity() - out.len() >= add {
            return;
        }
    }
    let need = out.len() + add;
    let size = if need <= QUEUE_START {
        QUEUE_START
    } else {
        need.max(write_buffer_size.saturating_add(add))
    };
    out.reserve_exact(size - out.len());
}

/// Queue bytes for a frame of `len` payload bytes from `writer` (a compressed one is at most a
/// little larger than its payload).
fn frame_room(writer: &Writer, len: usize) -> usize {
    let slack = if writer.will_compress(len) {
        len / 1024 + 64
    } else {
        0
    };
    MAX_HEADER_LEN + len + slack
}

/// Connection state with no I/O.
///
/// # Examples
/// Two endpoints talking through byte buffers, no I/O at all:
/// ```
/// use sonic_ws::proto::conn::Connection;
/// use sonic_ws::{Limits, Message, OpCode, Role};
///
/// let mut client = Connection::new(Role::Client, Limits::default(), None);
/// let mut server = Connection::new(Role::Server, Limits::default(), None);
/// client.send(OpCode::Text, b"ping me")?;
/// server.feed(client.output());
/// let n = client.output().len();
/// client.consume_output(n);
/// assert!(server.advance()?.is_some());
/// assert_eq!(server.take(), Some(Message::Text("ping me".into())));
/// assert!(server.advance()?.is_none()); // needs more bytes
/// # Ok::<_, sonic_ws::proto::error::ConnectionError>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    reader: Reader,
    writer: Writer,
    out: Vec<u8>,
    out_pos: usize,
    write_buffer_size: usize,
    deferred: Vec<u8>,
    in_frame: bool,
    state: CloseState,
    auto_pong: bool,
    error: Option<ProtocolError>,
}

impl Connection {
    /// A connection for `role` with `limits` and optional permessage-deflate parameters.
    pub fn new(role: Role, limits: Limits, deflate: Option<DeflateParams>) -> Self {
        let mut reader = Reader::new(role, limits);
        let mut writer = Writer::new(role);
        if let Some(p) = &deflate {
            reader.set_inflater(Some(Inflater::new(p.remote_no_context_takeover)));
            writer.set_deflate(Some(p));
        }
        Connection {
            reader,
            writer,
            out: Vec::new(),
            out_pos: 0,
            write_buffer_size: DEFAULT_WRITE_BUFFER_SIZE,
            deferred: Vec::new(),
            in_frame: false,
            state: CloseState::Open,
            auto_pong: true,
            error: None,
        }
    }

    /// Turns automatic pong replies on or off (on by default).
    pub fn set_auto_pong(&mut self, on: bool) {
        self.auto_pong = on;
    }

    /// Sets how much queued output the caller lets build up before it waits for the peer
    /// (`Config::write_buffer_size`, 256 KiB by default): the output queue is sized for it.
    pub fn set_write_buffer_size(&mut self, n: usize) {
        self.write_buffer_size = n;
    }

    /// Room in the output queue for one frame of `len` payload bytes.
    fn reserve_frame(&mut self, len: usize) {
        let add = frame_room(&self.writer, len);
        reserve_output(
            &mut self.out,
            &mut self.out_pos,
            self.write_buffer_size,
            add,
        );
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.writer.role()
    }

    /// The close state.
    pub fn state(&self) -> CloseState {
        self.state
    }

    /// The protocol error that failed the connection, if any.
    pub fn error(&self) -> Option<ProtocolError> {
        self.error
    }

    /// The receive side.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// Space to read peer bytes into.
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.reader.read_buf()
    }

    /// Marks `n` bytes of [`read_buf`](Self::read_buf) as filled.
    pub fn commit(&mut self, n: usize) {
        self.reader.commit(n);
    }

    /// Copies peer bytes in.
    pub fn feed(&mut self, data: &[u8]) {
        self.reader.feed(data);
    }

    /// Parses until a message or control frame is complete; `Ok(None)` needs more bytes (or
    /// the connection is closed). Pings and Close frames are answered in the output queue.
    ///
    /// # Errors
    /// [`ConnectionError::Protocol`] once, on the first violation (a Close with its code is
    /// queued); [`ConnectionError::Closed`] afterwards.
    pub fn advance(&mut self) -> Result<Option<Kind>, ConnectionError> {
        if self.error.is_some() {
            return Err(ConnectionError::Closed);
        }
        match self.reader.advance() {
            Err(e) => {
                self.error = Some(e);
                if self.state == CloseState::Open {
                    self.queue_close(e.close_code(), e.reason());
                }
                self.state = CloseState::Closed;
                Err(ConnectionError::Protocol(e))
            }
            Ok(Some(Kind::Ping)) => {
                if self.auto_pong && self.state == CloseState::Open {
                    let mut tmp = [0u8; 125];
                    let mut len = 0;
                    if let Some(MessageRef::Ping(p)) = self.reader.view() {
                        len = p.len().min(125);
                        tmp[..len].copy_from_slice(&p[..len]);
                    }
                    self.queue_control(OpCode::Pong, &tmp[..len]);
                }
                Ok(Some(Kind::Ping))
            }
            Ok(Some(Kind::Close)) => {
                if self.state == CloseState::Open {
                    let code = match self.reader.view() {
                        Some(MessageRef::Close(Some((code, _)))) => Some(code),
                        _ => None,
                    };
                    match code {
                        Some(c) => self.queue_close(c, ""),
                        None => self.queue_control(OpCode::Close, &[]),
                    }
                }
                self.state = CloseState::Closed;
                Ok(Some(Kind::Close))
            }
            other => other.map_err(ConnectionError::Protocol),
        }
    }

    /// Borrows the item [`advance`](Self::advance) returned.
    pub fn view(&self) -> Option<MessageRef<'_>> {
        self.reader.view()
    }

    /// Takes the item [`advance`](Self::advance) returned as an owned message.
    pub fn take(&mut self) -> Option<Message> {
        self.reader.take()
    }

    fn queue_control(&mut self, opcode: OpCode, payload: &[u8]) {
        let q = if self.in_frame {
            &mut self.deferred
        } else {
            self.reserve_frame(payload.len());
            &mut self.out
        };
        self.writer.encode_frame(q, opcode, true, false, payload);
    }

    fn queue_close(&mut self, code: CloseCode, reason: &str) {
        if let Ok((buf, len)) = encode_close_payload(code, reason) {
            self.queue_control(OpCode::Close, &buf[..len]);
        }
    }

    fn check_open(&self) -> Result<(), ConnectionError> {
        if self.state == CloseState::Open {
            Ok(())
        } else {
            Err(ConnectionError::Closed)
        }
    }

    /// Queues a whole message (text, binary, ping or pong); data is compressed when
    /// negotiated. Copies the payload into the output queue.
    ///
    /// # Errors
    /// [`ConnectionError::Closed`] after Close was sent; [`ConnectionError::InvalidInput`] for a
    /// control payload over 125 bytes or a Close opcode (use [`close`](Self::close)).
    pub fn send(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), ConnectionError> {
        self.check_open()?;
        match opcode {
            OpCode::Close => {
                return Err(ConnectionError::InvalidInput("use close() to send Close"))
            }
            OpCode::Continuation => {
                return Err(ConnectionError::InvalidInput(
                    "use send_frame() for fragments",
                ))
            }
            OpCode::Ping | OpCode::Pong => {
                if payload.len() > 125 {
                    return Err(ConnectionError::InvalidInput(
                        "control payload over 125 bytes",
                    ));
                }
                self.queue_control(opcode, payload);
                return Ok(());
            }
            OpCode::Text | OpCode::Binary => {}
        }
        if self.in_frame {
            return Err(ConnectionError::InvalidInput(
                "a zero-copy frame is in progress",
            ));
        }
        self.reserve_frame(payload.len());
        self.writer.encode_message(&mut self.out, opcode, payload);
        Ok(())
    }

    /// Queues one raw, uncompressed frame (for sending a message in fragments).
    ///
    /// # Errors
    /// As for [`send`](Self::send); fragment order is the caller's responsibility.
    pub fn send_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), ConnectionError> {
        self.check_open()?;
        if opcode.is_control() && (!fin || payload.len() > 125 || opcode == OpCode::Close) {
            return Err(ConnectionError::InvalidInput("bad control frame"));
        }
        if self.in_frame {
            return Err(ConnectionError::InvalidInput(
                "a zero-copy frame is in progress",
            ));
        }
        self.reserve_frame(payload.len());
        self.writer
            .encode_frame(&mut self.out, opcode, fin, false, payload);
        Ok(())
    }

    /// Sends the data message the last [`advance`](Self::advance) returned back to the peer.
    ///
    /// A server's uncompressed echo of at least `in_place_from` bytes is not copied: its
    /// header is queued, then `write` is handed the queued output and the payload where it
    /// lies (receive or assembly buffer) and returns how many bytes of the two, in that order,
    /// it wrote right away (0 when it could not write: an I/O error stays with the caller, the
    /// core never sees one). Only the payload bytes it did not write are copied into the queue,
    /// so the queue still holds whole frames and nothing refers to the receive buffer after
    /// this returns. Any other echo (a client must mask; compressed or small) is queued as
    /// [`send`](Self::send) would, without calling `write`. Returns whether `write` was called.
    /// The message can be echoed once: afterwards [`view`](Self::view) is `None`.
    ///
    /// # Errors
    /// [`ConnectionError::InvalidInput`] if the last item was not a text or binary message (or
    /// was taken); [`ConnectionError::Closed`] after Close was sent.
    pub fn echo(
        &mut self,
        in_place_from: usize,
        write: impl FnOnce(&[u8], &[u8]) -> usize,
    ) -> Result<bool, ConnectionError> {
        self.check_open()?;
        if self.in_frame {
            return Err(ConnectionError::InvalidInput(
                "a zero-copy frame is in progress",
            ));
        }
        let (opcode, payload) = match self.reader.view() {
            Some(MessageRef::Binary(b)) => (OpCode::Binary, b),
            Some(MessageRef::Text(t)) => (OpCode::Text, t.as_bytes()),
            _ => {
                return Err(ConnectionError::InvalidInput(
                    "echo needs the text or binary message recv_ref just returned",
                ))
            }
        };
        // As if the write took nothing, so that how much it takes never decides the size.
        let add = frame_room(&self.writer, payload.len());
        reserve_output(
            &mut self.out,
            &mut self.out_pos,
            self.write_buffer_size,
            add,
        );
        if self.writer.role() == Role::Client
            || payload.len() < in_place_from
            || self.writer.will_compress(payload.len())
        {
            self.writer.encode_message(&mut self.out, opcode, payload);
            self.reader.release_view();
            return Ok(false);
        }
        let h = self.writer.header(opcode, true, false, payload.len());
        self.out.extend_from_slice(h.encode().as_slice());
        let queued = self.out.len() - self.out_pos;
        let written = write(&self.out[self.out_pos..], payload).min(queued + payload.len());
        let from_out = written.min(queued);
        self.out.extend_from_slice(&payload[written - from_out..]);
        // Echoed once: a retry after a cancelled flush must not send it again.
        self.reader.release_view();
        self.consume_output(from_out);
        Ok(true)
    }

    /// Whether a data message of `len` bytes would be compressed by [`send`](Self::send).
    pub fn will_compress(&self, len: usize) -> bool {
        self.writer.will_compress(len)
    }

    /// Queues only the header of an uncompressed, final data frame of `len` bytes; the caller
    /// writes the payload right after the queued output (masked with
    /// [`Writer::mask_in_place`] when the returned header has a key), then calls
    /// [`end_frame`](Self::end_frame).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub fn begin_frame(
        &mut self,
        opcode: OpCode,
        len: usize,
    ) -> Result<FrameHeader, ConnectionError> {
        self.check_open()?;
        if opcode.is_control() || self.in_frame {
            return Err(ConnectionError::InvalidInput(
                "begin_frame is for one data frame at a time",
            ));
        }
        let h = self.writer.header(opcode, true, false, len);
        self.reserve_frame(0);
        self.out.extend_from_slice(h.encode().as_slice());
        self.in_frame = true;
        Ok(h)
    }

    /// The payload started by [`begin_frame`](Self::begin_frame) was fully written.
    pub fn end_frame(&mut self) {
        self.in_frame = false;
        if !self.deferred.is_empty() {
            let d = std::mem::take(&mut self.deferred);
            reserve_output(
                &mut self.out,
                &mut self.out_pos,
                self.write_buffer_size,
                d.len(),
            );
            self.out.extend_from_slice(&d);
            self.deferred = d;
            self.deferred.clear();
        }
    }

    /// Starts the closing handshake: queues Close with `code` and `reason`.
    ///
    /// # Errors
    /// [`ConnectionError::InvalidInput`] for a code that may not be sent or a reason over 123
    /// bytes; [`ConnectionError::Closed`] if Close was already sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), ConnectionError> {
        self.close_with(Some((code, reason)))
    }

    /// Starts the closing handshake with an optional code; `None` sends an empty Close.
    ///
    /// # Errors
    /// As for [`close`](Self::close).
    pub fn close_with(&mut self, frame: Option<(CloseCode, &str)>) -> Result<(), ConnectionError> {
        self.check_open()?;
        match frame {
            Some((code, reason)) => {
                let (buf, len) = encode_close_payload(code, reason)?;
                self.queue_control(OpCode::Close, &buf[..len]);
            }
            None => self.queue_control(OpCode::Close, &[]),
        }
        self.state = CloseState::CloseSent;
        Ok(())
    }

    /// Bytes waiting to be written to the peer.
    pub fn output(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// Releases `n` written bytes of [`output`](Self::output).
    pub fn consume_output(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            // A queue grown for a frame over 1 MiB gives that memory back.
            if self.out.capacity() > self.write_buffer_size.saturating_add(1 << 20) {
                self.out.shrink_to(QUEUE_START);
            }
        }
    }

    /// Bytes queued for the peer (including control frames waiting for a payload).
    pub fn queued(&self) -> usize {
        self.out.len() - self.out_pos + self.deferred.len()
    }
}
