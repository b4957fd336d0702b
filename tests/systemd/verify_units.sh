#!/bin/sh
# CTest: the shipped systemd units load cleanly and stay hardened.
#   verify_units.sh PRERROLLD_BINARY UNIT_DIR
# 1. `systemd-analyze verify` on copies of the units whose ExecStart names the
#    built prerolld (the installed /usr/bin/prerolld may not exist here):
#    fails on a non-zero status or on any line it prints about our units
#    (unknown keys and bad values are only warnings to systemd).
# 2. `systemd-analyze security --offline=yes`: fails when the service's
#    exposure rises above 2.0 ("OK"), e.g. a dropped sandboxing setting.
# Without systemd-analyze (package `systemd`, see scripts/install-deps.sh)
# the test fails: it must not pass without checking anything.
set -u
prerolld=$1
units=$2

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "FAIL: systemd-analyze not found; install the 'systemd' package (scripts/install-deps.sh)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/preroll-units-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cp "$units"/prerolld.service "$units"/prerolld.socket "$units"/prerolld-control.socket "$work"/ || exit 1
grep -q '^ExecStart=/usr/bin/prerolld$' "$work/prerolld.service" || {
  echo "FAIL: prerolld.service: expected 'ExecStart=/usr/bin/prerolld' (the path packaging installs to)" >&2
  exit 1
}
sed -i "s|^ExecStart=/usr/bin/prerolld\$|ExecStart=$prerolld|" "$work/prerolld.service"

status=0
cd "$work" || exit 1
out=$(systemd-analyze verify --man=no ./prerolld.service ./prerolld.socket ./prerolld-control.socket 2>&1)
rc=$?
echo "systemd-analyze verify: status $rc"
[ -n "$out" ] && printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
  echo "FAIL: systemd-analyze verify failed" >&2
  status=1
fi
if printf '%s\n' "$out" | grep -E 'prerolld(-control)?\.(service|socket)' >/dev/null; then
  echo "FAIL: systemd-analyze verify complained about our units (above)" >&2
  status=1
fi

out=$(systemd-analyze security --offline=yes --threshold=20 ./prerolld.service 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 1
if [ "$rc" -ne 0 ]; then
  printf '%s\n' "$out" | grep -v '^✓'
  echo "FAIL: prerolld.service exposure above 2.0 (systemd-analyze security)" >&2
  status=1
fi
exit $status
