#!/usr/bin/env bash
# Publishability: `cargo package` every workspace member that may be published (the ones without
# `publish = false`, read from `cargo metadata`, so a new crate is picked up by itself), together,
# so each one is verified against the others' packaged sources before any is on crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
print(" ".join("-p " + p["name"] for p in json.load(sys.stdin)["packages"] if p["publish"] != []))')
echo "packaging: ${crates//-p /}"
# Cargo verifies against the packages through a local registry and unpacks them under
# registry/src/-<hash>/ once per name and version: a copy left by an earlier run (same 0.1.0,
# older sources) would be reused. Those directories hold only our own packages.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/sonic-*
# --allow-dirty: CI's clone is clean, but a developer runs this with work in progress.
# shellcheck disable=SC2086
cargo package --allow-dirty $crates 2>&1 | grep -Ev '^ +(Compiling|Unpacking|Updating|Downloaded|Downloading)'
