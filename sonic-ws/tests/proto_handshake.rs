//! Opening handshake: request/response building and parsing, subprotocols, extensions, errors.

use sonic_ws::proto::handshake::{
    accept_key, generate_key, head_complete, parse_request, parse_response, reject_response,
    server_response, ClientRequest,
};
use sonic_ws::{DeflateConfig, HandshakeError};

const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn rfc6455_opening_handshake() {
    let req = parse_request(RFC_REQUEST).unwrap();
    assert_eq!(req.path, "/chat");
    assert_eq!(req.protocols, vec!["chat", "superchat"]);
    assert_eq!(req.header("origin"), Some(&b"http://example.com"[..]));
    let resp = server_response(&req.key, Some("chat"), None, &[]).unwrap();
    let text = String::from_utf8(resp).unwrap();
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(text.contains("Sec-WebSocket-Protocol: chat\r\n"));
    assert!(text.ends_with("\r\n\r\n"));
}

#[test]
fn client_and_server_agree() {
    let cr = ClientRequest {
        host: "localhost:9001".into(),
        path: "/x?y=1".into(),
        protocols: vec!["a".into(), "b".into()],
        deflate: Some(DeflateConfig::default()),
        headers: vec![("X-Test".into(), "1".into())],
    };
    let key = generate_key();
    let bytes = cr.encode(&key).unwrap();
    let n = head_complete(&bytes, 0).unwrap();
    assert_eq!(n, bytes.len());
    let req = parse_request(&bytes).unwrap();
    assert_eq!(req.path, "/x?y=1");
    assert_eq!(req.header("x-test"), Some(&b"1"[..]));
    let (ext, _) =
        sonic_ws::proto::extension::server_negotiate(&req.extensions, &DeflateConfig::default())
            .unwrap();
    let resp = server_response(&req.key, Some("b"), Some(&ext), &[]).unwrap();
    let r = parse_response(&resp, &key, &cr).unwrap();
    assert_eq!(r.protocol.as_deref(), Some("b"));
    assert!(r.deflate.is_some());
}

#[test]
fn client_rejects_bad_responses() {
    let cr = ClientRequest {
        host: "h".into(),
        path: "/".into(),
        ..Default::default()
    };
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let good = |extra: &str| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
            accept_key(key.as_bytes())
        )
    };
    assert!(parse_response(good("").as_bytes(), key, &cr).is_ok());
    let r = parse_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", key, &cr);
    assert!(matches!(r, Err(HandshakeError::Status(403))));
    let wrong = good("").replace(
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    );
    assert!(matches!(
        parse_response(wrong.as_bytes(), key, &cr),
        Err(HandshakeError::BadAccept)
    ));
    let r = parse_response(
        good("Sec-WebSocket-Protocol: chat\r\n").as_bytes(),
        key,
        &cr,
    );
    assert!(matches!(r, Err(HandshakeError::BadProtocol)));
    let r = parse_response(
        good("Sec-WebSocket-Extensions: permessage-deflate\r\n").as_bytes(),
        key,
        &cr,
    );
    assert!(matches!(r, Err(HandshakeError::BadExtension(_))));
    let r = parse_response(b"HTTP/1.1 101 OK\r\nUpgrade: h2c\r\n\r\n", key, &cr);
    assert!(matches!(r, Err(HandshakeError::NotWebSocket(_))));
    let r = parse_response(b"HTTP/1.1 1O1 OK\r\n\r\n", key, &cr);
    assert!(matches!(r, Err(HandshakeError::Http(_))));
}

