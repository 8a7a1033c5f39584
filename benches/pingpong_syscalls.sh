#!/bin/sh
# Syscalls per round trip of each pingpong_local mode, counted with `strace -f -c`.
#
#   cargo bench -p sonic-benches --bench pingpong_local --no-run
#   sh benches/pingpong_syscalls.sh [COUNT] [-- extra pingpong_local options, e.g. --size 65536]
#
# Each mode runs alone (`--only MODE`, one run, no warm-up) under strace; every syscall made
# COUNT/10 times or more is listed as calls per round trip, with the total of those. Setup
# (runtime, sockets, threads) makes a few hundred calls, below the cut at any COUNT >= 10000.
# strace slows every syscall down, so the timings it prints are meaningless; the counts are not.
set -eu
count=${1:-20000}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
dir=$(dirname "$0")/..
bin=$(ls -t "$dir"/target/release/deps/pingpong_local-* | grep -v '\.d$' | head -n 1)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for mode in raw sonic-busy sonic tokio sonic-exact sonic-exact-ra sonic-busy-exact-ra tokio-exact; do
    strace -f -c -o "$out" "$bin" --only "$mode" --count "$count" --warmup 0 --runs 1 "$@" >/dev/null
    # strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall.
    awk -v mode="$mode" -v n="$count" '
        $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
            calls = $4; name = $NF; errors = (NF == 6) ? $5 : 0
            if (calls >= n / 10) {
                line = line sprintf(" %s %.2f", name, calls / n)
                if (errors >= n / 10) line = line sprintf(" (%.2f failed)", errors / n)
                total += calls
            }
        }
        END { printf "%-20s %5.2f per round trip:%s\n", mode, total / n, line }
    ' "$out"
done
