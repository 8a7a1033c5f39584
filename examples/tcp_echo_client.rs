//! A TCP echo client: sends lines, prints what comes back, times each round trip.
//!
//! `cargo run -p sonic-examples --example tcp_echo_client [-- ADDR [COUNT]]` against
//! `tcp_echo_server` (default 127.0.0.1:7007, 5 messages).

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::TcpStream;
use std::io;
use std::time::{Duration, Instant};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7007".into());
    let count: usize = match args.next().map(|c| c.parse()) {
        None => 5,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: tcp_echo_client [ADDR [COUNT]]");
            std::process::exit(2);
        }
    };
    sonic_rt::block_on(async {
        let mut conn = TcpStream::connect_timeout(addr.as_str(), Duration::from_secs(3))
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("connecting to {addr}: {e}")))?;
        conn.set_nodelay(true)?;
        println!("connected {} -> {}", conn.local_addr()?, conn.peer_addr()?);
        for i in 0..count {
            let msg = format!("hello #{i}");
            let start = Instant::now();
            conn.write_all(msg.as_bytes()).await?;
            let mut back = vec![0u8; msg.len()];
            conn.read_exact(&mut back).await?;
            println!(
                "{:?} in {:?}",
                String::from_utf8_lossy(&back),
                start.elapsed()
            );
        }
        conn.close().await // shuts the write side down: the server sees EOF
    })
}
