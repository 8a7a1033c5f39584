//! `WebSocket<S>`: the async connection over any `futures_io` stream.
//!
//! Rules:
//! - All protocol state lives in [`Connection`] and in this struct, never in a future's locals,
//!   so dropping a `recv` future loses nothing (reads are cancel-safe). A `send` dropped after
//!   it started writing a frame leaves a partial frame on the wire; the next send then fails
//!   with an error instead of corrupting the stream.
//! - Every poll method borrows `self` only for the duration of the poll; that is what lets the
//!   split halves share one `WebSocket` through `Rc<RefCell<..>>` without holding a borrow
//!   across an await.
//! - Queued control frames (pong, Close echo) are flushed from the receive path; reading
//!   pauses while more than `write_buffer_size` bytes are queued, so a peer that stops reading
//!   cannot grow our memory.
//! - After a protocol error the matching Close is flushed before the error is returned; after
//!   the peer's Close our echo is flushed before the Close is returned.

use crate::config::Config;
use crate::proto::close::CloseCode;
use crate::proto::conn::{CloseState, Connection};
use crate::proto::error::ConnectionError;
use crate::proto::extension::DeflateParams;
use crate::proto::frame::OpCode;
use crate::proto::message::{Message, MessageRef};
use crate::proto::read::Kind;
use crate::proto::write::Writer;
use crate::proto::Role;
use crate::write_waiters::{Slot, WriteWaiters};
use crate::{Error, ProtocolError};
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

macro_rules! ready {
    ($e:expr) => {
        match $e {
            Poll::Ready(v) => v,
            Poll::Pending => return Poll::Pending,
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Normal operation.
    Open,
    /// A protocol error: flush our Close, then report the error.
    Failing(ProtocolError),
    /// An item is ready but queued output (a Close echo) must be flushed first.
    Holding(Kind),
    /// Nothing more will be received.
    Done,
}

/// A WebSocket connection over a `futures_io::AsyncRead + AsyncWrite` stream.
///
/// Single-threaded by design: it is `!Sync`, and [`split`](Self::split) shares it between two
/// tasks of one thread through `Rc<RefCell<..>>` (each poll borrows it briefly; no lock).
///
/// # Examples
/// An echo server and a client over loopback TCP, on sonic-rt:
/// ```
/// use sonic_net::{TcpListener, TcpStream};
/// use sonic_ws::{CloseCode, Message};
///
/// sonic_rt::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = sonic_rt::spawn(async move {
///         let (tcp, _) = listener.accept().await?;
///         let mut ws = sonic_ws::accept(tcp).await?;
///         while let Some(msg) = ws.recv_data().await? {
///             ws.send(msg).await?;
///         }
///         Ok::<_, sonic_ws::Error>(())
///     });
///     let tcp = TcpStream::connect(addr).await?;
///     let mut ws = sonic_ws::client(tcp, &format!("ws://{addr}/")).await?;
///     ws.send_text("hello").await?;
///     assert_eq!(ws.recv().await?, Message::Text("hello".into()));
///     ws.close(CloseCode::NORMAL, "bye").await?;
///     server.await.unwrap()?;
///     Ok::<_, sonic_ws::Error>(())
/// })?;
/// # Ok::<_, sonic_ws::Error>(())
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    io: S,
    conn: Connection,
    config: Config,
    phase: Phase,
    protocol: Option<String>,
    waiters: WriteWaiters,
    eof: bool,
    /// Keepalive and read idle state (unused unless configured).
    idle: Idle,
    /// Armed while a send waits for a stream that takes no bytes (with `send_timeout`).
    send_deadline: Deadline,
}

/// A sleep from the configured timer, armed or not.
#[derive(Default)]
struct Deadline(Option<Pin<Box<dyn Future<Output = ()>>>>);

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "armed" } else { "idle" })
    }
}

/// Keepalive and read idle timeout. The sleep is armed for the nearest deadline and, when it
/// fires, the deadlines are computed again from the time of the last received bytes, so
/// traffic costs one clock read per read and never a new sleep.
#[derive(Debug, Default)]
struct Idle {
    enabled: bool,
    sleep: Deadline,
    last_rx: Option<Instant>,
    ping_sent: Option<Instant>,
}

