#!/usr/bin/env bash
# The optional features the workspace-wide steps leave off, built once together: sonic-rt's
# `tracing` (spans for spawn / poll / wake and reactor turns) and sonic-ws's `tls` (wss over
# rustls). sonic-rt's and sonic-net's `tokio` features need no step here: sonic-tokio turns them
# on, so the workspace-wide clippy and the README's test command already build and test them.
set -euo pipefail
cd "$(dirname "$0")/.."
features=sonic-rt/tracing,sonic-ws/tls
cargo clippy -p sonic-rt -p sonic-ws --features "$features" --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p sonic-ws --features "$features" --no-deps
cargo test -p sonic-rt -p sonic-ws --features "$features" --test rt_tracing --test ws_tls
cargo test -p sonic-ws --features "$features" --lib
cargo test -p sonic-ws --features "$features" --doc
cargo run -p sonic-ws --features "$features" --example wss_echo -- 200
