#!/usr/bin/env bash
# Cross-builds the TLS stack (tools/build-deps.sh --host), pincurl and its test suites for
# another Linux CPU with Debian's cross toolchains, then runs the suites under qemu-user
# against servers on this machine's loopback (the servers run natively).
#
#   tools/cross-build.sh TRIPLET [--no-test] [-- CTEST_ARGS...]
#
# TRIPLET: aarch64-linux-gnu (64-bit ARM: Android arm64-v8a, Apple silicon, most boards)
#          or arm-linux-gnueabihf (32-bit ARMv7 hard float: Android armeabi-v7a, older boards).
# As root it first installs the cross compiler, qemu-user and the target's -dev packages
# (Debian multiarch). Criterion is not packaged for every target, so the suites are built
# against the project's stand-in runner (PINCURL_CRITERION_LITE).
#
# The suites run: unit (the core), integration (pinned requests: matches allowed, mismatches
# refused before a request byte, padded chains, resumption, reuse, redirects, proxies),
# report and the firmware profile's compiled-policy requests when -DPINCURL_FIRMWARE=ON is
# given through PINCURL_CROSS_CMAKE_ARGS. Build directory: build-TRIPLET (or $BUILD_DIR).
# The Android NDK and Apple toolchains take the same path with their own toolchain file
# (docs/android.md, docs/ios.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

triplet=${1:?usage: tools/cross-build.sh TRIPLET [--no-test] [-- CTEST_ARGS]}
shift
run_tests=1
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-test) run_tests=0; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "cross-build: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$triplet" in
  aarch64-linux-gnu) arch=arm64; qemu=qemu-aarch64 ;;
  arm-linux-gnueabihf) arch=armhf; qemu=qemu-arm ;;
  *) echo "cross-build: unsupported triplet $triplet" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  need=()
  for p in "gcc-$triplet" "libc6-dev-$arch-cross" qemu-user; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    apt-get update -qq
  fi
  for p in libc6 libcjson-dev libpsl-dev zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$p:$arch" 2>/dev/null | grep -q 'install ok installed' ||
      need+=("$p:$arch")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    # --no-remove: a package of the target that cannot stand next to the build machine's
    # (Criterion's, on armhf) must never replace it
    apt-get install -y -qq --no-install-recommends --no-remove "${need[@]}" >/dev/null
  fi
fi
for tool in "$triplet-gcc" "$qemu"; do
  command -v "$tool" >/dev/null || {
    echo "cross-build: $tool missing (run as root once to install it)" >&2
    exit 1
  }
done

build=${BUILD_DIR:-$root/build-$triplet}
mkdir -p "$build"
start=$(date +%s)
# shellcheck disable=SC2206
extra=(${PINCURL_CROSS_CMAKE_ARGS:-})
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/cross-linux.cmake" \
      -DPINCURL_CROSS_TRIPLET="$triplet" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DPINCURL_BUILD_BINDINGS=OFF -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_TOOLS=OFF \
      -DPINCURL_CRITERION_LITE=ON -DPINCURL_WERROR="${PINCURL_WERROR:-OFF}" \
      "${extra[@]}" >"$build/configure.log" 2>&1 || { tail -40 "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)"
echo "== $triplet: built in $(( $(date +%s) - start )) s"
file -b "$build/libpincurl.so.0."* | cut -d, -f1-2
"$triplet-size" -t "$build/libpincurl.so.0."* | tail -n 1 |
  awk '{printf "libpincurl.so (%s): text+rodata %d data %d bss %d\n", "'"$triplet"'", $1, $2, $3}'

[ "$run_tests" -eq 1 ] || exit 0
echo "== $triplet: suites under $qemu"
"$qemu" --version | head -n 1
echo "(the target's own C library: $qemu -L /, libc6:$arch)"
if [ "${#ctest_args[@]}" -eq 0 ]; then
  ctest_args=(-R '^(pki\.generate|unit\.|integration\.|report\.(report|spool)|firmware\.)')
fi
log="$build/test-output.log"
junit="$build/test-output.xml"
set +e
ctest --test-dir "$build" --output-on-failure --output-junit "$junit" -j"$(nproc)" \
      "${ctest_args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# The stand-in runner prints a synthesis line per program (ctest keeps every program's
# output in its JUnit file): the pass counts of the individual tests.
grep -h "Synthesis: Tested:" "$junit" 2>/dev/null |
  awk '{for (i = 1; i <= NF; i++) {
          if ($i == "Tested:") t += $(i + 1); if ($i == "Passing:") p += $(i + 1);
          if ($i == "Failing:") f += $(i + 1); if ($i == "Skipped:") k += $(i + 1) } }
       END {printf "== %s under qemu-user: %d tests, %d passed, %d failed, %d skipped\n",
            "'"$triplet"'", t, p, f, k}'
grep -E "tests passed|tests failed out of" "$log" | tail -n 1
echo "== $triplet: done in $(( $(date +%s) - start )) s"
exit "$rc"
