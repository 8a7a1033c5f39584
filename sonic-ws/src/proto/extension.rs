//! `Sec-WebSocket-Extensions` parsing and permessage-deflate negotiation (RFC 7692, section 7.1).
//!
//! Header grammar (RFC 6455, section 9.1): a comma-separated list of extensions, each a token
//! followed by `; name[=value]` parameters, where a value is a token or a quoted string.

use super::error::HandshakeError;

/// What this endpoint wants from permessage-deflate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Compression level 0..=9 for outgoing messages.
    pub level: u32,
    /// Ask (client) or announce (server) that the server resets its compressor every message.
    pub server_no_context_takeover: bool,
    /// Ask (server) or announce (client) that the client resets its compressor every message.
    pub client_no_context_takeover: bool,
    /// Largest window, 9..=15 bits, the server's compressor should use.
    pub server_max_window_bits: u8,
    /// Largest window, 9..=15 bits, the client's compressor should use.
    pub client_max_window_bits: u8,
    /// Messages shorter than this are sent uncompressed.
    pub min_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            min_size: 32,
        }
    }
}

/// The parameters both sides agreed on, from this endpoint's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// Our compressor resets after every message.
    pub local_no_context_takeover: bool,
    /// The peer's compressor resets after every message.
    pub remote_no_context_takeover: bool,
    /// Window bits our compressor may use (8 means: send uncompressed).
    pub local_max_window_bits: u8,
    /// Compression level.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed.
    pub min_size: usize,
}

/// One extension offer: its name and raw parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// Extension token, e.g. `permessage-deflate`.
    pub name: &'a str,
    /// `(name, value)` pairs; a value-less parameter has `None`.
    pub params: Vec<(&'a str, Option<&'a str>)>,
}

/// Splits `s` on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut in_quotes = false;
    let mut escape = false;
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if escape {
            escape = false;
        } else if in_quotes && b == b'\\' {
            escape = true;
        } else if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == sep && !in_quotes {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts.into_iter()
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v)
}

/// Parses a (possibly comma-joined) `Sec-WebSocket-Extensions` value. Empty items are skipped.
pub fn parse_extensions(value: &str) -> Vec<Extension<'_>> {
    let mut out = Vec::new();
    for item in split_unquoted(value, b',') {
        let mut parts = split_unquoted(item, b';');
        let name = parts.next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let params = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(unquote(v))),
                None => (p.trim(), None),
            })
            .collect();
        out.push(Extension { name, params });
    }
    out
}

fn parse_bits(v: Option<&str>) -> Option<u8> {
    let v = v?;
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u8 = v.parse().ok()?;
    (8..=15).contains(&n).then_some(n)
}

/// A client's permessage-deflate offer as parsed by a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: parameter present without value.
    client_max_window_bits: Option<Option<u8>>,
}

fn parse_offer(ext: &Extension<'_>) -> Option<Offer> {
    let mut o = Offer::default();
    let mut seen = [false; 4];
    for &(k, v) in &ext.params {
        let idx = match k {
            "server_no_context_takeover" if v.is_none() => {
                o.server_no_context_takeover = true;
                0
            }
            "client_no_context_takeover" if v.is_none() => {
                o.client_no_context_takeover = true;
                1
            }
            "server_max_window_bits" => {
                o.server_max_window_bits = Some(parse_bits(v)?);
                2
            }
            "client_max_window_bits" => {
                o.client_max_window_bits = Some(match v {
                    None => None,
                    Some(_) => Some(parse_bits(v)?),
                });
                3
            }
            _ => return None,
        };
        if std::mem::replace(&mut seen[idx], true) {
            return None;
        }
    }
    Some(o)
}

/// Server side: picks the first acceptable permessage-deflate offer in `header`.
///
/// Returns the response header value and the agreed parameters, or `None` to decline.
pub fn server_negotiate(header: &str, cfg: &DeflateConfig) -> Option<(String, DeflateParams)> {
    for ext in parse_extensions(header) {
        if !ext.name.eq_ignore_ascii_case("permessage-deflate") {
            continue;
        }
        let Some(offer) = parse_offer(&ext) else {
            continue;
        };
        let mut resp = String::from("permessage-deflate");
        let server_nct = offer.server_no_context_takeover || cfg.server_no_context_takeover;
        if server_nct {
            resp.push_str("; server_no_context_takeover");
        }
        let client_nct = offer.client_no_context_takeover || cfg.client_no_context_takeover;
        if client_nct {
            resp.push_str("; client_no_context_takeover");
        }
        let ours = cfg.server_max_window_bits.clamp(9, 15);
        let server_bits = match offer.server_max_window_bits {
            Some(b) => b.min(ours),
            None => ours,
        };
        if server_bits < 15 || offer.server_max_window_bits.is_some() {
            resp.push_str(&format!("; server_max_window_bits={server_bits}"));
        }
        if let Some(offered) = offer.client_max_window_bits {
            let want = cfg.client_max_window_bits.clamp(9, 15);
            let bits = offered.map_or(want, |b| b.min(want));
            if bits < 15 || offered.is_some() {
                resp.push_str(&format!("; client_max_window_bits={bits}"));
            }
        }
        return Some((
            resp,
            DeflateParams {
                local_no_context_takeover: server_nct,
                remote_no_context_takeover: client_nct,
                local_max_window_bits: server_bits,
                level: cfg.level,
                min_size: cfg.min_size,
            },
        ));
    }
    None
}

