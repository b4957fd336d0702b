#!/usr/bin/env bash
# Write throughput of the daemon's storage path (bench_storage): every
# --compress choice (none, zstd level 1, zstd level 3) with every --fsync
# policy (window, interval, never), side by side in one process; prints the
# median table for bench/RESULTS.md.
#
#   bench/storage/run_storage_bench.sh [BUILD_DIR]   (default: build-bench in the repo)
#
# Environment: PREROLL_BENCH_DIR (where files are written; default /var/tmp;
# must be a real disk, not tmpfs, for fsync to cost what it costs),
# REPETITIONS (5), MIN_TIME (seconds per repetition, 1), OUT_DIR (default
# BUILD_DIR/bench-results). About 2 minutes with the defaults.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/../common.sh"

build=${1:-$BENCH_REPO/build-bench}
bench_install_packages jq
bench_build "$build" bench_storage
bin=$build/bench/storage/bench_storage
out=${OUT_DIR:-$build/bench-results}
mkdir -p "$out"
json=$out/storage.json
bench_log "running $bin (${REPETITIONS:-5} repetitions) -> $json"
"$bin" --benchmark_min_time="${MIN_TIME:-1}" --benchmark_repetitions="${REPETITIONS:-5}" \
  --benchmark_report_aggregates_only=true --benchmark_out="$json" --benchmark_out_format=json >&2
{
  bench_machine_info
  echo "output_fs: $(df -T "${PREROLL_BENCH_DIR:-/var/tmp}" | awk 'NR==2 {print $2}')"
  echo
  jq -r -f "$(dirname "$0")/storage_summary.jq" "$json"
} | tee "$out/storage-summary.md"
