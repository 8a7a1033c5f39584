//! WebSocket echo server on sonic-rt + sonic-net (also the Autobahn `fuzzingclient` testee).
//!
//! `cargo run --release -p sonic-examples --example ws_echo_server -- [PORT] [--deflate]`
//! (default port 9002, binds 127.0.0.1). Echoes every text/binary message with the same
//! opcode, answers pings and the close handshake; one task per connection, all on one thread.
//! Try it with `--example ws_client -- ws://127.0.0.1:9002`.

use sonic_net::{TcpListener, TcpStream};
use sonic_ws::{accept_with, Config, Decision, DeflateConfig, Error, Limits, MessageRef};
use std::rc::Rc;
use std::time::Duration;

fn config(deflate: bool) -> Config {
    let mut cfg = Config {
        // Autobahn 9.* sends messages up to 16 MiB (and single frames that large).
        limits: Limits {
            max_frame_size: 32 << 20,
            max_message_size: 64 << 20,
            ..Limits::default()
        },
        ..Config::default()
    }
    .timer(Rc::new(|d: Duration| sonic_rt::time::sleep(d)));
    if deflate {
        cfg = cfg.deflate(DeflateConfig::default());
    }
    cfg
}

async fn serve(stream: TcpStream, cfg: Config) -> Result<(), Error> {
    let mut ws = accept_with(stream, cfg, |_| Decision::accept()).await?;
    loop {
        // Small echoes are queued and leave together once the input runs dry; large ones are
        // written straight from the receive buffer.
        match ws.recv_ref().await? {
            MessageRef::Text(_) | MessageRef::Binary(_) => ws.echo().await?,
            MessageRef::Close(_) => return Ok(()),
            // Pings were answered already; pongs need nothing.
            _ => {}
        }
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(9002);
    let deflate = args.iter().any(|a| a == "--deflate");
    sonic_rt::block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!(
            "echo server on ws://{} (deflate: {deflate})",
            listener.local_addr()?
        );
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                // EMFILE and friends: the listener backs off by itself.
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            let cfg = config(deflate);
            // Detached: the task runs until its connection ends.
            drop(sonic_rt::spawn(async move {
                if let Err(e) = serve(stream, cfg).await {
                    if !matches!(e, Error::Closed) {
                        eprintln!("connection ended: {e}");
                    }
                }
            }));
        }
    })
}
