# Shared by bench/run_emit_bench.sh and bench/run_syscall_check.sh (sourced).
# shellcheck shell=bash

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_log() { echo "[bench] $*" >&2; }

# Installs the Debian packages given that are missing; apt is not run at all
# when none is (same pattern as scripts/install-deps.sh).
bench_install_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  bench_log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# bench_build BUILD_DIR TARGET... : Release configure (tests off) and build of
# just the targets given. JOBS (default: nproc) sets the parallelism.
bench_build() {
  local dir=$1
  shift
  cmake -S "$BENCH_REPO" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DPREROLL_BUILD_TESTS=OFF -DPREROLL_BUILD_BENCH=ON >/dev/null
  cmake --build "$dir" --target "$@" -j"${JOBS:-$(nproc)}"
}

# bench_wait_socket PATH SECONDS : waits until PATH is a socket.
bench_wait_socket() {
  local path=$1 tries=$(($2 * 20))
  while [ "$tries" -gt 0 ]; do
    [ -S "$path" ] && return 0
    sleep 0.05
    tries=$((tries - 1))
  done
  return 1
}

# bench_stop_pid PID NAME : SIGTERM, up to 10 s for it to go, then SIGKILL.
# Only ever called with the pid of a process this script started.
bench_stop_pid() {
  local pid=$1 name=$2 _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    # A zombie (our own child not yet waited for) counts as gone.
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = "Z" ] && break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != "Z" ]; then
    bench_log "$name (pid $pid) ignored SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# What was measured: machine and source state, one "key: value" a line.
bench_machine_info() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu_mhz: $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
  echo "tsc_flags: $(grep -m1 -o -w -E 'constant_tsc|nonstop_tsc' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "hypervisor: $(grep -m1 -o -w hypervisor /proc/cpuinfo || echo none)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "compiler: $(c++ --version | head -1)"
  echo "google_benchmark: $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo unknown)"
  echo "lttng_ust: $(dpkg-query -W -f='${Version}' liblttng-ust-dev 2>/dev/null || echo none)"
  echo "lttng_tools: $(dpkg-query -W -f='${Version}' lttng-tools 2>/dev/null || echo none)"
  if git -C "$BENCH_REPO" rev-parse --git-dir >/dev/null 2>&1; then
    echo "source: $(git -C "$BENCH_REPO" rev-parse --short HEAD) $(git -C "$BENCH_REPO" describe --always --dirty)"
    echo "source_changes_outside_bench: $(git -C "$BENCH_REPO" status --porcelain -- . ':!bench' | wc -l) file(s)"
  else
    echo "source: ${PREROLL_BENCH_SOURCE_LABEL:-not a git checkout}"
  fi
  echo "load_average: $(cut -d' ' -f1-3 /proc/loadavg)"
}
