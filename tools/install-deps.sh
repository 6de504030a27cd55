#!/usr/bin/env bash
# Installs the Debian 12 packages pincurl's build, tests, demo and benchmarks need.
# Run as root on Debian 12. Idempotent: packages already present are left alone.
#
#   tools/install-deps.sh            build + test dependencies
#   tools/install-deps.sh --minimal  only what the library and demo need
set -euo pipefail

minimal=0
[ "${1:-}" = "--minimal" ] && minimal=1

# The TLS stack (wolfSSL, nghttp2, libcurl) is built from Debian 13's source packages by
# tools/build-deps.sh, which needs dpkg-dev, the autotools and a compiler.
pkgs=(build-essential cmake pkg-config ca-certificates openssl python3 dpkg-dev
      autoconf automake libtool debian-archive-keyring
      libcjson-dev libpsl-dev zlib1g-dev)
if [ "$minimal" -eq 0 ]; then
  pkgs+=(libcriterion-dev valgrind mitmproxy libcurl4-openssl-dev nginx
         libssl-dev tinyproxy clang libclang-rt-14-dev libxml2-dev sqlite3
         swig junit5 default-jdk-headless stunnel4 rsync
         gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
         gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # nginx is only a benchmark server run on loopback under its own config (bench/run.sh):
  # forbid service starts while installing, so no system nginx is left bound to port 80.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
    trap '[ "$made_policy" -eq 1 ] && rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$made_policy" -eq 1 ]; then rm -f "$policy"; made_policy=0; fi
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    if [ -d /run/systemd/system ]; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
    else
      update-rc.d nginx disable >/dev/null 2>&1 || true
    fi
  fi
fi

echo "install-deps: ok"
