#!/usr/bin/env bash
# Soak (issue #9): the load test's setup for 10 minutes — 64 load_client
# processes x 4 threads emitting at full speed with sparse marks against one
# prerolld with its default settings (default quota included) — sampling
# every second the daemon's RSS and CPU, the control socket's answer time,
# windows/s, events/s, losses by cause and the ATF files; at the end it
# verifies every file (preroll-atf verify) and accounts for every mark (on
# disk exactly once, or counted as overwritten by its client: see
# tests/integration/clients/load_client.cpp). Prints a JSON summary and a
# table (also in OUT_DIR/summary.json, summary.md); exit 1 if a check failed.
# Not run by CTest: tests/integration/load_test.cpp is the 60 s version.
#
#   bench/reliability/run_soak.sh [BUILD_DIR]     (default build-soak)
#
# Environment:
#   SOAK_SECONDS (600), CLIENTS (64), THREADS (4), MARK_EVERY (50000 events
#   of a thread), INTERVAL (1 s between samples), DAEMON_SESSION (own: prerolld
#   in its own session, so its own scheduling autogroup, as under systemd or
#   from another terminal; shared: in this script's session, beside the
#   clients), BUILD (1: configure BUILD_DIR in Release, tests and benchmarks
#   off, and build prerolld, prerollctl, preroll-atf and libpreroll; 0: use
#   BUILD_DIR as it is, e.g. a RelWithDebInfo tree), OUT_DIR (kept; default
#   BUILD_DIR/soak-results), JOBS (build parallelism, default nproc).
# load_client is compiled from the test sources against BUILD_DIR's libpreroll.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"

build=${1:-$BENCH_REPO/build-soak}
soak=${SOAK_SECONDS:-600}
clients=${CLIENTS:-64}
threads=${THREADS:-4}
mark_every=${MARK_EVERY:-50000}
interval=${INTERVAL:-1}
session=${DAEMON_SESSION:-own}
out_dir=${OUT_DIR:-$build/soak-results}

bench_install_packages python3 util-linux
if [ "${BUILD:-1}" = 1 ]; then
  cmake -S "$BENCH_REPO" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPREROLL_BUILD_TESTS=OFF -DPREROLL_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" --target prerolld prerollctl preroll-atf preroll_client_shared -j"${JOBS:-$(nproc)}"
fi
prerolld=$build/daemon/prerolld
prerollctl=$build/tools/prerollctl/prerollctl
atf=$build/tools/preroll_atf/preroll-atf
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")

# OUT_DIR is replaced, but only if it is empty or an earlier soak's.
if [ -e "$out_dir" ] && [ -n "$(ls -A "$out_dir")" ] && [ ! -f "$out_dir/setup.json" ]; then
  echo "OUT_DIR $out_dir is not empty and not a soak's results: refusing to replace it" >&2
  exit 2
fi
rm -rf "$out_dir"
mkdir -p "$out_dir"
client=$out_dir/load_client
c++ -O2 -std=c++20 -I"$BENCH_REPO/client_lib/include" -I"$BENCH_REPO/shm_protocol/include" \
  "$BENCH_REPO/tests/integration/clients/load_client.cpp" -o "$client" \
  -L"$build/client_lib" -l:libpreroll.so.0 -Wl,-rpath,"$build/client_lib" -pthread

work=$out_dir  # everything is kept there: samples, client reports, files
daemon_pid="" sampler_pid="" client_pids=()
cleanup() {
  local rc=$? p
  for p in "${client_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  if [ -n "$daemon_pid" ]; then bench_stop_pid "$daemon_pid" prerolld; fi
  exit "$rc"  # the script's status, not this function's last test
}
trap cleanup EXIT INT TERM

# A socket path must fit in sun_path (108 bytes): the sockets go to /tmp.
sock_dir=$(mktemp -d /tmp/preroll-soak.XXXXXX)
sock=$sock_dir/prerolld.sock
ctl=$sock_dir/prerolld.ctl
launcher=()
[ "$session" = own ] && launcher=(setsid)
# A background job of a script is no process-group leader: setsid(1) execs
# in place, so $! is prerolld's pid.
"${launcher[@]}" "$prerolld" --socket "$sock" --output-dir "$work/out" --log-level info 2>"$work/prerolld.log" &
daemon_pid=$!
bench_wait_socket "$ctl" 10 || { cat "$work/prerolld.log" >&2; exit 1; }
[ "$(cat /proc/$daemon_pid/comm)" = prerolld ] || { echo "pid $daemon_pid is not prerolld" >&2; exit 1; }

{
  bench_machine_info
  echo "build: $build ($build_type)"
  echo "command: SOAK_SECONDS=$soak CLIENTS=$clients THREADS=$threads MARK_EVERY=$mark_every DAEMON_SESSION=$session $0 $*"
} >"$work/machine.txt"
rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon_pid/status")
cat >"$work/setup.json" <<EOF
{"seconds": $soak, "clients": $clients, "threads": $threads, "mark_every": $mark_every, "message_bytes": 64,
 "daemon_session": "$session", "build_type": "$build_type", "interval": $interval, "daemon_rss_before_kib": $rss_before}
EOF

bench_log "prerolld $daemon_pid ($session session), $clients clients x $threads threads for $soak s"
for i in $(seq 1 "$clients"); do
  PREROLL_SOCKET=$sock "$client" "$threads" "$soak" "$mark_every" 64 "$work/go" >"$work/client.$i.out" 2>"$work/client.$i.err" &
  client_pids+=($!)
done
# The sampler gets its own session (scheduling autogroup) too: beside 256
# spinning threads a Python process would get a sample in only every few
# seconds, and its own delay would count as the daemon's answer time.
setsid python3 "$here/soak_sample.py" "$ctl" "$daemon_pid" "$work/out" "$work/stop" "$interval" >"$work/samples.jsonl" &
sampler_pid=$!
touch "$work/go"
failed_clients=0
for p in "${client_pids[@]}"; do wait "$p" || failed_clients=$((failed_clients + 1)); done
client_pids=()
touch "$work/stop"
wait "$sampler_pid" || true
sampler_pid=""
[ "$failed_clients" -eq 0 ] || bench_log "$failed_clients client(s) exited non-zero"

# Every client detached: its last windows decided and written, its file closed.
for _ in $(seq 1 1200); do
  "$prerollctl" --socket "$sock" --json stats >"$work/final_stats.json"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["clients_detached_total"] == j["clients_attached_total"] == int(sys.argv[2]) else 1)' \
    "$work/final_stats.json" "$clients" && break
  sleep 0.1
done
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
echo "$rc" >"$work/daemon_exit"
rm -rf "$sock_dir"

cat "$work/machine.txt"
echo
status=0
python3 "$here/soak_report.py" "$work" "$atf" || status=1
[ "$failed_clients" -eq 0 ] || status=1
bench_log "results in $work"
exit $status
