//! Arbitrary bytes as a client request (server side) and as a server response (client side),
//! plus the extension-header parser and URL parser. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonic_ws::proto::extension::{client_accept, parse_extensions, server_negotiate};
use sonic_ws::proto::handshake::{head_complete, parse_request, parse_response, ClientRequest};
use sonic_ws::proto::url::WsUrl;
use sonic_ws::DeflateConfig;

fuzz_target!(|data: &[u8]| {
    let _ = head_complete(data, data.len() / 2);
    if let Some(n) = head_complete(data, 0) {
        let _ = parse_request(&data[..n]);
        let req = ClientRequest {
            host: "h".into(),
            path: "/".into(),
            protocols: vec!["chat".into()],
            deflate: Some(DeflateConfig::default()),
            headers: vec![],
        };
        let _ = parse_response(&data[..n], "dGhlIHNhbXBsZSBub25jZQ==", &req);
    }
    let _ = parse_request(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_extensions(s);
        let cfg = DeflateConfig::default();
        let _ = server_negotiate(s, &cfg);
        let _ = client_accept(s, &cfg);
        let _ = WsUrl::parse(s);
    }
});
