#!/usr/bin/env bash
# sonic-rt's optional `tracing` feature: spans for spawn / poll / wake and reactor turns (not
# built by the workspace-wide steps, which use default features).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p sonic-rt --features tracing --all-targets -- -D warnings
cargo test -p sonic-rt --features tracing --test rt_tracing
