#!/usr/bin/env bash
# Measures the cost of one emit the way bench/RESULTS.md reports it, in one
# command:
#
#   bench/run_emit_bench.sh [BUILD_DIR]          (default: build-bench in the repo)
#
# 1. installs what is missing (project deps, liblttng-ust-dev lttng-tools
#    babeltrace2 strace jq), configures BUILD_DIR in Release and builds
#    bench_emit, prerolld and preroll-gen;
# 2. starts an LTTng session daemon (user space only: --no-kernel) unless one
#    runs already, and a snapshot-mode session recording 'preroll_bench:*';
# 3. runs bench_emit three times, each time all benchmarks in one process
#    with repetitions randomly interleaved:
#      no-daemon            PREROLL_SOCKET names no socket: the client keeps
#                           capturing but, its spare rings used up, overwrites
#                           each full ring in place (the worst case of a
#                           missing daemon: no hand-over, no doorbell)
#      no-daemon-monotonic  the same with PREROLL_CLOCK=monotonic: events
#                           stamped with clock_gettime instead of the TSC
#      with-daemon          a prerolld (default marking on) on a private
#                           socket: full rings are handed over (doorbell),
#                           scanned and recycled
#    and after each run takes an LTTng snapshot and counts its events with
#    babeltrace2 (proof that the tracepoint was recording, not disabled);
# 4. runs bench/run_syscall_check.sh (strace: system calls vs ring swaps);
# 5. stops everything it started (also on failure or Ctrl-C) and writes
#    OUT_DIR/summary.md: the median table and ratios for RESULTS.md.
#
# Environment: OUT_DIR (default BUILD_DIR/bench-results), REPETITIONS (10),
# MIN_TIME (seconds per repetition, 0.5), JOBS (build parallelism, nproc),
# LTTNG=0 to leave LTTng out, SYSCALL_CHECK=0 to skip step 4,
# UPDATE_RESULTS=1 to replace the generated section of bench/RESULTS.md
# (between its "run_emit_bench.sh: begin/end" markers) with summary.md.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

cmdline="$(for v in REPETITIONS MIN_TIME LTTNG SYSCALL_CHECK; do if [ -n "${!v:-}" ]; then printf '%s=%s ' "$v" "${!v}"; fi; done)bench/run_emit_bench.sh${1:+ $1}"
build=${1:-$BENCH_REPO/build-bench}
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=${OUT_DIR:-$build/bench-results}
reps=${REPETITIONS:-10}
min_time=${MIN_TIME:-0.5}
use_lttng=${LTTNG:-1}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ------------------------------------------------------------------ cleanup
tmp=$(mktemp -d /tmp/preroll-bench.XXXXXX)
sessiond_pid=""    # set only if this script started the session daemon
lttng_session=""   # set only once this script created the session
prerolld_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$prerolld_pid" ]; then bench_stop_pid "$prerolld_pid" prerolld; fi
  if [ -n "$lttng_session" ]; then
    lttng stop "$lttng_session" >/dev/null 2>&1
    lttng destroy "$lttng_session" >/dev/null 2>&1
  fi
  if [ -n "$sessiond_pid" ]; then bench_stop_pid "$sessiond_pid" lttng-sessiond; fi
  rm -rf "$tmp"
  [ "$rc" -ne 0 ] && bench_log "failed (exit $rc); everything this script started is stopped"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ deps and build
packages=(strace jq)
[ "$use_lttng" = 1 ] && packages+=(liblttng-ust-dev lttng-tools babeltrace2)
"$BENCH_REPO/scripts/install-deps.sh"
bench_install_packages "${packages[@]}"
bench_log "building in $build"
bench_build "$build" bench_emit prerolld preroll-gen
bench=$build/bench/bench_emit
prerolld=$build/daemon/prerolld

has_lttng_bench=0
bench_list=$("$bench" --benchmark_list_tests)
grep -q '^BM_lttng_tracepoint_32' <<<"$bench_list" && has_lttng_bench=1
if [ "$use_lttng" = 1 ] && [ "$has_lttng_bench" = 0 ]; then
  bench_log "bench_emit was built without lttng-ust (pkg-config lttng-ust not found?)"
  exit 1
fi

bench_machine_info >"$out/machine.txt"