#[test]
fn server_rejects_bad_requests() {
    let req = std::str::from_utf8(RFC_REQUEST).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (req.replace("GET", "POST"), "method"),
        (req.replace("HTTP/1.1", "HTTP/1.0"), "version"),
        (req.replace("Host: server.example.com\r\n", ""), "host"),
        (req.replace("Upgrade: websocket", "Upgrade: h2c"), "upgrade"),
        (
            req.replace("Connection: Upgrade", "Connection: keep-alive"),
            "connection",
        ),
        (req.replace("Version: 13", "Version: 8"), "version 8"),
        (req.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"), "key"),
        (req.replace("Origin", "Bad Header"), "header syntax"),
    ];
    for (r, what) in cases {
        assert!(parse_request(r.as_bytes()).is_err(), "{what}");
    }
    assert!(matches!(
        parse_request(req.replace("Version: 13", "Version: 8").as_bytes()),
        Err(HandshakeError::UnsupportedVersion)
    ));
    // Token lists and case are accepted.
    let ok = req.replace("Connection: Upgrade", "connection: keep-alive, UPGRADE");
    assert!(parse_request(ok.as_bytes()).is_ok());
    // Too many headers.
    let many = req.replace("\r\n\r\n", &format!("{}\r\n\r\n", "\r\nX: y".repeat(100)));
    assert!(matches!(
        parse_request(many.as_bytes()),
        Err(HandshakeError::TooManyHeaders)
    ));
}

#[test]
fn header_injection_is_refused() {
    assert!(server_response("k", Some("a\r\nX: y"), None, &[]).is_err());
    assert!(server_response("k", None, None, &[("X".into(), "a\nb".into())]).is_err());
    let cr = ClientRequest {
        host: "h\r\nX: y".into(),
        path: "/".into(),
        ..Default::default()
    };
    assert!(cr.encode("k").is_err());
}

#[test]
fn reject_response_is_http() {
    let r = String::from_utf8(reject_response(426, "upgrade")).unwrap();
    assert!(r.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(r.contains("Sec-WebSocket-Version: 13\r\n"));
    assert!(r.ends_with("\r\n\r\nupgrade"));
}

#[test]
fn client_user_host_replaces_the_generated_one_and_generated_headers_are_refused() {
    // Issue 13, defect 4.
    let cr = ClientRequest {
        host: "10.0.0.1:9001".into(),
        path: "/".into(),
        headers: vec![
            ("host".into(), "example.com".into()),
            ("Origin".into(), "http://example.com".into()),
        ],
        ..ClientRequest::default()
    };
    let bytes = cr.encode(&generate_key()).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(
        text.to_ascii_lowercase().matches("\r\nhost:").count(),
        1,
        "{text}"
    );
    let req = parse_request(&bytes).unwrap();
    assert_eq!(req.header("host"), Some(&b"example.com"[..]));
    for name in [
        "Sec-WebSocket-Key",
        "upgrade",
        "Connection",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions",
        "Sec-WebSocket-Protocol",
    ] {
        let cr = ClientRequest {
            host: "h".into(),
            path: "/".into(),
            headers: vec![(name.into(), "x".into())],
            ..ClientRequest::default()
        };
        assert!(
            matches!(cr.encode("k"), Err(HandshakeError::GeneratedHeader(_))),
            "{name}"
        );
    }
    let two_hosts = ClientRequest {
        host: "h".into(),
        path: "/".into(),
        headers: vec![("Host".into(), "a".into()), ("Host".into(), "b".into())],
        ..ClientRequest::default()
    };
    assert!(matches!(
        two_hosts.encode("k"),
        Err(HandshakeError::DuplicateHeader("Host"))
    ));
}

#[test]
fn server_refuses_duplicate_host_key_and_upgrade() {
    let base = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    for (dup, name) in [
        ("Host: evil\r\n", "Host"),
        (
            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "Sec-WebSocket-Key",
        ),
        ("Upgrade: websocket\r\n", "Upgrade"),
    ] {
        let req = format!("{base}{dup}\r\n");
        match parse_request(req.as_bytes()) {
            Err(HandshakeError::DuplicateHeader(n)) => assert_eq!(n, name),
            other => panic!("{dup}: {other:?}"),
        }
    }
    assert!(parse_request(format!("{base}\r\n").as_bytes()).is_ok());
}