impl<S> WebSocket<S> {
    /// Wraps a stream whose handshake is already done. `leftover` are bytes read past the
    /// handshake (the start of the first frames).
    pub fn from_raw(
        io: S,
        role: Role,
        config: Config,
        deflate: Option<DeflateParams>,
        leftover: &[u8],
    ) -> Self {
        let mut conn = Connection::new(role, config.limits, deflate);
        conn.set_auto_pong(config.auto_pong);
        conn.set_write_buffer_size(config.write_buffer_size);
        conn.feed(leftover);
        let enabled =
            config.has_timer() && (config.ping_interval.is_some() || config.read_timeout.is_some());
        let idle = Idle {
            enabled,
            last_rx: if enabled { config.now() } else { None },
            ..Idle::default()
        };
        WebSocket {
            io,
            conn,
            config,
            phase: Phase::Open,
            protocol: None,
            waiters: WriteWaiters::default(),
            eof: false,
            idle,
            send_deadline: Deadline::default(),
        }
    }

    pub(crate) fn set_protocol(&mut self, p: Option<String>) {
        self.protocol = p;
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether permessage-deflate would compress a message of `len` bytes.
    pub fn compresses(&self, len: usize) -> bool {
        self.conn.will_compress(len)
    }

    /// The sans-I/O connection state (for inspection).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Consumes the connection and returns the stream.
    pub fn into_inner(self) -> S {
        self.io
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Writes all queued output, then flushes the stream.
    pub(crate) fn poll_write_out(
        &mut self,
        cx: &mut Context<'_>,
        slot: Slot,
    ) -> Poll<io::Result<()>> {
        let waker = self.waiters.register(slot, cx.waker());
        let mut wcx = Context::from_waker(&waker);
        while !self.conn.output().is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(&mut wcx, self.conn.output()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.consume_output(n);
        }
        ready!(Pin::new(&mut self.io).poll_flush(&mut wcx))?;
        self.waiters.clear(slot);
        Poll::Ready(Ok(()))
    }

    /// Polls for the next item; see [`recv`](Self::recv). The item is then available through
    /// [`Connection::view`] until the next call.
    pub(crate) fn poll_recv_kind(&mut self, cx: &mut Context<'_>) -> Poll<Result<Kind, Error>> {
        loop {
            match self.phase {
                Phase::Done => return Poll::Ready(Err(Error::Closed)),
                Phase::Failing(e) => {
                    // Best effort: the peer may already be gone.
                    let _ = ready!(self.poll_write_out(cx, Slot::Reader));
                    self.phase = Phase::Done;
                    return Poll::Ready(Err(Error::Protocol(e)));
                }
                Phase::Holding(kind) => {
                    let r = ready!(self.poll_write_out(cx, Slot::Reader));
                    self.phase = if kind == Kind::Close {
                        Phase::Done
                    } else {
                        Phase::Open
                    };
                    if let Err(e) = r {
                        // Could not echo the Close: still report what the peer sent.
                        if kind != Kind::Close {
                            return Poll::Ready(Err(Error::Io(e)));
                        }
                    }
                    return Poll::Ready(Ok(kind));
                }
                Phase::Open => {}
            }
            match self.conn.advance() {
                Ok(Some(kind)) => {
                    // Try to flush a pong / Close echo now. Other queued output (echoes
                    // `feed`ed by the caller) waits until the buffered input runs dry, so that
                    // a burst of received messages is answered with one write.
                    if kind == Kind::Close || (kind == Kind::Ping && !self.conn.output().is_empty())
                    {
                        match self.poll_write_out(cx, Slot::Reader) {
                            Poll::Ready(Ok(())) => {}
                            Poll::Ready(Err(e)) if kind != Kind::Close => {
                                return Poll::Ready(Err(Error::Io(e)))
                            }
                            Poll::Ready(Err(_)) => {}
                            Poll::Pending if kind == Kind::Close => {
                                self.phase = Phase::Holding(kind);
                                return Poll::Pending;
                            }
                            Poll::Pending => {}
                        }
                    }
                    if kind == Kind::Close {
                        self.phase = Phase::Done;
                    }
                    return Poll::Ready(Ok(kind));
                }
                Ok(None) => {}
                Err(ConnectionError::Protocol(e)) => {
                    self.phase = Phase::Failing(e);
                    continue;
                }
                Err(e) => return Poll::Ready(Err(e.into())),
            }
            // More bytes are needed. Flush queued control frames; pause reading while too much
            // is queued (backpressure).
            if !self.conn.output().is_empty() {
                match self.poll_write_out(cx, Slot::Reader) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                    Poll::Pending => {
                        if self.conn.queued() > self.config.write_buffer_size {
                            return self.poll_idle(cx).map(Err);
                        }
                    }
                }
            }
            if self.eof {
                return Poll::Ready(Err(self.eof_error()));
            }
            let buf = self.conn.read_buf();
            let n = match Pin::new(&mut self.io).poll_read(cx, buf) {
                Poll::Ready(r) => r?,
                Poll::Pending => return self.poll_idle(cx).map(Err),
            };
            if n == 0 {
                self.eof = true;
                continue;
            }
            if self.idle.enabled {
                self.idle.last_rx = self.config.now();
                self.idle.ping_sent = None;
            }
            self.conn.commit(n);
        }
    }

    /// While a receive waits: sends the keepalive ping when due, and fails the connection
    /// (Close 1011, best effort) when the read idle or keepalive timeout expired. `Pending`
    /// unless it failed.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        if !self.idle.enabled {
            return Poll::Pending;
        }
        loop {
            if let Some(s) = self.idle.sleep.0.as_mut() {
                if s.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.idle.sleep.0 = None;
            }
            let Some(now) = self.config.now() else {
                return Poll::Pending;
            };
            let last = *self.idle.last_rx.get_or_insert(now);
            let mut next: Option<Instant> = None;
            if let Some(d) = self.config.read_timeout {
                if let Some(at) = last.checked_add(d) {
                    if now >= at {
                        return Poll::Ready(self.fail_idle(cx, "read timeout"));
                    }
                    next = Some(at);
                }
            }
            if let Some(interval) = self.config.ping_interval {
                let far = |t: Instant, d| t.checked_add(d);
                let at = match self.idle.ping_sent {
                    Some(sent) => {
                        let at = far(sent, self.config.ping_timeout);
                        if at.is_some_and(|at| now >= at) {
                            return Poll::Ready(self.fail_idle(cx, "keepalive timeout"));
                        }
                        at
                    }
                    None if far(last, interval).is_some_and(|at| now >= at) => {
                        // Queued after any frame in progress; flushed now if the stream
                        // takes it, else with the next write.
                        if self.conn.send(OpCode::Ping, b"").is_ok() {
                            let _ = self.poll_write_out(cx, Slot::Reader);
                        }
                        self.idle.ping_sent = Some(now);
                        far(now, self.config.ping_timeout)
                    }
                    None => far(last, interval),
                };
                if let Some(at) = at {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
            let Some(at) = next else {
                return Poll::Pending;
            };
            match self.config.sleep(at.saturating_duration_since(now)) {
                Some(s) => self.idle.sleep.0 = Some(s),
                None => return Poll::Pending,
            }
        }
    }

    /// Fails the connection after an idle timeout: queues Close 1011, tries once to flush it.
    fn fail_idle(&mut self, cx: &mut Context<'_>, reason: &str) -> Error {
        if self.conn.close(CloseCode::INTERNAL, reason).is_ok() {
            let _ = self.poll_write_out(cx, Slot::Reader);
        }
        self.phase = Phase::Done;
        self.idle.enabled = false;
        self.idle.sleep.0 = None;
        Error::Timeout
    }

    /// `poll_write_out` for a send, bounded by `send_timeout`.
    pub(crate) fn poll_flush_timed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let before = self.conn.queued();
        match self.poll_write_out(cx, Slot::Writer) {
            Poll::Ready(r) => {
                self.send_deadline.0 = None;
                Poll::Ready(r.map_err(Error::Io))
            }
            Poll::Pending => {
                let progressed = self.conn.queued() != before;
                self.poll_send_deadline(cx, progressed)
            }
        }
    }

