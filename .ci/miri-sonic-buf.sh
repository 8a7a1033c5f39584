#!/usr/bin/env bash
# Miri over sonic-buf's ByteBuffer and BipBuffer tests (the codec and io layers above them hold no
# unsafe code, run natively, and cost minutes under Miri). The MirroredBuffer tests are
# #[cfg_attr(miri, ignore)] (Miri has no model for memory mapped twice); valgrind covers them in
# .ci/extra-sonic-buf.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/miri} cargo +nightly miri test -p sonic-buf \
    --test fifo_model --test byte --test bip --test bad_input