/// Client side: the offer to put in the request.
pub fn client_offer(cfg: &DeflateConfig) -> String {
    let mut s = String::from("permessage-deflate");
    if cfg.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if cfg.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if cfg.server_max_window_bits < 15 {
        s.push_str(&format!(
            "; server_max_window_bits={}",
            cfg.server_max_window_bits.clamp(9, 15)
        ));
    }
    if cfg.client_max_window_bits < 15 {
        s.push_str(&format!(
            "; client_max_window_bits={}",
            cfg.client_max_window_bits.clamp(9, 15)
        ));
    } else {
        s.push_str("; client_max_window_bits");
    }
    s
}

/// Client side: validates the server's response against what we offered.
///
/// # Errors
/// Any extension other than one permessage-deflate, unknown or duplicate parameters, or a
/// window larger than we asked for.
pub fn client_accept(
    header: &str,
    cfg: &DeflateConfig,
) -> Result<Option<DeflateParams>, HandshakeError> {
    let exts = parse_extensions(header);
    let mut found = None;
    for ext in exts {
        if !ext.name.eq_ignore_ascii_case("permessage-deflate") {
            return Err(HandshakeError::BadExtension("extension not offered"));
        }
        if found.is_some() {
            return Err(HandshakeError::BadExtension("permessage-deflate twice"));
        }
        let o = parse_offer(&ext).ok_or(HandshakeError::BadExtension("bad parameters"))?;
        if let Some(b) = o.server_max_window_bits {
            if cfg.server_max_window_bits < 15 && b > cfg.server_max_window_bits {
                return Err(HandshakeError::BadExtension(
                    "server_max_window_bits too large",
                ));
            }
        }
        let client_bits = match o.client_max_window_bits {
            Some(Some(b)) => b,
            Some(None) => return Err(HandshakeError::BadExtension("client_max_window_bits")),
            None => 15,
        };
        if client_bits > cfg.client_max_window_bits {
            return Err(HandshakeError::BadExtension(
                "client_max_window_bits too large",
            ));
        }
        if cfg.server_no_context_takeover && !o.server_no_context_takeover {
            return Err(HandshakeError::BadExtension(
                "server_no_context_takeover missing",
            ));
        }
        found = Some(DeflateParams {
            local_no_context_takeover: o.client_no_context_takeover
                || cfg.client_no_context_takeover,
            remote_no_context_takeover: o.server_no_context_takeover,
            local_max_window_bits: client_bits,
            level: cfg.level,
            min_size: cfg.min_size,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_params_and_quotes() {
        let e = parse_extensions(
            "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ,x-foo",
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].params, vec![("client_max_window_bits", None)]);
        assert_eq!(e[1].params, vec![("server_max_window_bits", Some("10"))]);
        assert_eq!(e[2].name, "x-foo");
    }

    #[test]
    fn server_picks_first_valid_offer() {
        let cfg = DeflateConfig::default();
        let (resp, p) = server_negotiate(
            "permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=9; client_no_context_takeover",
            &cfg,
        )
        .unwrap();
        assert_eq!(
            resp,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"
        );
        assert_eq!(p.local_max_window_bits, 9);
        assert!(p.remote_no_context_takeover);
        assert!(server_negotiate("permessage-deflate; server_max_window_bits=16", &cfg).is_none());
        assert!(server_negotiate("permessage-deflate; server_max_window_bits", &cfg).is_none());
        assert!(server_negotiate(
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            &cfg
        )
        .is_none());
    }

    #[test]
    fn client_round_trip() {
        let cfg = DeflateConfig {
            client_max_window_bits: 12,
            ..DeflateConfig::default()
        };
        let offer = client_offer(&cfg);
        let (resp, _) = server_negotiate(&offer, &DeflateConfig::default()).unwrap();
        let p = client_accept(&resp, &cfg).unwrap().unwrap();
        assert_eq!(p.local_max_window_bits, 12);
        assert!(client_accept("x-other", &cfg).is_err());
        assert!(client_accept("permessage-deflate; client_max_window_bits=15", &cfg).is_err());
        assert_eq!(client_accept("", &cfg).unwrap(), None);
    }
}
