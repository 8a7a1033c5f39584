//! WebSocket echo server on sonic-rt (the Autobahn `fuzzingclient` testee).
//!
//! `cargo run --release -p sonic-ws --example echo_server -- [PORT] [--deflate]`
//! Echoes every text/binary message with the same opcode; answers the close handshake.

use sonic_rt::io::Async;
use sonic_ws::{accept_with, Config, Decision, DeflateConfig, Error, Limits, Message};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::time::Duration;

fn config(deflate: bool) -> Config {
    let mut cfg = Config {
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

async fn serve(stream: Async<TcpStream>, cfg: Config) -> Result<(), Error> {
    let mut ws = accept_with(stream, cfg, |_| Decision::accept()).await?;
    loop {
        match ws.recv().await? {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(9002);
    let deflate = args.iter().any(|a| a == "--deflate");
    sonic_rt::block_on(async move {
        let listener = Async::new(TcpListener::bind(("127.0.0.1", port))?)?;
        eprintln!("echo server on ws://127.0.0.1:{port} (deflate: {deflate})");
        loop {
            let (stream, _) = listener.read_with(|l| l.accept()).await?;
            stream.set_nodelay(true)?;
            let stream = Async::new(stream)?;
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
