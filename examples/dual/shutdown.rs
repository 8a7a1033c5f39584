//! A line echo server with a graceful shutdown on Ctrl-C, written once and compiled twice (`rt`
//! is tokio or sonic; see `echo.rs`). On SIGINT it stops accepting, tells every connected
//! client `bye`, waits for their tasks to finish and returns how many connections it served.
use super::rt;

use rt::net::{TcpListener, TcpStream};
use rt::sync::oneshot;
use std::io;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Serves `listener` until Ctrl-C, then shuts down gracefully.
pub async fn run(listener: TcpListener) -> io::Result<u32> {
    let ctrl_c = rt::signal::ctrl_c();
    rt::pin!(ctrl_c);
    let mut conns = Vec::new();
    let mut served = 0;
    loop {
        rt::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = accepted?;
                let (stop, stopped) = oneshot::channel::<()>();
                conns.push((stop, rt::spawn(lines(stream, stopped))));
                served += 1;
            }
            res = &mut ctrl_c => {
                res?;
                break;
            }
        }
    }
    drop(listener); // new connections are refused from here on
    let (stops, tasks): (Vec<_>, Vec<_>) = conns.into_iter().unzip();
    for stop in stops {
        let _ = stop.send(()); // a finished connection has dropped its receiver
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(served)
}

async fn lines(stream: TcpStream, mut stop: oneshot::Receiver<()>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        rt::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if write.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                        return;
                    }
                }
                _ => return,
            },
            _ = &mut stop => break,
        }
    }
    let _ = write.write_all(b"bye\n").await;
}
