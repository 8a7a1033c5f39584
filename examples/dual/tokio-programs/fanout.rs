//! Configuration fan-out, written against tokio and compiled unchanged against tokio and
//! against sonic through the facade (see `chat.rs`): a `watch` channel carries the current
//! configuration to workers in a `JoinSet`, a `broadcast` channel carries events, each worker
//! knows its name through `task_local!`, and a `biased` `select!` serves both. Every step is
//! acknowledged over an `mpsc` channel, so the output is the same on every run; it ends with
//! `broadcast`'s lag rule on a full channel.

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinSet;

tokio::task_local! {
    static WORKER: &'static str;
}

#[derive(Clone, Debug)]
struct Config {
    level: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (config, config_rx) = watch::channel(Config { level: 1 });
    let (events, _) = broadcast::channel::<String>(8);
    let (ack, mut acks) = mpsc::unbounded_channel::<()>();
    let mut workers = JoinSet::new();
    for name in ["alpha", "beta"] {
        let mut config = config_rx.clone();
        let mut events = events.subscribe();
        let ack = ack.clone();
        workers.spawn(WORKER.scope(name, async move {
            let mut log = vec![format!(
                "{} starts at level {}",
                WORKER.get(),
                config.borrow_and_update().level
            )];
            let _ = ack.send(()); // started: seen the first configuration
            loop {
                tokio::select! {
                    biased;
                    changed = config.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let level = config.borrow_and_update().level;
                        log.push(format!("{} sees level {level}", WORKER.get()));
                    }
                    event = events.recv() => match event {
                        Ok(event) => log.push(format!("{} got {event}", WORKER.get())),
                        Err(e) => log.push(format!("{} events: {e}", WORKER.get())),
                    },
                }
                let _ = ack.send(());
            }
            log
        }));
    }
    drop(ack);

    wait_for_both(&mut acks).await;
    config.send_modify(|c| c.level = 2);
    wait_for_both(&mut acks).await;
    println!("receivers of events: {}", events.receiver_count());
    events.send("deploy".to_string()).unwrap();
    wait_for_both(&mut acks).await;
    config.send_replace(Config { level: 3 });
    wait_for_both(&mut acks).await;
    drop(config);

    let mut logs = Vec::new();
    while let Some(log) = workers.join_next().await {
        logs.push(log.expect("worker panicked"));
    }
    logs.sort();
    for line in logs.concat() {
        println!("{line}");
    }

    // A receiver that fell behind a full channel: told how many it missed, then the oldest kept.
    let (tx, mut rx) = broadcast::channel::<u32>(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    println!("{:?}", rx.recv().await);
    println!("{:?}", rx.recv().await);
    drop(tx);
    println!("{:?}", rx.recv().await);
    println!("{:?}", rx.recv().await);
}

/// Waits until both workers have handled the last step.
async fn wait_for_both(acks: &mut mpsc::UnboundedReceiver<()>) {
    for _ in 0..2 {
        acks.recv().await.expect("workers alive");
    }
}