    /// `poll_write_payload` for a send, bounded by `send_timeout`.
    pub(crate) fn poll_payload_timed(
        &mut self,
        cx: &mut Context<'_>,
        payload: &[u8],
        pos: &mut usize,
    ) -> Poll<Result<(), Error>> {
        let before = (self.conn.queued(), *pos);
        match self.poll_write_payload(cx, payload, pos) {
            Poll::Ready(r) => Poll::Ready(r.map_err(Error::Io)),
            Poll::Pending => {
                let progressed = (self.conn.queued(), *pos) != before;
                self.poll_send_deadline(cx, progressed)
            }
        }
    }

    /// A send is blocked: arms the send timeout (again, if the stream took bytes since it was
    /// armed) and reports `Err(Timeout)` once it expires.
    fn poll_send_deadline(
        &mut self,
        cx: &mut Context<'_>,
        progressed: bool,
    ) -> Poll<Result<(), Error>> {
        let Some(d) = self.config.send_timeout else {
            return Poll::Pending;
        };
        if progressed || self.send_deadline.0.is_none() {
            self.send_deadline.0 = self.config.sleep(d);
        }
        let Some(s) = self.send_deadline.0.as_mut() else {
            return Poll::Pending;
        };
        ready!(s.as_mut().poll(cx));
        self.send_deadline.0 = None;
        Poll::Ready(Err(Error::Timeout))
    }

