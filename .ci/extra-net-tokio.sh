#!/usr/bin/env bash
# sonic-net's optional `tokio` feature: tokio::io traits on the socket types (not built by the
# workspace-wide steps, which use default features).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p sonic-net --features tokio --all-targets -- -D warnings
cargo test -p sonic-net --features tokio --test tcp_tokio_io
