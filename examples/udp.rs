//! UDP on loopback: an echo task and a client that uses `send_to`/`recv_from`, then a connected
//! socket with `send`/`recv`, and `peek_from`.
//!
//! `cargo run -p sonic-examples --example udp`

use sonic_net::UdpSocket;
use std::io;

fn main() -> io::Result<()> {
    sonic_rt::block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let server_addr = server.local_addr()?;
        let echo = sonic_rt::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let (n, from) = server.recv_from(&mut buf).await?;
                server.send_to(&buf[..n], from).await?;
            }
            #[allow(unreachable_code)]
            io::Result::Ok(())
        });

        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0u8; 1500];
        client.send_to(b"hello via send_to", server_addr).await?;
        let (n, from) = client.peek_from(&mut buf).await?;
        println!("peeked {n} bytes from {from} (still queued)");
        let (n, from) = client.recv_from(&mut buf).await?;
        println!("{:?} from {from}", String::from_utf8_lossy(&buf[..n]));

        client.connect(server_addr).await?;
        client.send(b"hello via a connected socket").await?;
        let n = client.recv(&mut buf).await?;
        println!("{:?}", String::from_utf8_lossy(&buf[..n]));

        echo.abort();
        Ok(())
    })
}
