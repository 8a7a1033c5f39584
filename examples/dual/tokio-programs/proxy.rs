//! A TCP proxy, written against tokio and compiled unchanged against tokio and against sonic
//! through the facade (see `chat.rs`): an upstream echo service (`io::copy` over a split
//! stream) and a proxy in front of it (`io::copy_bidirectional`), both in this program. Each
//! proxied connection prints `proxied UP bytes up, DOWN down` when both sides have closed.

use std::io;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let upstream = TcpListener::bind("127.0.0.1:0").await?;
    let upstream_addr = upstream.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = upstream.accept().await?;
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                tokio::io::copy(&mut reader, &mut writer).await
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), io::Error>(())
    });

    let proxy = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", proxy.local_addr()?);
    loop {
        let (mut inbound, _) = proxy.accept().await?;
        tokio::spawn(async move {
            let mut outbound = TcpStream::connect(upstream_addr).await?;
            let (up, down) = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await?;
            println!("proxied {up} bytes up, {down} down");
            Ok::<(), io::Error>(())
        });
    }
}
