#!/usr/bin/env bash
# package: install tree and example consumer.
# `cmake --install` into a temporary prefix, check the layout, then build
# examples/consumer against that prefix with its CMake package (shared and
# static) and with pkg-config, and run what was built.
# Usage: install_consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
. "$src/tests/package/common.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/preroll-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# No daemon: a socket path nobody listens on (never a real daemon of this machine).
export PREROLL_SOCKET=$tmp/no-daemon.sock
unset PREROLL_DISABLE CMAKE_PREFIX_PATH PKG_CONFIG_PATH

step "cmake --install into $prefix"
run "$tmp/install.log" "$CMAKE" --install "$build" --prefix "$prefix"

step "layout"
daemon=$prefix/${exec_start#/usr/}
[ -x "$daemon" ] || fail "prerolld is not where the unit's ExecStart ($exec_start) says: $daemon"
for tool in prerollctl preroll-atf preroll-gen preroll-run; do [ -x "$prefix/bin/$tool" ] || fail "missing: bin/$tool"; done
out=$("$daemon" --version)
[ "$out" = "prerolld $version" ] || fail "prerolld --version says '$out', the package is $version"

lib=$prefix/$libdir
expect_file "$lib/libpreroll.so.$version"
[ -L "$lib/libpreroll.so.${version%%.*}" ] && [ -L "$lib/libpreroll.so" ] || fail "libpreroll.so links missing in $lib"
soname=$(readelf -d "$lib/libpreroll.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libpreroll.so.${version%%.*}" ] || fail "SONAME is '$soname'"
expect_file "$lib/libpreroll.a"
# The ABI is the C API: no shm_protocol or Boost symbols exported.
others=$(nm -D --defined-only "$lib/libpreroll.so.$version" | awk '{print $3}' | grep -v '^preroll_' || true)
[ -z "$others" ] || fail "libpreroll.so exports more than preroll_*: $(echo $others | head -c 400)"
for f in "$prefix/bin/"* "$daemon" "$lib/libpreroll.so.$version"; do
  if readelf -d "$f" | contains -E '\((RUNPATH|RPATH)\)'; then fail "$f keeps a run path: $(readelf -d "$f" | grep -E 'RUN|RPATH')"; fi
done

for h in preroll.h preroll.hpp fmt.hpp; do expect_file "$prefix/$includedir/preroll/$h"; done
for unit in "$src"/systemd/*.service "$src"/systemd/*.socket; do
  [ -e "$unit" ] || continue
  cmp -s "$unit" "$prefix/$unitdir/$(basename "$unit")" || fail "unit $(basename "$unit") not installed in $unitdir"
done
expect_file "$prefix/share/doc/preroll/README.md"
expect_file "$prefix/share/doc/preroll/examples/prerolld.conf.example"
[ ! -e "$prefix/etc" ] || fail "the install writes under etc/ (a live config would override the defaults): $(find "$prefix/etc")"
for f in prerollConfig.cmake prerollConfigVersion.cmake prerollTargets.cmake prerollSpdlogSinkTargets.cmake; do expect_file "$lib/cmake/preroll/$f"; done
pc=$lib/pkgconfig/preroll.pc
expect_file "$pc"
leaks=$(grep -lF -e "$build" -e "$src" "$lib"/cmake/preroll/*.cmake "$pc" || true)
[ -z "$leaks" ] || fail "build or source tree paths in installed files: $leaks"

step "public headers compile on their own"
echo "#include <preroll/preroll.h>" | cc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/$includedir" -x c - ||
  fail "preroll/preroll.h does not compile as C11"
for h in preroll.h preroll.hpp fmt.hpp spdlog_sink.hpp; do
  echo "#include <preroll/$h>" | c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/$includedir" -x c++ - ||
    fail "preroll/$h does not compile as C++17"
done

step "examples/consumer with find_package(preroll CONFIG) from $prefix"
build_consumer "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix"
found=$(sed -n 's/^preroll_DIR:[A-Z]*=//p' "$tmp/consumer/CMakeCache.txt")
[ "$found" = "$lib/cmake/preroll" ] || fail "find_package found preroll in '$found', not in $lib/cmake/preroll"
ldd_out=$(LD_LIBRARY_PATH=$lib ldd "$tmp/consumer/consumer")
grep -qF "$lib/libpreroll.so.${version%%.*}" <<<"$ldd_out" || fail "consumer does not load the installed libpreroll: $ldd_out"
out=$(LD_LIBRARY_PATH=$lib "$tmp/consumer/consumer") || fail "consumer (shared) failed: $out"
echo "$out"
! readelf -d "$tmp/consumer/consumer_static" | contains 'libpreroll' || fail "consumer_static needs libpreroll.so"
out=$("$tmp/consumer/consumer_static") || fail "consumer_static failed: $out"
echo "$out"

step "examples/c_api (C11) and examples/spdlog (COMPONENTS spdlog_sink) against $prefix"
build_example c_api "$tmp/c_api" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Werror"
out=$(LD_LIBRARY_PATH=$lib "$tmp/c_api/c_api_example" 100 50) || fail "c_api_example failed: $out"
contains '"events_written":300,' <<<"$out" || fail "c_api_example did not capture its 300 events: $out"
build_example spdlog "$tmp/spdlog" -DCMAKE_PREFIX_PATH="$prefix"
out=$(LD_LIBRARY_PATH=$lib "$tmp/spdlog/spdlog_example" 100 50 2>/dev/null) || fail "spdlog_example failed: $out"
contains '"events_written":201,' <<<"$out" || fail "spdlog_example did not capture its 201 events: $out"
# Without spdlog the component is reported missing, and the core still loads.
mkdir -p "$tmp/no_spdlog"
cat >"$tmp/no_spdlog/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(no_spdlog LANGUAGES C)
find_package(preroll CONFIG REQUIRED)
if(TARGET preroll::spdlog_sink OR NOT TARGET preroll::client OR preroll_spdlog_sink_FOUND)
  message(FATAL_ERROR "spdlog_sink offered without spdlog, or the core missing")
endif()
find_package(preroll CONFIG COMPONENTS spdlog_sink)
if(preroll_FOUND)
  message(FATAL_ERROR "COMPONENTS spdlog_sink found without spdlog")
endif()
CMAKE
run "$tmp/no_spdlog.log" "$CMAKE" -S "$tmp/no_spdlog" -B "$tmp/no_spdlog/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON

step "examples/consumer with pkg-config from $lib/pkgconfig"
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion preroll)" = "$version" ] || fail "pkg-config --modversion preroll: $(pkg-config --modversion preroll)"
[ "$(pkg-config --variable=prefix preroll)" = "$prefix" ] || fail "preroll.pc prefix is $(pkg-config --variable=prefix preroll)"
# shellcheck disable=SC2046  # word splitting of the flags is intended
cc -std=c11 -o "$tmp/consumer_pc" "$src/examples/consumer/main.c" $(pkg-config --cflags --libs preroll) ||
  fail "cc with \$(pkg-config --cflags --libs preroll) failed"
out=$(LD_LIBRARY_PATH=$lib "$tmp/consumer_pc") || fail "consumer (pkg-config build) failed: $out"
echo "$out"
echo "PASS"
