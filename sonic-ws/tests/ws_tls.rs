//! wss end to end (feature `tls`): a self-signed certificate made by the test (rcgen), a TLS
//! WebSocket server and client over sonic-net on loopback, messages both ways, the close
//! handshake, and the failures that must happen: an untrusted certificate, a wrong host name,
//! a `ws://` URL.

use sonic_ws::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sonic_ws::tls::rustls::RootCertStore;
use sonic_ws::tls::{self, TlsAcceptor, TlsConnector};
use sonic_ws::{
    ClientConfig, CloseCode, Config, Decision, DeflateConfig, Error, HandshakeError, Message,
};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

struct Certs {
    acceptor: TlsAcceptor,
    cert: CertificateDer<'static>,
}

fn certs(names: &[&str]) -> Certs {
    let certified =
        rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let acceptor = TlsAcceptor::from(Arc::new(
        tls::server_config(vec![cert.clone()], key).unwrap(),
    ));
    Certs { acceptor, cert }
}

fn connector_trusting(cert: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    TlsConnector::from(Arc::new(tls::client_config(roots).unwrap()))
}

fn config() -> Config {
    Config::default().timer(Rc::new(|d: Duration| sonic_rt::time::sleep(d)))
}

/// Binds a listener and spawns an echo server that handles one wss connection and returns
/// what it saw: the request path and the peer's Close code.
async fn echo_server(
    acceptor: TlsAcceptor,
    cfg: Config,
) -> (
    u16,
    sonic_rt::JoinHandle<Result<(String, Option<CloseCode>), Error>>,
) {
    let listener = sonic_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = sonic_rt::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut path = String::new();
        let mut ws = tls::accept_tls(tcp, &acceptor, cfg, |req| {
            path = req.path.clone();
            Decision::pick_protocol(req, &["chat"])
        })
        .await?;
        loop {
            match ws.recv().await? {
                m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
                Message::Close(c) => return Ok((path, c.map(|c| c.code))),
                _ => {}
            }
        }
    });
    (port, server)
}

#[test]
fn wss_echo_text_binary_large_and_close() {
    let certs = certs(&["localhost"]);
    let connector = connector_trusting(&certs.cert);
    sonic_rt::block_on(async move {
        let (port, server) = echo_server(certs.acceptor, config()).await;
        let tcp = sonic_net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let opts = ClientConfig {
            config: config(),
            protocols: vec!["chat".into()],
            ..ClientConfig::default()
        };
        let url = format!("wss://localhost:{port}/feed?x=1");
        let (mut ws, resp) = tls::client_tls(tcp, &url, &connector, opts).await.unwrap();
        assert_eq!(resp.protocol.as_deref(), Some("chat"));
        assert_eq!(ws.protocol(), Some("chat"));

        ws.send_text("héllo wss").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("héllo wss".into()));

        // Sizes around the vectored-write threshold and TLS record size (16 KiB), and a
        // message that spans many records.
        for len in [0usize, 1, 125, 126, 16 << 10, (16 << 10) + 1, 1 << 20] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            ws.send_binary(&payload).await.unwrap();
            match ws.recv().await.unwrap() {
                Message::Binary(b) => assert!(b == payload, "echo of {len} bytes differs"),
                other => panic!("unexpected {other:?}"),
            }
            // The owned path (masked in place, vectored write) too.
            ws.send(Message::Binary(payload.clone())).await.unwrap();
            match ws.recv_ref().await.unwrap() {
                sonic_ws::MessageRef::Binary(b) => assert!(b == &payload[..]),
                other => panic!("unexpected {other:?}"),
            }
        }
        // A burst of fed messages, one flush.
        for i in 0..100u32 {
            ws.feed(sonic_ws::OpCode::Binary, &i.to_be_bytes())
                .await
                .unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..100u32 {
            assert_eq!(
                ws.recv().await.unwrap(),
                Message::Binary(i.to_be_bytes().to_vec())
            );
        }

        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        let (path, code) = server.await.unwrap().unwrap();
        assert_eq!(path, "/feed?x=1");
        assert_eq!(code, Some(CloseCode::NORMAL));
    });
}

#[test]
fn wss_with_permessage_deflate() {
    let certs = certs(&["localhost"]);
    let connector = connector_trusting(&certs.cert);
    sonic_rt::block_on(async move {
        let (port, server) =
            echo_server(certs.acceptor, config().deflate(DeflateConfig::default())).await;
        let tcp = sonic_net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let opts = ClientConfig {
            config: config().deflate(DeflateConfig::default()),
            ..ClientConfig::default()
        };
        let url = format!("wss://localhost:{port}/");
        let (mut ws, resp) = tls::client_tls(tcp, &url, &connector, opts).await.unwrap();
        assert!(resp.deflate.is_some(), "deflate was not agreed");
        let text = "market data ".repeat(1000);
        assert!(ws.compresses(text.len()));
        ws.send_text(&text).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text(text));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(server.await.unwrap().unwrap().1, Some(CloseCode::NORMAL));
    });
}

