//! WebSocket client on sonic-rt driven by Autobahn's `fuzzingserver` (the client testee).
//!
//! `cargo run --release -p sonic-ws --example autobahn_client -- [URL] [AGENT] [--deflate]`
//! Fetches the case count, echoes every case, then asks the suite to write its reports.

use sonic_rt::io::Async;
use sonic_ws::{
    client_with, ClientConfig, CloseCode, Config, DeflateConfig, Error, Limits, Message, WebSocket,
};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

fn config(deflate: bool) -> ClientConfig {
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
    ClientConfig {
        config: cfg,
        ..ClientConfig::default()
    }
}

async fn open(base: &str, path: &str, deflate: bool) -> Result<WebSocket<Async<TcpStream>>, Error> {
    let url = sonic_ws::proto::url::WsUrl::parse(base)?;
    let tcp = TcpStream::connect((url.host_for_connect(), url.port))?;
    tcp.set_nodelay(true)?;
    let (ws, _) = client_with(Async::new(tcp)?, &format!("{base}{path}"), config(deflate)).await?;
    Ok(ws)
}

async fn echo(mut ws: WebSocket<Async<TcpStream>>) -> Result<(), Error> {
    loop {
        match ws.recv().await? {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let deflate = std::env::args().any(|a| a == "--deflate");
    let base = args
        .first()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.get(1).cloned().unwrap_or_else(|| "sonic-ws".into());
    sonic_rt::block_on(async move {
        let mut ws = open(&base, "/getCaseCount", deflate).await?;
        let count: u32 = match ws.recv().await? {
            Message::Text(t) => t.trim().parse().unwrap_or(0),
            other => panic!("unexpected {other:?}"),
        };
        let _ = ws.close(CloseCode::NORMAL, "").await;
        eprintln!("{count} cases");
        for case in 1..=count {
            let path = format!("/runCase?case={case}&agent={agent}");
            match open(&base, &path, deflate).await {
                Ok(ws) => {
                    if let Err(e) = echo(ws).await {
                        eprintln!("case {case}: {e}");
                    }
                }
                Err(e) => eprintln!("case {case}: connect failed: {e}"),
            }
        }
        let mut ws = open(&base, &format!("/updateReports?agent={agent}"), deflate).await?;
        let _ = ws.recv().await;
        Ok(())
    })
}
