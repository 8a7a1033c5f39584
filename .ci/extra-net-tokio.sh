#!/usr/bin/env bash
# sonic-net's optional `tokio` feature: tokio::io traits on the socket types, tokio's `ReadBuf`
# in the `poll_*` receives, and the `bytes::BufMut` methods it brings (not built by the
# workspace-wide steps, which use default features).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p sonic-net --features tokio --all-targets -- -D warnings
cargo test -p sonic-net --features tokio --test tcp_tokio_io --test net_tokio_readbuf \
    --test net_readiness
