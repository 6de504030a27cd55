#!/usr/bin/env bash
# The bindings as a developer gets them from an installed pincurl (ctest install.bindings):
# `cmake --install` of this build into a new prefix, then
#  - Java: a program compiled against <prefix>/share/java/pincurl.jar alone runs with
#    `java -cp <prefix>/share/java/pincurl.jar:.` (no -Djava.library.path: the jar finds
#    <prefix>/<libdir>/jni/libpincurl_jni.so); the JNI library needs no libpincurl.so and
#    has no run path into a build tree;
#  - Swift: a SwiftPM package in a temporary directory outside the repository depends on
#    bindings/swift/Pincurl and builds with plain `swift build`, the C library found
#    through PKG_CONFIG_PATH=<prefix>/<libdir>/pkgconfig.
# Both make a pinned request (intermediate pin, a match at depth 1) and a refused one
# against a local server.
set -euo pipefail
src=${PINCURL_SOURCE_DIR:?}; bin=${PINCURL_BINARY_DIR:?}; pki=${PINCURL_TEST_PKI:?}
java=${1:?java} javac=${2:?javac} swift=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/pincurl-install-bindings.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install.bindings: $*" >&2; exit 1; }

cmake --install "$bin" --prefix "$work/prefix" >"$work/install.log"
jar="$work/prefix/share/java/pincurl.jar"
[ -f "$jar" ] || fail "no pincurl.jar installed"
jni=$(find "$work/prefix" -name libpincurl_jni.so -path '*/jni/*' | head -n 1)
[ -n "$jni" ] || fail "no libpincurl_jni.so installed under <libdir>/jni"
pc=$(find "$work/prefix" -name pincurl.pc | head -n 1)
libdir=$(dirname "$(dirname "$pc")")
if readelf -d "$jni" | grep NEEDED | grep -q libpincurl; then fail "the JNI library needs libpincurl"; fi
if readelf -d "$jni" | grep -E 'RPATH|RUNPATH' | grep -q .; then fail "the JNI library has a run path"; fi

python3 "$src/tests/servers/tls_server.py" --cert "$pki/leaf-ec-chain.pem" --key "$pki/leaf-ec.key" \
  --port 0 --port-file "$work/port" --log "$work/server.log" --lifetime 300 --parent-pid $$ \
  >"$work/server.out" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the test server did not start"
url="https://localhost:$(cat "$work/port")/"
pin() { awk -v n="$1" '$1 == n {print $2}' "$pki/pins.txt"; }
inter=$(pin inter); backup=$(pin leaf-backup); rogue=$(pin rogue-root)

expect() { # name command...: a match at depth 1, then a refusal with the rogue pin
  local name=$1; shift
  local out
  out=$("$@" "$url" "$pki/root.pem" "$inter" "$backup") || fail "$name: pinned request failed: $out"
  echo "$name: $out"
  case "$out" in "OK 200 depth 1 $inter") ;; *) fail "$name: expected a match at depth 1: $out" ;; esac
  if out=$("$@" "$url" "$pki/root.pem" "$rogue" "$backup"); then fail "$name: a mismatch was allowed: $out"; fi
  echo "$name: $out"
  case "$out" in "PIN_MISMATCH "*) ;; *) fail "$name: expected PIN_MISMATCH: $out" ;; esac
}

# Java: compiled against the installed jar, run with it and nothing else.
mkdir -p "$work/java"
"$javac" -d "$work/java" -cp "$jar" "$src/tests/install/java/Consumer.java"
expect java env -u LD_LIBRARY_PATH "$java" -Xcheck:jni -cp "$jar:$work/java" Consumer

# Swift: plain `swift build` of a package outside the repository.
if [ -n "$swift" ] && [ -x "$swift" ]; then
  pkg="$work/consumer"
  cp -R "$src/tests/install/swift" "$pkg"
  sed -i "s|PINCURL_PACKAGE_PATH|$src/bindings/swift/Pincurl|" "$pkg/Package.swift"
  mkdir -p "$work/home"
  (cd "$pkg" && HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" \
     PKG_CONFIG_PATH="$libdir/pkgconfig" "$swift" build >"$work/swift-build.log" 2>&1) ||
    { tail -40 "$work/swift-build.log"; fail "swift build of the consumer package failed"; }
  expect swift env LD_LIBRARY_PATH="$libdir" "$pkg/.build/debug/consumer"
else
  echo "install.bindings: no swift toolchain, Swift consumer not built"
fi
echo "install.bindings: the installed jar, JNI library and pkg-config file serve consumers"
