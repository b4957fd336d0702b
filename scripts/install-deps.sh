#!/usr/bin/env bash
# Installs the Debian 12 packages preroll needs to build, test and benchmark.
# Idempotent: packages already present are not touched, and apt is not run at
# all when nothing is missing (so it is cheap to call before every build).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost-dev libboost-program-options-dev
  libpcre2-dev
  libspdlog-dev libfmt-dev
  catch2
  nlohmann-json3-dev
  libxxhash-dev
  libzstd-dev
  libsystemd-dev
  # scripts/coverage.sh (the coverage report of the checked ASan build).
  gcovr
  # examples/python (the ctypes binding), run by the integration tests.
  python3
  # systemd-analyze, for the test that verifies the unit files in systemd/.
  systemd
  libbenchmark-dev
  # The libFuzzer targets in fuzz/ (built with clang; libFuzzer, ASan, UBSan).
  clang libclang-rt-14-dev
)
# Hyperscan (multi-pattern prefilter for the marking engine) exists for
# amd64 only; the build falls back to PCRE2-JIT without it.
if [ "$(dpkg --print-architecture)" = "amd64" ]; then
  packages+=(libhyperscan-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
