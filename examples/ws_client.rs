//! WebSocket client: connects to a `ws://` URL, sends messages, prints the echoes, measures a
//! ping round trip and closes with a code and reason.
//!
//! `cargo run -p sonic-examples --example ws_client -- [URL] [--deflate] [MESSAGE...]`
//! (default `ws://127.0.0.1:9002`, the `ws_echo_server` example; default messages "hello" and
//! "sonic").

use sonic_ws::{connect_with, ClientConfig, CloseCode, Config, DeflateConfig, Error, Message};
use std::time::Instant;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let mut rest = args.iter().filter(|a| !a.starts_with("--"));
    let url = rest
        .next()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9002".into());
    let mut messages: Vec<String> = rest.cloned().collect();
    if messages.is_empty() {
        messages = vec!["hello".into(), "sonic".into()];
    }
    let mut config = Config::default();
    if deflate {
        config = config.deflate(DeflateConfig::default());
    }
    let opts = ClientConfig {
        config,
        ..ClientConfig::default()
    };
    sonic_rt::block_on(async move {
        let (mut ws, response) = connect_with(&url, opts).await?;
        println!(
            "connected to {url} (permessage-deflate: {})",
            if response.deflate.is_some() {
                "on"
            } else {
                "off"
            }
        );
        for text in &messages {
            ws.send_text(text).await?;
            match ws.recv_data().await? {
                Some(Message::Text(echo)) => println!("echo: {echo}"),
                Some(other) => println!("reply: {other:?}"),
                None => {
                    println!("server closed the connection");
                    return Ok(());
                }
            }
        }
        let start = Instant::now();
        ws.ping(b"rtt").await?;
        loop {
            match ws.recv().await? {
                Message::Pong(p) if p == b"rtt" => break,
                Message::Close(c) => {
                    println!("server closed: {c:?}");
                    return Ok(());
                }
                _ => {}
            }
        }
        println!("ping round trip: {:?}", start.elapsed());
        ws.close(CloseCode::NORMAL, "bye").await?;
        println!("closed");
        Ok(())
    })
}
