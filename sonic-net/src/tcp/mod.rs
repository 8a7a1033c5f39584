//! TCP: [`TcpStream`], [`TcpListener`] (with [`ListenOptions`] for backlog and `SO_REUSEPORT`),
//! and the halves of a split stream.

mod listener;
mod split;
mod stream;

pub use listener::{Incoming, ListenOptions, TcpListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
