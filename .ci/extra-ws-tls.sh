#!/usr/bin/env bash
# sonic-ws's optional `tls` feature (wss over rustls): not built by the workspace-wide steps,
# which use default features.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p sonic-ws --features tls --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p sonic-ws --features tls --no-deps
cargo test -p sonic-ws --features tls
cargo run -p sonic-ws --features tls --example wss_echo -- 200
