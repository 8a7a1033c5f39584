#!/usr/bin/env bash
# Autobahn|Testsuite for sonic-ws: installs wstest (Python 2.7 venv from PyPI), builds the
# examples, and runs one or both modes in a loopback-only network namespace.
#
# usage: sonic-ws/autobahn/run.sh [server|client|both] [--no-deflate] [CASES_JSON]
#   server: wstest fuzzingclient against examples/ws_echo_server.rs (package sonic-examples)
#   client: wstest fuzzingserver against examples/ws_autobahn_client.rs
#   default: both, with permessage-deflate, cases ["*"] (about 12 min per mode; 12.*/13.* are
#   the slow ones). --no-deflate: 12.*/13.* become UNIMPLEMENTED, about 20 s per mode.
# Prints 'N passed, N failed' per mode; exits non-zero on any failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-both}; shift || true
DEFLATE=--deflate; CASES='["*"]'
for a in "$@"; do
  case "$a" in
    --no-deflate) DEFLATE= ;;
    *) CASES=$a ;;
  esac
done
VENV=${AUTOBAHN_VENV:-/tmp/ab2}
bash "$HERE/install.sh" "$VENV"
export WSTEST="$VENV/bin/wstest"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --release -p sonic-examples --example ws_echo_server --example ws_autobahn_client)
BIN=$CARGO_TARGET_DIR/release/examples
OUT=${AUTOBAHN_OUT:-$ROOT/target/autobahn}
PARSE=""; [ -z "$DEFLATE" ] && PARSE="--allow-unimplemented"
rc=0
if [ "$MODE" = server ] || [ "$MODE" = both ]; then
  rm -rf "$OUT/server"
  PARSE_ARGS="$PARSE" bash "$HERE/run_fuzzingclient.sh" "$OUT/server" sonic-ws 9002 "$CASES" -- \
    "$BIN/ws_echo_server" 9002 $DEFLATE || rc=1
fi
if [ "$MODE" = client ] || [ "$MODE" = both ]; then
  rm -rf "$OUT/client"
  PARSE_ARGS="$PARSE" bash "$HERE/run_fuzzingserver.sh" "$OUT/client" sonic-ws 9001 "$CASES" -- \
    "$BIN/ws_autobahn_client" ws://127.0.0.1:9001 sonic-ws $DEFLATE || rc=1
fi
exit $rc
