# Shared by the package tests (sourced): messages, running steps, and what the
# build tree says the installed layout is. Needs $build and $src set.
set -euo pipefail

CMAKE=${CMAKE:-cmake}
CPACK=${CPACK:-cpack}

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# run LOG COMMAND...: COMMAND's output goes to LOG, shown only if it fails.
run() {
  local log=$1 rc=0
  shift
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log" >&2
    fail "exit status $rc: $*"
  fi
}

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }

[ -f "$build/CMakeCache.txt" ] || fail "$build is not a configured build directory"
[ -f "$build/CPackConfig.cmake" ] || fail "$build has no CPackConfig.cmake (configured before packaging/ existed?)"
libdir=$(cache_value CMAKE_INSTALL_LIBDIR)        # e.g. lib/x86_64-linux-gnu
includedir=$(cache_value CMAKE_INSTALL_INCLUDEDIR)
unitdir=$(cache_value PREROLL_SYSTEMD_UNIT_DIR)   # relative to the prefix
version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/packaging/prerollConfigVersion.cmake")
[ -n "$libdir" ] && [ -n "$includedir" ] && [ -n "$unitdir" ] && [ -n "$version" ] ||
  fail "cannot read the install layout from $build (libdir='$libdir' includedir='$includedir' unitdir='$unitdir' version='$version')"
# Where systemd/prerolld.service expects the daemon, e.g. /usr/bin/prerolld.
exec_start=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$src/systemd/prerolld.service" | head -n 1)
[ -n "$exec_start" ] || fail "no ExecStart in $src/systemd/prerolld.service"

# build_example NAME DIR [CMAKE ARGS...]: configures and builds examples/NAME
# on its own, against an installed preroll.
build_example() {
  local name=$1 dir=$2
  shift 2
  run "$dir.configure.log" "$CMAKE" -S "$src/examples/$name" -B "$dir" "$@"
  run "$dir.build.log" "$CMAKE" --build "$dir"
}
build_consumer() { build_example consumer "$@"; }

# COMMAND | contains PATTERN: grep that reads all of its input, so COMMAND
# never dies of SIGPIPE (which pipefail would report as a failure).
contains() { grep "$@" >/dev/null; }

# expect_file PATH: a regular file (or a link to one) must be there.
expect_file() { [ -f "$1" ] || fail "missing: $1"; }
