//! A line-based chat server written against tokio, and compiled unchanged against tokio
//! (`examples/dual/on-tokio`) and against sonic through the facade
//! (`examples/dual/on-sonic-tokio`, whose Cargo.toml says
//! `tokio = { package = "sonic-tokio", ... }`). Nothing in this file knows which.
//!
//! Single-threaded tokio style: a `LocalSet` with `spawn_local` tasks sharing an `Rc`'d member
//! table behind `tokio::sync::Mutex`; per-client `mpsc` channels; `select!` between the socket
//! and the channel; `interval` and `timeout`; a `std::thread` answering through an
//! `mpsc::Sender` (`Send`, as tokio's), also queued behind slots a task holds through
//! `reserve_many`; SIGINT through `tokio::signal`.
//!
//! Protocol: on connect a client gets `welcome ID`, the others `ID joined`. A line `text`
//! reaches every other client as `ID: text`. `/ticks N` answers `tick 1` .. `tick N`, 10 ms
//! apart; `/timeout` answers `timed out` after waiting 20 ms for nothing; `/thread` answers
//! what a `std::thread` sent back; `/batch` answers `batch a b thread`: the task reserves both
//! slots of a channel with `reserve_many`, a thread's `blocking_send` waits behind them, and the
//! values arrive in that order. When ID leaves, the others get `ID left`. On SIGINT the
//! server prints `bye` and exits.

use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, Mutex};
use tokio::task::LocalSet;
use tokio::time::{interval, timeout};

type Members = Rc<Mutex<HashMap<u64, mpsc::UnboundedSender<String>>>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", listener.local_addr()?);
    let local = LocalSet::new();
    local
        .run_until(async move {
            tokio::select! {
                r = accept_loop(listener) => r,
                _ = interrupt.recv() => {
                    println!("bye");
                    Ok(())
                }
            }
        })
        .await
}

async fn accept_loop(listener: TcpListener) -> io::Result<()> {
    let members: Members = Rc::new(Mutex::new(HashMap::new()));
    let mut next_id = 1;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(client(next_id, stream, members.clone()));
        next_id += 1;
    }
}

async fn broadcast(members: &Members, from: u64, line: String) {
    for (id, tx) in members.lock().await.iter() {
        if *id != from {
            let _ = tx.send(line.clone());
        }
    }
}

async fn client(id: u64, mut stream: TcpStream, members: Members) -> io::Result<()> {
    let (tx, mut inbox) = mpsc::unbounded_channel();
    broadcast(&members, id, format!("{id} joined")).await;
    members.lock().await.insert(id, tx);
    let (reader, mut writer) = stream.split();
    let mut lines = BufReader::new(reader).lines();
    writer
        .write_all(format!("welcome {id}\n").as_bytes())
        .await?;
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                if let Some(n) = line.strip_prefix("/ticks ") {
                    let n: u32 = n.trim().parse().unwrap_or(0);
                    let mut ticker = interval(Duration::from_millis(10));
                    for i in 1..=n {
                        ticker.tick().await;
                        writer.write_all(format!("tick {i}\n").as_bytes()).await?;
                    }
                } else if line == "/timeout" {
                    let waited = timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
                    let answer = if waited.is_err() { "timed out\n" } else { "done\n" };
                    writer.write_all(answer.as_bytes()).await?;
                } else if line == "/thread" {
                    let (back, mut from_thread) = mpsc::channel::<String>(1);
                    std::thread::spawn(move || {
                        back.blocking_send(format!("thread says hi to {id}")).unwrap();
                    });
                    let said = from_thread.recv().await.unwrap_or_default();
                    writer.write_all(format!("{said}\n").as_bytes()).await?;
                } else if line == "/batch" {
                    let (tx, mut rx) = mpsc::channel::<&str>(2);
                    let permits = tx.reserve_many(2).await.unwrap();
                    let from_thread = tx.clone();
                    let thread = std::thread::spawn(move || {
                        from_thread.blocking_send("thread").unwrap(); // waits for a free slot
                    });
                    for (permit, value) in permits.zip(["a", "b"]) {
                        permit.send(value);
                    }
                    drop(tx);
                    let mut got = Vec::new();
                    while let Some(value) = rx.recv().await {
                        got.push(value);
                    }
                    thread.join().unwrap();
                    writer.write_all(format!("batch {}\n", got.join(" ")).as_bytes()).await?;
                } else {
                    broadcast(&members, id, format!("{id}: {line}")).await;
                }
            }
            Some(msg) = inbox.recv() => {
                writer.write_all(format!("{msg}\n").as_bytes()).await?;
            }
        }
    }
    members.lock().await.remove(&id);
    broadcast(&members, id, format!("{id} left")).await;
    Ok(())
}
