//! sonic-ws side of the interop tests (`sonic-ws/interop/run.sh`): a test server (echo plus a
//! few `!` commands) and a test client that runs the whole check list against any such server.
//!
//! `interop_peer server PORT [--deflate]` / `interop_peer client URL [--deflate]`
//!
//! Commands understood by every test server (sonic, Python `websockets`, node `ws`):
//! `!ext` → "deflate" or "none" as the server negotiated it; `!frag N SIZE` → a binary message
//! of SIZE pattern bytes in N fragments; `!ping` → the server pings and answers "pong-ok" when
//! the pong arrives; `!last-close` → "CODE REASON" of the last Close it received (previous
//! connection); `!close` → the server closes with 4001 "server bye". Anything else is echoed.
//! The client prints `PASS name` / `FAIL name: why` lines; run.sh counts them.

use sonic_net::TcpListener;
use sonic_ws::{
    accept_with, connect_with, ClientConfig, CloseCode, Config, Decision, DeflateConfig, Error,
    Limits, MaybeTlsStream, Message, OpCode, WebSocket,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Payload sizes exchanged both ways, in both text and binary.
const SIZES: [usize; 10] = [0, 1, 125, 126, 1000, 65535, 65536, 70000, 200_000, 1 << 20];

fn config(deflate: bool) -> Config {
    let cfg = Config {
        limits: Limits {
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
            ..Limits::default()
        },
        ..Config::default()
    }
    .timer(Rc::new(|d: Duration| sonic_rt::time::sleep(d)));
    if deflate {
        cfg.deflate(DeflateConfig::default())
    } else {
        cfg
    }
}

/// The byte pattern of `!frag`: byte i is (i * 31 + 7) mod 256.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) + 7) as u8).collect()
}

/// Text of at most `len` bytes with 1-, 2-, 3- and 4-byte characters, starting with 'T'.
fn text(len: usize) -> String {
    let unit = "Tsonic ✓ héllo wörld — 速い 🦀 ";
    let mut s = String::with_capacity(len);
    'fill: while s.len() < len {
        for c in unit.chars() {
            if s.len() + c.len_utf8() > len {
                break 'fill;
            }
            s.push(c);
        }
    }
    s
}

