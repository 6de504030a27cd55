#!/usr/bin/env bash
# Builds pincurl and runs every test suite. On a fresh Debian 12 machine as root it first
# installs what it needs (tools/install-deps.sh) and builds libcurl on wolfSSL (once).
#
#   bash tools/test.sh              release build in build/, all suites
#   bash tools/test.sh --sanitize   ASan+UBSan build in build-asan/, all suites
#   extra arguments after -- go to ctest (e.g. -- -R unit)
set -euo pipefail
cd "$(dirname "$0")/.."

variant=release
if [ "${1:-}" = "--sanitize" ]; then variant=sanitize; shift; fi
[ "${1:-}" = "--" ] && shift

if [ "$(id -u)" -eq 0 ]; then
  bash tools/install-deps.sh
fi

jobs=$(nproc)
curl_prefix="$PWD/build/curl-wolfssl"
case "$variant" in
  release)  dir=build;      extra=() ;;
  sanitize) dir=build-asan; extra=(-DPINCURL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
esac

cmake -S . -B "$dir" -DPINCURL_CURL_PREFIX="$curl_prefix" "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@"
