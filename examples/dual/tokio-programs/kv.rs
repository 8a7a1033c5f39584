//! A key/value server in the shape of tokio's mini-redis, written against tokio and compiled
//! unchanged against tokio and against sonic through the facade (see `chat.rs`).
//!
//! `tokio::spawn` per connection into a `JoinSet`, a `Semaphore` bounding the connections
//! served at once, a `broadcast` channel for publish/subscribe and another for shutdown,
//! `select!`, a bind generic over `net::ToSocketAddrs`, and an async `TcpStream::shutdown()`
//! (tokio's `AsyncWriteExt`) to close each connection.
//!
//! Commands, one per line: `SET k v` (`OK`), `GET k` (the value or `nil`), `SUB` (`subscribed`;
//! from then on `msg TEXT` for each publication), `PUB TEXT` (`published to N`, the number of
//! subscribers), `QUIT` (`bye`, then the server shuts the write side), `SHUTDOWN` (`bye`; every
//! other connection gets `server shutting down`, the server waits for all of them and prints
//! `shut down cleanly`). At most 2 connections are served at once; a third waits.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{broadcast, Semaphore};
use tokio::task::JoinSet;

const MAX_CONNECTIONS: usize = 2;

type Db = Arc<Mutex<HashMap<String, String>>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    run("127.0.0.1:0").await
}

async fn run<A: ToSocketAddrs>(addr: A) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let db: Db = Arc::new(Mutex::new(HashMap::new()));
    // A tokio program's shape: the semaphore shared by `Arc` between spawned tasks.
    #[allow(clippy::arc_with_non_send_sync)] // sonic's Semaphore is a local (!Send) one
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (pubsub, _) = broadcast::channel::<String>(16);
    let (shutdown, mut shutdown_rx) = broadcast::channel::<()>(1);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                let (db, limit, pubsub, shutdown) =
                    (db.clone(), limit.clone(), pubsub.clone(), shutdown.clone());
                connections.spawn(async move {
                    let mut stop = shutdown.subscribe();
                    let _permit = tokio::select! {
                        permit = limit.acquire() => permit.expect("never closed"),
                        _ = stop.recv() => return Ok(()),
                    };
                    serve(stream, db, pubsub, shutdown, stop).await
                });
            }
            _ = shutdown_rx.recv() => break,
        }
    }
    while let Some(done) = connections.join_next().await {
        done.expect("connection task panicked")?;
    }
    println!("shut down cleanly");
    Ok(())
}

async fn serve(
    mut stream: TcpStream,
    db: Db,
    pubsub: broadcast::Sender<String>,
    shutdown: broadcast::Sender<()>,
    mut stop: broadcast::Receiver<()>,
) -> io::Result<()> {
    let farewell = {
        let (reader, mut writer) = stream.split();
        let mut lines = BufReader::new(reader).lines();
        let mut sub: Option<broadcast::Receiver<String>> = None;
        loop {
            tokio::select! {
                line = lines.next_line() => {
                    let Some(line) = line? else { break None };
                    let mut words = line.splitn(3, ' ');
                    let reply = match (words.next(), words.next(), words.next()) {
                        (Some("SET"), Some(k), Some(v)) => {
                            db.lock().unwrap().insert(k.to_string(), v.to_string());
                            "OK".to_string()
                        }
                        (Some("GET"), Some(k), None) => {
                            db.lock().unwrap().get(k).cloned().unwrap_or_else(|| "nil".into())
                        }
                        (Some("SUB"), None, None) => {
                            sub = Some(pubsub.subscribe());
                            "subscribed".to_string()
                        }
                        (Some("PUB"), Some(_), _) => {
                            let text = line["PUB ".len()..].to_string();
                            format!("published to {}", pubsub.send(text).unwrap_or(0))
                        }
                        (Some("QUIT"), None, None) => break Some("bye\n"),
                        (Some("SHUTDOWN"), None, None) => {
                            let _ = shutdown.send(());
                            break Some("bye\n");
                        }
                        _ => format!("unknown command: {line}"),
                    };
                    writer.write_all(format!("{reply}\n").as_bytes()).await?;
                }
                msg = async { sub.as_mut().expect("enabled only when subscribed").recv().await }, if sub.is_some() => {
                    if let Ok(msg) = msg {
                        writer.write_all(format!("msg {msg}\n").as_bytes()).await?;
                    }
                }
                _ = stop.recv() => break Some("server shutting down\n"),
            }
        }
    };
    if let Some(farewell) = farewell {
        stream.write_all(farewell.as_bytes()).await?;
    }
    // tokio's async shutdown (AsyncWriteExt): the peer reads end-of-stream.
    stream.shutdown().await
}
