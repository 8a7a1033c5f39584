//! TCP: [`TcpStream`], [`TcpListener`] (with [`ListenOptions`] for backlog and `SO_REUSEPORT`),
//! [`TcpSocket`] (options set before the connect or the listen, bind before connect), and the
//! halves of a split stream.

mod listener;
mod socket;
mod split;
mod stream;

pub use listener::{Incoming, ListenOptions, TcpListener};
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
