//! A line-based chat server, written once and compiled twice (`rt` is tokio or sonic; see
//! `echo.rs`). A hub task owns the member list and broadcasts each line to every other member
//! through per-client channels; each client task reads lines and writes what the hub sends it.
//!
//! Protocol: on connect a client gets `welcome ID`; the others get `ID joined`. A line `text`
//! from client ID reaches every other client as `ID: text`. When ID disconnects, the others get
//! `ID left`.
use super::rt;

use rt::net::{TcpListener, TcpStream};
use rt::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use std::io;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

enum Event {
    Join(u64, UnboundedSender<String>),
    Line(u64, String),
    Leave(u64),
}

/// Runs the chat on `listener` until accepting fails.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let (events, inbox) = unbounded_channel();
    drop(rt::spawn(hub(inbox)));
    let mut next_id = 1;
    loop {
        let (stream, _peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        drop(rt::spawn(client(next_id, stream, events.clone())));
        next_id += 1;
    }
}

async fn hub(mut inbox: UnboundedReceiver<Event>) {
    let mut members: Vec<(u64, UnboundedSender<String>)> = Vec::new();
    while let Some(event) = inbox.recv().await {
        match event {
            Event::Join(id, tx) => {
                let _ = tx.send(format!("welcome {id}\n"));
                broadcast(&members, id, format!("{id} joined\n"));
                members.push((id, tx));
            }
            Event::Line(id, line) => broadcast(&members, id, format!("{id}: {line}\n")),
            Event::Leave(id) => {
                members.retain(|(member, _)| *member != id);
                broadcast(&members, id, format!("{id} left\n"));
            }
        }
    }
}

fn broadcast(members: &[(u64, UnboundedSender<String>)], from: u64, msg: String) {
    for (id, tx) in members {
        if *id != from {
            let _ = tx.send(msg.clone());
        }
    }
}

async fn client(id: u64, stream: TcpStream, events: UnboundedSender<Event>) {
    let (read, mut write) = stream.into_split();
    let (tx, mut outbox) = unbounded_channel::<String>();
    if events.send(Event::Join(id, tx)).is_err() {
        return;
    }
    let mut lines = BufReader::new(read).lines();
    loop {
        rt::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if events.send(Event::Line(id, line)).is_err() {
                        break;
                    }
                }
                _ => break,
            },
            Some(msg) = outbox.recv() => {
                if write.write_all(msg.as_bytes()).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = events.send(Event::Leave(id));
}
