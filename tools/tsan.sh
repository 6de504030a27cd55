#!/usr/bin/env bash
# Builds the test suites with ThreadSanitizer (gcc, -fsanitize=thread) in
# build-hard/tsan and runs the suites that exercise concurrency:
#   unit.policy_model      refcount::concurrent_ref_unref (8 threads ref/unref/lookup)
#   unit.policy_json       policy_json::concurrent_loads
#   integration.pinning    pinning::threads_share_one_client
#   integration.generations (policy swaps while requests run), when present
#   integration.cancel     calls cancelled from other threads while four threads execute
#   integration.multi      calls added and cancelled from other threads while one drives,
#                          a client freed while calls run on other threads
#   integration.handshakes a copy of an attached handle running on another thread
# plus any further ctest names given as arguments (regular expressions).
#
#   tools/tsan.sh [CTEST_REGEX...]
#
# libcurl and wolfSSL are not TSan-instrumented; tools/tsan/tsan.supp holds the suppressions for
# their internals (never for pincurl code). A report fails the run (halt_on_error).
# Environment: BUILD_DIR (default <source>/build-hard/tsan), CC
# (default gcc), TSAN_JOBS (default 2).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-hard/tsan}
cc=${CC:-gcc}
flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1"

# Criterion cannot run under TSan (tools/tsan/criterion/criterion.h says why): the suites
# are compiled against that stand-in header and linked with its runner instead.
mkdir -p "$build"
"$cc" $flags -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$src/tools/tsan" \
      -c "$src/tools/tsan/runner.c" -o "$build/ptcr_runner.o"

cfg=(-S "$src" -B "$build" -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_BINDINGS=OFF
     -DPINCURL_WERROR="${PINCURL_WERROR:-OFF}"
     -DCMAKE_BUILD_TYPE=RelWithDebInfo
     "-DCMAKE_C_FLAGS=$flags -I$src/tools/tsan"
     "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread $build/ptcr_runner.o"
     "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread")
[ -f "$build/CMakeCache.txt" ] || cfg+=(-DCMAKE_C_COMPILER="$cc")
cmake "${cfg[@]}" >/dev/null

suites=(unit.policy_model unit.policy_json integration.pinning)
[ -f "$src/tests/integration/test_generations.c" ] && suites+=(integration.generations)
suites+=(integration.cancel integration.multi integration.handshakes)
suites+=("$@")

# Build only what the chosen suites need (test executables are named kind_module).
targets=()
for s in "${suites[@]}"; do
  case "$s" in
    unit.*|integration.*) targets+=("${s%%.*}_${s#*.}") ;;
  esac
done
cmake --build "$build" -j"${TSAN_JOBS:-2}" --target "${targets[@]}"

regex=$(IFS='|'; echo "^(pki.generate|${suites[*]})\$")
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$src/tools/tsan/tsan.supp ${TSAN_OPTIONS:-}"
ctest --test-dir "$build" --output-on-failure -R "$regex"
