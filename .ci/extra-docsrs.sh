#!/usr/bin/env bash
# The docs as docs.rs builds them: nightly rustdoc with `--cfg docsrs` (each crate turns on
# `doc_cfg`, so feature-gated items such as sonic-ws `tls` and sonic-net `tokio` carry their
# badge) and every feature on ([package.metadata.docs.rs] in each crate). Warnings fail.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "SKIPPED: no nightly toolchain for the docs.rs build."
  exit 0
fi
RUSTDOCFLAGS="--cfg docsrs -D warnings" CARGO_TARGET_DIR=target/docsrs \
  cargo +nightly doc -q --workspace --no-deps --all-features
grep -Eq 'crate feature.{0,20}tls' target/docsrs/doc/sonic_ws/tls/index.html \
  || { echo "FAIL: sonic-ws's tls module has no feature badge"; exit 1; }
echo "docs.rs build: ok (target/docsrs/doc)"
