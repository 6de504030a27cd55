#!/usr/bin/env bash
# Test of the Swift sample: builds it against this build's libpincurl, starts
# tests/servers/tls_server.py with the test PKI, and checks a pinned GET prints the
# matching pin and a mismatching policy prints the failure detail and exits 1.
# Environment as bindings/swift/CMakeLists.txt sets it (PINCURL_TEST_PKI, PINCURL_SOURCE_DIR,
# PINCURL_SWIFT_*, PINCURL_PYTHON).
set -euo pipefail
src=${PINCURL_SOURCE_DIR:?}
pki=${PINCURL_TEST_PKI:?}
python=${PINCURL_PYTHON:-python3}
swiftpm=(bash "$src/bindings/swift/tools/swiftpm.sh")

"${swiftpm[@]}" build "$src/samples/swift/PincurlSample" sample
bin=$("${swiftpm[@]}" build "$src/samples/swift/PincurlSample" sample --show-bin-path)/pincurl-swift-sample

dir=$(mktemp -d "${TMPDIR:-/tmp}/pincurl-swift-sample.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$python" "$src/tests/servers/tls_server.py" --cert "$pki/leaf-ec-chain.pem" \
  --key "$pki/leaf-ec.key" --port 0 --port-file "$dir/port" --log "$dir/server.log" \
  --name sample --lifetime 120 --parent-pid $$ >"$dir/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 1 1000); do
  [ -s "$dir/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$dir/server.out"; exit 1; }
  sleep 0.01
done
port=$(cat "$dir/port")

pin() {
  openssl x509 -in "$pki/$1" -pubkey -noout | openssl pkey -pubin -outform der \
    | openssl dgst -sha256 -binary | base64
}
inter=sha256/$(pin inter.pem)
backup=sha256/$(pin leaf-backup.pem)
rogue=sha256/$(pin rogue-root.pem)
policy() {
  printf '{"pincurl_policy": 1, "domains": {"localhost": {"pins": ["%s", "%s"]}}}\n' "$1" "$2"
}
policy "$inter" "$backup" >"$dir/good.json"
policy "$backup" "$rogue" >"$dir/bad.json"
url="https://localhost:$port/"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" "$url" "$dir/good.json" "$pki/root.pem" >"$dir/good.out" 2>&1 \
  || { cat "$dir/good.out"; fail "pinned GET failed"; }
cat "$dir/good.out"
grep -q "^HTTP 200 from $url\$" "$dir/good.out" || fail "no HTTP 200 line"
grep -qF "matched pin $inter at depth 1 for localhost" "$dir/good.out" || fail "matched pin not printed"

rc=0
"$bin" "$url" "$dir/bad.json" "$pki/root.pem" >"$dir/bad.out" 2>&1 || rc=$?
cat "$dir/bad.out"
[ "$rc" -eq 1 ] || fail "mismatch exited $rc, expected 1"
grep -q "^refused (100): " "$dir/bad.out" || fail "no PIN_MISMATCH refusal"
grep -qF "Certificate pinning failure!" "$dir/bad.out" || fail "no failure detail"
grep -qF "$backup" "$dir/bad.out" || fail "policy pins not in the detail"
grep -qF "$inter" "$dir/bad.out" || fail "path pins not in the detail"

rc=0
"$bin" "$url" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "usage error exited $rc, expected 2"
echo "swift sample: pinned GET and refusal as expected"
