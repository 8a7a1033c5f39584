//! The protocol core's errors: what a peer can do wrong, on the wire or in the handshake, and
//! what a [`Connection`](super::conn::Connection) call can fail with. None of them carries I/O:
//! the async layer (`sonic_ws::WebSocket`) adds that in its own `sonic_ws::Error`.

use super::close::CloseCode;
use std::fmt;

/// The peer broke RFC 6455/7692; each variant maps to the close code we send back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode reserved for future use (3–7, 11–15).
    ReservedOpcode(u8),
    /// A 64-bit payload length with its most significant bit set (2^63 or more).
    LengthOverflow,
    /// A control frame without FIN.
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong,
    /// RSV bits set that no negotiated extension defines.
    ReservedBits,
    /// A client sent an unmasked frame.
    UnmaskedFrame,
    /// A server sent a masked frame.
    MaskedFrame,
    /// A continuation frame with no fragmented message in progress.
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message was still open.
    ExpectedContinuation,
    /// Text (or a close reason) that is not valid UTF-8.
    InvalidUtf8,
    /// A frame longer than the configured maximum.
    FrameTooLarge,
    /// A message longer than the configured maximum (after decompression).
    MessageTooLarge,
    /// More fragments in one message than the configured maximum.
    TooManyFragments,
    /// A close frame with a 1-byte payload.
    InvalidClosePayload,
    /// A close frame with a code that may not be sent.
    InvalidCloseCode(u16),
    /// A compressed payload that does not inflate.
    BadCompressedData,
}

impl ProtocolError {
    /// The close code to fail the connection with.
    pub fn close_code(self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::BadCompressedData => {
                CloseCode::INVALID_DATA
            }
            ProtocolError::FrameTooLarge
            | ProtocolError::MessageTooLarge
            | ProtocolError::TooManyFragments => CloseCode::TOO_BIG,
            _ => CloseCode::PROTOCOL,
        }
    }

    /// A short reason suitable for the close frame.
    pub fn reason(self) -> &'static str {
        match self {
            ProtocolError::ReservedOpcode(_) => "reserved opcode",
            ProtocolError::LengthOverflow => "payload length >= 2^63",
            ProtocolError::FragmentedControl => "fragmented control frame",
            ProtocolError::ControlTooLong => "control frame payload > 125 bytes",
            ProtocolError::ReservedBits => "reserved bits set",
            ProtocolError::UnmaskedFrame => "unmasked client frame",
            ProtocolError::MaskedFrame => "masked server frame",
            ProtocolError::UnexpectedContinuation => "continuation without a message",
            ProtocolError::ExpectedContinuation => "expected a continuation frame",
            ProtocolError::InvalidUtf8 => "invalid UTF-8",
            ProtocolError::FrameTooLarge => "frame too large",
            ProtocolError::MessageTooLarge => "message too large",
            ProtocolError::TooManyFragments => "too many fragments",
            ProtocolError::InvalidClosePayload => "1-byte close payload",
            ProtocolError::InvalidCloseCode(_) => "invalid close code",
            ProtocolError::BadCompressedData => "bad compressed data",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            ProtocolError::InvalidCloseCode(c) => write!(f, "invalid close code {c}"),
            other => f.write_str(other.reason()),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Why a call on the sans-I/O [`Connection`](super::conn::Connection) failed.
///
/// The async API reports each variant as the `sonic_ws::Error` variant of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer broke the protocol; a close frame with the matching code was queued.
    Protocol(ProtocolError),
    /// The connection is closed (Close sent, or it failed); no more messages either way.
    Closed,
    /// The caller asked for something that cannot be sent (bad close code, reason too long,
    /// oversized control payload, wrong call for the opcode...).
    InvalidInput(&'static str),
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Protocol(e) => write!(f, "protocol error: {e}"),
            ConnectionError::Closed => f.write_str("connection closed"),
            ConnectionError::InvalidInput(why) => write!(f, "invalid input: {why}"),
        }
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectionError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for ConnectionError {
    fn from(e: ProtocolError) -> Self {
        ConnectionError::Protocol(e)
    }
}

/// Why an opening handshake failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP message did not parse.
    Http(httparse::Error),
    /// The request or response head exceeded the configured size.
    TooLarge,
    /// More header lines than supported.
    TooManyHeaders,
    /// Not a GET, not HTTP/1.1, or a missing/invalid upgrade header.
    NotWebSocket(&'static str),
    /// Sec-WebSocket-Version is not 13.
    UnsupportedVersion,
    /// Sec-WebSocket-Key missing or not 16 bytes of base64.
    BadKey,
    /// The server answered with a status other than 101.
    Status(u16),
    /// Sec-WebSocket-Accept did not match our key.
    BadAccept,
    /// The server picked a subprotocol we did not offer (or more than one).
    BadProtocol,
    /// The server answered with an extension (or parameters) we did not offer.
    BadExtension(&'static str),
    /// The URL is not a `ws://` or `wss://` URL we understand.
    BadUrl(&'static str),
    /// The application's accept hook rejected the request with this status.
    Rejected(u16),
    /// The connection closed before the handshake completed.
    Eof,
    /// A request header the client generates itself (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `-Version`, `-Protocol`, `-Extensions`) was also given as an extra
    /// header; set subprotocols and deflate through the config instead.
    GeneratedHeader(&'static str),
    /// The request repeats a header that must appear once (`Host`, `Upgrade`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`); answered with 400.
    DuplicateHeader(&'static str),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Http(e) => write!(f, "malformed HTTP: {e}"),
            HandshakeError::TooLarge => f.write_str("handshake head too large"),
            HandshakeError::TooManyHeaders => f.write_str("too many headers"),
            HandshakeError::NotWebSocket(why) => write!(f, "not a WebSocket upgrade: {why}"),
            HandshakeError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version is not 13"),
            HandshakeError::BadKey => f.write_str("missing or invalid Sec-WebSocket-Key"),
            HandshakeError::Status(s) => write!(f, "server answered HTTP {s}, not 101"),
            HandshakeError::BadAccept => f.write_str("Sec-WebSocket-Accept does not match"),
            HandshakeError::BadProtocol => f.write_str("server chose a subprotocol not offered"),
            HandshakeError::BadExtension(why) => write!(f, "bad extension response: {why}"),
            HandshakeError::BadUrl(why) => write!(f, "bad URL: {why}"),
            HandshakeError::Rejected(s) => write!(f, "request rejected with HTTP {s}"),
            HandshakeError::Eof => f.write_str("connection closed during handshake"),
            HandshakeError::GeneratedHeader(h) => {
                write!(
                    f,
                    "header {h} is generated by the client and cannot be given"
                )
            }
            HandshakeError::DuplicateHeader(h) => write!(f, "duplicate {h} header"),
        }
    }
}

impl std::error::Error for HandshakeError {}