#[test]
fn ip_address_url_needs_a_certificate_for_the_ip() {
    let certs = certs(&["127.0.0.1"]);
    let connector = connector_trusting(&certs.cert);
    sonic_rt::block_on(async move {
        let (port, server) = echo_server(certs.acceptor, config()).await;
        let tcp = sonic_net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let url = format!("wss://127.0.0.1:{port}/");
        let (mut ws, _) = tls::client_tls(tcp, &url, &connector, ClientConfig::default())
            .await
            .unwrap();
        ws.send_text("ip").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("ip".into()));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    });
}

/// Runs a client against a fresh server and returns the client's error.
fn client_error(server_names: &[&str], trusted: bool, url_host: &str, scheme: &str) -> Error {
    let certs = certs(server_names);
    let connector = if trusted {
        connector_trusting(&certs.cert)
    } else {
        // Trusts a different self-signed certificate.
        connector_trusting(&self::certs(server_names).cert)
    };
    sonic_rt::block_on(async move {
        let (port, server) = echo_server(certs.acceptor, config()).await;
        let tcp = sonic_net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let url = format!("{scheme}://{url_host}:{port}/");
        let opts = ClientConfig {
            config: config(),
            ..ClientConfig::default()
        };
        let err = match tls::client_tls(tcp, &url, &connector, opts).await {
            Ok(_) => panic!("client handshake to {url} succeeded"),
            Err(e) => e,
        };
        // The server fails too (TLS alert or EOF) rather than hanging; with a ws:// URL the
        // client never started TLS and the server sees the TCP stream close.
        assert!(server.await.unwrap().is_err());
        err
    })
}

#[test]
fn untrusted_certificate_fails_the_handshake() {
    match client_error(&["localhost"], false, "localhost", "wss") {
        Error::Io(e) => assert!(
            e.to_string().to_lowercase().contains("certificate"),
            "unexpected error: {e}"
        ),
        e => panic!("unexpected error: {e}"),
    }
}

#[test]
fn wrong_host_name_fails_the_handshake() {
    match client_error(&["example.com"], true, "localhost", "wss") {
        Error::Io(e) => assert!(
            e.to_string().to_lowercase().contains("certificate"),
            "unexpected error: {e}"
        ),
        e => panic!("unexpected error: {e}"),
    }
}

#[test]
fn plain_ws_url_is_refused_before_any_io() {
    match client_error(&["localhost"], true, "localhost", "ws") {
        Error::Handshake(HandshakeError::BadUrl(_)) => {}
        e => panic!("unexpected error: {e}"),
    }
}

#[test]
fn wss_in_one_call_with_a_custom_root_store() {
    // Issue 13: connect("wss://...") builds the TLS client itself; `tls::connect_with` takes a
    // client config over the test's own root store (the test CA).
    let certs = certs(&["localhost"]);
    let mut roots = RootCertStore::empty();
    roots.add(certs.cert.clone()).unwrap();
    let tls_cfg = Arc::new(tls::client_config(roots).unwrap());
    sonic_rt::block_on(async move {
        let (port, server) = echo_server(certs.acceptor, config()).await;
        let url = format!("wss://localhost:{port}/one-call");
        let (mut ws, _) = tls::connect_with(&url, ClientConfig::default(), tls_cfg)
            .await
            .unwrap();
        assert!(matches!(ws.get_ref(), sonic_ws::MaybeTlsStream::Tls(_)));
        ws.send_text("over tls").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("over tls".into()));
        ws.send_binary(&vec![3u8; 100_000]).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::binary(vec![3u8; 100_000])
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let (path, code) = server.await.unwrap().unwrap();
        assert_eq!(path, "/one-call");
        assert_eq!(code, Some(CloseCode::NORMAL));
    });
}

#[test]
fn wss_connect_uses_the_default_roots() {
    // The test CA is not among the default roots: plain `connect` runs TLS and refuses the
    // certificate (it used to refuse the URL).
    let certs = certs(&["localhost"]);
    sonic_rt::block_on(async move {
        let (port, server) = echo_server(certs.acceptor, config()).await;
        match sonic_ws::connect(&format!("wss://localhost:{port}/")).await {
            Err(Error::Io(e)) => assert!(
                e.to_string().to_lowercase().contains("certificate"),
                "unexpected error: {e}"
            ),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("an unknown CA was trusted"),
        }
        assert!(server.await.unwrap().is_err());
    });
}
