//! wss: WebSocket over TLS, through rustls and `futures-rustls` (the `tls` feature).
//!
//! Works over any `futures_io::AsyncRead + AsyncWrite` stream, like the plain functions: the
//! TLS handshake runs first, then the WebSocket handshake over the encrypted stream, and both
//! together are bounded by `handshake_timeout` when the config has a timer.
//!
//! rustls uses the `ring` crypto provider here (it builds with a C compiler alone; aws-lc-rs
//! would need cmake). [`client_config`] and [`server_config`] build rustls configs with that
//! provider explicitly, so they work even when another crate in the build enables a second
//! provider; any other `rustls::ClientConfig` / `ServerConfig` works too.
//!
//! With `net` too, [`connect`](crate::connect)`("wss://host/path")` does it all in one call:
//! TCP, TLS trusting [`default_roots`] (webpki-roots, compiled in, so it works the same in a
//! minimal container with no CA bundle; feature `native-roots` trusts the platform's store
//! instead, for private CAs installed system-wide), then the WebSocket handshake.
//! [`connect_with`] takes your own client config (e.g. [`client_config`] over a custom root
//! store).
//!
//! ```no_run
//! # #[allow(dead_code)]
//! # async fn demo<S>(tcp: S, roots: sonic_ws::tls::rustls::RootCertStore)
//! # -> Result<(), sonic_ws::Error>
//! # where S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin {
//! use sonic_ws::tls::{self, TlsConnector};
//! use std::sync::Arc;
//! let connector = TlsConnector::from(Arc::new(tls::client_config(roots)?));
//! let (mut ws, _resp) =
//!     tls::client_tls(tcp, "wss://example.com/feed", &connector, Default::default()).await?;
//! ws.send_text("hello").await?;
//! # Ok(()) }
//! ```

use crate::accept::{accept_inner, Decision};
use crate::client::{client_inner, ClientConfig};
use crate::config::Config;
use crate::error::HandshakeError;
use crate::proto::handshake::{Request, Response};
use crate::proto::url::WsUrl;
use crate::stream::WebSocket;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io;
use std::sync::Arc;

pub use futures_rustls::{self, rustls, TlsAcceptor, TlsConnector};

/// The stream under a wss client connection.
pub type ClientTlsStream<S> = futures_rustls::client::TlsStream<S>;
/// The stream under a wss server connection.
pub type ServerTlsStream<S> = futures_rustls::server::TlsStream<S>;

/// ALPN: a WebSocket opening handshake is HTTP/1.1.
const ALPN_HTTP11: &[u8] = b"http/1.1";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(e: rustls::Error) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// A rustls client config on the `ring` provider with the safe default protocol versions,
/// trusting `roots`, offering ALPN `http/1.1`, without client certificates.
///
/// # Errors
/// [`Error::Io`] (`InvalidInput`) if rustls rejects the provider's protocol versions.
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, Error> {
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(cfg)
}

/// A rustls server config on the `ring` provider with the safe default protocol versions,
/// serving `cert_chain` (leaf first) with `key`, accepting ALPN `http/1.1`, without client
/// authentication.
///
/// # Errors
/// [`Error::Io`] (`InvalidInput`) for a key that does not match the certificate or that rustls
/// cannot use.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, Error> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(cfg)
}

/// The root store `connect("wss://...")` trusts by default: webpki-roots (Mozilla's set,
/// compiled in), or with feature `native-roots` the platform's store (rustls-native-certs).
///
/// # Errors
/// With `native-roots`, [`Error::Io`] when the platform's store yields no certificate.
pub fn default_roots() -> Result<rustls::RootCertStore, Error> {
    #[cfg(feature = "native-roots")]
    {
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (_added, _ignored) = roots.add_parsable_certificates(loaded.certs);
        if roots.is_empty() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::NotFound,
                "no root certificate in the platform's store",
            )));
        }
        Ok(roots)
    }
    #[cfg(not(feature = "native-roots"))]
    {
        Ok(webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect())
    }
}

#[cfg(feature = "net")]
thread_local! {
    /// The default client config, built once per thread (a root store holds ~150 anchors).
    static DEFAULT_CLIENT: std::cell::RefCell<Option<Arc<rustls::ClientConfig>>> =
        const { std::cell::RefCell::new(None) };
}

/// [`client_config`] over [`default_roots`], built once per thread.
#[cfg(feature = "net")]
pub(crate) fn default_client_config() -> Result<Arc<rustls::ClientConfig>, Error> {
    if let Some(c) = DEFAULT_CLIENT.with(|c| c.borrow().clone()) {
        return Ok(c);
    }
    let c = Arc::new(client_config(default_roots()?)?);
    DEFAULT_CLIENT.with(|slot| *slot.borrow_mut() = Some(c.clone()));
    Ok(c)
}

/// Connects to a `wss://` (or `ws://`) URL like [`connect_with`](crate::connect_with), with
/// the TLS client config `tls` (e.g. [`client_config`] over your own root store) instead of
/// the default roots.
///
/// # Errors
/// As for [`connect_with`](crate::connect_with).
#[cfg(feature = "net")]
pub async fn connect_with(
    url: &str,
    opts: ClientConfig,
    tls: Arc<rustls::ClientConfig>,
) -> Result<(WebSocket<crate::MaybeTlsStream>, Response), Error> {
    crate::net::connect_inner(url, opts, Some(tls)).await
}

/// The name to verify the server's certificate against: the URL's host (an IPv6 literal
/// without its brackets).
pub(crate) fn server_name(url: &WsUrl) -> Result<ServerName<'static>, Error> {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|_| HandshakeError::BadUrl("host is not a valid TLS server name").into())
}

/// Runs the TLS handshake (verifying the certificate against the host of `url`, which must be
/// `wss://`), then the WebSocket client handshake, over an already connected `stream`.
///
/// # Errors
/// [`Error::Handshake`] for a bad URL or response, [`Error::Timeout`], [`Error::Io`] for a
/// stream error or a TLS failure (e.g. an untrusted certificate).
pub async fn client_tls<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &str,
    connector: &TlsConnector,
    opts: ClientConfig,
) -> Result<(WebSocket<ClientTlsStream<S>>, Response), Error> {
    let parsed = WsUrl::parse(url)?;
    if !parsed.tls {
        return Err(HandshakeError::BadUrl("a TLS connection needs a wss:// URL").into());
    }
    let name = server_name(&parsed)?;
    let sleep = opts.config.sleep(opts.config.handshake_timeout);
    let run = async move {
        let tls = connector.connect(name, stream).await?;
        client_inner(tls, url, opts).await
    };
    crate::timeout::timeout(run, sleep).await
}

/// Runs the TLS handshake as a server, then the WebSocket server handshake with `hook`
/// (see [`accept_with`](crate::accept_with)).
///
/// # Errors
/// [`Error::Handshake`] for a bad or rejected request, [`Error::Timeout`], [`Error::Io`] for a
/// stream error or a TLS failure.
pub async fn accept_tls<S, F>(
    stream: S,
    acceptor: &TlsAcceptor,
    config: Config,
    hook: F,
) -> Result<WebSocket<ServerTlsStream<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Decision,
{
    let sleep = config.sleep(config.handshake_timeout);
    let run = async move {
        let tls = acceptor.accept(stream).await?;
        accept_inner(tls, config, hook).await
    };
    crate::timeout::timeout(run, sleep).await
}
