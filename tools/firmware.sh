#!/usr/bin/env bash
# The firmware profile (docs/embedded.md), end to end:
#  1. configures and builds -DPINCURL_FIRMWARE=ON at -Os (MinSizeRel) in build-fw/;
#  2. runs its suite (ctest -R firmware: core unit tests, compiled-policy requests, heap);
#  3. prints the .text/.data/.bss of the full and the firmware library (size(1));
#  4. cross-builds the firmware core for 32-bit ARM (build-arm/, Debian's
#     gcc-arm-linux-gnueabihf) and runs its tests under qemu-user (qemu-arm).
# Needs: gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user (tools/install-deps.sh).
#   bash tools/firmware.sh
# Environment: PINCURL_FW_BUILD, PINCURL_ARM_BUILD (build directories), PINCURL_CURL_PREFIX
# (libcurl on wolfSSL; default: the one build/ made, when it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fw=${PINCURL_FW_BUILD:-$root/build-fw}
arm=${PINCURL_ARM_BUILD:-$root/build-arm}
curl_args=()
if [ -n "${PINCURL_CURL_PREFIX:-}" ]; then
  curl_args=(-DPINCURL_CURL_PREFIX="$PINCURL_CURL_PREFIX")
elif [ -e "$root/build/curl-wolfssl/.pincurl-curl-built" ]; then
  curl_args=(-DPINCURL_CURL_PREFIX="$root/build/curl-wolfssl")
fi

echo "== firmware build ($fw)"
cmake -S . -B "$fw" -DPINCURL_FIRMWARE=ON -DCMAKE_BUILD_TYPE=MinSizeRel \
      -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_BINDINGS=OFF "${curl_args[@]}" >/dev/null
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
sizes "full libpincurl.a" "$fw/libpincurl.a"
sizes "firmware libpincurl_firmware.a" "$fw/libpincurl_firmware.a"
printf '%-28s ' "kept in a minimal image"
awk -v lib=libpincurl_firmware.a -f tests/firmware/image_size.awk \
    "$fw/tests/firmware/firmware_image.map"

echo "== 32-bit ARM ($arm)"
for tool in arm-linux-gnueabihf-gcc qemu-arm; do
  command -v "$tool" >/dev/null || {
    echo "firmware.sh: $tool missing: apt-get install gcc-arm-linux-gnueabihf" \
         "libc6-dev-armhf-cross qemu-user" >&2
    exit 1
  }
done
cmake -S tests/firmware/core -B "$arm" -DCMAKE_BUILD_TYPE=MinSizeRel \
      -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-linux-gnueabihf.cmake" >/dev/null
cmake --build "$arm" -j2
file "$arm/firmware_core_runner" | sed "s|$arm/||"
qemu-arm --version | head -1
echo "qemu-arm -L /usr/arm-linux-gnueabihf $arm/firmware_core_runner"
PINCURL_TEST_PKI="$fw/test-pki" qemu-arm -L /usr/arm-linux-gnueabihf "$arm/firmware_core_runner"
sizes "ARM core libpincurl_fw_core.a" "$arm/libpincurl_fw_core.a"
echo "== firmware profile OK"
