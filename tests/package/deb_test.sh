#!/usr/bin/env bash
# package: .deb installs, runs and removes on this system.
# Builds the .deb with cpack, installs it with dpkg, checks the files, runs
# the installed prerolld in the foreground (temporary socket and output
# directory, no systemd) with examples/consumer built against the installed
# package feeding it a marked event, then purges the package and checks that
# its files are gone. The package is purged on every way out.
# Needs root on Debian; exits 77 (CTest: skipped) otherwise, or when
# PREROLL_SKIP_DEB_TEST=1, or when a preroll package is already installed.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
. "$src/tests/package/common.sh"

skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
[ "${PREROLL_SKIP_DEB_TEST:-0}" != 1 ] || skip "PREROLL_SKIP_DEB_TEST=1"
[ "$(id -u)" -eq 0 ] || skip "installing a .deb needs root"
[ -f /etc/debian_version ] && command -v dpkg >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
  skip "not a Debian system with dpkg and dpkg-dev"
if dpkg-query -W -f='${Status}\n' preroll 2>/dev/null | contains -v 'not-installed'; then
  skip "a preroll package is already on this system ($(dpkg-query -W -f='${Version} ${Status}' preroll)); not touching it"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/preroll-deb-test.XXXXXX")
daemon_pid=""
installed=0
cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ]; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
  if [ "$installed" = 1 ]; then
    echo "cleanup: dpkg --purge preroll" >&2
    dpkg --purge preroll >/dev/null 2>&1 || echo "cleanup: dpkg --purge preroll FAILED; remove it by hand" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
unset PREROLL_DISABLE CMAKE_PREFIX_PATH PKG_CONFIG_PATH
arch=$(dpkg --print-architecture)

step "cpack -G DEB"
run "$tmp/cpack.log" "$CPACK" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/cpack"
deb=$tmp/cpack/preroll_${version}_${arch}.deb
expect_file "$deb"
ls -l "$deb"

step "package metadata"
for field in Package:preroll "Version:$version" "Architecture:$arch"; do
  value=$(dpkg-deb --field "$deb" "${field%%:*}")
  [ "$value" = "${field#*:}" ] || fail "${field%%:*} is '$value', expected '${field#*:}'"
done
[ -n "$(dpkg-deb --field "$deb" Maintainer)" ] || fail "no Maintainer"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
grep -q 'libc6' <<<"$depends" || fail "Depends (from dpkg-shlibdeps) lacks libc6: '$depends'"
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$tmp/control.list"
for f in postinst prerm postrm shlibs triggers; do grep -qx "./$f" "$tmp/control.list" || fail "control archive lacks $f"; done
dpkg-deb --contents "$deb" | awk '{print $6}' >"$tmp/contents.list"
# Docs are checked in the archive: minimal images may exclude /usr/share/doc on install.
for f in ./usr/share/doc/preroll/README.md ./usr/share/doc/preroll/examples/prerolld.conf.example; do
  grep -qx "$f" "$tmp/contents.list" || fail "the package lacks $f"
done
if grep -q '^\./etc/' "$tmp/contents.list"; then fail "the package installs under /etc: $(grep '^\./etc/' "$tmp/contents.list")"; fi

step "dpkg -i"
installed=1  # from here on, whatever happens, cleanup purges
run "$tmp/dpkg-i.log" dpkg -i "$deb"
dpkg-query -W -f='${Status}' preroll | contains 'install ok installed' || fail "preroll not installed: $(dpkg-query -W -f='${Status}' preroll)"
dpkg -L preroll >"$tmp/files.list"

