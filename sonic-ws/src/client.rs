//! Client side of the opening handshake.

use crate::config::Config;
use crate::handshake_io::{read_head, write_all};
use crate::proto::handshake::{generate_key, parse_response, ClientRequest, Response};
use crate::proto::url::WsUrl;
use crate::proto::Role;
use crate::stream::WebSocket;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};

/// Client handshake options.
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    /// Connection settings (permessage-deflate is offered when `config.deflate` is set).
    pub config: Config,
    /// Subprotocols to offer, by preference.
    pub protocols: Vec<String>,
    /// Extra request headers (e.g. `Origin`, `Authorization`).
    pub headers: Vec<(String, String)>,
}

/// Runs the client handshake for `url` over an already connected `stream`.
///
/// The URL gives the `Host` header and the request path; the stream may be anything
/// (a sonic-net socket, a TLS stream, an in-memory pipe).
///
/// # Examples
/// ```
/// use sonic_net::{TcpListener, TcpStream};
/// use sonic_ws::Message;
///
/// sonic_rt::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = sonic_rt::spawn(async move {
///         let (tcp, _) = listener.accept().await?;
///         let mut ws = sonic_ws::accept(tcp).await?;
///         let msg = ws.recv().await?;
///         ws.send(msg).await
///     });
///     let tcp = TcpStream::connect(addr).await?;
///     let mut ws = sonic_ws::client(tcp, "ws://localhost/chat").await?;
///     ws.send_binary(&[1, 2, 3]).await?;
///     assert_eq!(ws.recv().await?, Message::binary(vec![1, 2, 3]));
///     server.await.unwrap()?;
///     Ok::<_, sonic_ws::Error>(())
/// })?;
/// # Ok::<_, sonic_ws::Error>(())
/// ```
///
/// # Errors
/// As for [`client_with`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &str,
) -> Result<WebSocket<S>, Error> {
    client_with(stream, url, ClientConfig::default())
        .await
        .map(|(ws, _)| ws)
}

/// Runs the client handshake with options; returns the connection and the server's response
/// (headers, chosen subprotocol, agreed extension).
///
/// Bounded by `handshake_timeout` when the config has a timer, and by `max_handshake_size`.
///
/// # Errors
/// [`Error::Handshake`] for a bad URL or response, [`Error::Timeout`], [`Error::Io`].
pub async fn client_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &str,
    opts: ClientConfig,
) -> Result<(WebSocket<S>, Response), Error> {
    let sleep = opts.config.sleep(opts.config.handshake_timeout);
    crate::timeout::timeout(client_inner(stream, url, opts), sleep).await
}

pub(crate) async fn client_inner<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    url: &str,
    opts: ClientConfig,
) -> Result<(WebSocket<S>, Response), Error> {
    let url = WsUrl::parse(url)?;
    let req = ClientRequest {
        host: url.host_header(),
        path: url.resource.clone(),
        protocols: opts.protocols,
        deflate: opts.config.deflate.clone(),
        headers: opts.headers,
    };
    let key = generate_key();
    write_all(&mut io, &req.encode(&key)?).await?;
    let (buf, head) = read_head(&mut io, opts.config.max_handshake_size).await?;
    let resp = parse_response(&buf[..head], &key, &req)?;
    let mut ws = WebSocket::from_raw(io, Role::Client, opts.config, resp.deflate, &buf[head..]);
    ws.set_protocol(resp.protocol.clone());
    Ok((ws, resp))
}
