//! An echo server, written once and compiled twice: `rt` is tokio in one build and sonic
//! (sonic-rt plus sonic-net) in the other. The `use super::rt` line is the only switch; the I/O
//! vocabulary is tokio's `AsyncReadExt`/`AsyncWriteExt`, which sonic-net's sockets implement
//! with its `tokio` feature.
use super::rt;

use rt::net::{TcpListener, TcpStream};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts connections until accepting fails; each connection gets a task that writes back
/// whatever it reads.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        drop(rt::spawn(echo(stream)));
    }
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
