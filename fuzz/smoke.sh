#!/usr/bin/env bash
# Short fuzz run of every harness for CI (about 5 s each, under 60 s in total).
# Uses atheris/libFuzzer when installed, else the pure-Python random driver; the seed is
# fixed (FUZZ_SEED, default 1) so that a CI run is reproducible.
# Usage: bash fuzz/smoke.sh [seconds-per-harness]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-5}"
PY="${PYTHON:-python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
status=0
for h in fuzz/fuzz_*.py; do
    name="$(basename "$h" .py)"
    name="${name#fuzz_}"
    mkdir -p "$WORK/$name"
    # new corpus entries go to the scratch dir; seeds are read only
    if ! "$PY" "$h" "$WORK/$name" "fuzz/corpus/$name" -max_total_time="$SECS" \
            -seed="${FUZZ_SEED:-1}" -timeout=20 -rss_limit_mb=4096 -artifact_prefix="fuzz/artifacts/$name-" \
            -print_final_stats=1 \
            > "$WORK/$name.log" 2>&1; then
        echo "fuzz_$name: FAILED"
        tail -n 40 "$WORK/$name.log"
        status=1
    else
        echo "fuzz_$name: ok ($(grep -Eo '(stat::number_of_executed_units: [0-9]+|[0-9]+ runs)' "$WORK/$name.log" | tail -n 1))"
    fi
done
exit $status
