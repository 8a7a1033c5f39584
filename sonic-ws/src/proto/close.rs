//! Close codes and close-frame payloads (RFC 6455, sections 5.5.1 and 7.4).

use super::error::{ConnectionError, ProtocolError};
use std::fmt;

/// A close status code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: endpoint going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL: CloseCode = CloseCode(1002);
    /// 1003: data type that cannot be accepted.
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: closed without a close frame (never sent on the wire).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: payload inconsistent with the message type (bad UTF-8).
    pub const INVALID_DATA: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: message too big.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: a required extension was not negotiated (client only).
    pub const EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: unexpected condition on the server.
    pub const INTERNAL: CloseCode = CloseCode(1011);

    /// Whether this code may appear in a close frame on the wire.
    ///
    /// Allowed: 1000–1003, 1007–1014 (registered with IANA), 3000–4999 (libraries,
    /// applications). Rejected: below 1000, 1004–1006, 1015 and the rest of 1016–2999, 5000+.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u16> for CloseCode {
    fn from(v: u16) -> Self {
        CloseCode(v)
    }
}

/// An owned close code with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The UTF-8 reason (at most 123 bytes on the wire).
    pub reason: String,
}

/// Most bytes a reason can take: 125 minus the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// Parses and validates a received close payload.
///
/// Returns `None` for an empty payload (no status), else the code and reason.
///
/// # Errors
/// A 1-byte payload or a code that may not be sent close with 1002; a reason that is not
/// UTF-8 closes with 1007.
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [a, b, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*a, *b]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Builds a close payload into a small inline buffer.
///
/// # Errors
/// [`ConnectionError::InvalidInput`] for a code that may not be sent, or a reason over 123 bytes.
pub fn encode_close_payload(
    code: CloseCode,
    reason: &str,
) -> Result<([u8; 125], usize), ConnectionError> {
    if !code.is_sendable() {
        return Err(ConnectionError::InvalidInput(
            "close code may not be sent on the wire",
        ));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(ConnectionError::InvalidInput("close reason over 123 bytes"));
    }
    let mut buf = [0u8; 125];
    buf[..2].copy_from_slice(&code.0.to_be_bytes());
    buf[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    Ok((buf, 2 + reason.len()))
}
