#!/usr/bin/env bash
# Runs the unit and integration suites under valgrind memcheck and fails on any error in
# pincurl code: an invalid read or write, a use of uninitialised memory, an invalid free,
# or a definite leak whose stack passes through the library (lib/) or the tests.
#
#   tools/valgrind.sh [CTEST_REGEX]      (default: ^(unit|integration)\.)
#
# Builds (gcc, no sanitizers) in build-hard/valgrind. Criterion runs every test in a
# re-executed worker process, so valgrind follows children (--trace-children=yes) and each
# process writes its own log; the servers and tools the tests start (python3, openssl,
# mitmdump, sh) are not traced. Errors inside libcurl, wolfSSL, cJSON, libpsl or Criterion
# alone are listed but do not fail the run. Logs: <build>/valgrind/.
# Environment: BUILD_DIR, VALGRIND_JOBS (build parallelism, default 2).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-hard/valgrind}
regex=${1:-'^(unit|integration)\.'}

cfg=(-S "$src" -B "$build" -DPINCURL_BUILD_SAMPLES=OFF -DPINCURL_BUILD_BINDINGS=OFF
     -DPINCURL_WERROR="${PINCURL_WERROR:-OFF}"
     -DCMAKE_BUILD_TYPE=RelWithDebInfo)
cmake "${cfg[@]}" >/dev/null

# The test executables of the selected suites (ctest names kind.module -> kind_module).
mapfile -t tests < <(ctest --test-dir "$build" -N -R "$regex" | sed -n 's/^ *Test *#[0-9]*: //p' |
                     grep -E '^(unit|integration)\.[a-z0-9_]+$' |
                     grep -vx 'integration\.threads' || true)
# (integration.threads measures the process's size over 200 threads: not under valgrind)
[ ${#tests[@]} -gt 0 ] || { echo "no unit or integration suite matches $regex" >&2; exit 2; }
targets=()
for t in "${tests[@]}"; do targets+=("${t%%.*}_${t#*.}"); done
cmake --build "$build" -j"${VALGRIND_JOBS:-2}" --target "${targets[@]}"

logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"
export PINCURL_TEST_PKI="$build/test-pki" PINCURL_SOURCE_DIR="$src" PINCURL_BINARY_DIR="$build"
# memcheck runs code some 20-50 times slower, and tearing down threads and TLS connections
# more than that: bounds on durations stretch with it (they are checked natively in the
# other flavours; this one looks for memory errors)
export PINCURL_TEST_TIME_SCALE=${PINCURL_TEST_TIME_SCALE:-100}
bash "$src/tests/pki/make-pki.sh" "$PINCURL_TEST_PKI" >/dev/null

vg=(valgrind --tool=memcheck --trace-children=yes
    "--trace-children-skip=/usr/bin/*,/bin/*,/usr/local/bin/*,*python*,*openssl*,*mitmdump*"
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --track-origins=yes --num-callers=30 --child-silent-after-fork=yes --fullpath-after=)

# Frames in pincurl's code: valgrind prints full source paths (--fullpath-after=), and the
# library is linked statically into the test programs, so its frames name files under
# lib/ or tests/ of this tree.
ours_re="\\(${src//./\\.}/(lib|tests)/"

status=0
for t in "${tests[@]}"; do
  exe=$(find "$build/tests" -maxdepth 2 -type f -name "${t%%.*}_${t#*.}" | head -1)
  mkdir -p "$logs/$t"
  printf '%-28s ' "$t"
  set +e
  CRITERION_NO_EARLY_EXIT=1 "${vg[@]}" --log-file="$logs/$t/vg.%p.log" \
      "$exe" --jobs=1 --short-filename >"$logs/$t/output.txt" 2>&1
  rc=$?
  set -e
  # One error block: from a "== X" line after a blank line to the next blank line.
  awk -v out="$logs/$t/errors.txt" '
    /^==[0-9]+== *$/ { if (blk != "") { print blk > out; print "" > out } blk=""; next }
    /^==[0-9]+== / { line=$0; sub(/^==[0-9]+== /, "", line); blk = blk line "\n" }
    END { if (blk != "") print blk > out }' "$logs/$t"/vg.*.log
  touch "$logs/$t/errors.txt"
  # Error blocks (not summaries), and those in pincurl code: where one of the top four
  # frames (after valgrind's own allocator wrappers) is the library's or the tests' code.
  # A leak allocated deep inside a dependency (wolfSSL's per-thread caches, say) is not
  # counted as pincurl's just because a pincurl call is further down its stack.
  ours=$(VG_OURS_RE="$ours_re" awk 'BEGIN { RS=""; n=0; files = ENVIRON["VG_OURS_RE"] }
    /Invalid (read|write|free)|uninitialised|Mismatched free|are definitely lost in loss record|overlap|Syscall param|Source and destination/ {
      k = 0; mine = 0
      m = split($0, lines, "\n")
      for (i = 1; i <= m && k < 4; i++) {
        if (lines[i] !~ /^ *(at|by) 0x/ || lines[i] ~ /vgpreload/) continue
        k++
        if (lines[i] ~ files) mine = 1
      }
      n += mine
    }
    END { print n }' "$logs/$t/errors.txt")
  others=$(awk 'BEGIN { RS=""; n=0 }
    /Invalid (read|write|free)|uninitialised|Mismatched free|are definitely lost in loss record|overlap|Syscall param|Source and destination/ { n++ }
    END { print n }' "$logs/$t/errors.txt")
  others=$((others - ours))
  summary=$(grep -h "Synthesis" "$logs/$t/output.txt" | tail -1 | sed 's/^\[====\] //')
  if [ "$ours" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    echo "FAIL  errors in pincurl code: $ours, elsewhere: $others, exit $rc; $summary"
  else
    echo "ok    errors in pincurl code: 0, elsewhere: $others; $summary"
  fi
done
echo "logs: $logs"
exit "$status"
