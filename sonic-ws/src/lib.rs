//! WebSocket (RFC 6455) client and server with permessage-deflate (RFC 7692) for sonic.
//!
//! Two layers:
//! - [`proto`]: the protocol core with no I/O (frame codec, masking, handshake, UTF-8
//!   validation, message assembly, close state machine, permessage-deflate). It takes and
//!   returns bytes, so it is tested byte by byte and fuzzed.
//! - An async layer over any `futures_io::AsyncRead + AsyncWrite` stream (work in progress).
//!
//! The crate is single-threaded by design (see the sonic ARCHITECTURE.md): nothing in it is
//! `Sync` and nothing locks.

pub mod error;
pub mod proto;

pub use error::{Error, HandshakeError, ProtocolError};
pub use proto::close::{CloseCode, CloseFrame};
pub use proto::extension::DeflateConfig;
pub use proto::frame::OpCode;
pub use proto::message::{Message, MessageRef};
pub use proto::read::Limits;
pub use proto::Role;
