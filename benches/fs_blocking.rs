//! Files and the blocking pool: sonic (io_uring backend, blocking-pool backend) against tokio's
//! current_thread runtime with `tokio::fs`, in one run, interleaved.
//!
//! `cargo bench -p sonic-benches --bench fs_blocking` (options after `--`: `--size-mib 1024`,
//! `--reads 20000`, `--runs 3`, `--dir PATH` for the test file, `--only uring|pool|tokio`,
//! `--cases random|seq|spawn`).
//!
//! Cases:
//! - 4 KiB random reads from a page-cached file at queue depth 1 (one task: latency per read,
//!   p50/p99, and reads/s) and 32 (32 tasks, each with its own handle: reads/s). sonic and tokio
//!   use `File` the same way: `seek` then `read_exact`. tokio's seek is itself a trip to its
//!   blocking pool, so tokio also runs `spawn_blocking(pread)`, the fastest tokio way (one trip
//!   per read); ratios use the faster tokio.
//! - sequential read and write of the whole file through `File` with 2 MiB buffers (MB/s);
//!   the write goes to a second file and ends with `flush` (no fsync: page-cache throughput).
//! - `spawn_blocking` round trip (`|| 1`, awaited one at a time): p50/p99 ns.
//!
//! Each case runs `--runs` times per contender, interleaved; figures are medians.

use futures_util::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use std::io::SeekFrom;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Opts {
    size: u64,
    reads: usize,
    runs: usize,
    dir: PathBuf,
    only: Option<String>,
    cases: Option<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        size: 1 << 30,
        reads: 20_000,
        runs: 3,
        dir: std::env::temp_dir(),
        only: None,
        cases: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--size-mib" => o.size = val.parse::<u64>().unwrap() << 20,
            "--reads" => o.reads = val.parse().unwrap(),
            "--runs" => o.runs = val.parse().unwrap(),
            "--dir" => o.dir = PathBuf::from(val),
            "--only" => o.only = Some(val),
            "--cases" => o.cases = Some(val),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// Offsets of 4 KiB blocks, from a fixed xorshift seed (the same for every contender).
fn offsets(n: usize, size: u64) -> Vec<u64> {
    let blocks = size / 4096;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % blocks) * 4096
        })
        .collect()
}

#[derive(Default, Clone)]
struct Figures {
    p50_ns: f64,
    p99_ns: f64,
    per_s: f64,
}

fn percentiles(mut lat: Vec<Duration>, total: Duration) -> Figures {
    lat.sort();
    let n = lat.len();
    Figures {
        p50_ns: lat[n / 2].as_nanos() as f64,
        p99_ns: lat[n * 99 / 100].as_nanos() as f64,
        per_s: n as f64 / total.as_secs_f64(),
    }
}

mod sonic {
    use super::*;

    pub fn rt(uring: bool) -> sonic_rt::Runtime {
        sonic_rt::Builder::new().io_uring(uring).build().unwrap()
    }

    pub fn qd1(uring: bool, path: &Path, offs: &[u64]) -> Figures {
        rt(uring).block_on(async {
            let mut f = sonic_rt::fs::File::open(path).await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut lat = Vec::with_capacity(offs.len());
            let t0 = Instant::now();
            for &off in offs {
                let t = Instant::now();
                f.seek(SeekFrom::Start(off)).await.unwrap();
                f.read_exact(&mut buf).await.unwrap();
                lat.push(t.elapsed());
            }
            percentiles(lat, t0.elapsed())
        })
    }

