#!/usr/bin/env bash
# Builds pincurl and runs the pinning demo (samples/demo) on loopback: a pinned request to
# a genuine server, a rogue server whose CA the device trusts, and mitmproxy intercepting.
# On a fresh Debian 12 machine as root it first installs what it needs
# (tools/install-deps.sh) and builds the TLS stack (wolfSSL, nghttp2, libcurl from Debian
# 13 source packages, tools/build-deps.sh) once into its cache.
#
#   bash tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash tools/install-deps.sh
fi

quiet() { # log-name command...: runs the command, shows its output only if it fails
  local log=$1; shift
  mkdir -p build
  if ! "$@" > "build/$log" 2>&1; then
    cat "build/$log" >&2
    echo "demo: failed: $*" >&2
    exit 1
  fi
}
echo "demo: configuring and building into build/ (the first run also builds the TLS stack: a few minutes)"
quiet demo-configure.log cmake -S . -B build
quiet demo-build.log cmake --build build -j"$(nproc)" --target pincurl_demo

# A fresh test PKI (genuine root -> intermediate -> leaves, and a rogue root -> leaf).
quiet demo-pki.log bash tests/pki/make-pki.sh build/demo-pki

echo
exec build/samples/pincurl-demo build/demo-pki tests/servers/tls_server.py
