//! Latency-by-percentile plots as SVG, from the percentile distribution files the benches write
//! ([`HistDir`](crate::HistDir)).
//!
//! The x axis is the percentile on the "nines" scale usual for latency, log10(1/(1-p)): 0%, 90%,
//! 99%, 99.9%, ... equally spaced, the maximum at the far right (at 1 - 1/samples). The y axis
//! is the latency in µs on a log scale, so a floor at 10 µs and a tail at 1 ms share one chart.
//! Raw floors are dashed grey, tokio-based series warm colours, sonic series cool ones.
//!
//! Written by hand rather than with a plotting crate: the chart is one kind (lines on two log
//! axes), the output is deterministic text that diffs well in git, and the writer needs no fonts
//! and no dependencies.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// One line of a chart: `(latency µs, quantile, total count)` points in increasing quantile.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's label.
    pub label: String,
    /// The points, from a `.hgrm` file ([`parse_hgrm`]).
    pub points: Vec<(f64, f64)>,
    /// The number of samples (places the maximum on the x axis).
    pub samples: u64,
}

/// The `(value, quantile)` rows of a percentile distribution file (`.hgrm`), in file order.
pub fn parse_hgrm(text: &str) -> Vec<(f64, f64)> {
    parse_rows(text)
        .into_iter()
        .map(|(v, q, _)| (v, q))
        .collect()
}

fn parse_rows(text: &str) -> Vec<(f64, f64, u64)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let value = cols.next()?.parse().ok()?;
            let q = cols.next()?.parse().ok()?;
            let total = cols.next()?.parse().ok()?;
            Some((value, q, total))
        })
        .collect()
}

/// Reads one series from a `.hgrm` file.
pub fn read_series(path: &Path, label: &str) -> io::Result<Series> {
    let rows = parse_rows(&fs::read_to_string(path)?);
    let samples = rows.last().map_or(0, |r| r.2);
    Ok(Series {
        label: label.to_string(),
        points: rows.into_iter().map(|(v, q, _)| (v, q)).collect(),
        samples,
    })
}

/// Renders the chart directory `dir` (its `chart.txt` and `.hgrm` files) as SVG.
pub fn render_dir(dir: &Path) -> io::Result<String> {
    let index = fs::read_to_string(dir.join("chart.txt"))?;
    let mut lines = index.lines();
    let title = lines.next().unwrap_or_default();
    let mut series = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (file, label) = line.split_once('\t').ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("chart.txt: {line:?}"))
        })?;
        series.push(read_series(&dir.join(file), label)?);
    }
    Ok(render_svg(title, &series))
}

const W: f64 = 760.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// Where a point sits on the x axis: log10(1/(1-q)); the maximum (q = 1) at 1 - 1/samples.
fn nines(q: f64, samples: u64) -> f64 {
    let top = 1.0 - 1.0 / samples.max(2) as f64;
    (1.0 / (1.0 - q.min(top))).log10()
}

