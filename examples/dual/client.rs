//! A client with timeouts and an interval, written once and compiled twice (`rt` is tokio or
//! sonic; see `echo.rs`): it pings a line server on a fixed period and gives up on a reply that
//! takes too long.
use super::rt;

use rt::net::TcpStream;
use rt::time::{interval, timeout};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Pings answered with the same line.
    pub replies: u32,
    /// Whether the client stopped because a reply took longer than `patience`.
    pub timed_out: bool,
}

/// Connects to `addr` (giving up after `patience`), then sends `ping N` every `period`, `count`
/// times, each time waiting at most `patience` for the line to come back.
pub async fn run(
    addr: SocketAddr,
    count: u32,
    period: Duration,
    patience: Duration,
) -> io::Result<Report> {
    let stream = timeout(patience, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut ticks = interval(period);
    let mut replies = 0;
    for n in 0..count {
        ticks.tick().await;
        let ping = format!("ping {n}");
        write.write_all(format!("{ping}\n").as_bytes()).await?;
        match timeout(patience, lines.next_line()).await {
            Ok(Ok(Some(line))) if line == ping => replies += 1,
            Ok(Ok(other)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("expected {ping:?}, got {other:?}"),
                ))
            }
            Ok(Err(e)) => return Err(e),
            Err(_elapsed) => {
                return Ok(Report {
                    replies,
                    timed_out: true,
                })
            }
        }
    }
    Ok(Report {
        replies,
        timed_out: false,
    })
}
