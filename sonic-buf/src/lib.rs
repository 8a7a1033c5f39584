//! Zero-copy FIFO byte buffers for sonic, wired straight into reads and writes.
//!
//! A protocol decoder reads as much as the socket has, parses the whole messages and keeps the
//! partial one for the next read. The usual cost is the copy that moves that partial message to
//! the front of the buffer. The three buffers here share one [`Fifo`] interface
//! (`claim` / `commit` / `data` / `consume`) and avoid or amortise that copy in different ways:
//!
//! | buffer | size | data moved | pick it for |
//! |---|---|---|---|
//! | [`MirroredBuffer`] | fixed, a page multiple | never: the memory is mapped twice, so any window is one slice | byte streams with a known largest message; lowest latency |
//! | [`BipBuffer`] | fixed, any size | never: writes restart at the front once the end is reached | datagrams and records that are written whole (see [`BipBuffer::claim_exact`]) |
//! | [`ByteBuffer`] | grows | only when the room in front is at least as large as the data (amortised O(1) per byte) | streams with no known bound, or where memory should follow the load; any platform |
//!
//! [`MirroredBuffer`] needs `mmap` (Linux, macOS) and costs about 5 µs to build, so build it once
//! per connection and reuse it. The other two are plain safe Rust.
//!
//! On top of the buffers:
//! * [`io`]: read from any `futures_io::AsyncRead` (or any `poll_read`-shaped function, such as a
//!   UDP receive) straight into claimed space, and write the readable window to an `AsyncWrite`.
//! * [`codec`]: a [`Decoder`](codec::Decoder) that returns messages borrowed from the readable
//!   window, an [`Encoder`](codec::Encoder) that writes into claimed space, framed readers and
//!   writers, and a length-prefixed frame codec.
//! * [`sequencer`]: a [`Sequencer`] that takes sequenced datagrams in any order (received
//!   straight into a buffer's claimed space), drops duplicates, reports gaps and their
//!   timeouts, and releases the datagrams in order, bounded in slots and bytes.
//!
//! # Examples
//!
//! ```
//! use sonic_buf::{Fifo, MirroredBuffer};
//!
//! let mut ring = MirroredBuffer::new(64 * 1024)?;
//! // Read: claim space, let the socket fill part of it, commit what arrived.
//! let space = ring.claim(1500);
//! space[..5].copy_from_slice(b"hello");
//! ring.commit(5);
//! // Parse from the readable window and drop what was parsed.
//! assert_eq!(ring.data(), b"hello");
//! ring.consume(5);
//! # Ok::<(), std::io::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod bip;
mod byte;
pub mod codec;
mod fifo;
pub mod io;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod mirrored;
pub mod sequencer;

pub use bip::BipBuffer;
pub use byte::ByteBuffer;
pub use fifo::Fifo;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
pub use mirrored::{MapError, MirroredBuffer, MirroredBuilder};
pub use sequencer::Sequencer;