/// Binary payload: half compressible (pattern), half not (xorshift noise).
fn binary(len: usize) -> Vec<u8> {
    let mut v = pattern(len / 2);
    let mut x = 0x2545_f491_4f6c_dd1du64 ^ len as u64;
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(x as u8);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Server

type LastClose = Rc<RefCell<String>>;

async fn serve(mut ws: WebSocket<MaybeTlsStream>, last: LastClose) -> Result<(), Error> {
    loop {
        let msg = match ws.recv().await {
            Ok(m) => m,
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        };
        match msg {
            Message::Text(t) if t.starts_with('!') => command(&mut ws, &t, &last).await?,
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(c) => {
                *last.borrow_mut() = match c {
                    Some(c) => format!("{} {}", c.code.0, c.reason),
                    None => "1005 ".into(),
                };
                return Ok(());
            }
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

async fn command(
    ws: &mut WebSocket<MaybeTlsStream>,
    cmd: &str,
    last: &LastClose,
) -> Result<(), Error> {
    let words: Vec<&str> = cmd.split(' ').collect();
    match words[0] {
        "!ext" => {
            let on = ws.compresses(1 << 20);
            ws.send_text(if on { "deflate" } else { "none" }).await
        }
        "!frag" => {
            let n: usize = words[1].parse().unwrap_or(1).max(1);
            let data = pattern(words[2].parse().unwrap_or(0));
            let step = data.len().div_ceil(n).max(1);
            let chunks: Vec<&[u8]> = data.chunks(step).collect();
            for (i, c) in chunks.iter().enumerate() {
                let op = if i == 0 {
                    OpCode::Binary
                } else {
                    OpCode::Continuation
                };
                ws.send_frame(op, i + 1 == chunks.len(), c).await?;
            }
            Ok(())
        }
        "!ping" => {
            ws.ping(b"srv-ping").await?;
            loop {
                match ws.recv().await? {
                    Message::Pong(p) if p == b"srv-ping" => break,
                    Message::Close(_) => return Err(Error::Closed),
                    _ => {}
                }
            }
            ws.send_text("pong-ok").await
        }
        "!last-close" => {
            let s = last.borrow().clone();
            ws.send_text(&s).await
        }
        "!close" => ws.close(CloseCode(4001), "server bye").await,
        _ => ws.send_text(cmd).await,
    }
}

async fn server(port: u16, deflate: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("sonic interop server on {}", listener.local_addr()?);
    let last: LastClose = Rc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let last = last.clone();
        drop(sonic_rt::spawn(async move {
            match accept_with(MaybeTlsStream::Plain(stream), config(deflate), |_| {
                Decision::accept()
            })
            .await
            {
                Ok(ws) => {
                    if let Err(e) = serve(ws, last).await {
                        eprintln!("connection: {e}");
                    }
                }
                Err(e) => eprintln!("handshake: {e}"),
            }
        }));
    }
}

// ---------------------------------------------------------------------------------------------
// Client

#[derive(Default)]
struct Tally {
    failed: usize,
}

impl Tally {
    fn check(&mut self, name: &str, r: Result<(), String>) {
        match r {
            Ok(()) => println!("PASS {name}"),
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
}

async fn next_data(ws: &mut WebSocket<MaybeTlsStream>) -> Result<Message, String> {
    loop {
        match ws.recv().await.map_err(|e| e.to_string())? {
            Message::Ping(_) | Message::Pong(_) => {}
            m => return Ok(m),
        }
    }
}

fn same(got: &Message, want: &Message) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    let (kind, len) = match got {
        Message::Text(t) => ("text", t.len()),
        Message::Binary(b) => ("binary", b.len()),
        other => return Err(format!("got {other:?}")),
    };
    Err(format!("got a different {kind} message of {len} bytes"))
}

async fn round_trip(ws: &mut WebSocket<MaybeTlsStream>, msg: Message) -> Result<(), String> {
    ws.send(msg.clone()).await.map_err(|e| e.to_string())?;
    same(&next_data(ws).await?, &msg)
}

async fn send_fragments(
    ws: &mut WebSocket<MaybeTlsStream>,
    op: OpCode,
    data: &[u8],
    n: usize,
) -> Result<(), String> {
    let step = data.len().div_ceil(n).max(1);
    let chunks: Vec<&[u8]> = data.chunks(step).collect();
    for (i, c) in chunks.iter().enumerate() {
        let o = if i == 0 { op } else { OpCode::Continuation };
        ws.send_frame(o, i + 1 == chunks.len(), c)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn open(url: &str, deflate: bool) -> Result<(WebSocket<MaybeTlsStream>, bool), Error> {
    let opts = ClientConfig {
        config: config(deflate),
        ..ClientConfig::default()
    };
    let (ws, resp) = connect_with(url, opts).await?;
    Ok((ws, resp.deflate.is_some()))
}

async fn client(url: String, deflate: bool) -> usize {
    let mut t = Tally::default();
    let (mut ws, agreed) = match open(&url, deflate).await {
        Ok(x) => x,
        Err(e) => {
            t.check("handshake", Err(e.to_string()));
            return t.failed;
        }
    };
    let want = if deflate { "deflate" } else { "none" };
    t.check(
        "handshake, extension agreed (client view)",
        (agreed == deflate)
            .then_some(())
            .ok_or(format!("deflate agreed: {agreed}")),
    );
    let r = async {
        ws.send_text("!ext").await.map_err(|e| e.to_string())?;
        same(&next_data(&mut ws).await?, &Message::text(want))
    };
    t.check("extension agreed (server view)", r.await);
    for n in SIZES {
        let r = round_trip(&mut ws, Message::Text(text(n))).await;
        t.check(&format!("text echo {n} B"), r);
        let r = round_trip(&mut ws, Message::Binary(binary(n))).await;
        t.check(&format!("binary echo {n} B"), r);
    }
    // Fragmented sends; the text one splits multi-byte characters across fragments.
    for (name, op, n, data) in [
        (
            "fragmented text 3 x ~10 KiB",
            OpCode::Text,
            3,
            text(30_001).into_bytes(),
        ),
        (
            "fragmented binary 7 x ~14 KiB",
            OpCode::Binary,
            7,
            binary(100_000),
        ),
        (
            "fragmented binary 64 x 16 KiB",
            OpCode::Binary,
            64,
            binary(1 << 20),
        ),
    ] {
        let want = match op {
            OpCode::Text => Message::Text(String::from_utf8(data.clone()).unwrap_or_default()),
            _ => Message::Binary(data.clone()),
        };
        let r = async {
            send_fragments(&mut ws, op, &data, n).await?;
            same(&next_data(&mut ws).await?, &want)
        };
        t.check(&format!("send {name}"), r.await);
    }
    let r = async {
        ws.send_text("!frag 5 100000")
            .await
            .map_err(|e| e.to_string())?;
        same(
            &next_data(&mut ws).await?,
            &Message::Binary(pattern(100_000)),
        )
    };
    t.check("receive fragmented binary 5 x 20000 B", r.await);
    let r = async {
        ws.ping(b"cli-ping-123").await.map_err(|e| e.to_string())?;
        loop {
            match ws.recv().await.map_err(|e| e.to_string())? {
                Message::Pong(p) if p == b"cli-ping-123" => return Ok(()),
                Message::Pong(p) => return Err(format!("pong with {p:?}")),
                Message::Ping(_) => {}
                other => return Err(format!("got {other:?} before the pong")),
            }
        }
    };
    t.check("client ping -> pong with payload", r.await);
    let r = async {
        ws.send_text("!ping").await.map_err(|e| e.to_string())?;
        same(&next_data(&mut ws).await?, &Message::text("pong-ok"))
    };
    t.check("server ping -> our automatic pong", r.await);
    let r = ws.close(CloseCode(4000), "client bye ✓").await;
    t.check(
        "client close 4000 + reason, peer answers",
        r.map_err(|e| e.to_string()),
    );

    // Second connection: did the server see our code and reason? Then a server-side close.
    match open(&url, deflate).await {
        Ok((mut ws, _)) => {
            let r = async {
                ws.send_text("!last-close")
                    .await
                    .map_err(|e| e.to_string())?;
                same(
                    &next_data(&mut ws).await?,
                    &Message::text("4000 client bye ✓"),
                )
            };
            t.check("server received close code 4000 + reason", r.await);
            let r = async {
                ws.send_text("!close").await.map_err(|e| e.to_string())?;
                match ws.recv().await.map_err(|e| e.to_string())? {
                    Message::Close(Some(c)) if c.code.0 == 4001 && c.reason == "server bye" => {
                        Ok(())
                    }
                    other => Err(format!("got {other:?}")),
                }
            };
            t.check("server close 4001 + reason received", r.await);
            let r = match ws.recv().await {
                Err(Error::Closed) => Ok(()),
                other => Err(format!("after Close: {other:?}")),
            };
            t.check("connection ends after the close handshake", r);
        }
        Err(e) => t.check("second connection", Err(e.to_string())),
    }
    t.failed
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let mode = args.first().map(String::as_str).unwrap_or("");
    let arg = args.get(1).cloned().unwrap_or_default();
    match mode {
        "server" => {
            let port = arg.parse().unwrap_or(9301);
            if let Err(e) = sonic_rt::block_on(server(port, deflate)) {
                eprintln!("server: {e}");
                std::process::exit(2);
            }
        }
        "client" => {
            let failed = sonic_rt::block_on(client(arg, deflate));
            std::process::exit(i32::from(failed > 0));
        }
        _ => {
            eprintln!("usage: interop_peer server PORT [--deflate] | client URL [--deflate]");
            std::process::exit(2);
        }
    }
}