/// Renders `series` as one SVG chart titled `title`.
pub fn render_svg(title: &str, series: &[Series]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| nines(p.1, s.samples)))
        .fold(1.0f64, f64::max)
        .ceil();
    let lo = all()
        .map(|p| p.0)
        .filter(|v| *v > 0.0)
        .fold(f64::MAX, f64::min);
    let hi = all().map(|p| p.0).fold(0.0f64, f64::max);
    let (y_lo, y_hi) = if lo <= hi {
        (step_below(lo), step_above(hi))
    } else {
        (1.0, 10.0)
    };
    let (ly_lo, ly_hi) = (y_lo.log10(), y_hi.log10());
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + x / x_max * pw;
    let py = |v: f64| TOP + ph - (v.max(y_lo).log10() - ly_lo) / (ly_hi - ly_lo) * ph;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        W / 2.0,
        escape(title)
    );

    // y grid: 1-2-5 steps.
    let mut v = y_lo;
    while v <= y_hi * 1.0001 {
        let y = py(v);
        let major = is_power_of_ten(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="1"/>"##,
            W - RIGHT,
            if major { "#c8c8c8" } else { "#ececec" }
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            number(v)
        );
        v = step_above(v * 1.0001);
    }
    // x grid: one line per nine, and the median.
    for k in 0..=x_max as u32 {
        let x = px(k as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#c8c8c8" stroke-width="1"/>"##,
            TOP + ph
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + ph + 16.0,
            nines_label(k)
        );
    }
    let x50 = px(2f64.log10());
    let _ = writeln!(
        svg,
        r##"<line x1="{x50:.1}" y1="{TOP}" x2="{x50:.1}" y2="{:.1}" stroke="#ececec" stroke-width="1"/><text x="{x50:.1}" y="{:.1}" text-anchor="middle" fill="#777">50%</text>"##,
        TOP + ph,
        TOP + ph + 16.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile (log scale of 1/(1-p); the last point of each line is its maximum)</text>"#,
        LEFT + pw / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">latency, µs (log scale)</text>"#,
        TOP + ph / 2.0
    );

    // Lines, then the legend over them.
    let styles = styles(series);
    for (s, style) in series.iter().zip(&styles) {
        let mut pts = String::new();
        for &(v, q) in &s.points {
            let _ = write!(pts, "{:.1},{:.1} ", px(nines(q, s.samples)), py(v));
        }
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{} stroke-linejoin="round"/>"#,
            pts.trim_end(),
            style.color,
            style.dash
        );
    }
    let lx = LEFT + 12.0;
    let mut ly = TOP + 12.0;
    let lw = series
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0) as f64
        * 7.0
        + 44.0;
    let _ = writeln!(
        svg,
        r##"<rect x="{:.1}" y="{:.1}" width="{lw:.1}" height="{:.1}" fill="white" fill-opacity="0.9" stroke="#bbb"/>"##,
        lx - 6.0,
        ly - 8.0,
        series.len() as f64 * 18.0 + 4.0
    );
    for (s, style) in series.iter().zip(&styles) {
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2"{}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            ly + 2.0,
            lx + 26.0,
            ly + 2.0,
            style.color,
            style.dash,
            lx + 32.0,
            ly + 6.0,
            escape(&s.label)
        );
        ly += 18.0;
    }
    svg.push_str("</svg>\n");
    svg
}

struct Style {
    color: &'static str,
    dash: &'static str,
}

/// Raw floors dashed grey, tokio-based series warm, the rest (sonic) cool; each group takes its
/// colours in order.
fn styles(series: &[Series]) -> Vec<Style> {
    const FLOOR: [&str; 2] = ["#333333", "#999999"];
    const WARM: [&str; 3] = ["#d62728", "#ff7f0e", "#8c564b"];
    const COOL: [&str; 5] = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22"];
    let (mut f, mut w, mut c) = (0, 0, 0);
    let next = |group: &[&'static str], i: &mut usize| {
        let color = group[*i % group.len()];
        *i += 1;
        color
    };
    series
        .iter()
        .map(|s| {
            let l = s.label.to_ascii_lowercase();
            if l.starts_with("raw") {
                Style {
                    color: next(&FLOOR, &mut f),
                    dash: r#" stroke-dasharray="6 4""#,
                }
            } else if ["tokio", "tungstenite", "fastwebsockets"]
                .iter()
                .any(|k| l.contains(k))
            {
                Style {
                    color: next(&WARM, &mut w),
                    dash: "",
                }
            } else {
                Style {
                    color: next(&COOL, &mut c),
                    dash: "",
                }
            }
        })
        .collect()
}

/// The largest 1-2-5 step at or below `v` (> 0).
fn step_below(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let m = v / p;
    p * if m >= 5.0 {
        5.0
    } else if m >= 2.0 {
        2.0
    } else {
        1.0
    }
}

/// The smallest 1-2-5 step at or above `v` (> 0).
fn step_above(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    let m = v / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn is_power_of_ten(v: f64) -> bool {
    let l = v.log10();
    (l - l.round()).abs() < 1e-9
}

fn number(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

fn nines_label(k: u32) -> String {
    match k {
        0 => "0%".into(),
        1 => "90%".into(),
        k => format!("99.{}%", "9".repeat(k as usize - 2)).replace("99.%", "99%"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_and_labels() {
        assert_eq!(step_below(37.0), 20.0);
        assert_eq!(step_above(37.0), 50.0);
        assert_eq!(step_above(50.0), 50.0);
        assert_eq!(step_below(0.7), 0.5);
        assert_eq!(nines_label(2), "99%");
        assert_eq!(nines_label(4), "99.99%");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(200.0), "200");
    }

    #[test]
    fn the_maximum_sits_at_one_in_samples() {
        assert!((nines(1.0, 100_000) - 5.0).abs() < 1e-6);
        assert!((nines(0.99, 100_000) - 2.0).abs() < 1e-9);
    }
}
