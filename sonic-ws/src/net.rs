//! `connect(url)`: TCP through sonic-net, then the client handshake (feature `net`, on by
//! default). Without the feature the crate runs over any `futures_io` stream you connect
//! yourself (see [`client`](crate::client)).

use crate::client::{client_inner, ClientConfig};
use crate::config::Timer;
#[cfg(not(feature = "tls"))]
use crate::error::HandshakeError;
use crate::proto::handshake::Response;
use crate::proto::url::WsUrl;
use crate::stream::WebSocket;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};
use sonic_net::TcpStream;
use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// sonic-rt's timer, the default [`Config::timer`](crate::Config::timer) with the `net`
/// feature.
///
/// Inside a sonic-rt runtime it sleeps with `sonic_rt::time::sleep` and reads the runtime's
/// clock (so tests on a paused clock run in virtual time). Outside one (another runtime, or
/// a hand-rolled executor) its sleeps never complete, so nothing times out: pass that
/// runtime's timer instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct SonicRtTimer;

impl Timer for SonicRtTimer {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        if sonic_rt::Handle::try_current().is_ok() {
            Box::pin(sonic_rt::time::sleep(d))
        } else {
            Box::pin(std::future::pending())
        }
    }

    fn now(&self) -> std::time::Instant {
        sonic_rt::time::Instant::now().into_std()
    }
}

/// The stream under a connection made by [`connect`]: plain TCP for `ws://`, TLS over TCP for
/// `wss://` (feature `tls`). Reads and writes (vectored too) go straight to the variant.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: TCP.
    Plain(TcpStream),
    /// `wss://`: TLS (rustls) over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::ClientTlsStream<TcpStream>>),
}

macro_rules! each_variant {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            MaybeTlsStream::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_read(cx, buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_read_vectored(cx, bufs))
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_variant!(self, s => s.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_variant!(self, s => s.poll_close(cx))
    }
}

/// Connects to a `ws://` or `wss://` URL over TCP (sonic-net, `TCP_NODELAY` on) and runs the
/// client handshake with default settings and sonic-rt's timer. A `wss://` URL needs feature
/// `tls`: the TLS client is built here, trusting webpki-roots (feature `native-roots`: the
/// platform's store instead); for another root store use
/// `sonic_ws::tls::connect_with`.
///
/// Must run inside a sonic-rt runtime (`sonic_rt::block_on`, a spawned task).
///
/// # Examples
/// ```
/// use sonic_net::TcpListener;
/// use sonic_ws::Message;
///
/// sonic_rt::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let port = listener.local_addr()?.port();
///     let server = sonic_rt::spawn(async move {
///         let (tcp, _) = listener.accept().await?;
///         let mut ws = sonic_ws::accept(tcp).await?;
///         ws.send_text("hi").await
///     });
///     let mut ws = sonic_ws::connect(&format!("ws://127.0.0.1:{port}/")).await?;
///     assert_eq!(ws.recv().await?, Message::Text("hi".into()));
///     server.await.unwrap()?;
///     Ok::<_, sonic_ws::Error>(())
/// })?;
/// # Ok::<_, sonic_ws::Error>(())
/// ```
///
/// # Errors
/// As for [`connect_with`].
pub async fn connect(url: &str) -> Result<WebSocket<MaybeTlsStream>, Error> {
    connect_with(url, ClientConfig::default())
        .await
        .map(|(ws, _)| ws)
}

/// Connects to a `ws://` or `wss://` URL with options; returns the connection and the server's
/// response.
///
/// When `opts.config` has no timer, sonic-rt's is installed, so the TCP connect, the TLS
/// handshake and the WebSocket handshake together are bounded by `handshake_timeout`, and
/// `close` by `close_timeout`.
///
/// # Errors
/// [`Error::Handshake`] for a bad URL (a `wss://` URL without feature `tls`: connect the TCP
/// stream yourself and call `sonic_ws::tls::client_tls`) or a bad response, [`Error::Timeout`],
/// [`Error::Io`] when the connection or the TLS handshake fails (e.g. an untrusted
/// certificate).
pub async fn connect_with(
    url: &str,
    opts: ClientConfig,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    #[cfg(feature = "tls")]
    {
        connect_inner(url, opts, None).await
    }
    #[cfg(not(feature = "tls"))]
    {
        connect_inner(url, opts).await
    }
}

pub(crate) async fn connect_inner(
    url: &str,
    mut opts: ClientConfig,
    #[cfg(feature = "tls")] tls: Option<std::sync::Arc<crate::tls::rustls::ClientConfig>>,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let parsed = WsUrl::parse(url)?;
    #[cfg(not(feature = "tls"))]
    if parsed.tls {
        return Err(HandshakeError::BadUrl(
            "wss:// needs TLS: enable feature `tls`, or connect the TCP stream and call sonic_ws::tls::client_tls",
        )
        .into());
    }
    if !opts.config.has_timer() {
        opts.config = opts.config.timer(Rc::new(SonicRtTimer));
    }
    let sleep = opts.config.sleep(opts.config.handshake_timeout);
    let run = async move {
        let tcp = TcpStream::connect((parsed.host_for_connect(), parsed.port)).await?;
        tcp.set_nodelay(true)?;
        #[cfg(feature = "tls")]
        if parsed.tls {
            let cfg = match tls {
                Some(c) => c,
                None => crate::tls::default_client_config()?,
            };
            let connector = crate::tls::TlsConnector::from(cfg);
            let name = crate::tls::server_name(&parsed)?;
            let stream = connector.connect(name, tcp).await?;
            let stream = MaybeTlsStream::Tls(Box::new(stream));
            return client_inner(stream, url, opts).await;
        }
        client_inner(MaybeTlsStream::Plain(tcp), url, opts).await
    };
    crate::timeout::timeout(run, sleep).await
}
