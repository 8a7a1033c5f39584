//! Code shared by the benches (and `examples/pingpong`), so that each bench reads as the
//! experiment it is. The whole API:
//!
//! | item | what it does |
//! |---|---|
//! | [`pin_thread`]`(core)` | pins the calling thread to one CPU (`sched_setaffinity`) |
//! | [`tcp_pair`]`()` | a connected loopback TCP pair, `TCP_NODELAY` on both ends, blocking |
//! | [`tokio_rt`]`()` | tokio's `current_thread` runtime with I/O and time enabled |
//! | [`spin`]`(op)`, [`write_all_spin`] | retry an operation while it would block (raw floors) |
//! | [`interleaved`]`(modes, runs, f)` | runs every mode `runs` times in a rotating order |
//! | [`Latency`] | an HDR histogram of latencies in ns: `record`, `add`, `value_at`, `summary` |
//! | [`Summary`] | p50 / p90 / p99 / p99.9 / p99.99 / max of one run; [`Summary::median_of`] runs |
//! | [`us`]`(ns)` | nanoseconds as `f64` microseconds, for printing |
//! | [`poll_timing`]`()` | `SONIC_BENCH_POLL_TIMING=1`: build sonic runtimes with per-poll timing |
//! | [`CpuTime`]`::thread()`, `::process()` | user and system CPU time (`getrusage`), subtractable |
//! | [`HistDir`] | `--hist DIR`: writes a chart's histograms as percentile distribution files |
//! | [`plot`] | renders those files as SVG (the `latency_plots` binary) |
//!
//! A latency bench records each round trip into a [`Latency`] (no allocation per sample), keeps
//! one per run, prints the median of the runs' [`Summary`]s, and, given `--hist DIR`, merges each
//! mode's runs and writes them with [`HistDir::write_chart`]. Then
//! `cargo run --release -p sonic-benches --bin latency_plots -- DIR OUT` draws one SVG per chart
//! (`benches/plots.sh` does both for the charts in BENCHMARKS.md).

use hdrhistogram::Histogram;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod plot;

/// Pins the calling thread to `core` (`sched_setaffinity`). Every mode of a bench then runs on
/// the same CPU; a sonic runtime built with `pin_to_core` pins again, harmlessly.
pub fn pin_thread(core: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data and all-zero is the empty set; CPU_SET ignores an index
    // past the set's end; the kernel reads the set during the call only.
    let res = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if res != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("pinning to CPU {core}: {e}"),
        ));
    }
    Ok(())
}

/// A connected loopback TCP pair `(client, server)`, both with `TCP_NODELAY`, in blocking mode.
pub fn tcp_pair() -> io::Result<(std::net::TcpStream, std::net::TcpStream)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// tokio's single-thread runtime as the benches compare against it: `new_current_thread()`
/// with `enable_all()`.
pub fn tokio_rt() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Retries `op` while it fails with `WouldBlock`: a busy-spin on a non-blocking socket, a single
/// call on a blocking one.
pub fn spin<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            res => return res,
        }
    }
}

/// `write_all` that [`spin`]s while the socket would block.
pub fn write_all_spin(s: &mut impl Write, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = spin(|| s.write(buf))?;
        buf = &buf[n..];
    }
    Ok(())
}

/// Runs `run(mode)` `runs` times for each of `modes` modes, interleaved in a rotating order (run
/// `r` starts with mode `r % modes`) so that no mode always runs first or last, with a 100 ms
/// pause before each (other work on a shared machine can run outside the measurement). Returns
/// each mode's results in run order.
pub fn interleaved<T>(
    modes: usize,
    runs: usize,
    mut run: impl FnMut(usize) -> io::Result<T>,
) -> io::Result<Vec<Vec<T>>> {
    let mut out: Vec<Vec<T>> = (0..modes).map(|_| Vec::with_capacity(runs)).collect();
    for r in 0..runs {
        for k in 0..modes {
            let i = (r + k) % modes;
            std::thread::sleep(Duration::from_millis(100));
            out[i].push(run(i)?);
        }
    }
    Ok(out)
}

/// Nanoseconds as microseconds, for printing.
pub fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

