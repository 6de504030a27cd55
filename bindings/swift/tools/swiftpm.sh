#!/usr/bin/env bash
# Runs SwiftPM on a package against the libpincurl of a CMake build, with every cache and
# product inside the build tree (CI machines may have a read-only or foreign HOME).
#
#   swiftpm.sh build|test|run PACKAGE_DIR NAME [swift arguments...]
#
# Environment (set by bindings/swift/CMakeLists.txt): PINCURL_SWIFT, PINCURL_SWIFT_WORK,
# PINCURL_SWIFT_PKGCONFIG (a directory with the build tree's pincurl.pc: the package finds
# the headers and the library through pkg-config, as it finds an installed pincurl),
# PINCURL_SWIFT_LIBDIR and PINCURL_SWIFT_LIBRARY (libpincurl, for the run path of the test
# binaries). NAME picks the scratch directory: $PINCURL_SWIFT_WORK/NAME-<hash of the C
# headers>. SwiftPM does not see a change of headers outside the package (its module of
# the C API would keep an old struct layout), so other headers get a fresh directory.
set -euo pipefail
mode=${1:?usage: swiftpm.sh build|test|run PACKAGE_DIR NAME [args...]}
pkg=${2:?package directory}
name=${3:?scratch name}
shift 3
swift=${PINCURL_SWIFT:-swift}
work=${PINCURL_SWIFT_WORK:?}
: "${PINCURL_SWIFT_PKGCONFIG:?}" "${PINCURL_SWIFT_LIBDIR:?}"
export PKG_CONFIG_PATH="$PINCURL_SWIFT_PKGCONFIG${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

if [ -n "${PINCURL_SWIFT_LIBRARY:-}" ] && [ ! -e "$PINCURL_SWIFT_LIBRARY" ]; then
  echo "swiftpm.sh: $PINCURL_SWIFT_LIBRARY is missing: build the pincurl target first" >&2
  exit 1
fi
inc=$(sed -n 's/^Cflags: *-I//p' "$PINCURL_SWIFT_PKGCONFIG/pincurl.pc" | head -n 1)
hash=$(cat "$inc"/pincurl/*.h | sha256sum | cut -c1-12)
for old in "$work/$name" "$work/$name"-*; do
  [ -e "$old" ] && [ "$old" != "$work/$name-$hash" ] && rm -rf "$old"
done
scratch="$work/$name-$hash"
mkdir -p "$scratch" "$work/cache" "$work/config" "$work/security" "$work/tmp"
export XDG_CACHE_HOME="$work/cache"
export TMPDIR="$work/tmp"
if [ -z "${HOME:-}" ] || [ ! -w "${HOME}" ]; then
  mkdir -p "$work/home"
  export HOME="$work/home"
fi

common=(--package-path "$pkg" --scratch-path "$scratch"
        --cache-path "$work/cache" --config-path "$work/config"
        --security-path "$work/security" --jobs 2
        -Xlinker -rpath -Xlinker "$PINCURL_SWIFT_LIBDIR")

case "$mode" in
  build) exec "$swift" build "${common[@]}" "$@" ;;
  test)
    "$swift" build --build-tests "${common[@]}"
    exec "$swift" test --skip-build "${common[@]}" "$@" ;;
  run) exec "$swift" run "${common[@]}" "$@" ;;
  *) echo "swiftpm.sh: unknown mode $mode" >&2; exit 2 ;;
esac
