#!/usr/bin/env bash
# "No system call per event": counts the system calls of preroll-gen (every
# thread, strace -f -c) emitting 32-byte messages into a running prerolld,
# for 1 M and 2 M events, next to the ring swaps it reports. The calls of
# the second run minus those of the first, divided by the extra swaps, is the
# number of calls per ring swap; divided by the extra events, per event. A
# third run of 1 M events has no daemon to talk to (rings overwritten).
#
#   bench/run_syscall_check.sh [BUILD_DIR]      (default: build-bench in the repo)
#
# Prints a markdown section (bench/RESULTS.md); keeps the strace summaries in
# OUT_DIR (default BUILD_DIR/bench-results). Stops the prerolld it starts,
# also on failure.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

build=${1:-$BENCH_REPO/build-bench}
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=${OUT_DIR:-$build/bench-results}
mkdir -p "$out"

tmp=$(mktemp -d /tmp/preroll-strace.XXXXXX)
prerolld_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$prerolld_pid" ]; then bench_stop_pid "$prerolld_pid" prerolld; fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$BENCH_REPO/scripts/install-deps.sh"
bench_install_packages strace jq
bench_build "$build" prerolld preroll-gen >&2

mkdir -p "$tmp/atf"
"$build/daemon/prerolld" --socket "$tmp/prerolld.sock" --output-dir "$tmp/atf" --log-level warn \
  >"$out/strace-prerolld.log" 2>&1 &
prerolld_pid=$!
bench_wait_socket "$tmp/prerolld.sock" 10 || { bench_log "prerolld did not start"; exit 1; }

# strace -c summary columns: % time, seconds, usecs/call, calls, [errors], name.
total_calls() { awk '$NF == "total" { print $4 }' "$1"; }
calls_of() { awk -v s="$2" '$NF == s { print $4 }' "$1"; }

declare -A calls swaps events sendmsg
for n in 1000000 2000000; do
  PREROLL_SOCKET="$tmp/prerolld.sock" strace -f -c -o "$out/strace-gen-$n.txt" \
    "$build/tools/preroll_gen/preroll-gen" --threads 1 --events "$n" --message-size 32 >"$out/strace-gen-$n.json"
  calls[$n]=$(total_calls "$out/strace-gen-$n.txt")
  sendmsg[$n]=$(calls_of "$out/strace-gen-$n.txt" sendmsg)
  swaps[$n]=$(jq -r .ring_swaps "$out/strace-gen-$n.json")
  events[$n]=$(jq -r .events "$out/strace-gen-$n.json")
  if [ "$(jq -r .daemon_connected "$out/strace-gen-$n.json")" != true ]; then
    bench_log "preroll-gen did not connect to prerolld"
    exit 1
  fi
done
bench_stop_pid "$prerolld_pid" prerolld
prerolld_pid=""

# The same 1 M events with no daemon listening: rings are overwritten in
# place; the client retries connecting at most once a second.
PREROLL_SOCKET="$tmp/no-daemon.sock" strace -f -c -o "$out/strace-gen-no-daemon.txt" \
  "$build/tools/preroll_gen/preroll-gen" --threads 1 --events 1000000 --message-size 32 >"$out/strace-gen-no-daemon.json"
nd_calls=$(total_calls "$out/strace-gen-no-daemon.txt")
nd_swaps=$(jq -r '.ring_swaps' "$out/strace-gen-no-daemon.json")
nd_over=$(jq -r '.events_overwritten' "$out/strace-gen-no-daemon.json")
nd_sendmsg=$(calls_of "$out/strace-gen-no-daemon.txt" sendmsg)
nd_connect=$(calls_of "$out/strace-gen-no-daemon.txt" connect)
nd_secs=$(jq -r '.seconds' "$out/strace-gen-no-daemon.json")

d_calls=$((calls[2000000] - calls[1000000]))
d_swaps=$((swaps[2000000] - swaps[1000000]))
d_events=$((events[2000000] - events[1000000]))
cat <<EOF
### System calls per event (strace)

\`PREROLL_SOCKET=… strace -f -c preroll-gen --threads 1 --events N --message-size 32\` against a running
\`prerolld\` (default marking on; started by bench/run_syscall_check.sh on a temporary socket).

| events | ring swaps | system calls (all threads) | of which sendmsg | calls per event |
|---:|---:|---:|---:|---:|
| ${events[1000000]} | ${swaps[1000000]} | ${calls[1000000]} | ${sendmsg[1000000]:-0} | $(awk -v c="${calls[1000000]}" -v e="${events[1000000]}" 'BEGIN { printf "%.5f", c / e }') |
| ${events[2000000]} | ${swaps[2000000]} | ${calls[2000000]} | ${sendmsg[2000000]:-0} | $(awk -v c="${calls[2000000]}" -v e="${events[2000000]}" 'BEGIN { printf "%.5f", c / e }') |
| ${events[1000000]}, no daemon | ${nd_swaps} (+ overwrites: ${nd_over} events overwritten) | ${nd_calls} | ${nd_sendmsg:-0} | $(awk -v c="$nd_calls" 'BEGIN { printf "%.5f", c / 1000000 }') |

With prerolld, the extra ${d_events} events cost ${d_calls} extra system calls for ${d_swaps} extra ring swaps:
$(awk -v c="$d_calls" -v s="$d_swaps" -v e="$d_events" 'BEGIN { printf "%.2f calls per ring swap, %.6f per event", (s ? c / s : 0), c / e }').

Without a daemon the ${nd_secs} s run made ${nd_connect:-0} connect attempt(s) (at start, then at most one a second
when a full ring finds no spare) and no call per ring.

strace summary of the 1 M run with prerolld (\`$(basename "$out")/strace-gen-1000000.txt\`):

\`\`\`
$(cat "$out/strace-gen-1000000.txt")
\`\`\`
EOF
