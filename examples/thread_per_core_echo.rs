//! Thread-per-core echo server: one sonic runtime per core, each pinned to its core, each with
//! its own listener on the same port (`SO_REUSEPORT`); the kernel spreads connections between
//! them, and nothing is shared between threads.
//!
//! `cargo run --release -p sonic-examples --example thread_per_core_echo [-- ADDR [CLIENTS]]`
//! (default 127.0.0.1:7008). It serves, runs CLIENTS (default 64) test connections against
//! itself, prints which core served how many, and exits.

use futures_util::{AsyncReadExt, AsyncWriteExt};
use sonic_net::{ListenOptions, TcpListener, TcpStream};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:7008".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    let clients: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(64);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let served: Arc<Vec<AtomicUsize>> = Arc::new((0..cores).map(|_| AtomicUsize::new(0)).collect());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let mut handles = Vec::new();
    for core in 0..cores {
        let served = served.clone();
        let ready_tx = ready_tx.clone();
        handles.push(std::thread::spawn(move || -> io::Result<()> {
            // Pinning can fail in a restricted cpuset: then run unpinned.
            let rt = match sonic_rt::Builder::new().pin_to_core(core).build() {
                Ok(rt) => rt,
                Err(_) => sonic_rt::Builder::new().build()?,
            };
            rt.block_on(async {
                let opts = ListenOptions::new().reuse_port(true);
                let listener = TcpListener::bind_with(addr, &opts).await?;
                ready_tx.send(()).ok();
                loop {
                    let (mut conn, _) = match listener.accept().await {
                        Ok(c) => c,
                        Err(e) => {
                            eprintln!("core {core}: accept: {e}");
                            continue;
                        }
                    };
                    served[core].fetch_add(1, Ordering::Relaxed);
                    let _task = sonic_rt::spawn(async move {
                        let mut buf = [0u8; 4096];
                        while let Ok(n @ 1..) = conn.read(&mut buf).await {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            })
        }));
    }
    for _ in 0..cores {
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("a server thread failed to start"))?;
    }
    println!("{cores} runtimes listening on {addr} (SO_REUSEPORT)");

    // Clients, on this thread's own runtime: each connects, echoes one message, hangs up.
    sonic_rt::block_on(async {
        for i in 0..clients {
            let mut c = TcpStream::connect(addr).await?;
            let msg = format!("client {i}");
            c.write_all(msg.as_bytes()).await?;
            let mut back = vec![0u8; msg.len()];
            c.read_exact(&mut back).await?;
            assert_eq!(back, msg.as_bytes());
        }
        io::Result::Ok(())
    })?;
    for (core, n) in served.iter().enumerate() {
        println!(
            "core {core} accepted {} connections",
            n.load(Ordering::Relaxed)
        );
    }
    // The server threads run forever; the process exits here.
    Ok(())
}
