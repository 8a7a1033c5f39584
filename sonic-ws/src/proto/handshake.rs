//! Opening handshake (RFC 6455, section 4): client request / server response, both ways.
//!
//! Rules: HTTP heads are parsed by `httparse`; the caller accumulates bytes and calls
//! [`head_complete`] on each read, which scans only the new bytes for the blank line, so a
//! slow or long head costs linear time (CVE-2023-43669 was a re-parse per read). The head is
//! bounded by the caller's limit and at most [`MAX_HEADERS`] header lines.

use super::error::HandshakeError;
use super::extension::{self, DeflateConfig, DeflateParams};
use base64::Engine as _;

/// The GUID appended to the key (RFC 6455, section 1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most header lines accepted in a request or response.
pub const MAX_HEADERS: usize = 64;

/// `base64(sha1(key + GUID))`.
pub fn accept_key(key: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key);
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.digest().bytes())
}

/// A random 16-byte `Sec-WebSocket-Key`, base64-encoded (24 characters).
pub fn generate_key() -> String {
    let mut k = [0u8; 16];
    super::random::fill(&mut k);
    base64::engine::general_purpose::STANDARD.encode(k)
}

/// Finds the end of an HTTP head (`\r\n\r\n`) in `buf`, scanning from `scanned - 3`.
///
/// Returns the head length including the blank line. Pass the previous `buf.len()` as
/// `scanned` to keep the total work linear.
pub fn head_complete(buf: &[u8], scanned: usize) -> Option<usize> {
    let from = scanned.saturating_sub(3);
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| from + i + 4)
}

/// One header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Name as sent.
    pub name: String,
    /// Raw value bytes.
    pub value: Vec<u8>,
}

fn collect_headers(raw: &[httparse::Header<'_>]) -> Vec<Header> {
    raw.iter()
        .map(|h| Header {
            name: h.name.to_string(),
            value: h.value.to_vec(),
        })
        .collect()
}

/// All values of header `name` (case-insensitive), joined with ", ", or `None` when absent.
fn joined(headers: &[Header], name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for h in headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)) {
        let v = String::from_utf8_lossy(&h.value);
        match &mut out {
            Some(s) => {
                s.push_str(", ");
                s.push_str(v.trim());
            }
            None => out = Some(v.trim().to_string()),
        }
    }
    out
}

fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    joined(headers, name)
        .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// A parsed client upgrade request, as seen by a server.
#[derive(Clone, Debug)]
pub struct Request {
    /// Request target (path and query).
    pub path: String,
    /// Every header line, in order.
    pub headers: Vec<Header>,
    /// `Sec-WebSocket-Key` as sent.
    pub key: String,
    /// Subprotocols offered, in the client's order of preference.
    pub protocols: Vec<String>,
    /// `Sec-WebSocket-Extensions` lines joined with ", " (empty when absent).
    pub extensions: String,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }
}

/// Request headers a server refuses to see twice.
const SINGLE_REQUEST_HEADERS: [&str; 4] = [
    "Host",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
];

