#!/usr/bin/env bash
# Runs every MirroredBuffer test under valgrind memcheck (Miri cannot model memory mapped twice).
# Exits non-zero on any memory error or definite leak.
#
#   bash sonic-buf/valgrind.sh            # from anywhere; honours CARGO_TARGET_DIR
#   PROPTEST_CASES=64 bash sonic-buf/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)" >&2; exit 2; }

# test target -> name filter selecting its MirroredBuffer tests ("" = all tests in the file)
targets=(mirrored:"" fifo_model:mirrored bad_input:mirrored io:mirrored codec:mirrored)

args=()
for t in "${targets[@]}"; do args+=(--test "${t%%:*}"); done
json=$(cargo test -p sonic-buf --no-run --message-format=json "${args[@]}")

export PROPTEST_CASES="${PROPTEST_CASES:-32}"
status=0
for t in "${targets[@]}"; do
    name=${t%%:*}
    filter=${t#*:}
    bin=$(grep -o "\"executable\":\"[^\"]*/${name}-[0-9a-f]*\"" <<<"$json" | head -n1 | cut -d'"' -f4)
    [ -n "$bin" ] || { echo "no test binary for $name" >&2; exit 2; }
    echo "== valgrind: $name ${filter:+(filter: $filter)}"
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --quiet "$bin" --test-threads=1 $filter || status=$?
done
if [ "$status" -ne 0 ]; then echo "valgrind: FAILED (exit $status)" >&2; exit "$status"; fi
echo "valgrind: clean"
