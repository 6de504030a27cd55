#!/usr/bin/env bash
# The installed library stands alone. Builds pincurl afresh from the source tree (the TLS
# stack comes from tools/build-deps.sh's cache), installs it into a new prefix, DELETES that
# build tree, then builds consumers from the prefix only (find_package: shared and static;
# pkg-config) and makes pinned requests with an intermediate pin against a local server.
# Checks with readelf that nothing installed points into a build tree and that the shared
# library needs no libcurl, wolfSSL or nghttp2 of the system (bundled flavour), and that
# `pincurl --version` names libcurl, the TLS library, the backend and HTTP/2.
set -euo pipefail
src=${PINCURL_SOURCE_DIR:?}; bin=${PINCURL_BINARY_DIR:?}; pki=${PINCURL_TEST_PKI:?}
flavour=$(sed -n 's/^PINCURL_CURL:STRING=//p' "$bin/CMakeCache.txt")
deps=$(sed -n 's/^PINCURL_DEPS_PREFIX:PATH=//p' "$bin/CMakeCache.txt")
work="$bin/test-tmp/install"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "install: $*" >&2; exit 1; }

cmake -S "$src" -B "$work/build" -DPINCURL_CURL="$flavour" -DPINCURL_DEPS_PREFIX="$deps" \
      -DPINCURL_BUILD_TESTS=OFF -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_BINDINGS=OFF \
      -DCMAKE_BUILD_TYPE=Release >"$work/cfg.log" 2>&1 || { cat "$work/cfg.log"; exit 1; }
cmake --build "$work/build" -j2 >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
cmake --install "$work/build" --prefix "$work/prefix" >"$work/install.log"
rm -rf "$work/build"
prefix="$work/prefix"
lib=$(find "$prefix" -name "libpincurl.so.0.*" -type f | head -n 1)
[ -n "$lib" ] || fail "no libpincurl.so installed"
libdir=$(dirname "$lib")

# Nothing installed refers to a build tree or to the TLS stack's cache.
for f in "$lib" "$prefix/bin/pincurl"; do
  if readelf -d "$f" | grep -E 'RPATH|RUNPATH' | grep -vF '[$ORIGIN/../lib' | grep -q .; then
    readelf -d "$f" | grep -E 'RPATH|RUNPATH' >&2
    fail "$f has a run path other than \$ORIGIN/../lib"
  fi
done
# (The libraries' bytes carry wolfSSL's configure line as a version string; what is read at
# run or build time is the dynamic section, checked above, and these files.)
if grep -rlsF --include='*.pc' --include='*.cmake' --include='*.h' \
        -e "$bin" -e "$deps" -e "$work/build" "$prefix"; then
  fail "installed files name the build tree or the dependency cache"
fi
needed=$(readelf -d "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "libpincurl needs: $needed"
if [ "$flavour" = bundled ]; then
  case " $needed" in
    *" libcurl"*|*" libwolfssl"*|*" libnghttp2"*|*" libssl"*|*" libcrypto"*)
      fail "the bundled library needs a system TLS/HTTP library: $needed" ;;
  esac
fi
# Only pincurl's API is exported.
others=$(nm -D --defined-only "$lib" | awk '$3 != "" {print $3}' | grep -v '^pincurl_' |
         grep -v '^PINCURL_0$' || true)
[ -z "$others" ] || fail "libpincurl exports more than pincurl_*: $(echo "$others" | head -5)"

"$prefix/bin/pincurl" --version | tee "$work/version.txt"
grep -q "libcurl/" "$work/version.txt" || fail "--version does not name libcurl"
grep -q "^Backend: " "$work/version.txt" || fail "--version does not name the backend"
if [ "$flavour" = bundled ]; then
  grep -q "wolfSSL/" "$work/version.txt" || fail "--version does not name wolfSSL"
  grep -q "HTTP2" "$work/version.txt" || fail "--version does not say HTTP/2"
fi

# Consumers from the prefix alone.
cmake -S "$src/tests/install/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
      >"$work/consumer-cfg.log" 2>&1 || { cat "$work/consumer-cfg.log"; exit 1; }
cmake --build "$work/cmake" >"$work/consumer-build.log" 2>&1 ||
  { cat "$work/consumer-build.log"; exit 1; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -o "$work/consumer_pc" "$src/tests/install/consumer/main.c" \
   $(pkg-config --cflags --libs pincurl) -Wl,-rpath,"$libdir"

# A local server with the genuine chain; the intermediate's pin (and a backup) decide.
port_file="$work/port"
python3 "$src/tests/servers/tls_server.py" --cert "$pki/leaf-ec-chain.pem" \
  --key "$pki/leaf-ec.key" --port-file "$port_file" --lifetime 120 --parent-pid $$ &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || fail "the test server did not start"
url="https://localhost:$(cat "$port_file")/"
pin() { awk -v n="$1" '$1 == n {print $2}' "$pki/pins.txt"; }
inter=$(pin inter); backup=$(pin leaf-backup); rogue=$(pin rogue-root)
for c in "$work/cmake/consumer_shared" "$work/cmake/consumer_static" "$work/consumer_pc"; do
  out=$("$c" "$url" "$pki/root.pem" "$inter" "$backup") || fail "$c: pinned request failed: $out"
  echo "$(basename "$c"): $out"
  case "$out" in "OK 200 depth 1 "*) ;; *) fail "$c: expected a match at depth 1: $out" ;; esac
  if out=$("$c" "$url" "$pki/root.pem" "$rogue" "$backup" 2>/dev/null); then
    fail "$c: a mismatching policy was allowed: $out"
  fi
  case "$out" in "PIN_MISMATCH "*) ;; *) fail "$c: expected PIN_MISMATCH: $out" ;; esac
done
echo "install: the installed library stands alone (build tree deleted; shared, static, pkg-config)"