/// Request headers the client generates: an extra header with one of these names is refused
/// (`Host` is not among them: an extra `Host` replaces the one made from the URL).
const GENERATED_REQUEST_HEADERS: [&str; 6] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// Parses and validates a complete request head (`head` ends with the blank line).
///
/// # Errors
/// Malformed HTTP, not `GET`/HTTP 1.1, missing `Host`/`Upgrade`/`Connection`, a repeated
/// `Host`/`Upgrade`/`Sec-WebSocket-Key`/`Sec-WebSocket-Version`, version other than 13
/// ([`HandshakeError::UnsupportedVersion`]: answer 426), or a bad key.
pub fn parse_request(head: &[u8]) -> Result<Request, HandshakeError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut raw);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::NotWebSocket("partial head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(e) => return Err(HandshakeError::Http(e)),
    }
    if req.method != Some("GET") {
        return Err(HandshakeError::NotWebSocket("method is not GET"));
    }
    if req.version != Some(1) {
        return Err(HandshakeError::NotWebSocket("not HTTP/1.1"));
    }
    let path = req.path.unwrap_or("/").to_string();
    let headers = collect_headers(req.headers);
    // Headers that must appear once: two `Host` lines are a request-smuggling vector (RFC 9112,
    // section 3.2: answer 400), and two keys or upgrades make the handshake ambiguous.
    for name in SINGLE_REQUEST_HEADERS {
        if headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .nth(1)
            .is_some()
        {
            return Err(HandshakeError::DuplicateHeader(name));
        }
    }
    if joined(&headers, "host").is_none() {
        return Err(HandshakeError::NotWebSocket("missing Host"));
    }
    if !has_token(&headers, "upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocket("missing Upgrade: websocket"));
    }
    if !has_token(&headers, "connection", "upgrade") {
        return Err(HandshakeError::NotWebSocket("missing Connection: upgrade"));
    }
    if joined(&headers, "sec-websocket-version").as_deref() != Some("13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = joined(&headers, "sec-websocket-key").ok_or(HandshakeError::BadKey)?;
    match base64::engine::general_purpose::STANDARD.decode(key.as_bytes()) {
        Ok(k) if k.len() == 16 => {}
        _ => return Err(HandshakeError::BadKey),
    }
    let protocols = joined(&headers, "sec-websocket-protocol")
        .map(|v| {
            v.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let extensions = joined(&headers, "sec-websocket-extensions").unwrap_or_default();
    Ok(Request {
        path,
        headers,
        key,
        protocols,
        extensions,
    })
}

/// Rejects header names/values that would let a caller inject lines into a response.
fn header_ok(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        && value.bytes().all(|b| b != b'\r' && b != b'\n' && b != 0)
}

/// Builds the `101 Switching Protocols` response.
///
/// # Errors
/// An extra header containing CR/LF or an invalid name.
pub fn server_response(
    key: &str,
    protocol: Option<&str>,
    extensions: Option<&str>,
    extra: &[(String, String)],
) -> Result<Vec<u8>, HandshakeError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept_key(key.as_bytes()).as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut push = |name: &str, value: &str| -> Result<(), HandshakeError> {
        if !header_ok(name, value) {
            return Err(HandshakeError::NotWebSocket("invalid response header"));
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
        Ok(())
    };
    if let Some(p) = protocol {
        push("Sec-WebSocket-Protocol", p)?;
    }
    if let Some(e) = extensions {
        push("Sec-WebSocket-Extensions", e)?;
    }
    for (n, v) in extra {
        push(n, v)?;
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// An HTTP error response closing the connection (`426` adds `Sec-WebSocket-Version: 13`).
pub fn reject_response(status: u16, body: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut s = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    if status == 426 {
        s.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    s.push_str(&format!(
        "Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.into_bytes()
}

/// What a client sends.
#[derive(Clone, Debug, Default)]
pub struct ClientRequest {
    /// `Host` header value.
    pub host: String,
    /// Request target.
    pub path: String,
    /// Subprotocols to offer, by preference.
    pub protocols: Vec<String>,
    /// permessage-deflate to offer, if any.
    pub deflate: Option<DeflateConfig>,
    /// Extra header lines. A `Host` here replaces the one from the URL; the other headers the
    /// client generates ([`HandshakeError::GeneratedHeader`]) are refused.
    pub headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// Encodes the request with `key`.
    ///
    /// # Errors
    /// A header name/value, host, path or protocol containing CR/LF or other invalid bytes;
    /// an extra header the client generates itself ([`HandshakeError::GeneratedHeader`]), or
    /// more than one extra `Host`.
    pub fn encode(&self, key: &str) -> Result<Vec<u8>, HandshakeError> {
        for (n, _) in &self.headers {
            if let Some(g) = GENERATED_REQUEST_HEADERS
                .iter()
                .find(|g| n.trim().eq_ignore_ascii_case(g))
            {
                return Err(HandshakeError::GeneratedHeader(g));
            }
        }
        let is_host = |n: &String| n.trim().eq_ignore_ascii_case("host");
        let mut hosts = self.headers.iter().filter(|(n, _)| is_host(n));
        let host = match (hosts.next(), hosts.next()) {
            (_, Some(_)) => return Err(HandshakeError::DuplicateHeader("Host")),
            (Some((_, v)), None) => v.as_str(),
            (None, None) => self.host.as_str(),
        };
        let bad = |s: &str| s.bytes().any(|b| b <= b' ' || b == 0x7f);
        if bad(&self.path) || bad(host) || self.protocols.iter().any(|p| bad(p) || p.contains(','))
        {
            return Err(HandshakeError::BadUrl(
                "invalid byte in host, path or protocol",
            ));
        }
        let mut s = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            self.path, host
        );
        if !self.protocols.is_empty() {
            s.push_str(&format!(
                "Sec-WebSocket-Protocol: {}\r\n",
                self.protocols.join(", ")
            ));
        }
        if let Some(d) = &self.deflate {
            s.push_str(&format!(
                "Sec-WebSocket-Extensions: {}\r\n",
                extension::client_offer(d)
            ));
        }
        for (n, v) in self.headers.iter().filter(|(n, _)| !is_host(n)) {
            if !header_ok(n, v) {
                return Err(HandshakeError::NotWebSocket("invalid request header"));
            }
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        s.push_str("\r\n");
        Ok(s.into_bytes())
    }
}

/// A validated `101` response, as seen by a client.
#[derive(Clone, Debug)]
pub struct Response {
    /// Every header line, in order.
    pub headers: Vec<Header>,
    /// The subprotocol the server chose.
    pub protocol: Option<String>,
    /// Agreed permessage-deflate parameters.
    pub deflate: Option<DeflateParams>,
}

/// Parses and validates the server's response head against our request.
///
/// # Errors
/// A status other than 101, missing upgrade headers, a wrong accept key, or a subprotocol or
/// extension we did not offer.
pub fn parse_response(
    head: &[u8],
    key: &str,
    req: &ClientRequest,
) -> Result<Response, HandshakeError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut raw);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::NotWebSocket("partial head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(e) => return Err(HandshakeError::Http(e)),
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        return Err(HandshakeError::Status(code));
    }
    let headers = collect_headers(resp.headers);
    if !has_token(&headers, "upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocket("missing Upgrade: websocket"));
    }
    if !has_token(&headers, "connection", "upgrade") {
        return Err(HandshakeError::NotWebSocket("missing Connection: upgrade"));
    }
    if joined(&headers, "sec-websocket-accept").as_deref()
        != Some(accept_key(key.as_bytes()).as_str())
    {
        return Err(HandshakeError::BadAccept);
    }
    let protocol = joined(&headers, "sec-websocket-protocol");
    if let Some(p) = &protocol {
        if !req.protocols.iter().any(|o| o == p) {
            return Err(HandshakeError::BadProtocol);
        }
    }
    let deflate = match (joined(&headers, "sec-websocket-extensions"), &req.deflate) {
        (None, _) => None,
        (Some(v), None) if v.trim().is_empty() => None,
        (Some(_), None) => return Err(HandshakeError::BadExtension("extension not offered")),
        (Some(v), Some(cfg)) => extension::client_accept(&v, cfg)?,
    };
    Ok(Response {
        headers,
        protocol,
        deflate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_accept_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(generate_key().len(), 24);
    }

    #[test]
    fn head_end_is_found_across_reads() {
        let msg = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
        let mut seen = 0;
        let mut found = None;
        for end in 1..=msg.len() {
            if let Some(n) = head_complete(&msg[..end], seen) {
                found = Some(n);
                break;
            }
            seen = end;
        }
        assert_eq!(found, Some(msg.len() - 4));
    }
}
