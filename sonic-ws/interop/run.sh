#!/usr/bin/env bash
# Interop tests of sonic-ws against real peers, both directions, with and without
# permessage-deflate: Python `websockets` (pip, in a venv under target/) and node `ws` (npm, in
# a scratch dir under target/). The peers come from the registries; the checks live in peer.rs,
# peer.py and peer.js (text and binary of 0 B..1 MiB, fragmented both ways, pings both ways,
# close with code and reason both ways, the negotiated extension seen from both ends).
#
# usage: sonic-ws/interop/run.sh [py|node|all]
# env: INTEROP_DIR (default <repo>/target/interop), CARGO_TARGET_DIR, PY (python3)
# Prints every check and a final 'N passed, M failed'; exits non-zero on any failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WHICH=${1:-all}
DIR=${INTEROP_DIR:-$ROOT/target/interop}
PY=${PY:-python3}
mkdir -p "$DIR"

# --- peers from the registries (idempotent)
if [ "$WHICH" != node ]; then
  if ! "$DIR/venv/bin/python" -c 'import websockets' 2>/dev/null; then
    "$PY" -m venv "$DIR/venv"
    "$DIR/venv/bin/pip" install -q 'websockets>=13'
  fi
  echo "python websockets $("$DIR/venv/bin/python" -c 'import websockets; print(websockets.__version__)')"
fi
if [ "$WHICH" != py ]; then
  if [ ! -f "$DIR/node/node_modules/ws/package.json" ]; then
    mkdir -p "$DIR/node"
    (cd "$DIR/node" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund -s ws@8 >/dev/null 2>&1)
  fi
  echo "node $(node --version), ws $(node -p "require('$DIR/node/node_modules/ws/package.json').version")"
fi

# --- the sonic side
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build -q --release -p sonic-ws --example interop_peer)
SONIC=$CARGO_TARGET_DIR/release/examples/interop_peer
export NODE_PATH="$DIR/node/node_modules"
PYPEER=("$DIR/venv/bin/python" "$HERE/peer.py")
NODEPEER=(node "$HERE/peer.js")

passed=0 failed=0 port=9310
LOG=$DIR/logs; rm -rf "$LOG"; mkdir -p "$LOG"

wait_port() {
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# scenario NAME DEFLATE_FLAG SERVER_CMD... -- CLIENT_CMD...   (PORT in the commands is replaced)
scenario() {
  local name=$1 flag=$2; shift 2
  local srv=() cli=() in_cli=0 a
  port=$((port + 1))
  for a in "$@"; do
    if [ "$a" = -- ]; then in_cli=1; continue; fi
    a=${a//PORT/$port}
    if [ $in_cli = 1 ]; then cli+=("$a"); else srv+=("$a"); fi
  done
  [ -n "$flag" ] && { srv+=("$flag"); cli+=("$flag"); }
  local log="$LOG/${name// /_}"
  "${srv[@]}" > "$log.server" 2>&1 & local spid=$!
  if ! wait_port "$port"; then
    echo "FAIL [$name] server did not start (see $log.server)"; failed=$((failed + 1))
    kill "$spid" 2>/dev/null || true; return
  fi
  local rc=0
  timeout 300 "${cli[@]}" > "$log.client" 2>&1 || rc=$?
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  local p f
  p=$(grep -c '^PASS ' "$log.client" || true); f=$(grep -c '^FAIL ' "$log.client" || true)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    echo "FAIL [$name] client exited with $rc and no FAIL line (see $log.client)"; f=1
  fi
  grep '^FAIL ' "$log.client" | sed "s/^/  [$name] /" || true
  printf '%-44s %3d passed, %d failed\n' "$name" "$p" "$f"
  passed=$((passed + p)); failed=$((failed + f))
}

run_all() {
  local d flag tag
  for d in off on; do
    flag=; [ $d = on ] && flag=--deflate
    tag="deflate $d"
    if [ "$WHICH" != node ]; then
      scenario "sonic client -> python server, $tag" "$flag" "${PYPEER[@]}" server PORT -- "$SONIC" client ws://127.0.0.1:PORT/
      scenario "python client -> sonic server, $tag" "$flag" "$SONIC" server PORT -- "${PYPEER[@]}" client ws://127.0.0.1:PORT/
    fi
    if [ "$WHICH" != py ]; then
      scenario "sonic client -> node server, $tag" "$flag" "${NODEPEER[@]}" server PORT -- "$SONIC" client ws://127.0.0.1:PORT/
      scenario "node client -> sonic server, $tag" "$flag" "$SONIC" server PORT -- "${NODEPEER[@]}" client ws://127.0.0.1:PORT/
    fi
  done
}

run_all
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
