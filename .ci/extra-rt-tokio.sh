#!/usr/bin/env bash
# sonic-rt's optional `tokio` feature: tokio's io traits on fs::File, child pipes and stdio (not
# built by the workspace-wide steps, which use default features). Both file backends are covered
# by the default test run already (every fs test runs on io_uring and on the blocking pool).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p sonic-rt --features tokio --all-targets -- -D warnings
cargo test -p sonic-rt --features tokio --test fs_tokio_io
