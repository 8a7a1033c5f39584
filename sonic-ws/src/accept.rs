//! Server side of the opening handshake.

use crate::config::Config;
use crate::error::HandshakeError;
use crate::handshake_io::{read_head, write_all};
use crate::proto::extension::server_negotiate;
use crate::proto::handshake::{parse_request, reject_response, server_response, Request};
use crate::proto::Role;
use crate::stream::WebSocket;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};

/// What the accept hook decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Upgrade, optionally picking one of the offered subprotocols and adding headers.
    Accept {
        /// Subprotocol to answer with (should be one the client offered).
        protocol: Option<String>,
        /// Extra response headers.
        headers: Vec<(String, String)>,
    },
    /// Refuse with an HTTP status and a plain-text body.
    Reject {
        /// HTTP status code (e.g. 403).
        status: u16,
        /// Response body.
        body: String,
    },
}

impl Decision {
    /// Accept with no subprotocol.
    pub fn accept() -> Self {
        Decision::Accept {
            protocol: None,
            headers: Vec::new(),
        }
    }

    /// Accept the first offered subprotocol that is in `supported`, if any.
    pub fn pick_protocol(req: &Request, supported: &[&str]) -> Self {
        Decision::Accept {
            protocol: req
                .protocols
                .iter()
                .find(|p| supported.contains(&p.as_str()))
                .cloned(),
            headers: Vec::new(),
        }
    }
}

/// Accepts a WebSocket connection with the default [`Config`] and no subprotocol.
///
/// # Examples
/// A server that greets each client (sonic-rt, loopback TCP):
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
///         ws.send_text("welcome").await
///     });
///     let mut ws = sonic_ws::client(TcpStream::connect(addr).await?, "ws://localhost/").await?;
///     assert_eq!(ws.recv().await?, Message::Text("welcome".into()));
///     server.await.unwrap()?;
///     Ok::<_, sonic_ws::Error>(())
/// })?;
/// # Ok::<_, sonic_ws::Error>(())
/// ```
///
/// # Errors
/// As for [`accept_with`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, Config::default(), |_| Decision::accept()).await
}

/// Accepts a WebSocket connection; `hook` sees the parsed request (path, headers, offered
/// subprotocols) and accepts or rejects it.
///
/// The whole handshake is bounded by `config.handshake_timeout` when the config has a timer
/// (a client that never finishes its request cannot hold the connection), and by
/// `config.max_handshake_size` bytes. A bad request is answered with 400 (426 for a wrong
/// version) before the error is returned.
///
/// # Errors
/// [`Error::Handshake`] for a bad or rejected request, [`Error::Timeout`], [`Error::Io`].
pub async fn accept_with<S, F>(stream: S, config: Config, hook: F) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Decision,
{
    let sleep = config.sleep(config.handshake_timeout);
    crate::timeout::timeout(accept_inner(stream, config, hook), sleep).await
}

pub(crate) async fn accept_inner<S, F>(
    mut io: S,
    config: Config,
    hook: F,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Decision,
{
    let (buf, head) = match read_head(&mut io, config.max_handshake_size).await {
        Ok(v) => v,
        Err(Error::Handshake(HandshakeError::TooLarge)) => {
            let _ = write_all(&mut io, &reject_response(431, "request head too large")).await;
            return Err(HandshakeError::TooLarge.into());
        }
        Err(e) => return Err(e),
    };
    let req = match parse_request(&buf[..head]) {
        Ok(r) => r,
        Err(e) => {
            let status = if matches!(e, HandshakeError::UnsupportedVersion) {
                426
            } else {
                400
            };
            let _ = write_all(&mut io, &reject_response(status, &e.to_string())).await;
            return Err(e.into());
        }
    };
    let (protocol, headers) = match hook(&req) {
        Decision::Accept { protocol, headers } => (protocol, headers),
        Decision::Reject { status, body } => {
            let _ = write_all(&mut io, &reject_response(status, &body)).await;
            return Err(HandshakeError::Rejected(status).into());
        }
    };
    let negotiated = config
        .deflate
        .as_ref()
        .and_then(|d| server_negotiate(&req.extensions, d));
    let resp = server_response(
        &req.key,
        protocol.as_deref(),
        negotiated.as_ref().map(|(h, _)| h.as_str()),
        &headers,
    )?;
    write_all(&mut io, &resp).await?;
    let mut ws = WebSocket::from_raw(
        io,
        Role::Server,
        config,
        negotiated.map(|(_, p)| p),
        &buf[head..],
    );
    ws.set_protocol(protocol);
    Ok(ws)
}
