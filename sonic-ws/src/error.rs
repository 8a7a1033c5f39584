//! Errors: the protocol core's ([`ProtocolError`], [`HandshakeError`], [`ConnectionError`],
//! defined in `proto/`) and the async layer's [`Error`], which adds I/O and timeouts.

pub use crate::proto::error::{ConnectionError, HandshakeError, ProtocolError};
use std::{fmt, io};

/// Any error of this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The underlying stream failed.
    Io(io::Error),
    /// The peer broke the protocol; a close frame with the matching code was sent (or tried).
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The connection is closed (close handshake done, or the stream ended); no more messages.
    Closed,
    /// A timeout (handshake or close) expired.
    Timeout,
    /// The caller passed something that cannot be sent (bad close code, reason too long...).
    InvalidInput(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::Closed => f.write_str("connection closed"),
            Error::Timeout => f.write_str("timed out"),
            Error::InvalidInput(why) => write!(f, "invalid input: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Handshake(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

/// The sans-I/O core's errors keep their variant: `Protocol`, `Closed` and `InvalidInput`
/// reach the async API's caller exactly as the core reported them.
impl From<ConnectionError> for Error {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::Protocol(e) => Error::Protocol(e),
            ConnectionError::Closed => Error::Closed,
            ConnectionError::InvalidInput(why) => Error::InvalidInput(why),
        }
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::Handshake(e)
    }
}
