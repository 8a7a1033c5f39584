//! Market-data style WebSocket fan-out: one producer task publishes ticks on an interval to
//! many subscribers, all on one thread.
//!
//! ```text
//! cargo run --release -p sonic-examples --example ws_fanout -- [PORT] [--interval-us N]
//!     [--symbols N] [--demo FAST,SLOW] [--seconds S]
//! ```
//! Subscribers connect to `ws://127.0.0.1:PORT` (default 9003) and receive text messages like
//! `{"seq":1234,"ticks":[["SYM0",10012,300],["SYM3",9987,100]]}` (symbol, price in cents,
//! size). `--demo 8,2` also starts 8 fast and 2 slow in-process subscriber clients and prints
//! what each received; `--seconds` stops after that long (for CI and the demo).
//!
//! # Slow subscribers: conflation, not queues
//!
//! A subscriber owns one slot per symbol holding the newest tick it has not been sent yet.
//! The producer overwrites the slot (counting a *coalesced* tick) instead of queueing, so a
//! subscriber that reads slowly receives fewer, fresher updates, and never an unbounded
//! backlog: its memory is `symbols` slots + the one message being written + the kernel's socket
//! buffer, however far behind it falls. The writer task of a subscriber sends one message with
//! every symbol that changed since its last send, and its `send` waits while the socket is full
//! (sonic-ws flushes each message before returning), which is what lets the slots absorb the
//! backlog. A subscriber whose socket takes no byte for `STALL_LIMIT` (sonic-ws's
//! `Config::send_timeout`) is disconnected with close code 1008 so a dead reader cannot pin a
//! connection forever. The producer never waits for anyone.

use sonic_net::TcpListener;
use sonic_rt::sync::Notify;
use sonic_rt::time::{interval, sleep, Instant};
use sonic_ws::{accept_with, CloseCode, Config, Decision, Error, Message, WsSender};
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::Duration;

/// A subscriber whose socket accepted nothing for this long is disconnected (the connection's
/// send timeout).
const STALL_LIMIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
struct Tick {
    seq: u64,
    price_cents: i64,
    size: u32,
}

/// One subscriber's conflation slots and counters, shared by the producer and its writer.
#[derive(Debug)]
struct Subscriber {
    /// Newest unsent tick per symbol (index = symbol number).
    slots: RefCell<Vec<Option<Tick>>>,
    ready: Notify,
    closed: Cell<bool>,
    coalesced: Cell<u64>,
    sent_msgs: Cell<u64>,
}

#[derive(Debug, Default)]
struct Hub {
    subs: RefCell<Vec<Rc<Subscriber>>>,
    published: Cell<u64>,
}

impl Hub {
    fn subscribe(&self, symbols: usize) -> Rc<Subscriber> {
        let sub = Rc::new(Subscriber {
            slots: RefCell::new(vec![None; symbols]),
            ready: Notify::new(),
            closed: Cell::new(false),
            coalesced: Cell::new(0),
            sent_msgs: Cell::new(0),
        });
        self.subs.borrow_mut().push(sub.clone());
        sub
    }

    /// Stores `tick` for `symbol` in every subscriber's slot and wakes its writer. O(1) per
    /// subscriber, never waits, never allocates.
    fn publish(&self, symbol: usize, tick: Tick) {
        self.published.set(self.published.get() + 1);
        self.subs.borrow_mut().retain(|s| !s.closed.get());
        for sub in self.subs.borrow().iter() {
            let mut slots = sub.slots.borrow_mut();
            if slots[symbol].replace(tick).is_some() {
                sub.coalesced.set(sub.coalesced.get() + 1);
            }
            drop(slots);
            sub.ready.notify_one();
        }
    }
}

/// The producer: a random walk per symbol, one symbol updated per interval tick.
async fn produce(hub: Rc<Hub>, symbols: usize, every: Duration) {
    let mut prices = vec![10_000i64; symbols];
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut timer = interval(every);
    for seq in 1.. {
        timer.tick().await;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let symbol = (rng % symbols as u64) as usize;
        prices[symbol] += (rng >> 32) as i64 % 11 - 5;
        let tick = Tick {
            seq,
            price_cents: prices[symbol],
            size: 100 * (1 + (rng >> 48) as u32 % 10),
        };
        hub.publish(symbol, tick);
    }
}

