#!/usr/bin/env bash
# Installs the Debian 12 packages pincurl's build, tests, demo and benchmarks need.
# Run as root on Debian 12. Idempotent: packages already present are left alone.
#
#   tools/install-deps.sh            build + test dependencies
#   tools/install-deps.sh --minimal  only what the library and demo need
#   tools/install-deps.sh --android  only Android's API level 23 (android.jar) and dx,
#                                    which the Java binding's java.android_api test uses
set -euo pipefail

minimal=0 android_only=0
[ "${1:-}" = "--minimal" ] && minimal=1
[ "${1:-}" = "--android" ] && android_only=1

# The TLS stack (wolfSSL, nghttp2, libcurl) is built from Debian 13's source packages by
# tools/build-deps.sh, which needs dpkg-dev, the autotools and a compiler.
pkgs=(build-essential cmake pkg-config ca-certificates openssl python3 dpkg-dev
      autoconf automake libtool debian-archive-keyring
      libcjson-dev libpsl-dev zlib1g-dev)
if [ "$minimal" -eq 0 ]; then
  pkgs+=(libcriterion-dev valgrind mitmproxy curl libcurl4-openssl-dev nginx
         libssl-dev tinyproxy clang libclang-rt-14-dev libxml2-dev sqlite3
         swig junit5 default-jdk-headless libjsr305-java zip unzip dexdump stunnel4 rsync
         gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
         gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
fi

[ "$android_only" -eq 1 ] && pkgs=()

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

# The Java binding's Android check (bindings/java/tools/android-api-check.sh) compiles the
# Java layer against android.jar of API level 23 and dexes it with dx. Debian 12 ships
# neither (android-framework-23 and android-platform-dalvik left after Debian 11), so they
# come from Debian 11 (bullseye): libandroid-23-java and dalvik-exchange, architecture-
# independent Java packages whose dependencies (proguard-cli, a JRE) Debian 12 has. They
# are downloaded through a private apt configuration (the system's sources are left
# alone) and installed with --no-remove, so nothing of the system is replaced.
android_pkgs=(libandroid-23-java dalvik-exchange)
android_missing=()
if [ "$minimal" -eq 0 ]; then
  for p in "${android_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      android_missing+=("$p")
  done
fi
if [ "${#android_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${android_missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  adir=$(mktemp -d)
  mkdir -p "$adir/parts" "$adir/lists/partial" "$adir/debs"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bullseye' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    >"$adir/parts/bullseye.sources"
  aopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$adir/parts"
         -o "Dir::State::Lists=$adir/lists" -o APT::Sandbox::User=root)
  apt-get "${aopts[@]}" update -qq
  (cd "$adir/debs" && apt-get "${aopts[@]}" download -qq "${android_missing[@]}")
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends --no-remove "$adir"/debs/*.deb
  rm -rf "$adir"
fi

echo "install-deps: ok"
