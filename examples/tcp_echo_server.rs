//! A TCP echo server: one task per connection, all on one thread.
//!
//! `cargo run -p sonic-examples --example tcp_echo_server [-- ADDR]` (default 127.0.0.1:7007),
//! then `cargo run -p sonic-examples --example tcp_echo_client`.

use futures_util::{AsyncReadExt, AsyncWriteExt, StreamExt};
use sonic_net::TcpListener;
use std::io;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7007".into());
    let rt = sonic_rt::Builder::new().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server on {}", listener.local_addr()?);
        let mut incoming = listener.incoming();
        while let Some(conn) = incoming.next().await {
            let mut conn = match conn {
                Ok(conn) => conn,
                // EMFILE and friends: the listener backs off by itself, so just log and go on.
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            conn.set_nodelay(true)?;
            let _task = sonic_rt::spawn(async move {
                let peer = conn.peer_addr();
                let mut buf = [0u8; 4096];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => {
                            if let Err(e) = conn.write_all(&buf[..n]).await {
                                eprintln!("{peer:?}: write: {e}");
                                break;
                            }
                        }
                        Err(e) => {
                            eprintln!("{peer:?}: read: {e}");
                            break;
                        }
                    }
                }
            });
        }
        Ok(())
    })
}
