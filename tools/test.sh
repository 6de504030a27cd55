#!/usr/bin/env bash
# Builds pincurl and runs its test suites. On a fresh Debian 12 machine as root it first
# installs what it needs (tools/install-deps.sh); the TLS stack (wolfSSL, nghttp2, libcurl
# from Debian 13 source packages) is built once per architecture into a cache
# (tools/build-deps.sh). Each flavour prints its time.
#
#   bash tools/test.sh              every flavour below, in this order (what CI runs)
#   bash tools/test.sh --release    the bundled stack, Release build in build/: every suite
#                                   (unit, integration, report, update, CLI, fuzz replay,
#                                   allocation failure, Java and Swift bindings, demo,
#                                   benchmark smoke, install)
#   bash tools/test.sh --system     the distribution's libcurl (OpenSSL backend) in
#                                   build-system/: the same suites but the bindings
#   bash tools/test.sh --sanitize   ASan+UBSan (Debug) in build-asan/: every C suite
#   bash tools/test.sh --gnutls     Debian's libcurl on GnuTLS (leaf-only mode) in
#                                   build-gnutls/: unit, leaf-only and the suites that
#                                   make no pinned request
#   bash tools/test.sh --tsan       ThreadSanitizer on the concurrency tests (tools/tsan.sh)
#   bash tools/test.sh --firmware   the firmware profile and the core on 32-bit ARM under
#                                   qemu-user (tools/firmware.sh)
#   bash tools/test.sh --valgrind   the unit and integration suites under valgrind memcheck
#                                   (tools/valgrind.sh)
#   bash tools/test.sh --arm64      cross-built for aarch64, the unit, integration and report
#                                   suites under qemu-user (tools/cross-build.sh)
#   bash tools/test.sh --armhf      the same for 32-bit ARM (arm-linux-gnueabihf)
# PINCURL_WERROR=ON (CI) makes warnings errors.
#   extra arguments after -- go to ctest (e.g. --release -- -R unit)
set -euo pipefail
cd "$(dirname "$0")/.."

variant=all
case "${1:-}" in
  --release|--system|--sanitize|--gnutls|--tsan|--firmware|--valgrind|--arm64|--armhf)
    variant=${1#--}; shift ;;
  --|"") ;;
  *) echo "test.sh: unknown option $1 (see the header of tools/test.sh)" >&2; exit 2 ;;
esac
[ "${1:-}" = "--" ] && shift

if [ "$(id -u)" -eq 0 ] && [ -z "${PINCURL_DEPS_DONE:-}" ]; then
  bash tools/install-deps.sh
  export PINCURL_DEPS_DONE=1
fi

if [ "$variant" = all ]; then
  start=$(date +%s)
  for v in release system sanitize gnutls tsan valgrind firmware arm64 armhf; do
    echo "== tools/test.sh --$v ($(( $(date +%s) - start )) s so far)"
    t0=$(date +%s)
    bash tools/test.sh "--$v" -- "$@"
    echo "== tools/test.sh --$v passed in $(( $(date +%s) - t0 )) s"
  done
  echo "== every flavour passed in $(( $(date +%s) - start )) s"
  exit 0
fi

export PINCURL_WERROR=${PINCURL_WERROR:-OFF}
case "$variant" in
  tsan) exec bash tools/tsan.sh ;;
  valgrind) exec bash tools/valgrind.sh ;;
  firmware) exec bash tools/firmware.sh ;;
  arm64) exec bash tools/cross-build.sh aarch64-linux-gnu ;;
  armhf) exec bash tools/cross-build.sh arm-linux-gnueabihf ;;
esac

jobs=$(nproc)
select=()
case "$variant" in
  release)  dir=build;        extra=(-DCMAKE_BUILD_TYPE=Release) ;;
  system)   dir=build-system; extra=(-DPINCURL_CURL=system -DPINCURL_BUILD_BINDINGS=OFF) ;;
  sanitize) dir=build-asan;   extra=(-DPINCURL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
  gnutls)   dir=build-gnutls; extra=(-DPINCURL_CURL=gnutls -DPINCURL_BUILD_BINDINGS=OFF)
            # pinned requests need a path backend; these suites make none (or, leaf.only,
            # only leaf-pinned ones)
            select=(-R '^(pki|unit|leaf|fuzz|report|update\.(bundle|cli|updater)|alloc\.policy)') ;;
esac
cmake -S . -B "$dir" -DPINCURL_WERROR="$PINCURL_WERROR" "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
log="$dir/test-output.log"
set +e
ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${select[@]}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# Criterion reports a test as passed even when LeakSanitizer found a leak in it.
if grep -q 'ERROR: LeakSanitizer' "$log"; then
  echo "test.sh: LeakSanitizer reported a leak (see $log)" >&2
  rc=1
fi
exit "$rc"
