//! sequencer: push + pop per datagram through `sonic_buf::sequencer::Sequencer` against a
//! `BTreeMap` baseline, side by side in one run, for three arrival patterns:
//!
//! * in order: 0, 1, 2, ...;
//! * 1% reorder: each datagram, with probability 1%, arrives after the next 1 to 3;
//! * 1% loss: each datagram, with probability 1%, is lost and comes back 32 datagrams later (a
//!   recovery), so the ones in between wait.
//!
//! Every implementation gets the same arrival sequence, copies each datagram (64 B by default)
//! once into its storage (the stand-in for the receive), and releases everything in order as
//! soon as it can, checking sequence numbers. The baselines:
//!
//! * `BTreeMap<u64, Vec<u8>>`: what a first version usually is (an allocation per datagram);
//! * the same with a pool of reused `Vec`s (no allocation, only the map's cost).
//!
//! Times are the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`: time preempted on a shared
//! machine is not counted); the implementations run interleaved, `--runs` times each, and the
//! figure is the median ns per datagram. Run:
//! `cargo bench -p sonic-benches --bench sequencer` (options after `--`: `--n N`, `--runs N`,
//! `--size B`).

use sonic_buf::sequencer::{Config, Sequencer};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    InOrder,
    Reorder,
    Loss,
}

impl Pattern {
    fn name(self) -> &'static str {
        match self {
            Pattern::InOrder => "in order",
            Pattern::Reorder => "1% reorder",
            Pattern::Loss => "1% loss (recovered 32 later)",
        }
    }

    /// The arrival order of `0..n`.
    fn arrivals(self, n: u64) -> Vec<u64> {
        let mut rng = Rng(0x5eed_u64 ^ n);
        let mut out: Vec<u64> = (0..n).collect();
        match self {
            Pattern::InOrder => {}
            Pattern::Reorder => {
                let mut i = 0;
                while i + 4 < out.len() {
                    if rng.percent(1) {
                        let k = 1 + (rng.next() % 3) as usize;
                        out[i..=i + k].rotate_left(1);
                        i += k;
                    }
                    i += 1;
                }
            }
            Pattern::Loss => {
                // Lost ones move 32 places later (where the recovery brings them).
                let mut late: Vec<(usize, u64)> = Vec::new();
                let mut kept = Vec::with_capacity(out.len());
                for (i, &s) in out.iter().enumerate() {
                    if rng.percent(1) {
                        late.push((i + 32, s));
                    } else {
                        kept.push(s);
                    }
                    while late.first().is_some_and(|&(at, _)| at <= i) {
                        kept.push(late.remove(0).1);
                    }
                }
                kept.extend(late.into_iter().map(|(_, s)| s));
                out = kept;
            }
        }
        out
    }
}

/// The datagram bytes of `seq` (written into the receive buffer before each push).
fn fill(buf: &mut [u8], seq: u64) {
    buf[..8].copy_from_slice(&seq.to_be_bytes());
}

const SLOTS: usize = 1024;

fn run_sequencer(arrivals: &[u64], size: usize) -> Duration {
    let mut s = Sequencer::new(Config {
        max_slots: SLOTS,
        max_bytes: SLOTS * 2 * (size + 64),
        start: Some(0),
        ..Config::default()
    });
    let mut rx = vec![0u8; size];
    let mut next = 0u64;
    let t = cpu_now();
    for &seq in arrivals {
        fill(&mut rx, seq);
        s.push(seq, &rx).expect("push");
        while let Some((q, d)) = s.pop() {
            assert_eq!(q, next);
            black_box(d);
            next += 1;
        }
    }
    let took = cpu_now() - t;
    assert_eq!(next, arrivals.len() as u64);
    took
}

fn run_btreemap(arrivals: &[u64], size: usize, pooled: bool) -> Duration {
    let mut map: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut rx = vec![0u8; size];
    let mut next = 0u64;
    let t = cpu_now();
    for &seq in arrivals {
        fill(&mut rx, seq);
        if seq >= next && !map.contains_key(&seq) {
            let mut v = if pooled {
                pool.pop().unwrap_or_default()
            } else {
                Vec::new()
            };
            v.clear();
            v.extend_from_slice(&rx);
            map.insert(seq, v);
        }
        while let Some(e) = map.first_entry() {
            if *e.key() != next {
                break;
            }
            let v = e.remove();
            black_box(&v);
            if pooled {
                pool.push(v);
            }
            next += 1;
        }
    }
    let took = cpu_now() - t;
    assert_eq!(next, arrivals.len() as u64);
    took
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = opt("--n", 1_000_000);
    let runs = opt("--runs", 7) as usize;
    let size = opt("--size", 64) as usize;
    println!(
        "sequencer: push + pop of {n} datagrams of {size} B, {runs} interleaved runs, thread CPU \
         time; ns per datagram, median [min]"
    );
    println!(
        "  {:<30} {:>16} {:>18} {:>18} {:>10} {:>10}",
        "arrivals", "Sequencer", "BTreeMap+Vec", "BTreeMap+pool", "map/seq", "pool/seq"
    );
    for pattern in [Pattern::InOrder, Pattern::Reorder, Pattern::Loss] {
        let arrivals = pattern.arrivals(n);
        let mut t = [Vec::new(), Vec::new(), Vec::new()];
        for r in 0..runs {
            // Rotate the order within a run so that none always goes first.
            for k in 0..3 {
                let which = (k + r) % 3;
                let d = match which {
                    0 => run_sequencer(&arrivals, size),
                    1 => run_btreemap(&arrivals, size, false),
                    _ => run_btreemap(&arrivals, size, true),
                };
                t[which].push(d.as_nanos() as f64 / n as f64);
            }
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let mins = [min(&t[0]), min(&t[1]), min(&t[2])];
        let med = [median(&mut t[0]), median(&mut t[1]), median(&mut t[2])];
        println!(
            "  {:<30} {:>7.1} [{:>6.1}] {:>8.1} [{:>7.1}] {:>8.1} [{:>7.1}] {:>9.2}x {:>9.2}x",
            pattern.name(),
            med[0],
            mins[0],
            med[1],
            mins[1],
            med[2],
            mins[2],
            med[1] / med[0],
            med[2] / med[0]
        );
    }
}
