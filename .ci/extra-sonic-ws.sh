#!/usr/bin/env bash
# CI for sonic-ws conformance (run by .ci/run; about 5-8 min on 2 cores):
#  1. Autobahn|Testsuite, both modes, every case, permessage-deflate off (12.*/13.* are then
#     UNIMPLEMENTED), ~12 s per mode;
#  2. Autobahn 12.*/13.* (permessage-deflate) reduced to 108 cases per mode: every data set and
#     every parameter combination, message sizes 16 B..16 KiB plus the auto-fragmented 11 and 12.
#     The full compressed run takes ~12 min per mode, almost all of it in the Python 2 fuzzer:
#     run it with `sonic-ws/autobahn/run.sh` (see sonic-ws/README.md, Conformance);
#  3. the interop tests against Python websockets and node ws (sonic-ws/interop/run.sh);
#  4. the ws_fanout demo for 3 s;
#  5. a short fuzz smoke run of each target, only if cargo-fuzz and nightly are installed.
# Any FAILED / WRONG CODE / UNCLEAN Autobahn result, a short report (a crashed testee) or an
# interop failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
AB=$ROOT/sonic-ws/autobahn
OUT=$ROOT/target/ci-sonic-ws
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$CARGO_TARGET_DIR/release/examples
rm -rf "$OUT"; mkdir -p "$OUT"
t0=$SECONDS
lap() { echo "--- $* ($((SECONDS - t0)) s so far)"; }

export WSTEST=$ROOT/target/autobahn-venv/bin/wstest
bash "$AB/install.sh" "$ROOT/target/autobahn-venv"
cargo build -q --release -p sonic-examples --example ws_echo_server --example ws_autobahn_client \
  --example ws_fanout
lap "installed wstest, built the testees"

rc=0
autobahn() { # MODE NAME CASES EXPECT PARSE_EXTRA [--deflate]
  local mode=$1 name=$2 cases=$3 expect=$4 extra=$5 deflate=${6:-}
  export PARSE_ARGS="--expect $expect $extra"
  if [ "$mode" = server ]; then
    bash "$AB/run_fuzzingclient.sh" "$OUT/$name" sonic-ws 9002 "$cases" -- \
      "$BIN/ws_echo_server" 9002 $deflate | tail -n 25 || rc=1
  else
    bash "$AB/run_fuzzingserver.sh" "$OUT/$name" sonic-ws 9001 "$cases" -- \
      "$BIN/ws_autobahn_client" ws://127.0.0.1:9001 sonic-ws $deflate | tail -n 25 || rc=1
  fi
  lap "Autobahn $mode $name"
}
# pipefail: the script's exit status survives `| tail`.
autobahn server plain '["*"]' 517 --allow-unimplemented
autobahn client plain '["*"]' 517 --allow-unimplemented

cases=()
for g in 12.1 12.2 12.3 12.4 12.5 13.1 13.2 13.3 13.4 13.5 13.6 13.7; do
  for n in 1 2 3 4 5 6 7 11 12; do cases+=("\"$g.$n\""); done
done
reduced="[$(IFS=,; echo "${cases[*]}")]"
autobahn server deflate-reduced "$reduced" ${#cases[@]} "" --deflate
autobahn client deflate-reduced "$reduced" ${#cases[@]} "" --deflate

INTEROP_DIR=$ROOT/target/interop bash "$ROOT/sonic-ws/interop/run.sh" || rc=1
lap "interop"

# ws_fanout: 4 fast and 2 slow in-process subscribers for 3 s; every one must have received data.
"$BIN/ws_fanout" 0 --demo 4,2 --seconds 3 > "$OUT/fanout.txt" 2> "$OUT/fanout.log" || rc=1
cat "$OUT/fanout.txt"
[ "$(grep -c 'received [1-9]' "$OUT/fanout.txt")" = 6 ] || { echo "FAIL: ws_fanout demo"; rc=1; }
lap "fan-out demo"

if cargo fuzz --version >/dev/null 2>&1 && cargo +nightly --version >/dev/null 2>&1; then
  for target in frame_decoder handshake deflate; do
    (cd sonic-ws/fuzz && cargo +nightly fuzz run -O "$target" -- -max_total_time=15 2>&1 | tail -n 3) || rc=1
  done
  lap "fuzz smoke"
else
  echo "SKIPPED: fuzz smoke run (cargo-fuzz or nightly not installed)"
fi

[ "$rc" = 0 ] && echo "sonic-ws conformance: all passed" || echo "sonic-ws conformance: FAILED"
exit "$rc"
