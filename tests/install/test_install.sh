#!/usr/bin/env bash
# Installs pincurl into a temporary prefix with `cmake --install`, then builds a consumer
# three ways: find_package (shared and static targets) and pkg-config. Each must run.
set -euo pipefail
src=${PINCURL_SOURCE_DIR:?}; bin=${PINCURL_BINARY_DIR:?}
work="$bin/test-tmp/install"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$bin" --prefix "$work/prefix" >"$work/install.log"
pin="sha256/$(printf 'x%.0s' $(seq 32) | openssl dgst -sha256 -binary | openssl dgst -sha256 -binary | base64)"

cmake -S "$src/tests/install/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/cfg.log"
cmake --build "$work/cmake" >"$work/build.log"
"$work/cmake/consumer_shared" "$pin"
"$work/cmake/consumer_static" "$pin"
if "$work/cmake/consumer_shared" "sha1/AAAA" >/dev/null; then
  echo "a bad pin was accepted" >&2; exit 1
fi

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
cc -std=c11 -o "$work/consumer_pc" "$src/tests/install/consumer/main.c" \
   $(pkg-config --cflags --libs pincurl) -Wl,-rpath,"$work/prefix/lib"
"$work/consumer_pc" "$pin"
echo "install: find_package (shared, static) and pkg-config consumers ran"