/// A histogram of latencies in nanoseconds (HDR: 3 significant digits from 1 ns to 100 s, so a
/// percentile is within 0.1% of the exact one). Recording is a few arithmetic operations and
/// one counter increment: no allocation, whatever the number of samples.
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Latency {
        let hist = Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid bounds");
        Latency { hist }
    }

    /// Records one latency (durations past the range count as its top).
    #[inline]
    pub fn record(&mut self, d: Duration) {
        self.record_ns(d.as_nanos().min(u64::MAX as u128) as u64);
    }

    /// Records one latency in nanoseconds.
    #[inline]
    pub fn record_ns(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
    }

    /// Adds every sample of `other` (e.g. to merge a mode's runs).
    pub fn add(&mut self, other: &Latency) {
        self.hist.add(&other.hist).expect("same bounds");
    }

    /// All of `runs` in one histogram.
    pub fn merged<'a>(runs: impl IntoIterator<Item = &'a Latency>) -> Latency {
        let mut all = Latency::new();
        for r in runs {
            all.add(r);
        }
        all
    }

    /// The number of samples.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The latency at quantile `q` (0.5 is the median, 1.0 the maximum), in ns.
    pub fn value_at(&self, q: f64) -> u64 {
        self.hist.value_at_quantile(q)
    }

    /// The largest latency recorded, in ns.
    pub fn max(&self) -> u64 {
        self.hist.max()
    }

    /// p50 to p99.99 and the maximum.
    pub fn summary(&self) -> Summary {
        Summary {
            p50: self.value_at(0.50),
            p90: self.value_at(0.90),
            p99: self.value_at(0.99),
            p999: self.value_at(0.999),
            p9999: self.value_at(0.9999),
            max: self.max(),
        }
    }

    /// The underlying histogram.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// Writes the percentile distribution in HdrHistogram's text format (`.hgrm`: value in µs,
    /// percentile, total count, 1/(1-percentile); the same as Java's
    /// `outputPercentileDistribution(out, 5, 1000.0)`), which HdrHistogram's plotters read too.
    pub fn write_percentiles(&self, mut out: impl Write) -> io::Result<()> {
        let h = &self.hist;
        writeln!(
            out,
            "{:>12} {:>14} {:>10} {:>14}\n",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        )?;
        let mut total = 0u64;
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = us(h.highest_equivalent(v.value_iterated_to()));
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:12.3} {q:14.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:12.3} {q:14.12} {total:10}")?;
            }
        }
        writeln!(
            out,
            "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
            h.mean() / 1e3,
            h.stdev() / 1e3
        )?;
        writeln!(
            out,
            "#[Max     = {:12.3}, Total count    = {:12}]",
            us(h.max()),
            h.len()
        )?;
        writeln!(
            out,
            "#[Buckets = {:12}, SubBuckets     = {:12}]",
            h.buckets(),
            h.distinct_values()
        )
    }

    /// Prints a terminal report in the manner of the Go sonic library's `TtyHist`: a summary,
    /// the usual percentiles, then the distribution as rows of latency range, share of samples
    /// and a bar (rows under 0.1% of the samples left out).
    pub fn write_tty(&self, title: &str, mut out: impl Write) -> io::Result<()> {
        let h = &self.hist;
        let n = h.len().max(1);
        writeln!(out, "{title}: {} samples, µs", h.len())?;
        writeln!(
            out,
            "  min/avg/max/stddev = {:.2}/{:.2}/{:.2}/{:.2}",
            us(h.min()),
            h.mean() / 1e3,
            us(h.max()),
            h.stdev() / 1e3
        )?;
        for (name, q) in [
            ("50", 0.50),
            ("75", 0.75),
            ("90", 0.90),
            ("95", 0.95),
            ("99", 0.99),
            ("99.9", 0.999),
            ("99.99", 0.9999),
        ] {
            writeln!(out, "  p{name:<6}{:>10.2}", us(self.value_at(q)))?;
        }
        // Buckets 5% wide: fine where the samples are dense; in a sparse tail most are empty or
        // under 0.1% of the samples, and those rows are left out (their total is said).
        let rows = self.distribution(1.05);
        let (shown, hidden): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.count as f64 * 1000.0 >= n as f64);
        let top = shown.iter().map(|r| r.count).max().unwrap_or(1);
        writeln!(out, "  {:>19} {:>7} {:>9}", "range", "share", "count")?;
        for r in shown {
            let share = r.count as f64 * 100.0 / n as f64;
            let bar = ((r.count as f64 / top as f64) * 40.0).ceil() as usize;
            writeln!(
                out,
                "  {:>8.2} - {:>8.2} {share:>6.2}% {:>9} {}",
                us(r.from),
                us(r.to),
                r.count,
                "|".repeat(bar.max(1))
            )?;
        }
        let rest: u64 = hidden.iter().map(|r| r.count).sum();
        if rest > 0 {
            writeln!(
                out,
                "  (and {rest} samples in {} ranges under 0.1% each)",
                hidden.len()
            )?;
        }
        Ok(())
    }

    /// The samples in buckets whose bounds grow by `factor` from the smallest sample, in ns.
    fn distribution(&self, factor: f64) -> Vec<Bucket> {
        let h = &self.hist;
        let mut rows: Vec<Bucket> = Vec::new();
        if h.is_empty() {
            return rows;
        }
        let mut from = h.lowest_equivalent(h.min());
        while from <= h.max() {
            let to = ((from as f64 * factor) as u64).max(from + 1);
            let count = h.count_between(from, to - 1);
            if count > 0 {
                rows.push(Bucket { from, to, count });
            }
            from = to;
        }
        rows
    }
}

