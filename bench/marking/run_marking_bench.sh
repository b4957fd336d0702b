#!/usr/bin/env bash
# Runs bench_marking (all strategies, pattern counts and kinds in one
# process) and prints the side-by-side median table for bench/RESULTS.md.
#
#   bench/marking/run_marking_bench.sh [BUILD_DIR]   (default: build-bench in the repo)
#
# Environment: BENCH_MARKING=/path/to/bench_marking to skip the build;
# REPETITIONS (3), MIN_TIME (seconds per repetition, 0.2), OUT_DIR (default
# BUILD_DIR/bench-results). Needs jq. About 5 minutes with the defaults.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/../common.sh"

build=${1:-$BENCH_REPO/build-bench}
bin=${BENCH_MARKING:-}
if [ -z "$bin" ]; then
  bench_build "$build" bench_marking
  bin=$(find "$build" -name bench_marking -type f -perm -u+x | head -1)
fi
out=${OUT_DIR:-$build/bench-results}
mkdir -p "$out"
json=$out/marking.json
bench_log "running $bin (${REPETITIONS:-3} repetitions) -> $json"
"$bin" --benchmark_min_time="${MIN_TIME:-0.2}" --benchmark_repetitions="${REPETITIONS:-3}" \
  --benchmark_report_aggregates_only=true --benchmark_out="$json" --benchmark_out_format=json >&2
{
  bench_machine_info
  echo
  jq -r -f "$(dirname "$0")/marking_summary.jq" "$json"
} | tee "$out/marking-summary.md"
