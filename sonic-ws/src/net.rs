//! `connect(url)`: TCP through sonic-net, then the client handshake (feature `net`, on by
//! default). Without the feature the crate runs over any `futures_io` stream you connect
//! yourself (see [`client`](crate::client)).

use crate::client::{client_with, ClientConfig};
use crate::config::Timer;
use crate::error::HandshakeError;
use crate::proto::handshake::Response;
use crate::proto::url::WsUrl;
use crate::stream::WebSocket;
use crate::Error;
use sonic_net::TcpStream;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
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

/// Connects to a `ws://` URL over TCP (sonic-net, `TCP_NODELAY` on) and runs the client
/// handshake with default settings and sonic-rt's timer.
///
/// Must run inside a sonic-rt runtime (`sonic_rt::block_on`, a spawned task).
///
/// # Errors
/// As for [`connect_with`].
pub async fn connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    connect_with(url, ClientConfig::default())
        .await
        .map(|(ws, _)| ws)
}

/// Connects to a `ws://` URL with options; returns the connection and the server's response.
///
/// When `opts.config` has no timer, sonic-rt's is installed, so the TCP connect plus the
/// handshake are bounded by `handshake_timeout` and `close` by `close_timeout`.
///
/// # Errors
/// [`Error::Handshake`] for a bad URL (a `wss://` URL needs TLS: connect the TCP stream
/// yourself and call `sonic_ws::tls::client_tls`, feature `tls`) or a bad response, [`Error::Timeout`], [`Error::Io`] when the
/// connection fails.
pub async fn connect_with(
    url: &str,
    mut opts: ClientConfig,
) -> Result<(WebSocket<TcpStream>, Response), Error> {
    let parsed = WsUrl::parse(url)?;
    if parsed.tls {
        return Err(HandshakeError::BadUrl(
            "wss:// needs TLS: connect the TCP stream and call sonic_ws::tls::client_tls (feature `tls`)",
        )
        .into());
    }
    if !opts.config.has_timer() {
        opts.config = opts.config.timer(Rc::new(SonicRtTimer));
    }
    let sleep = opts.config.sleep(opts.config.handshake_timeout);
    let tcp = crate::timeout::timeout(
        async {
            let tcp = TcpStream::connect((parsed.host_for_connect(), parsed.port)).await?;
            tcp.set_nodelay(true)?;
            Ok(tcp)
        },
        sleep,
    )
    .await?;
    client_with(tcp, url, opts).await
}
