//! WebSocket client driven by Autobahn's `fuzzingserver` (the client testee), on sonic-rt +
//! sonic-net through `sonic_ws::connect_with`.
//!
//! `cargo run --release -p sonic-examples --example ws_autobahn_client -- [URL] [AGENT] [--deflate]`
//! Fetches the case count, echoes every case, then asks the suite to write its reports.

use sonic_ws::{
    connect_with, ClientConfig, CloseCode, Config, DeflateConfig, Error, Limits, MaybeTlsStream,
    Message, WebSocket,
};

fn config(deflate: bool) -> ClientConfig {
    let mut cfg = Config {
        limits: Limits {
            max_frame_size: 32 << 20,
            max_message_size: 64 << 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    if deflate {
        cfg = cfg.deflate(DeflateConfig::default());
    }
    ClientConfig {
        config: cfg,
        ..ClientConfig::default()
    }
}

async fn open(base: &str, path: &str, deflate: bool) -> Result<WebSocket<MaybeTlsStream>, Error> {
    // connect_with installs sonic-rt's timer (handshake and close timeouts).
    let (ws, _) = connect_with(&format!("{base}{path}"), config(deflate)).await?;
    Ok(ws)
}

async fn echo(mut ws: WebSocket<MaybeTlsStream>) -> Result<(), Error> {
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
            other => {
                eprintln!("expected the case count, got {other:?}");
                0
            }
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
