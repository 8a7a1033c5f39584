//! The sans-I/O protocol core: bytes in, bytes out, no sockets.
//!
//! Everything here can be driven byte by byte from a test or a fuzzer. The async layer
//! (`sonic_ws::WebSocket`) only moves bytes between a stream and a [`conn::Connection`].
#![deny(unsafe_code)]

pub mod close;
pub mod conn;
pub mod deflate;
pub mod error;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
pub mod random;
// The one unsafe operation of the core: text the validator accepted becomes a `str` without a
// second check (`utf8::assume_valid*`, called from `Reader::view` / `Reader::take`).
#[allow(unsafe_code)]
pub mod read;
pub mod url;
#[allow(unsafe_code)]
pub mod utf8;
pub mod write;

/// Which end of the connection this is; it decides the masking direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Masks outgoing frames, expects unmasked ones.
    Client,
    /// Expects masked frames, sends unmasked ones.
    Server,
}
