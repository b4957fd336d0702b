#!/usr/bin/env bash
# What preroll-run costs a program's output: the same command with its
# output to a pipe directly and through preroll-run (every line recorded as
# an event, the output passed through), side by side, median of RUNS runs,
# alternating. prerolld runs on a temporary socket with the default policy
# (marking on, trigger level error): the lines below mark nothing, so the
# daemon decides on every window and writes none.
#
#   bench/run/run_preroll_run_bench.sh [BUILD_DIR]   (default build-bench)
# Environment: RUNS (3), SEQ_N (5000000), YES_BYTES (500M), ZERO_BYTES (500M),
# JOBS (build parallelism, default nproc).
set -euo pipefail
. "$(dirname "$0")/../common.sh"

build=${1:-$BENCH_REPO/build-bench}
runs=${RUNS:-3}
seq_n=${SEQ_N:-5000000}
yes_bytes=${YES_BYTES:-500M}
zero_bytes=${ZERO_BYTES:-500M}
bench_build "$build" prerolld preroll-run prerollctl
prerolld=$build/daemon/prerolld
run=$build/tools/preroll_run/preroll-run
ctl=$build/tools/prerollctl/prerollctl
work=$(mktemp -d /tmp/preroll-run-bench.XXXXXX)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && bench_stop_pid "$daemon_pid" prerolld
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$prerolld" --socket "$work/s.sock" --output-dir "$work/out" --log-level warn 2>"$work/d.log" &
daemon_pid=$!
bench_wait_socket "$work/s.sock" 10 || { cat "$work/d.log" >&2; exit 1; }
export PREROLL_SOCKET=$work/s.sock

# Milliseconds the pipeline `sh -c CMD | cat >/dev/null` takes, with
# preroll-run in front of sh when $1 is "wrapped".
time_ms() {
  local how=$1 cmd=$2 t0 t1
  t0=$(date +%s%N)
  if [ "$how" = wrapped ]; then
    "$run" -- sh -c "$cmd" | cat >/dev/null
  else
    sh -c "$cmd" | cat >/dev/null
  fi
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

workloads=(
  "seq 1 $seq_n"
  "yes '2024-05-01T12:00:00.000Z INFO request served path=/api/items status=200 bytes=512 ms=3' | head -c $yes_bytes"
  "head -c $zero_bytes /dev/zero"
)
labels=(
  "seq 1 $seq_n (short lines)"
  "yes (a 90-byte logfmt line), first $yes_bytes"
  "head -c $zero_bytes /dev/zero (no newline: 4096-byte events)"
)

rows=()
for i in "${!workloads[@]}"; do
  cmd=${workloads[$i]}
  bytes=$(sh -c "$cmd" | wc -c)
  lines=$(sh -c "$cmd" | wc -l)
  direct=() wrapped=()
  for _ in $(seq 1 "$runs"); do
    direct+=("$(time_ms direct "$cmd")")
    wrapped+=("$(time_ms wrapped "$cmd")")
  done
  d=$(median "${direct[@]}")
  w=$(median "${wrapped[@]}")
  bench_log "${labels[$i]}: direct ${direct[*]} ms, preroll-run ${wrapped[*]} ms"
  rows+=("$(awk -v l="${labels[$i]}" -v b="$bytes" -v n="$lines" -v d="$d" -v w="$w" 'BEGIN {
    printf "| %s | %.1f | %d | %d | %d | %.0f | %.0f | %.2fx |", l, b / 1e6, n, d, w, b / 1e6 / (d / 1e3), b / 1e6 / (w / 1e3), w / d }')")
done

stats=$("$ctl" --socket "$work/s.sock" --json stats)
{
  bench_machine_info
  echo
  echo "| output | MB | lines | direct ms | preroll-run ms | direct MB/s | preroll-run MB/s | time ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "daemon over the whole run: $(echo "$stats" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("events captured %d, windows seen %d, persisted %d, events lost to overwrite %d" % (j["events_captured"], j["windows_seen"], j["windows_persisted"], j["events_lost"]["overwritten"]))')"
}
