#!/usr/bin/env bash
# loom model checks of sonic-rt's cross-thread protocols: the remote wake queue's park handshake,
# close against concurrent pushes, and the task reference count under wakes and waker drops on
# other threads (sonic-rt/src/executor/loom_tests.rs); the remote_mpsc channel's receiver park
# handshake, block install and recycling, close and bounded waiting (sync/remote_mpsc/loom_tests.rs,
# capped at 3 preemptions there, ~8 s). A cfg of our own (`sonic_loom`) swaps std's
# atomics and mutex for loom's in exactly that code. A preemption bound of 4 explores every
# interleaving with up to 4 forced thread switches (~10 s; unbounded takes ~15 min and found
# nothing more); 3 already finds a lost wake-up when the park fence is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-4} RUSTFLAGS="--cfg sonic_loom" \
  CARGO_TARGET_DIR=target/loom cargo test -p sonic-rt --lib --release loom_ -- --test-threads=1
