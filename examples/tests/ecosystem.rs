//! Crates of the futures and tokio ecosystems running on sonic, over real loopback sockets:
//! futures-io utilities (`copy`, `BufReader`, `split`), `asynchronous-codec` framing, TLS with
//! `futures-rustls` (client and server), and an HTTP/1 server and client from `hyper` through
//! sonic-net's `tokio` feature (hyper-util's `TokioIo` adapter). Each test runs with busy-poll
//! on and off.

use bytes::Bytes;
use sonic_net::{TcpListener, TcpStream};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

fn runtime(busy_poll: bool) -> sonic_rt::Runtime {
    sonic_rt::Builder::new()
        .busy_poll(busy_poll)
        .build()
        .expect("runtime")
}

const LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` with a time limit on a runtime in each loop mode.
fn each_mode<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for busy in [true, false] {
        runtime(busy).block_on(async {
            sonic_rt::time::timeout(LIMIT, body())
                .await
                .unwrap_or_else(|_| panic!("timed out (busy_poll = {busy})"));
        });
    }
}

async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

#[test]
fn futures_io_copy_bufreader_and_split() {
    use futures_util::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    each_mode(|| async {
        let (l, addr) = listener().await;
        // Echo server: futures-util's split + copy on a sonic stream.
        let server = sonic_rt::spawn(async move {
            let (stream, _) = l.accept().await.unwrap();
            let (r, mut w) = stream.split();
            futures_util::io::copy(r, &mut w).await.unwrap()
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (r, mut w) = stream.split();
        let mut reader = BufReader::new(r);
        let mut total = 0u64;
        for i in 0..50 {
            let line = format!("line {i} {}\n", "x".repeat(i * 37));
            w.write_all(line.as_bytes()).await.unwrap();
            total += line.len() as u64;
            let mut back = String::new();
            reader.read_line(&mut back).await.unwrap();
            assert_eq!(back, line);
        }
        w.close().await.unwrap(); // shuts the write side down: the server's copy ends
        assert_eq!(server.await.unwrap(), total);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn asynchronous_codec_lines_and_length_frames() {
    use asynchronous_codec::{Framed, LengthCodec, LinesCodec};
    use futures_util::{SinkExt, TryStreamExt};
    each_mode(|| async {
        let (l, addr) = listener().await;
        let server = sonic_rt::spawn(async move {
            // Lines, upper-cased back, then length-prefixed frames echoed.
            let (stream, _) = l.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec);
            for _ in 0..3 {
                let line = lines.try_next().await.unwrap().unwrap();
                lines.send(line.to_uppercase()).await.unwrap();
            }
            let mut frames = Framed::new(lines.into_inner(), LengthCodec);
            while let Some(frame) = frames.try_next().await.unwrap() {
                frames.send(frame).await.unwrap();
            }
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec);
        for word in ["alpha", "beta", "gamma"] {
            lines.send(format!("{word}\n")).await.unwrap();
            let back = lines.try_next().await.unwrap().unwrap();
            assert_eq!(back, format!("{}\n", word.to_uppercase()));
        }
        let mut frames = Framed::new(lines.into_inner(), LengthCodec);
        for size in [0usize, 1, 1000, 64 * 1024] {
            let frame = Bytes::from((0..size).map(|i| i as u8).collect::<Vec<u8>>());
            frames.send(frame.clone()).await.unwrap();
            assert_eq!(frames.try_next().await.unwrap().unwrap(), frame);
        }
        frames.close().await.unwrap();
        server.await.unwrap();
    });
}

mod http {
    use super::*;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Method, Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;

    /// Serves HTTP/1 on `l`: `GET /hello` answers with a request count kept in an `Rc<Cell>`
    /// (a `!Send` service is fine on sonic), `POST /echo` echoes the body, anything else is 404.
    async fn serve(l: TcpListener) {
        let count = Rc::new(Cell::new(0u32));
        loop {
            let (stream, _) = l.accept().await.unwrap();
            let count = count.clone();
            let service = service_fn(move |req: Request<Incoming>| {
                let count = count.clone();
                async move {
                    let response = match (req.method(), req.uri().path()) {
                        (&Method::GET, "/hello") => {
                            count.set(count.get() + 1);
                            Response::new(Full::new(Bytes::from(format!(
                                "hello #{} from sonic",
                                count.get()
                            ))))
                        }
                        (&Method::POST, "/echo") => {
                            let body = req.into_body().collect().await?.to_bytes();
                            Response::new(Full::new(body))
                        }
                        _ => {
                            let mut r = Response::new(Full::new(Bytes::from_static(b"no")));
                            *r.status_mut() = StatusCode::NOT_FOUND;
                            r
                        }
                    };
                    Ok::<_, hyper::Error>(response)
                }
            });
            drop(sonic_rt::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }));
        }
    }

    async fn body_string(res: Response<Incoming>) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn hyper_http1_server_and_client_on_sonic() {
        each_mode(|| async {
            let (l, addr) = listener().await;
            let server = sonic_rt::spawn(serve(l));

            // hyper's own client, on sonic too, several requests on one keep-alive connection.
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
                    .await
                    .unwrap();
            drop(sonic_rt::spawn(conn));
            for n in 1..=3 {
                let req = Request::get("/hello")
                    .header("host", "sonic")
                    .body(Full::default())
                    .unwrap();
                let res = sender.send_request(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                assert_eq!(body_string(res).await, format!("hello #{n} from sonic"));
            }
            let payload = "x".repeat(100_000);
            let req = Request::post("/echo")
                .header("host", "sonic")
                .body(Full::new(Bytes::from(payload.clone())))
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(body_string(res).await, payload);
            let req = Request::get("/missing")
                .header("host", "sonic")
                .body(Full::default())
                .unwrap();
            assert_eq!(
                sender.send_request(req).await.unwrap().status(),
                StatusCode::NOT_FOUND
            );

            // A plain blocking client on another thread: bytes on the wire, nothing shared.
            let raw = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(LIMIT)).unwrap();
                s.write_all(b"GET /hello HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                out
            });
            // Wait for the thread without blocking the runtime: the server runs here too.
            while !raw.is_finished() {
                sonic_rt::time::sleep(Duration::from_millis(1)).await;
            }
            let out = raw.join().unwrap();
            assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
            assert!(out.ends_with("hello #4 from sonic"), "{out}");
            server.abort();
        });
    }
}

#[test]
fn futures_rustls_tls_client_and_server() {
    use futures_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use futures_rustls::rustls::{crypto, ClientConfig, RootCertStore, ServerConfig};
    use futures_rustls::{TlsAcceptor, TlsConnector};
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    use std::sync::Arc;

    // A self-signed certificate for "localhost", made fresh for the test.
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let connector = TlsConnector::from(Arc::new(client_config));

    each_mode(|| {
        let (acceptor, connector) = (acceptor.clone(), connector.clone());
        async move {
            let (l, addr) = listener().await;
            let server = sonic_rt::spawn(async move {
                let (tcp, _) = l.accept().await.unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                let mut buf = vec![0u8; 16 * 1024];
                let mut echoed = 0usize;
                loop {
                    let n = tls.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    tls.write_all(&buf[..n]).await.unwrap();
                    tls.flush().await.unwrap();
                    echoed += n;
                }
                tls.close().await.unwrap();
                echoed
            });
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            let mut sent = 0;
            for i in 0..100 {
                let line = format!("ping {i}\n");
                tls.write_all(line.as_bytes()).await.unwrap();
                tls.flush().await.unwrap();
                let mut back = vec![0u8; line.len()];
                tls.read_exact(&mut back).await.unwrap();
                assert_eq!(back, line.as_bytes());
                sent += line.len();
            }
            let big: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
            tls.write_all(&big).await.unwrap();
            tls.flush().await.unwrap();
            let mut back = vec![0u8; big.len()];
            tls.read_exact(&mut back).await.unwrap();
            assert!(back == big, "64 KiB through TLS came back different");
            sent += big.len();
            tls.close().await.unwrap(); // close_notify, then the write side shuts down
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            assert_eq!(server.await.unwrap(), sent);
        }
    });
}

/// A type that only speaks tokio's I/O traits (here tokio's in-memory `duplex` pipe, which needs
/// no tokio runtime) used where futures-io is expected, and a futures-io-only value used where
/// tokio's traits are expected: tokio-util's `compat` adapters, on a sonic runtime.
#[test]
fn tokio_util_compat_bridges_both_ways() {
    use futures_util::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::io::AsyncReadExt as _;
    use tokio_util::compat::{FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};
    each_mode(|| async {
        // tokio-io type -> futures-io.
        let (a, b) = tokio::io::duplex(64);
        let mut a = a.compat();
        let mut b = b.compat();
        let writer = sonic_rt::spawn(async move {
            a.write_all(&[7u8; 10_000]).await.unwrap();
            a.close().await.unwrap();
        });
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got, vec![7u8; 10_000]);

        // futures-io-only value (futures' BufReader over a sonic socket) -> tokio's traits.
        let (l, addr) = listener().await;
        let server = sonic_rt::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            futures_util::io::AsyncWriteExt::write_all(&mut s, b"hello\nworld\n")
                .await
                .unwrap();
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut lines = futures_util::io::BufReader::new(stream).compat();
        let mut line = String::new();
        tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut line)
            .await
            .unwrap();
        assert_eq!(line, "hello\n");
        let mut rest = String::new();
        lines.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "world\n");
        server.await.unwrap();
    });
}
