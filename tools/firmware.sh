#!/usr/bin/env bash
# The firmware profile (docs/embedded.md), end to end:
#  1. configures and builds -DPINCURL_FIRMWARE=ON at -Os (MinSizeRel) in build-fw/;
#  2. runs its suite (ctest -R firmware: core unit tests, compiled-policy requests, heap);
#  3. prints the .text/.data/.bss of the full and the firmware library (size(1));
#  4. cross-builds the firmware profile with its TLS stack for 32-bit ARM (build-arm/,
#     tools/cross-build.sh arm-linux-gnueabihf) and runs its suite under qemu-arm: the
#     core runner and pinned requests with compiled policies; then its sizes on ARM.
# Needs: gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user (tools/install-deps.sh).
#   bash tools/firmware.sh
# Environment: PINCURL_FW_BUILD, PINCURL_ARM_BUILD (build directories)
# (libcurl on wolfSSL; default: the one build/ made, when it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fw=${PINCURL_FW_BUILD:-$root/build-fw}
arm=${PINCURL_ARM_BUILD:-$root/build-arm}

echo "== firmware build ($fw)"
cmake -S . -B "$fw" -DPINCURL_FIRMWARE=ON -DCMAKE_BUILD_TYPE=MinSizeRel \
      -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_BINDINGS=OFF \
      -DPINCURL_WERROR="${PINCURL_WERROR:-OFF}" >/dev/null
cmake --build "$fw" -j2 --target firmware_all

echo "== firmware suite"
ctest --test-dir "$fw" --output-on-failure -R '^(pki\.generate|firmware\.)'
cat "$fw/tests/firmware/footprint.txt"

sizes() { # label archive: Berkeley totals (text includes read-only data) and .text alone
  size -t "$2" |
    awk -v l="$1" 'END { printf "%-28s text+rodata %6d  data %5d  bss %5d", l, $1, $2, $3 }'
  size -A "$2" | awk '$1 ~ /^\.text/ { t += $2 } END { printf "  (.text alone %d)\n", t }'
}
echo "== footprint (size(1) on the static libraries' objects, -Os)"
sizes "full libpincurl_objects.a" "$fw/libpincurl_objects.a"
sizes "firmware libpincurl_firmware.a" "$fw/libpincurl_firmware.a"
printf '%-28s ' "kept in a minimal image"
awk -v lib=libpincurl_firmware.a -f tests/firmware/image_size.awk \
    "$fw/tests/firmware/firmware_image.map"

echo "== 32-bit ARM ($arm): the firmware profile's suite under qemu-user"
# The whole firmware profile (core, compiled policies, the client with its TLS stack) is
# cross-built for ARMv7 and its suite runs under qemu-arm: the core runner, the core unit
# tests and pinned requests to servers on this machine's loopback.
BUILD_DIR="$arm" PINCURL_CROSS_CMAKE_ARGS="-DPINCURL_FIRMWARE=ON -DCMAKE_BUILD_TYPE=MinSizeRel
  -DPINCURL_HOST_CLI=$fw/tools/pincurl" \
  bash tools/cross-build.sh arm-linux-gnueabihf -- -R '^(pki\.generate|firmware\.)'
file "$arm/tests/firmware/firmware_compiled" | sed "s|$arm/||"
sizes "ARM full libpincurl_objects.a" "$arm/libpincurl_objects.a"
sizes "ARM libpincurl_firmware.a" "$arm/libpincurl_firmware.a"
printf '%-28s ' "ARM: kept in a minimal image"
awk -v lib=libpincurl_firmware.a -f tests/firmware/image_size.awk \
    "$arm/tests/firmware/firmware_image.map"
echo "== firmware profile OK"
