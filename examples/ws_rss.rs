//! Memory per WebSocket connection: a sonic-ws server accepts N connections from a child
//! process and reports its own resident set size (RSS, from /proc/self/statm) per connection,
//! idle (right after the handshakes) and active (after one 1 KiB text message each way on
//! every connection), with and without permessage-deflate.
//!
//! ```text
//! cargo run --release -p sonic-examples --example ws_rss -- [N] [plain|deflate|deflate-nct]
//! ```
//! `deflate-nct` negotiates no context takeover both ways. The client side runs in a child
//! process (this binary with `--client`), so only the server's memory is counted.

use sonic_net::TcpListener;
use sonic_ws::{accept_with, connect_with, ClientConfig, Config, Decision, DeflateConfig, Message};
use std::cell::Cell;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

/// Resident set size of this process, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn config(mode: &str) -> Config {
    let nct = mode == "deflate-nct";
    match mode {
        "plain" => Config::default(),
        _ => Config::default().deflate(DeflateConfig {
            server_no_context_takeover: nct,
            client_no_context_takeover: nct,
            ..DeflateConfig::default()
        }),
    }
}

/// Text that compresses like a typical JSON message (about 1 KiB).
fn message(i: usize) -> String {
    let mut s = String::with_capacity(1100);
    while s.len() < 1000 {
        s.push_str(&format!(
            "{{\"id\":{i},\"price\":{},\"size\":{}}},",
            i * 7 % 1000,
            i % 13
        ));
    }
    s
}

async fn wait_until(cond: impl Fn() -> bool) {
    while !cond() {
        sonic_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

fn server(n: usize, mode: &str) {
    sonic_rt::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Rc::new(Cell::new(0usize));
        let echoed = Rc::new(Cell::new(0usize));
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args(["--client", &addr.to_string(), &n.to_string(), mode])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut to_child = child.stdin.take().unwrap();
        let base = rss();
        let cfg = config(mode);
        {
            let (accepted, echoed) = (accepted.clone(), echoed.clone());
            drop(sonic_rt::spawn(async move {
                loop {
                    let (s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let (cfg, accepted, echoed) = (cfg.clone(), accepted.clone(), echoed.clone());
                    drop(sonic_rt::spawn(async move {
                        let mut ws = accept_with(s, cfg, |_| Decision::accept()).await.unwrap();
                        accepted.set(accepted.get() + 1);
                        while let Ok(Some(m)) = ws.recv_data().await {
                            ws.send(m).await.unwrap();
                            echoed.set(echoed.get() + 1);
                        }
                    }));
                }
            }));
        }
        wait_until(|| accepted.get() == n).await;
        sonic_rt::time::sleep(Duration::from_millis(200)).await;
        let idle = rss();
        writeln!(to_child, "go").unwrap();
        to_child.flush().unwrap();
        wait_until(|| echoed.get() == n).await;
        sonic_rt::time::sleep(Duration::from_millis(200)).await;
        let active = rss();
        let per = |b: usize| b.saturating_sub(base) as f64 / n as f64 / 1024.0;
        println!(
            "{mode:<12} n={n}: baseline {:.1} MB, idle {:.1} MB ({:.1} KiB/conn), active {:.1} MB ({:.1} KiB/conn)",
            base as f64 / 1e6,
            idle as f64 / 1e6,
            per(idle),
            active as f64 / 1e6,
            per(active),
        );
        drop(to_child);
        let _ = child.wait();
    });
}

fn client(addr: &str, n: usize, mode: &str) {
    sonic_rt::block_on(async {
        let url = format!("ws://{addr}/");
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let opts = ClientConfig {
                config: config(mode),
                ..ClientConfig::default()
            };
            conns.push(connect_with(&url, opts).await.unwrap().0);
        }
        // Wait for the server's go (a blocking read: nothing else to do meanwhile).
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        for (i, ws) in conns.iter_mut().enumerate() {
            ws.send_text(&message(i)).await.unwrap();
        }
        for ws in conns.iter_mut() {
            match ws.recv().await.unwrap() {
                Message::Text(_) => {}
                other => panic!("{other:?}"),
            }
        }
        // Hold the connections until the server is done measuring.
        line.clear();
        let _ = std::io::stdin().lock().read_line(&mut line);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--client") {
        return client(&args[1], args[2].parse().unwrap(), &args[3]);
    }
    let n = args.first().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mode = args.get(1).map(String::as_str).unwrap_or("deflate");
    server(n, mode);
}
