#!/usr/bin/env bash
# sonic-buf: model tests in release (the mirrored buffer's aliasing hazard only shows optimised)
# and valgrind memcheck over every MirroredBuffer test.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p sonic-buf --release --test fifo_model --test mirrored
if ! command -v valgrind >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq valgrind) >/dev/null 2>&1 || true
fi
if command -v valgrind >/dev/null 2>&1; then
    bash sonic-buf/valgrind.sh
else
    echo "SKIPPED: valgrind is not installed and could not be installed."
fi