# -------------------------------------------------------------------- LTTng
lttng_pidfile() {
  if [ "$(id -u)" -eq 0 ]; then echo /var/run/lttng/lttng-sessiond.pid; else echo "${LTTNG_HOME:-$HOME}/.lttng/lttng-sessiond.pid"; fi
}
if [ "$use_lttng" = 1 ]; then
  pidfile=$(lttng_pidfile)
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    bench_log "using the running lttng-sessiond (pid $(cat "$pidfile")); it is left running"
  else
    # --daemonize returns once the daemon accepts commands. No kernel
    # tracing: user space is what is compared (and no modules are needed).
    lttng-sessiond --daemonize --no-kernel
    sessiond_pid=$(cat "$pidfile")
    bench_log "started lttng-sessiond (pid $sessiond_pid)"
  fi
  lttng_session=preroll-bench-$$
  # Snapshot mode: overwrite (flight-recorder) channels, mmap output, nothing
  # written to disk until 'lttng snapshot record' -- preroll's own regime.
  lttng create "$lttng_session" --snapshot --output="$tmp/lttng" >/dev/null
  lttng enable-event -u 'preroll_bench:*' -s "$lttng_session" >/dev/null
  lttng start "$lttng_session" >/dev/null
  lttng list "$lttng_session" >"$out/lttng-session.txt"
  bench_log "LTTng session $lttng_session started (snapshot mode, preroll_bench:*)"
fi

# Snapshot of the session's buffers after a run: how many preroll_bench:msg
# events it holds, on which CPUs, and from when. The newest must be younger
# than the run's start (in overwrite mode a stale buffer of an earlier run
# would also hold events).
lttng_check() {
  local label=$1 since=$2 dir=$tmp/lttng-snap-$1 n newest
  lttng snapshot record -s "$lttng_session" "file://$dir" >/dev/null
  babeltrace2 --clock-seconds "$dir" 2>/dev/null | grep 'preroll_bench:msg:' >"$tmp/lttng-events.txt" || true
  n=$(wc -l <"$tmp/lttng-events.txt")
  newest=$(tail -1 "$tmp/lttng-events.txt" | sed -E 's/^\[([0-9.]+)\].*/\1/')
  {
    echo "$label (run started at $since): 'lttng snapshot record' then babeltrace2: $n preroll_bench:msg events"
    echo "  per CPU: $(grep -o 'cpu_id = [0-9]*' "$tmp/lttng-events.txt" | sort | uniq -c | awk '{ printf "cpu %s: %s  ", $4, $1 }')"
    echo "  oldest: $(head -1 "$tmp/lttng-events.txt")"
    echo "  newest: $(tail -1 "$tmp/lttng-events.txt")"
  } >>"$out/lttng-check.txt"
  rm -rf "$dir" "$tmp/lttng-events.txt"
  if [ "$n" -eq 0 ] || ! awk -v a="${newest:-0}" -v b="$since" 'BEGIN { exit !(a > b) }'; then
    bench_log "$label: the LTTng snapshot holds no preroll_bench:msg event of this run: the tracepoint did not record"
    exit 1
  fi
  bench_log "$label: LTTng snapshot holds $n preroll_bench:msg events, the newest from this run"
}

# ---------------------------------------------------------------- the runs
filter=.
[ "$has_lttng_bench" = 1 ] && [ "$use_lttng" != 1 ] && filter='-BM_lttng'
run_bench() {
  local label=$1
  shift
  bench_log "run $label"
  echo "$label: load average before $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
  local args=(
    --benchmark_filter="$filter"
    --benchmark_repetitions="$reps"
    --benchmark_min_time="$min_time"
    --benchmark_enable_random_interleaving=true
    --benchmark_display_aggregates_only=true
    --benchmark_out="emit-$label.json" --benchmark_out_format=json
  )
  echo "$* BUILD_DIR/${bench#"$build"/} ${args[*]}" | sed "s|$tmp|\$TMP|g" >>"$out/commands.txt"
  (cd "$out" && env "$@" "$bench" "${args[@]}") | tee "$out/emit-$label.txt"
  echo "$label: load average after  $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
}
: >"$out/lttng-check.txt"
: >"$out/load.txt"
: >"$out/commands.txt"

# No daemon: a socket path where nothing listens (PREROLL_SOCKET set, so a
# prerolld on the default path is not found either).
since=$(date +%s.%N)
run_bench no-daemon PREROLL_SOCKET="$tmp/no-daemon.sock"
[ "$use_lttng" = 1 ] && lttng_check no-daemon "$since"

