#!/usr/bin/env bash
# Regenerates the latency plots of BENCHMARKS.md: runs the three latency benches with `--hist`
# (histograms under $HIST) and renders them as SVG into $OUT with `latency_plots`.
#   bash benches/plots.sh            # about 3 minutes; extra arguments go to every bench
# The single-thread benches run under `chrt -f 10` where allowed (root), so the other work on a
# shared machine does not time-slice them. ws_echo spins on both cores, so it runs without
# (two SCHED_FIFO spinners would starve the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
HIST=${HIST:-$PWD/target/latency}  # absolute: cargo bench runs a bench in benches/
OUT=${OUT:-docs/bench}
fifo=()
if chrt -f 10 true 2>/dev/null; then fifo=(chrt -f 10); fi
cargo bench -q -p sonic-benches --no-run --bench pingpong_local --bench net_pingpong --bench ws_echo
cargo build -q --release -p sonic-benches --bin latency_plots
"${fifo[@]}" cargo bench -q -p sonic-benches --bench pingpong_local -- --runs 3 --hist "$HIST" "$@"
"${fifo[@]}" cargo bench -q -p sonic-benches --bench net_pingpong -- --proto tcp --hist "$HIST" "$@"
cargo bench -q -p sonic-benches --bench ws_echo -- --variant pingpong --size 64 --hist "$HIST" "$@"
target/release/latency_plots "$HIST" "$OUT" pingpong_local net_pingpong-tcp ws_echo-pingpong-64
