//! wss on loopback: a self-signed certificate made at start-up (rcgen), a TLS WebSocket echo
//! server and a client that trusts that certificate, both on one sonic-rt thread.
//!
//! `cargo run -p sonic-ws --features tls --example wss_echo [-- MESSAGES]`

use sonic_ws::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use sonic_ws::tls::rustls::RootCertStore;
use sonic_ws::tls::{self, TlsAcceptor, TlsConnector};
use sonic_ws::{ClientConfig, CloseCode, Config, Decision, Error, Message};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn timer_config() -> Config {
    Config::default().timer(Rc::new(|d: Duration| sonic_rt::time::sleep(d)))
}

/// Echoes text and binary messages until the client closes.
async fn serve(tcp: sonic_net::TcpStream, acceptor: TlsAcceptor) -> Result<(), Error> {
    let mut ws = tls::accept_tls(tcp, &acceptor, timer_config(), |req| {
        println!("server: wss upgrade for {}", req.path);
        Decision::accept()
    })
    .await?;
    loop {
        match ws.recv().await? {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(c) => {
                println!("server: client closed with {c:?}");
                return Ok(());
            }
            _ => {}
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);

    // A fresh self-signed certificate for "localhost"; the client trusts exactly that one.
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(vec![cert.clone()], key)?));
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let connector = TlsConnector::from(Arc::new(tls::client_config(roots)?));

    sonic_rt::block_on(async move {
        let listener = sonic_net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let server = sonic_rt::spawn(async move {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            serve(tcp, acceptor).await
        });

        let tcp = sonic_net::TcpStream::connect(("127.0.0.1", port)).await?;
        tcp.set_nodelay(true)?;
        // The URL names "localhost": that is the name the certificate is checked against.
        let url = format!("wss://localhost:{port}/echo");
        let opts = ClientConfig {
            config: timer_config(),
            ..ClientConfig::default()
        };
        let (mut ws, resp) = tls::client_tls(tcp, &url, &connector, opts).await?;
        println!(
            "client: connected to {url} ({} response headers)",
            resp.headers.len()
        );

        ws.send_text("hello over TLS").await?;
        match ws.recv().await? {
            Message::Text(t) => println!("client: echo {t:?}"),
            other => return Err(format!("unexpected {other:?}").into()),
        }
        let payload: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
        let t = Instant::now();
        for _ in 0..count {
            ws.send_binary(&payload).await?;
            match ws.recv().await? {
                Message::Binary(b) if b == payload => {}
                other => return Err(format!("bad echo {other:?}").into()),
            }
        }
        let dt = t.elapsed();
        println!(
            "client: {count} x 1 KiB round trips in {:.1} ms ({:.1} µs each)",
            dt.as_secs_f64() * 1e3,
            dt.as_secs_f64() * 1e6 / count.max(1) as f64
        );
        ws.close(CloseCode::NORMAL, "done").await?;
        server.await??;
        println!("client: closed cleanly");
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