/// One subscriber's writer: waits for changed slots, sends them as one message.
async fn write_updates(sub: Rc<Subscriber>, mut tx: WsSender<sonic_net::TcpStream>) {
    let mut batch: Vec<(usize, Tick)> = Vec::new();
    let mut text = String::new();
    loop {
        sub.ready.notified().await;
        if sub.closed.get() {
            break;
        }
        batch.clear();
        for (symbol, slot) in sub.slots.borrow_mut().iter_mut().enumerate() {
            if let Some(t) = slot.take() {
                batch.push((symbol, t));
            }
        }
        let Some(seq) = batch.iter().map(|(_, t)| t.seq).max() else {
            continue;
        };
        text.clear();
        let _ = write!(text, "{{\"seq\":{seq},\"ticks\":[");
        for (i, (symbol, t)) in batch.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            let _ = write!(
                text,
                "{comma}[\"SYM{symbol}\",{},{}]",
                t.price_cents, t.size
            );
        }
        text.push_str("]}");
        // Waits while the socket is full: meanwhile the producer coalesces into the slots.
        // The send timeout (STALL_LIMIT) ends a send whose socket takes nothing.
        match tx.send_text(&text).await {
            Ok(()) => sub.sent_msgs.set(sub.sent_msgs.get() + 1),
            Err(Error::Timeout) => {
                eprintln!("subscriber stalled for {STALL_LIMIT:?}: disconnecting");
                // The socket is full, so the Close may not get out; dropping both halves
                // (the reader sees `closed`) ends the connection either way.
                let close = tx.close(CloseCode::POLICY, "too slow");
                let _ = sonic_rt::time::timeout(Duration::from_millis(100), close).await;
                break;
            }
            Err(_) => break,
        }
    }
    sub.closed.set(true);
}

async fn serve(listener: TcpListener, hub: Rc<Hub>, symbols: usize) -> std::io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        let hub = hub.clone();
        drop(sonic_rt::spawn(async move {
            // The default config runs on sonic-rt's timer.
            let cfg = Config::default().send_timeout(STALL_LIMIT);
            let Ok(ws) = accept_with(stream, cfg, |_| Decision::accept()).await else {
                return;
            };
            let (tx, mut rx) = ws.split();
            let sub = hub.subscribe(symbols);
            drop(sonic_rt::spawn(write_updates(sub.clone(), tx)));
            // The reader answers pings and notices the end of the connection; it also looks at
            // `closed` once a second, so a writer that gave up ends the connection (recv is
            // cancel-safe, so the timeout loses nothing).
            while !sub.closed.get() {
                let next = sonic_rt::time::timeout(Duration::from_secs(1), rx.recv()).await;
                if let Ok(Ok(Message::Close(_)) | Err(_)) = next {
                    break;
                }
            }
            sub.closed.set(true);
            sub.ready.notify_one();
        }));
    }
}

/// An in-process subscriber for `--demo`: counts messages, sleeping `delay` after each.
async fn demo_client(url: String, delay: Duration, got: Rc<Cell<u64>>) {
    let Ok(mut ws) = sonic_ws::connect(&url).await else {
        eprintln!("demo client: connect failed");
        return;
    };
    while let Ok(Some(_)) = ws.recv_data().await {
        got.set(got.get() + 1);
        if !delay.is_zero() {
            sleep(delay).await;
        }
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.first().and_then(|a| a.parse().ok()).unwrap_or(9003);
    let every = Duration::from_micros(arg(&args, "--interval-us").unwrap_or(100));
    let symbols: usize = arg(&args, "--symbols").unwrap_or(16).max(1);
    let seconds: Option<u64> = arg(&args, "--seconds");
    let demo: Option<String> = arg(&args, "--demo");
    sonic_rt::block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("ws://{}", listener.local_addr()?);
        eprintln!("fan-out on {url}: {symbols} symbols, a tick every {every:?}");
        let hub = Rc::new(Hub::default());
        drop(sonic_rt::spawn(produce(hub.clone(), symbols, every)));
        drop(sonic_rt::spawn(serve(listener, hub.clone(), symbols)));

        let mut clients = Vec::new();
        if let Some(spec) = demo {
            let (fast, slow) = spec.split_once(',').unwrap_or((&spec, "0"));
            let (fast, slow): (usize, usize) =
                (fast.parse().unwrap_or(0), slow.parse().unwrap_or(0));
            for i in 0..fast + slow {
                let delay = if i < fast {
                    Duration::ZERO
                } else {
                    Duration::from_millis(20)
                };
                let got = Rc::new(Cell::new(0));
                clients.push((delay, got.clone()));
                drop(sonic_rt::spawn(demo_client(url.clone(), delay, got)));
            }
        }

        let start = Instant::now();
        let mut report = interval(Duration::from_secs(1));
        report.tick().await;
        loop {
            report.tick().await;
            let subs = hub.subs.borrow();
            let sent: u64 = subs.iter().map(|s| s.sent_msgs.get()).sum();
            let coalesced: u64 = subs.iter().map(|s| s.coalesced.get()).sum();
            eprintln!(
                "{:>4.0}s  subscribers {:>4}  ticks published {:>8}  messages sent {:>9}  ticks coalesced {:>9}",
                start.elapsed().as_secs_f64(),
                subs.len(),
                hub.published.get(),
                sent,
                coalesced
            );
            drop(subs);
            if seconds.is_some_and(|s| start.elapsed() >= Duration::from_secs(s)) {
                break;
            }
        }
        for (delay, got) in &clients {
            let kind = if delay.is_zero() { "fast" } else { "slow" };
            println!("{kind} subscriber received {} messages", got.get());
        }
        Ok(())
    })
}