step "installed files"
unit=$(grep -m1 '/systemd/system/prerolld\.service$' "$tmp/files.list") || fail "no prerolld.service in the package"
installed_exec=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | head -n 1)
[ -x "$installed_exec" ] || fail "the unit's ExecStart ($installed_exec) is not an installed executable"
daemon=$installed_exec
for tool in prerollctl preroll-atf preroll-gen preroll-run; do [ -x "/usr/bin/$tool" ] || fail "missing: /usr/bin/$tool"; done
expect_file "/usr/$libdir/libpreroll.so.${version%%.*}"
expect_file "/usr/$libdir/libpreroll.a"
ldconfig -p | contains "libpreroll.so.${version%%.*} " || fail "ldconfig does not know libpreroll.so.${version%%.*} (trigger not run?)"
for h in preroll.h preroll.hpp fmt.hpp; do expect_file "/usr/include/preroll/$h"; done
expect_file "/usr/$libdir/cmake/preroll/prerollConfig.cmake"
[ "$(pkg-config --modversion preroll)" = "$version" ] || fail "pkg-config --modversion preroll: '$(pkg-config --modversion preroll 2>&1)'"
[ "$(pkg-config --variable=prefix preroll)" = /usr ] || fail "preroll.pc prefix is $(pkg-config --variable=prefix preroll)"
out=$("$daemon" --version)
[ "$out" = "prerolld $version" ] || fail "$daemon --version says '$out'"

step "installed prerolld in the foreground"
mkdir -p "$tmp/run" "$tmp/out"
sock=$tmp/run/prerolld.sock
# --config /dev/null: this machine's /etc/preroll/prerolld.conf, if any, stays out of it.
"$daemon" --config /dev/null --socket "$sock" --output-dir "$tmp/out" --flush-after 1 >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
[ -S "$sock" ] || { cat "$tmp/daemon.log" >&2; fail "prerolld did not create $sock"; }
run "$tmp/prerollctl.log" /usr/bin/prerollctl --socket "$sock" version

step "examples/consumer against the installed package (no prefix)"
build_consumer "$tmp/consumer"
found=$(sed -n 's/^preroll_DIR:[A-Z]*=//p' "$tmp/consumer/CMakeCache.txt")
[ "$found" = "/usr/$libdir/cmake/preroll" ] || fail "find_package found preroll in '$found'"
out=$(PREROLL_SOCKET=$sock "$tmp/consumer/consumer") || fail "consumer failed: $out"
echo "$out"
grep -q 'daemon_connected=1' <<<"$out" || fail "consumer did not reach the daemon at $sock"
# shellcheck disable=SC2046  # word splitting of the flags is intended
cc -std=c11 -o "$tmp/consumer_pc" "$src/examples/consumer/main.c" $(pkg-config --cflags --libs preroll) ||
  fail "cc with \$(pkg-config --cflags --libs preroll) failed"
out=$(PREROLL_SOCKET=$tmp/no-daemon.sock "$tmp/consumer_pc") || fail "consumer (pkg-config build) failed: $out"

step "the marked event reaches an ATF file"
kept=""
for _ in $(seq 150); do
  for f in "$tmp"/out/*.atf; do
    [ -f "$f" ] || continue
    if /usr/bin/preroll-atf events "$f" 2>/dev/null | contains 'example checkout failed'; then kept=$f; break 2; fi
  done
  sleep 0.1
done
[ -n "$kept" ] || { cat "$tmp/daemon.log" >&2; ls -l "$tmp/out" >&2; fail "no ATF file in $tmp/out holds the consumer's marked event"; }
echo "kept in $(basename "$kept")"

step "SIGTERM"
alive=0
if kill -0 "$daemon_pid" 2>/dev/null; then alive=1; kill -TERM "$daemon_pid"; fi
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
[ "$alive" = 1 ] || { tail -n 30 "$tmp/daemon.log" >&2; fail "prerolld died before SIGTERM (exit status $rc)"; }
[ "$rc" -eq 0 ] || { tail -n 30 "$tmp/daemon.log" >&2; fail "prerolld exited with status $rc on SIGTERM"; }
run "$tmp/verify.log" /usr/bin/preroll-atf verify "$kept"

step "dpkg --purge"
run "$tmp/dpkg-purge.log" dpkg --purge preroll
installed=0
if dpkg-query -W -f='${Status}\n' preroll 2>/dev/null | contains -v 'not-installed'; then
  fail "preroll still known to dpkg: $(dpkg-query -W -f='${Status}' preroll)"
fi
left=$(while read -r f; do if [ -e "$f" ] && [ ! -d "$f" ]; then echo "$f"; fi; done <"$tmp/files.list")
[ -z "$left" ] || fail "files left after purge: $left"
if ldconfig -p | contains 'libpreroll\.so'; then fail "ldconfig still lists libpreroll"; fi
echo "PASS"
