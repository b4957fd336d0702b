#!/usr/bin/env bash
# How fast prerolld's control socket answers `stats`, idle and while the
# daemon persists at full load (preroll-gen, --marking off: every window is
# written), side by side in one run. Target (issue #7): within 50 ms.
#
#   bench/operations/run_control_latency_bench.sh [BUILD_DIR]   (default build-bench)
# Environment: SAMPLES (200 per setup), THREADS (2), EVENTS per thread (3000000).
set -euo pipefail
. "$(dirname "$0")/../common.sh"

build=${1:-$BENCH_REPO/build-bench}
samples=${SAMPLES:-200}
threads=${THREADS:-2}
events=${EVENTS:-3000000}
bench_install_packages python3
bench_build "$build" prerolld preroll-gen
prerolld=$build/daemon/prerolld
gen=$build/tools/preroll_gen/preroll-gen
work=$(mktemp -d /tmp/preroll-ctl-bench.XXXXXX)
daemon_pid="" gen_pid=""
cleanup() {
  [ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && bench_stop_pid "$daemon_pid" prerolld
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$prerolld" --socket "$work/s.sock" --output-dir "$work/out" --marking off --log-level warn 2>"$work/d.log" &
daemon_pid=$!
bench_wait_socket "$work/s.sock" 10 || { cat "$work/d.log" >&2; exit 1; }
probe="python3 $(dirname "$0")/control_latency.py $work/prerolld.ctl $samples"

idle=$($probe)
# Load that outlasts the probe: the generator loops until killed.
(while :; do PREROLL_SOCKET=$work/s.sock "$gen" --threads "$threads" --events "$events" --message-size 64 >/dev/null; done) &
gen_pid=$!
sleep 1
loaded=$($probe)
persisted=$(python3 - "$work/prerolld.ctl" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'{"cmd":"stats"}\n')
b = b""
while not b.endswith(b"\n"): b += s.recv(65536)
j = json.loads(b); print(j["windows_persisted"], j["file_bytes_written"])
PY
)
kill "$gen_pid" 2>/dev/null || true
{
  bench_machine_info
  echo
  echo "| daemon | requests | p50 ms | p99 ms | max ms |"
  echo "|---|---:|---:|---:|---:|"
  for row in "idle:$idle" "persisting every window of $threads preroll-gen threads at full speed:$loaded"; do
    name=${row%%:\{*}; j={${row#*:\{}
    echo "| $name | $(echo "$j" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("%d | %.2f | %.2f | %.2f" % (j["n"], j["p50_ms"], j["p99_ms"], j["max_ms"]))') |"
  done
  echo
  echo "windows persisted, file bytes written during the run: $persisted"
}
