//! The small part of URL syntax a WebSocket client needs: `ws[s]://host[:port][/path][?query]`.

use super::error::HandshakeError;

/// A parsed `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss://`.
    pub tls: bool,
    /// Host name or address; IPv6 literals keep their brackets.
    pub host: String,
    /// Port (80/443 when absent).
    pub port: u16,
    /// Path and query, at least `/`.
    pub resource: String,
}

impl WsUrl {
    /// Parses a URL; the fragment is not allowed (RFC 6455, section 3).
    ///
    /// # Errors
    /// Another scheme, an empty host, a bad port, a fragment, or userinfo.
    pub fn parse(url: &str) -> Result<Self, HandshakeError> {
        let (tls, rest) = if let Some(r) = strip_prefix_ci(url, "ws://") {
            (false, r)
        } else if let Some(r) = strip_prefix_ci(url, "wss://") {
            (true, r)
        } else {
            return Err(HandshakeError::BadUrl("scheme must be ws:// or wss://"));
        };
        if rest.contains('#') {
            return Err(HandshakeError::BadUrl("fragment not allowed"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(HandshakeError::BadUrl("userinfo not supported"));
        }
        let resource = if resource.is_empty() {
            "/".to_string()
        } else if resource.starts_with('?') {
            format!("/{resource}")
        } else {
            resource.to_string()
        };
        if resource.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HandshakeError::BadUrl("whitespace or control byte in path"));
        }
        let (host, port) = if authority.starts_with('[') {
            let end = authority
                .find(']')
                .ok_or(HandshakeError::BadUrl("unclosed IPv6 literal"))?;
            let host = &authority[..=end];
            let port = match &authority[end + 1..] {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or(HandshakeError::BadUrl("junk after IPv6 literal"))?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == b'/' || b == 0x7f) {
            return Err(HandshakeError::BadUrl("bad host"));
        }
        let port = match port {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| HandshakeError::BadUrl("bad port"))?,
        };
        Ok(WsUrl {
            tls,
            host: host.to_string(),
            port,
            resource,
        })
    }

    /// The `Host` header value (the port only when not the scheme's default).
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The host for DNS / address parsing (IPv6 brackets removed).
    pub fn host_for_connect(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let u = WsUrl::parse("ws://example.com").unwrap();
        assert_eq!((u.tls, u.port, u.resource.as_str()), (false, 80, "/"));
        assert_eq!(u.host_header(), "example.com");
        let u = WsUrl::parse("WSS://[::1]:9001/chat?x=1").unwrap();
        assert_eq!(
            (u.tls, u.port, u.resource.as_str()),
            (true, 9001, "/chat?x=1")
        );
        assert_eq!(u.host_header(), "[::1]:9001");
        assert_eq!(u.host_for_connect(), "::1");
        let u = WsUrl::parse("ws://h:1?q").unwrap();
        assert_eq!(u.resource, "/?q");
        for bad in [
            "http://x",
            "ws://",
            "ws://x#f",
            "ws://x:99999",
            "ws://u@x",
            "ws://[::1",
            "ws://x/a b",
        ] {
            assert!(WsUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