    fn eof_error(&mut self) -> Error {
        self.phase = Phase::Done;
        if self.conn.state() == CloseState::Open && self.conn.reader().buffered() > 0 {
            Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a frame",
            ))
        } else if self.conn.state() == CloseState::Open {
            Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed without a close frame",
            ))
        } else {
            Error::Closed
        }
    }

    /// Receives the next message or control frame as a borrowed view into the receive
    /// buffer (zero-copy), valid until the next call on this connection.
    ///
    /// Pings are answered automatically (unless disabled) and still returned. After the
    /// peer's Close (returned once, our echo already flushed) every call returns
    /// [`Error::Closed`]. Cancel-safe.
    ///
    /// # Errors
    /// [`Error::Protocol`] after a violation (our Close with the matching code was sent),
    /// [`Error::Io`] on a stream error or an EOF without Close, [`Error::Closed`] afterwards.
    pub async fn recv_ref(&mut self) -> Result<MessageRef<'_>, Error> {
        poll_fn(|cx| self.poll_recv_kind(cx)).await?;
        self.conn.view().ok_or(Error::Closed)
    }

    /// Receives the next message or control frame as an owned [`Message`].
    ///
    /// A fragmented or compressed message moves out of the assembly buffer without a copy;
    /// a single-frame message is copied once out of the receive buffer.
    ///
    /// # Errors
    /// As for [`recv_ref`](Self::recv_ref).
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.poll_recv_kind(cx)).await?;
        self.conn.take().ok_or(Error::Closed)
    }

    /// Receives the next text or binary message, skipping pings and pongs; `Ok(None)` when
    /// the peer closed the connection.
    ///
    /// # Errors
    /// As for [`recv_ref`](Self::recv_ref).
    pub async fn recv_data(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match poll_fn(|cx| self.poll_recv_kind(cx)).await {
                Ok(Kind::Text | Kind::Binary) => return Ok(self.conn.take()),
                Ok(Kind::Close) | Err(Error::Closed) => return Ok(None),
                Ok(_) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes `payload` after the queued output (which ends with its frame header).
    pub(crate) fn poll_write_payload(
        &mut self,
        cx: &mut Context<'_>,
        payload: &[u8],
        pos: &mut usize,
    ) -> Poll<io::Result<()>> {
        let waker = self.waiters.register(Slot::Writer, cx.waker());
        let mut wcx = Context::from_waker(&waker);
        while *pos < payload.len() {
            let out = self.conn.output();
            let n = if out.is_empty() {
                ready!(Pin::new(&mut self.io).poll_write(&mut wcx, &payload[*pos..]))?
            } else {
                let bufs = [IoSlice::new(out), IoSlice::new(&payload[*pos..])];
                ready!(Pin::new(&mut self.io).poll_write_vectored(&mut wcx, &bufs))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let from_out = n.min(out.len());
            self.conn.consume_output(from_out);
            *pos += n - from_out;
        }
        self.waiters.clear(Slot::Writer);
        Poll::Ready(Ok(()))
    }

    /// Sends one unmasked, uncompressed data frame, writing `payload` straight from the
    /// caller's buffer next to the header (server only: a client must mask).
    async fn send_vectored(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        self.conn.begin_frame(opcode, payload.len())?;
        let mut pos = 0;
        poll_fn(|cx| self.poll_payload_timed(cx, payload, &mut pos)).await?;
        self.conn.end_frame();
        self.flush().await
    }

    pub(crate) fn is_vectored(&self, len: usize) -> bool {
        len >= self.config.vectored_threshold && !self.conn.will_compress(len)
    }

    /// Sends a binary message from a borrowed buffer.
    ///
    /// A server writes large payloads with a vectored write next to the header (no copy); a
    /// client must mask, which costs one copy fused with the masking (use
    /// [`send`](Self::send) with an owned buffer to mask in place instead).
    ///
    /// # Errors
    /// [`Error::Closed`] after Close, [`Error::Io`] on a stream error.
    pub async fn send_binary(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_borrowed(OpCode::Binary, payload).await
    }

    /// Sends a text message from a borrowed string; see [`send_binary`](Self::send_binary).
    ///
    /// # Errors
    /// As for [`send_binary`](Self::send_binary).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_borrowed(OpCode::Text, text.as_bytes()).await
    }

    async fn send_borrowed(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if self.conn.role() == Role::Client || !self.is_vectored(payload.len()) {
            self.conn.send(opcode, payload)?;
            self.flush().await
        } else {
            self.send_vectored(opcode, payload).await
        }
    }

    /// Sends a message; an owned payload is masked in place (client) and written with a
    /// vectored write, so it is never copied (unless compressed).
    ///
    /// # Errors
    /// As for [`send_binary`](Self::send_binary); sending [`Message::Close`] is
    /// [`close`](Self::close) without waiting for the peer.
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        let (opcode, mut payload) = match msg {
            Message::Text(s) => (OpCode::Text, s.into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
            Message::Ping(p) => return self.ping(&p).await,
            Message::Pong(p) => {
                self.conn.send(OpCode::Pong, &p)?;
                return self.flush().await;
            }
            Message::Close(c) => {
                self.conn
                    .close_with(c.as_ref().map(|c| (c.code, c.reason.as_str())))?;
                return self.flush().await;
            }
        };
        if self.is_vectored(payload.len()) {
            let h = self.conn.begin_frame(opcode, payload.len())?;
            // A client masks the buffer it owns in place; a server's header has no key.
            Writer::mask_in_place(&h, &mut payload);
            let mut pos = 0;
            poll_fn(|cx| self.poll_payload_timed(cx, &payload, &mut pos)).await?;
            self.conn.end_frame();
            return self.flush().await;
        }
        self.conn.send(opcode, &payload)?;
        self.flush().await
    }

    /// Sends the text or binary message the last [`recv_ref`](Self::recv_ref) returned back
    /// to the peer, for echo and request/reply servers.
    ///
    /// A server writes a large echo (at least `vectored_threshold` bytes, uncompressed) straight
    /// from the receive buffer next to its header with one vectored write, then flushes: the
    /// payload is not copied unless the stream takes only part of it (the rest is queued; a
    /// stream without a real vectored write, which takes only the first slice, always does).
    /// A small echo is queued like [`feed`](Self::feed) and goes out with the next flush (a
    /// `recv` that runs out of input flushes), so a burst is answered with one write. A client
    /// echo is masked while it is copied into the queue. A message is echoed once (a second
    /// call fails with [`Error::InvalidInput`]). Cancel-safe: nothing refers to the receive
    /// buffer once the write attempt returns, and a cancelled flush loses nothing.
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn serve<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(
    /// #     mut ws: sonic_ws::WebSocket<S>,
    /// # ) -> Result<(), sonic_ws::Error> {
    /// use sonic_ws::MessageRef;
    /// loop {
    ///     match ws.recv_ref().await? {
    ///         MessageRef::Text(_) | MessageRef::Binary(_) => ws.echo().await?,
    ///         MessageRef::Close(_) => return Ok(()),
    ///         _ => {}
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the last item received was not a text or binary message, or
    /// was already taken by [`recv`](Self::recv); else as for [`send_binary`](Self::send_binary).
    pub async fn echo(&mut self) -> Result<(), Error> {
        let in_place = poll_fn(|cx| Poll::Ready(self.poll_echo(cx))).await?;
        if in_place || self.conn.queued() > self.config.write_buffer_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// One write attempt for [`echo`](Self::echo); never waits.
    fn poll_echo(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        let waker = self.waiters.register(Slot::Writer, cx.waker());
        let mut wcx = Context::from_waker(&waker);
        let io = &mut self.io;
        let mut io_err = None;
        let r = self
            .conn
            .echo(self.config.vectored_threshold, |out, payload| {
                let bufs = [IoSlice::new(out), IoSlice::new(payload)];
                match Pin::new(io).poll_write_vectored(&mut wcx, &bufs) {
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => {
                        io_err = Some(e);
                        0
                    }
                    Poll::Pending => 0,
                }
            });
        self.waiters.clear(Slot::Writer);
        match io_err {
            // The frame is queued whole all the same.
            Some(e) => Err(Error::Io(e)),
            None => r.map_err(Error::from),
        }
    }

    /// Queues a message without flushing unless more than `write_buffer_size` bytes are
    /// queued (batching: call [`flush`](Self::flush) after a burst).
    ///
    /// # Errors
    /// As for [`send_binary`](Self::send_binary).
    pub async fn feed(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        self.conn.send(opcode, payload)?;
        if self.conn.queued() > self.config.write_buffer_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends one frame of a fragmented message: the first with `OpCode::Text` or
    /// `OpCode::Binary`, the rest with `OpCode::Continuation`, `fin` on the last. Fragments
    /// are never compressed; control frames may be sent between them.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a Close or an oversized or unfinished control frame, else as
    /// for [`send_binary`](Self::send_binary). Fragment order is the caller's responsibility.
    pub async fn send_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        self.conn.send_frame(opcode, fin, payload)?;
        self.flush().await
    }

    /// Writes all queued frames and flushes the stream.
    ///
    /// # Errors
    /// [`Error::Io`] on a stream error.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_timed(cx)).await
    }

    /// Sends a ping (at most 125 bytes).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a payload over 125 bytes, else as for
    /// [`send_binary`](Self::send_binary).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.send(OpCode::Ping, payload)?;
        self.flush().await
    }

    /// Closes the connection: sends Close with `code` and `reason`, waits for the peer's
    /// Close (discarding data that arrives meanwhile) for at most `close_timeout` when a timer
    /// is configured, then closes the stream.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a code that may not be sent or a reason over 123 bytes,
    /// [`Error::Timeout`] when the peer did not answer in time, [`Error::Io`] on a stream
    /// error. If the peer closed first, returns `Ok` after closing the stream.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        match self.conn.close(code, reason) {
            Ok(()) => {}
            Err(ConnectionError::Closed) => {}
            Err(e) => return Err(e.into()),
        }
        self.flush().await?;
        let sleep = self.config.sleep(self.config.close_timeout);
        let wait = async {
            loop {
                match poll_fn(|cx| self.poll_recv_kind(cx)).await {
                    Ok(Kind::Close) | Err(Error::Closed) => return Ok(()),
                    Ok(_) => continue,
                    Err(Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        };
        let r = crate::timeout::timeout(wait, sleep).await;
        let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_close(cx)).await;
        r
    }

    /// Shuts the stream down without a close handshake (e.g. after an error).
    ///
    /// # Errors
    /// [`Error::Io`] from the stream.
    pub async fn shutdown(&mut self) -> Result<(), Error> {
        poll_fn(|cx| Pin::new(&mut self.io).poll_close(cx)).await?;
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    /// Yields every message and control frame (the peer's Close last), then ends.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.poll_recv_kind(cx)) {
            Ok(_) => Poll::Ready(self.conn.take().map(Ok)),
            Err(Error::Closed) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}
