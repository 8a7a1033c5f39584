#!/usr/bin/env bash
# Miri over the task surface built on the task cell: JoinSet, LocalSet (unbound tasks bound
# later, tasks dropped with their set), task-local values, and Handle::spawn's cross-thread
# RemoteJoinHandle. One test thread, as in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
MIRIFLAGS="-Zmiri-strict-provenance" CARGO_TARGET_DIR=target/miri \
    cargo +nightly miri test -p sonic-rt --test task_join_set --test task_local_set \
    --test task_local --test rt_handle -- --test-threads=1