# The same with the pre-TSC event clock (clock_gettime through the vDSO).
since=$(date +%s.%N)
run_bench no-daemon-monotonic PREROLL_SOCKET="$tmp/no-daemon.sock" PREROLL_CLOCK=monotonic
[ "$use_lttng" = 1 ] && lttng_check no-daemon-monotonic "$since"

mkdir -p "$tmp/atf"
"$prerolld" --socket "$tmp/prerolld.sock" --output-dir "$tmp/atf" --log-level warn >"$out/prerolld.log" 2>&1 &
prerolld_pid=$!
echo "BUILD_DIR/daemon/prerolld --socket \$TMP/prerolld.sock --output-dir \$TMP/atf --log-level warn &" >>"$out/commands.txt"
bench_wait_socket "$tmp/prerolld.sock" 10 || { bench_log "prerolld did not start (see $out/prerolld.log)"; exit 1; }
since=$(date +%s.%N)
run_bench with-daemon PREROLL_SOCKET="$tmp/prerolld.sock"
[ "$use_lttng" = 1 ] && lttng_check with-daemon "$since"
bench_stop_pid "$prerolld_pid" prerolld
prerolld_pid=""

if [ "$use_lttng" = 1 ]; then
  lttng stop "$lttng_session" >/dev/null
  lttng destroy "$lttng_session" >/dev/null
  lttng_session=""
  if [ -n "$sessiond_pid" ]; then
    bench_stop_pid "$sessiond_pid" lttng-sessiond
    sessiond_pid=""
  fi
fi

# ------------------------------------------------------------ syscall check
if [ "${SYSCALL_CHECK:-1}" = 1 ]; then
  bash "$BENCH_REPO/bench/run_syscall_check.sh" "$build" | tee "$out/syscalls.md"
fi

# ------------------------------------------------------------------ summary
{
  echo "### Machine and source"
  echo
  echo '```'
  cat "$out/machine.txt"
  echo '```'
  echo
  echo "### Commands"
  echo
  lttng_note="no LTTng session"
  [ "$use_lttng" = 1 ] && lttng_note="an LTTng snapshot session with \`preroll_bench:*\` enabled around all three runs"
  echo "\`$cmdline\` ran these in OUT_DIR (\$TMP: its temporary directory; $lttng_note):"
  echo
  echo '```'
  cat "$out/commands.txt"
  echo '```'
  for label in no-daemon no-daemon-monotonic with-daemon; do
    echo
    jq -r --arg run "$label" -f "$BENCH_REPO/bench/emit_summary.jq" "$out/emit-$label.json"
  done
  echo
  echo "Load average around each run (other work on the machine shows here):"
  echo
  echo '```'
  cat "$out/load.txt"
  echo '```'
  if [ -s "$out/lttng-check.txt" ]; then
    echo
    echo "### LTTng tracepoint check"
    echo
    echo '```'
    cat "$out/lttng-check.txt"
    echo '```'
  fi
  if [ -s "$out/syscalls.md" ]; then
    echo
    cat "$out/syscalls.md"
  fi
} >"$out/summary.md"
echo
cat "$out/summary.md"

# UPDATE_RESULTS=1: put the summary between the markers of bench/RESULTS.md.
if [ "${UPDATE_RESULTS:-0}" = 1 ]; then
  results=$BENCH_REPO/bench/RESULTS.md
  if grep -q '^<!-- run_emit_bench.sh: begin -->$' "$results" && grep -q '^<!-- run_emit_bench.sh: end -->$' "$results"; then
    awk -v f="$out/summary.md" '
      /^<!-- run_emit_bench.sh: begin -->$/ { print; while ((getline line < f) > 0) print line; skip = 1; next }
      /^<!-- run_emit_bench.sh: end -->$/ { skip = 0 }
      !skip { print }' "$results" >"$tmp/RESULTS.md"
    cp "$tmp/RESULTS.md" "$results"
    bench_log "updated the generated section of $results (the interpretation is yours to update)"
  else
    bench_log "$results has no '<!-- run_emit_bench.sh: begin/end -->' markers: not updated"
  fi
fi
bench_log "results in $out (summary.md, emit-*.json, emit-*.txt, syscalls.md)"
