#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined)
# in build-fuzz/ and runs each for SECONDS (default 600), one after another, printing the
# executions, the final corpus size and the crashes of each target.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]
#
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/<target>) in
# build-fuzz/fuzz-corpus/<target>, which grows across runs; inputs that crash, leak or time
# out are written to build-fuzz/fuzz-artifacts/<target>/. The summary table is also written
# to build-fuzz/fuzz-results.txt. Exit status 1 if any target found a problem.
# Environment: BUILD_DIR (default <source>/build-fuzz), CC (clang),
# FUZZ_JOBS (build parallelism, default 2), FUZZ_NO_BUILD=1 (run the binaries already built).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
shift || true
build=${BUILD_DIR:-$src/build-fuzz}
cc=${CC:-clang}
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

cfg=(-S "$src" -B "$build" -DPINCURL_FUZZ=ON -DPINCURL_BUILD_SAMPLES=OFF
     -DCMAKE_BUILD_TYPE=RelWithDebInfo)
# The compiler is chosen once, when the build directory is first configured.
[ -f "$build/CMakeCache.txt" ] || cfg+=(-DCMAKE_C_COMPILER="$cc")
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake "${cfg[@]}" >/dev/null
  cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target fuzz_all >/dev/null
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(grep -v '^$' "$build/tests/fuzz/targets.txt")
fi

results="$build/fuzz-results.txt"
printf '%-14s %8s %14s %8s %8s\n' target seconds executions corpus crashes | tee "$results"
failed=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "no such fuzz target: $t" >&2; exit 2; }
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  log="$build/fuzz-$t.log"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$src/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  before=$(find "$artifacts" -type f | wc -l)
  start=$(date +%s)
  set +e
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
         -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  size=$(find "$corpus" -type f | wc -l)
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  [ "$crashes" -eq 0 ] || failed=1
  printf '%-14s %8s %14s %8s %8s\n' "$t" "$elapsed" "${execs:-0}" "$size" "$crashes" | tee -a "$results"
  if [ "$crashes" -ne 0 ]; then
    echo "  $t: see $log and $artifacts/" >&2
  fi
done
exit "$failed"
