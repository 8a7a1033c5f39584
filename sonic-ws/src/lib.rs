//! WebSocket (RFC 6455) client and server with permessage-deflate (RFC 7692) for sonic.
//!
//! Two layers:
//! - [`proto`]: the protocol core with no I/O (frame codec, masking, handshake, UTF-8
//!   validation, message assembly, close state machine, permessage-deflate). It takes and
//!   returns bytes, so it is tested byte by byte and fuzzed.
//! - [`WebSocket`]: an async connection over any `futures_io::AsyncRead + AsyncWrite` stream
//!   (a sonic socket, a TLS stream, an in-memory pipe), made with [`client`] / [`accept`],
//!   or `connect(url)` over a sonic-net TCP stream (feature `net`, on by default).
//!
//! The crate is single-threaded by design (see the sonic ARCHITECTURE.md): nothing in it is
//! `Sync` and nothing locks. It needs no runtime, only a [`Timer`] for its timeouts: with the
//! `net` feature (default) [`Config::default`] uses sonic-rt's ([`SonicRtTimer`]), so handshakes
//! and closes are bounded inside a sonic-rt runtime; on any other runtime pass its sleep with
//! [`Config::timer`] (without a timer nothing times out).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod accept;
mod client;
mod config;
pub mod error;
mod handshake_io;
#[cfg(feature = "net")]
mod net;
pub mod proto;
mod split;
mod stream;
mod timeout;
#[cfg(feature = "tls")]
pub mod tls;
mod write_waiters;

pub use accept::{accept, accept_with, Decision};
pub use client::{client, client_with, ClientConfig};
pub use config::{Config, Timer};
pub use error::{ConnectionError, Error, HandshakeError, ProtocolError};
#[cfg(feature = "net")]
pub use net::{connect, connect_with, MaybeTlsStream, SonicRtTimer};
pub use proto::close::{CloseCode, CloseFrame};
pub use proto::extension::DeflateConfig;
pub use proto::frame::OpCode;
pub use proto::handshake::{Request, Response};
pub use proto::message::{Message, MessageRef};
pub use proto::read::Limits;
pub use proto::Role;
pub use split::{WsReceiver, WsSender};
pub use stream::WebSocket;
pub use timeout::{timeout, Timeout};
