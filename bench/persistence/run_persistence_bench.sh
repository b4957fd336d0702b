#!/usr/bin/env bash
# End-to-end selective persistence, side by side in one run:
#   1. capture throughput of preroll-gen with no daemon, with prerolld
#      --marking off, and with prerolld marking on (sparse marks);
#   2. storage reduction: persisted / captured bytes with 1 marked event per
#      ~100 windows, for pre/post-roll 0/0 and the defaults 1/1;
#   3. (SOAK_SECONDS > 0) daemon RSS at full load over that long: start,
#      max, end.
#
#   bench/persistence/run_persistence_bench.sh [BUILD_DIR]     (default build-bench)
# Environment: EVENTS per thread (2000000), THREADS (2), ROUNDS (3, medians
# taken), SOAK_SECONDS (0; 600 for the 10-minute figure).
set -euo pipefail
. "$(dirname "$0")/../common.sh"

build=${1:-$BENCH_REPO/build-bench}
events=${EVENTS:-2000000}
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
soak=${SOAK_SECONDS:-0}
bench_install_packages jq
bench_build "$build" prerolld preroll-gen
prerolld=$build/daemon/prerolld
gen=$build/tools/preroll_gen/preroll-gen
work=$(mktemp -d /tmp/preroll-persist-bench.XXXXXX)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && bench_stop_pid "$daemon_pid" prerolld
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_daemon() {  # ARGS...
  rm -rf "$work/out" "$work/s.sock"
  "$prerolld" --socket "$work/s.sock" --output-dir "$work/out" --log-level info "$@" 2>"$work/d.log" &
  daemon_pid=$!
  bench_wait_socket "$work/s.sock" 10 || { cat "$work/d.log" >&2; exit 1; }
}
stop_daemon() {
  bench_stop_pid "$daemon_pid" prerolld
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
# One gen run; prints its JSON line. Sparse marks: 1 event in 75000 (about 1
# per 100 windows of 64 KiB at 64-byte messages).
gen_run() {
  PREROLL_SOCKET=$work/s.sock "$gen" --threads "$threads" --events "$events" --message-size 64 \
    --mark-every 75000 "$@"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## Throughput (events/s, median of $rounds; $threads threads x $events events, 64-byte messages)"
echo
echo "| setup | events/s | overwritten (median) |"
echo "|---|---:|---:|"
for setup in no-daemon marking-off marking-on; do
  rates=() overs=()
  for _ in $(seq 1 "$rounds"); do
    case $setup in
      no-daemon) rm -f "$work/s.sock"; line=$(gen_run) ;;
      marking-off) start_daemon --marking off; line=$(gen_run); stop_daemon ;;
      marking-on) start_daemon --trigger ERROR; line=$(gen_run); stop_daemon ;;
    esac
    rates+=("$(jq -r .events_per_second <<<"$line")")
    overs+=("$(jq -r .events_overwritten <<<"$line")")
  done
  echo "| $setup | $(printf '%s\n' "${rates[@]}" | median) | $(printf '%s\n' "${overs[@]}" | median) |"
done
echo

echo "## Storage reduction (paced at 300000 events/s per thread so nothing is overwritten)"
echo
echo "| pre/post-roll | captured bytes | persisted bytes | ratio |"
echo "|---|---:|---:|---:|"
for rolls in "0 0" "1 1"; do
  set -- $rolls
  start_daemon --trigger ERROR --pre-roll "$1" --post-roll "$2"
  gen_run --rate 300000 >/dev/null
  stop_daemon
  # The daemon's last line: "... windows seen N, ...; X% of captured bytes persisted"
  summary=$(grep 'stopped:' "$work/d.log" | tail -1)
  persisted_pct=$(sed -E 's/.* ([0-9.]+)% of captured bytes persisted.*/\1/' <<<"$summary")
  seen=$(sed -E 's/.*windows seen ([0-9]+).*/\1/' <<<"$summary")
  kept=$(sed -E 's/.*persisted ([0-9]+), discarded.*/\1/' <<<"$summary")
  echo "| $1/$2 | $seen windows | $kept windows | ${persisted_pct}% |"
done
echo

if [ "$soak" -gt 0 ]; then
  echo "## Daemon RSS over ${soak} s at full load ($threads threads, marking on)"
  echo
  start_daemon --trigger ERROR
  rss() { awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
  start_rss=$(rss) max_rss=$start_rss
  end=$((SECONDS + soak))
  while [ "$SECONDS" -lt "$end" ]; do
    PREROLL_SOCKET=$work/s.sock "$gen" --threads "$threads" --events 1000000 --message-size 64 \
      --mark-every 75000 >/dev/null &
    gen_pid=$!
    while kill -0 "$gen_pid" 2>/dev/null; do
      r=$(rss); [ "$r" -gt "$max_rss" ] && max_rss=$r
      sleep 1
    done
    wait "$gen_pid" || true
  done
  echo "| start | max | end |"
  echo "|---:|---:|---:|"
  echo "| ${start_rss} KiB | ${max_rss} KiB | $(rss) KiB |"
  stop_daemon
fi
