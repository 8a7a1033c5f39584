//! `UnixStream`'s halves: aliases of the generic halves in [`crate::split`].

use super::UnixStream;
use crate::split::stream_halves;
use std::os::unix::net::SocketAddr;

stream_halves!(UnixStream, SocketAddr, std::os::unix::net::UnixStream);
