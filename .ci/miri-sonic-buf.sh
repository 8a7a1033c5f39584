#!/usr/bin/env bash
# Miri over sonic-buf's ByteBuffer, BipBuffer, io and codec tests. The MirroredBuffer tests are
# #[cfg_attr(miri, ignore)] (Miri has no model for memory mapped twice); valgrind covers them in
# .ci/extra-sonic-buf.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/miri} cargo +nightly miri test -p sonic-buf \
    --test fifo_model --test byte --test bip --test bad_input --test io --test codec