struct Bucket {
    from: u64,
    to: u64,
    count: u64,
}

/// The percentiles of one run, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// The largest sample.
    pub max: u64,
}

impl Summary {
    /// Each percentile's median over `runs`, and the largest `max` of any run (what the benches
    /// report: one slow run does not move a median, but a stall in any run shows in `max`).
    pub fn median_of(runs: &[Summary]) -> Summary {
        let median = |f: fn(&Summary) -> u64| {
            let mut v: Vec<u64> = runs.iter().map(f).collect();
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        Summary {
            p50: median(|s| s.p50),
            p90: median(|s| s.p90),
            p99: median(|s| s.p99),
            p999: median(|s| s.p999),
            p9999: median(|s| s.p9999),
            max: runs.iter().map(|s| s.max).max().unwrap_or(0),
        }
    }
}

/// Where a bench writes its histograms (`--hist DIR`; a relative DIR is relative to benches/,
/// where `cargo bench` runs the benches): one directory per chart, holding one
/// `.hgrm` file per series and `chart.txt` (the title on the first line, then `file<TAB>label`
/// per series, in drawing order), which [`plot::render_dir`] reads.
#[derive(Clone, Debug)]
pub struct HistDir {
    dir: PathBuf,
}

impl HistDir {
    /// Takes `--hist DIR` out of `args` (the bench's arguments) if present.
    pub fn from_args(args: &mut Vec<String>) -> io::Result<Option<HistDir>> {
        let Some(i) = args.iter().position(|a| a == "--hist") else {
            return Ok(None);
        };
        if i + 1 >= args.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "--hist takes a directory",
            ));
        }
        let dir = PathBuf::from(args.remove(i + 1));
        args.remove(i);
        Ok(Some(HistDir { dir }))
    }

    /// Histograms go under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> HistDir {
        HistDir { dir: dir.into() }
    }

    /// Writes chart `name` (a directory name, e.g. `pingpong_local` or `net_pingpong-tcp`) with
    /// its `title` and one series per `(label, histogram)`, replacing an earlier one.
    pub fn write_chart(
        &self,
        name: &str,
        title: &str,
        series: &[(&str, &Latency)],
    ) -> io::Result<()> {
        let dir = self.dir.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let mut index = format!("{title}\n");
        for (i, (label, lat)) in series.iter().enumerate() {
            let file = format!("{i}-{}.hgrm", slug(label));
            lat.write_percentiles(io::BufWriter::new(fs::File::create(dir.join(&file))?))?;
            index.push_str(&format!("{file}\t{label}\n"));
        }
        fs::write(dir.join("chart.txt"), index)?;
        // `cargo bench` runs a bench in benches/: say where a relative DIR ended up.
        println!("histograms: {}", fs::canonicalize(&dir)?.display());
        Ok(())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// `label` as a file name: lower-case letters, digits and dashes.
fn slug(label: &str) -> String {
    let mut s = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

/// User and system CPU time from `getrusage`: of the calling thread ([`CpuTime::thread`],
/// `RUSAGE_THREAD`, Linux) or of the whole process ([`CpuTime::process`]). The sum is the
/// scheduler's exact run time; the user/system split is sampled at the tick and scaled to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// Time in user mode.
    pub user: Duration,
    /// Time in the kernel on the thread's (or process's) behalf.
    pub sys: Duration,
}

impl CpuTime {
    /// The calling thread's CPU time (`getrusage(RUSAGE_THREAD)`).
    #[cfg(target_os = "linux")]
    pub fn thread() -> CpuTime {
        CpuTime::get(libc::RUSAGE_THREAD)
    }

    /// The whole process's CPU time, every thread's (`getrusage(RUSAGE_SELF)`).
    pub fn process() -> CpuTime {
        CpuTime::get(libc::RUSAGE_SELF)
    }

    fn get(who: libc::c_int) -> CpuTime {
        // SAFETY: rusage is plain data (all-zero is valid); the kernel writes it during the call.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a live, writable rusage; `who` is RUSAGE_SELF or RUSAGE_THREAD.
        let res = unsafe { libc::getrusage(who, &mut ru) };
        assert_eq!(res, 0, "getrusage: {}", io::Error::last_os_error());
        let tv = |t: libc::timeval| {
            Duration::new(t.tv_sec as u64, 0) + Duration::from_micros(t.tv_usec as u64)
        };
        CpuTime {
            user: tv(ru.ru_utime),
            sys: tv(ru.ru_stime),
        }
    }

    /// User plus system time.
    pub fn total(&self) -> Duration {
        self.user + self.sys
    }
}

impl std::ops::Sub for CpuTime {
    type Output = CpuTime;

    /// The time spent between two readings (`later - earlier`, saturating at zero).
    fn sub(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }
}

/// Whether `SONIC_BENCH_POLL_TIMING=1` asks the sonic runtimes of a bench to time every task
/// poll (`Builder::enable_metrics_poll_time_histogram`), to measure what per-poll timing costs.
pub fn poll_timing() -> bool {
    std::env::var_os("SONIC_BENCH_POLL_TIMING").is_some_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_the_histograms_precision() {
        let mut lat = Latency::new();
        for ns in 1..=100_000u64 {
            lat.record_ns(ns);
        }
        let s = lat.summary();
        let close = |got: u64, want: u64| got.abs_diff(want) * 1000 <= want;
        assert!(close(s.p50, 50_000), "{s:?}");
        assert!(close(s.p99, 99_000), "{s:?}");
        assert!(close(s.p999, 99_900), "{s:?}");
        assert!(close(s.max, 100_000), "{s:?}");
    }

    #[test]
    fn summary_median_takes_each_percentiles_median_and_the_largest_max() {
        let run = |p50, max| Summary {
            p50,
            max,
            ..Summary::default()
        };
        let m = Summary::median_of(&[run(3, 10), run(1, 50), run(2, 20)]);
        assert_eq!((m.p50, m.max), (2, 50));
    }

    #[test]
    fn percentile_file_round_trips_through_the_plot_reader() {
        let mut lat = Latency::new();
        for ns in [1_000, 2_000, 3_000, 4_000, 100_000] {
            lat.record_ns(ns);
        }
        let mut text = Vec::new();
        lat.write_percentiles(&mut text).unwrap();
        let points = plot::parse_hgrm(std::str::from_utf8(&text).unwrap());
        let last = points.last().unwrap();
        assert_eq!(last.1, 1.0);
        assert!((last.0 - 100.0).abs() < 0.1, "{points:?}");
        assert!((points[0].0 - 1.0).abs() < 0.01, "{points:?}");
    }

    #[test]
    fn hist_dir_is_taken_out_of_the_arguments() {
        let mut args: Vec<String> = ["--runs", "3", "--hist", "out", "--bench"]
            .map(String::from)
            .to_vec();
        let dir = HistDir::from_args(&mut args).unwrap().unwrap();
        assert_eq!(dir.path(), Path::new("out"));
        assert_eq!(args, ["--runs", "3", "--bench"]);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn thread_cpu_time_grows_with_work_and_stays_within_the_process() {
        let t0 = CpuTime::thread();
        let p0 = CpuTime::process();
        let mut x = 1u64;
        // Spin until the thread has used 20 ms of CPU (however loaded the machine is).
        while (CpuTime::thread() - t0).total() < Duration::from_millis(20) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let (t, p) = (CpuTime::thread() - t0, CpuTime::process() - p0);
        assert!(t.total() >= Duration::from_millis(20), "{t:?}");
        assert!(
            p.total() + Duration::from_millis(5) >= t.total(),
            "{p:?} {t:?}"
        );
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("sonic busy + spin_reads"), "sonic-busy-spin-reads");
        assert_eq!(slug("raw busy-spin (floor)"), "raw-busy-spin-floor");
    }
}