    pub fn qd32(uring: bool, path: &Path, offs: &[u64]) -> f64 {
        rt(uring).block_on(async {
            let per = offs.len() / 32;
            let t0 = Instant::now();
            let tasks: Vec<_> = offs
                .chunks(per)
                .take(32)
                .map(|chunk| {
                    let (chunk, path) = (chunk.to_vec(), path.to_owned());
                    sonic_rt::spawn(async move {
                        let mut f = sonic_rt::fs::File::open(&path).await.unwrap();
                        let mut buf = vec![0u8; 4096];
                        for off in chunk {
                            f.seek(SeekFrom::Start(off)).await.unwrap();
                            f.read_exact(&mut buf).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            (per * 32) as f64 / t0.elapsed().as_secs_f64()
        })
    }

    pub fn seq_read(uring: bool, path: &Path) -> f64 {
        rt(uring).block_on(async {
            let mut f = sonic_rt::fs::File::open(path).await.unwrap();
            let mut buf = vec![0u8; 2 << 20];
            let t0 = Instant::now();
            let mut total = 0u64;
            loop {
                let n = f.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total as f64 / t0.elapsed().as_secs_f64() / 1e6
        })
    }

    pub fn seq_write(uring: bool, path: &Path, size: u64) -> f64 {
        rt(uring).block_on(async {
            let mut f = sonic_rt::fs::File::create(path).await.unwrap();
            let buf = vec![7u8; 2 << 20];
            let t0 = Instant::now();
            let mut total = 0u64;
            while total < size {
                f.write_all(&buf).await.unwrap();
                total += buf.len() as u64;
            }
            f.flush().await.unwrap();
            total as f64 / t0.elapsed().as_secs_f64() / 1e6
        })
    }

    pub fn spawn_blocking(n: usize) -> Figures {
        rt(false).block_on(async {
            let mut lat = Vec::with_capacity(n);
            let t0 = Instant::now();
            for _ in 0..n {
                let t = Instant::now();
                sonic_rt::spawn_blocking(|| 1u8).await.unwrap();
                lat.push(t.elapsed());
            }
            percentiles(lat, t0.elapsed())
        })
    }
}

mod tokio_fs {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    pub fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    pub fn qd1(path: &Path, offs: &[u64]) -> Figures {
        rt().block_on(async {
            let mut f = tokio::fs::File::open(path).await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut lat = Vec::with_capacity(offs.len());
            let t0 = Instant::now();
            for &off in offs {
                let t = Instant::now();
                f.seek(SeekFrom::Start(off)).await.unwrap();
                f.read_exact(&mut buf).await.unwrap();
                lat.push(t.elapsed());
            }
            percentiles(lat, t0.elapsed())
        })
    }

    pub fn qd1_pread(path: &Path, offs: &[u64]) -> Figures {
        rt().block_on(async {
            let f = Arc::new(std::fs::File::open(path).unwrap());
            let mut lat = Vec::with_capacity(offs.len());
            let t0 = Instant::now();
            for &off in offs {
                let t = Instant::now();
                let f = f.clone();
                tokio::task::spawn_blocking(move || {
                    let mut buf = [0u8; 4096];
                    f.read_exact_at(&mut buf, off).unwrap();
                    buf[0]
                })
                .await
                .unwrap();
                lat.push(t.elapsed());
            }
            percentiles(lat, t0.elapsed())
        })
    }

    pub fn qd32(path: &Path, offs: &[u64]) -> f64 {
        rt().block_on(async {
            let per = offs.len() / 32;
            let t0 = Instant::now();
            let tasks: Vec<_> = offs
                .chunks(per)
                .take(32)
                .map(|chunk| {
                    let (chunk, path) = (chunk.to_vec(), path.to_owned());
                    tokio::spawn(async move {
                        let mut f = tokio::fs::File::open(&path).await.unwrap();
                        let mut buf = vec![0u8; 4096];
                        for off in chunk {
                            f.seek(SeekFrom::Start(off)).await.unwrap();
                            f.read_exact(&mut buf).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            (per * 32) as f64 / t0.elapsed().as_secs_f64()
        })
    }

    pub fn qd32_pread(path: &Path, offs: &[u64]) -> f64 {
        rt().block_on(async {
            let f = Arc::new(std::fs::File::open(path).unwrap());
            let per = offs.len() / 32;
            let t0 = Instant::now();
            let tasks: Vec<_> = offs
                .chunks(per)
                .take(32)
                .map(|chunk| {
                    let (chunk, f) = (chunk.to_vec(), f.clone());
                    tokio::spawn(async move {
                        for off in chunk {
                            let f = f.clone();
                            tokio::task::spawn_blocking(move || {
                                let mut buf = [0u8; 4096];
                                f.read_exact_at(&mut buf, off).unwrap();
                            })
                            .await
                            .unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            (per * 32) as f64 / t0.elapsed().as_secs_f64()
        })
    }

    pub fn seq_read(path: &Path) -> f64 {
        rt().block_on(async {
            let mut f = tokio::fs::File::open(path).await.unwrap();
            let mut buf = vec![0u8; 2 << 20];
            let t0 = Instant::now();
            let mut total = 0u64;
            loop {
                let n = f.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total as f64 / t0.elapsed().as_secs_f64() / 1e6
        })
    }

    pub fn seq_write(path: &Path, size: u64) -> f64 {
        rt().block_on(async {
            let mut f = tokio::fs::File::create(path).await.unwrap();
            let buf = vec![7u8; 2 << 20];
            let t0 = Instant::now();
            let mut total = 0u64;
            while total < size {
                f.write_all(&buf).await.unwrap();
                total += buf.len() as u64;
            }
            f.flush().await.unwrap();
            total as f64 / t0.elapsed().as_secs_f64() / 1e6
        })
    }

    pub fn spawn_blocking(n: usize) -> Figures {
        rt().block_on(async {
            let mut lat = Vec::with_capacity(n);
            let t0 = Instant::now();
            for _ in 0..n {
                let t = Instant::now();
                tokio::task::spawn_blocking(|| 1u8).await.unwrap();
                lat.push(t.elapsed());
            }
            percentiles(lat, t0.elapsed())
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn median_fig(v: Vec<Figures>) -> Figures {
    Figures {
        p50_ns: median(v.iter().map(|f| f.p50_ns).collect()),
        p99_ns: median(v.iter().map(|f| f.p99_ns).collect()),
        per_s: median(v.iter().map(|f| f.per_s).collect()),
    }
}

fn main() {
    let o = opts();
    let want = |who: &str| o.only.as_deref().is_none_or(|w| w == who);
    let case = |c: &str| o.cases.as_deref().is_none_or(|w| w == c);
    let path = o.dir.join(format!("sonic-bench-fs-{}", std::process::id()));
    let out = o
        .dir
        .join(format!("sonic-bench-fs-out-{}", std::process::id()));
    {
        std::fs::create_dir_all(&o.dir)
            .unwrap_or_else(|e| panic!("--dir {}: {e}", o.dir.display()));
        let f = std::fs::File::create(&path).unwrap();
        let chunk: Vec<u8> = (0..(8 << 20)).map(|i| (i * 7) as u8).collect();
        let mut off = 0;
        while off < o.size {
            f.write_all_at(&chunk, off).unwrap();
            off += chunk.len() as u64;
        }
    }
    // Page-cache it.
    let _ = std::fs::read(&path).unwrap();
    let sonic_backend = sonic::rt(true).block_on(async { sonic_rt::fs::backend() });
    println!(
        "fs_blocking: {} MiB file in {}, {} random reads, {} runs; sonic's io_uring runtime uses {:?}",
        o.size >> 20,
        o.dir.display(),
        o.reads,
        o.runs,
        sonic_backend
    );
    let offs = offsets(o.reads, o.size);

    let (mut u1, mut p1, mut t1, mut t1p) = (vec![], vec![], vec![], vec![]);
    let (mut u32_, mut p32, mut t32, mut t32p) = (vec![], vec![], vec![], vec![]);
    let (mut ur, mut pr, mut tr) = (vec![], vec![], vec![]);
    let (mut uw, mut pw, mut tw) = (vec![], vec![], vec![]);
    let (mut sb, mut tb) = (vec![], vec![]);
    for run in 0..o.runs {
        if want("uring") && case("random") {
            u1.push(sonic::qd1(true, &path, &offs));
            u32_.push(sonic::qd32(true, &path, &offs));
        }
        if want("pool") && case("random") {
            p1.push(sonic::qd1(false, &path, &offs));
            p32.push(sonic::qd32(false, &path, &offs));
        }
        if want("tokio") && case("random") {
            t1.push(tokio_fs::qd1(&path, &offs));
            t1p.push(tokio_fs::qd1_pread(&path, &offs));
            t32.push(tokio_fs::qd32(&path, &offs));
            t32p.push(tokio_fs::qd32_pread(&path, &offs));
        }
        // Sequential cases: the order of the contenders rotates from run to run, so the
        // writeback of the write before (which throttles the next writer) weighs on each alike.
        if case("seq") {
            for k in 0..3 {
                match (run + k) % 3 {
                    0 if want("uring") => uw.push(sonic::seq_write(true, &out, o.size)),
                    1 if want("pool") => pw.push(sonic::seq_write(false, &out, o.size)),
                    2 if want("tokio") => tw.push(tokio_fs::seq_write(&out, o.size)),
                    _ => {}
                }
            }
            for k in 0..3 {
                match (run + k) % 3 {
                    0 if want("uring") => ur.push(sonic::seq_read(true, &path)),
                    1 if want("pool") => pr.push(sonic::seq_read(false, &path)),
                    2 if want("tokio") => tr.push(tokio_fs::seq_read(&path)),
                    _ => {}
                }
            }
        }
        if case("spawn") {
            if want("pool") {
                sb.push(sonic::spawn_blocking(o.reads));
            }
            if want("tokio") {
                tb.push(tokio_fs::spawn_blocking(o.reads));
            }
        }
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&out);

    let fig = |name: &str, v: Vec<Figures>| {
        if v.is_empty() {
            return None;
        }
        let f = median_fig(v);
        println!(
            "  {name:<44} p50 {:>9.0} ns  p99 {:>9.0} ns  {:>9.0} reads/s",
            f.p50_ns, f.p99_ns, f.per_s
        );
        Some(f)
    };
    let rate = |name: &str, v: Vec<f64>, unit: &str| {
        if v.is_empty() {
            return None;
        }
        let m = median(v);
        println!("  {name:<44} {m:>12.0} {unit}");
        Some(m)
    };
    println!("4 KiB random reads, queue depth 1 (seek + read_exact; tokio also pread):");
    let a = fig("sonic io_uring", u1);
    let b = fig("sonic blocking pool", p1);
    let c = fig("tokio::fs", t1);
    let d = fig("tokio spawn_blocking(pread)", t1p);
    let best_tokio = match (c.clone(), d.clone()) {
        (Some(c), Some(d)) => Some(if c.p50_ns < d.p50_ns { c } else { d }),
        (c, d) => c.or(d),
    };
    if let Some(t) = &best_tokio {
        for (name, s) in [("io_uring", &a), ("pool", &b)] {
            if let Some(s) = s {
                println!(
                    "    faster tokio / sonic {name}: p50 {:.2}x, p99 {:.2}x, reads/s {:.2}x",
                    t.p50_ns / s.p50_ns,
                    t.p99_ns / s.p99_ns,
                    s.per_s / t.per_s
                );
            }
        }
    }
    println!("4 KiB random reads, queue depth 32 (32 tasks):");
    let a = rate("sonic io_uring", u32_, "reads/s");
    let b = rate("sonic blocking pool", p32, "reads/s");
    let c = rate("tokio::fs", t32, "reads/s");
    let d = rate("tokio spawn_blocking(pread)", t32p, "reads/s");
    let best = c
        .into_iter()
        .chain(d)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    if let Some(t) = best {
        for (name, s) in [("io_uring", a), ("pool", b)] {
            if let Some(s) = s {
                println!("    sonic {name} / faster tokio: {:.2}x", s / t);
            }
        }
    }
    println!("sequential read, 2 MiB buffer:");
    let a = rate("sonic io_uring", ur, "MB/s");
    let b = rate("sonic blocking pool", pr, "MB/s");
    let c = rate("tokio::fs", tr, "MB/s");
    if let Some(t) = c {
        for (name, s) in [("io_uring", a), ("pool", b)] {
            if let Some(s) = s {
                println!("    sonic {name} / tokio: {:.2}x", s / t);
            }
        }
    }
    println!("sequential write, 2 MiB buffer, then flush:");
    let a = rate("sonic io_uring", uw, "MB/s");
    let b = rate("sonic blocking pool", pw, "MB/s");
    let c = rate("tokio::fs", tw, "MB/s");
    if let Some(t) = c {
        for (name, s) in [("io_uring", a), ("pool", b)] {
            if let Some(s) = s {
                println!("    sonic {name} / tokio: {:.2}x", s / t);
            }
        }
    }
    println!("spawn_blocking round trip (|| 1, one at a time):");
    let s = fig("sonic", sb);
    let t = fig("tokio", tb);
    if let (Some(s), Some(t)) = (s, t) {
        println!(
            "    tokio / sonic: p50 {:.2}x, p99 {:.2}x",
            t.p50_ns / s.p50_ns,
            t.p99_ns / s.p99_ns
        );
    }
}
