//! Renders the histograms a latency bench wrote with `--hist DIR` as SVG charts: one
//! `OUT/<chart>.svg` per chart directory under `DIR`.
//!
//! `cargo run --release -p sonic-benches --bin latency_plots -- DIR OUT [CHART...]`
//! (every chart in `DIR` when none is named). `benches/plots.sh` runs the benches and this.

use std::io;
use std::path::PathBuf;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(out)) = (
        args.next().map(PathBuf::from),
        args.next().map(PathBuf::from),
    ) else {
        eprintln!("usage: latency_plots DIR OUT [CHART...]");
        std::process::exit(2);
    };
    let mut charts: Vec<String> = args.collect();
    if charts.is_empty() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.path().join("chart.txt").exists() {
                charts.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        charts.sort();
    }
    std::fs::create_dir_all(&out)?;
    for chart in charts {
        let svg = sonic_benches::plot::render_dir(&dir.join(&chart))?;
        let path = out.join(format!("{chart}.svg"));
        std::fs::write(&path, svg)?;
        println!("{}", path.display());
    }
    Ok(())
}
