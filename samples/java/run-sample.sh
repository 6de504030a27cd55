#!/usr/bin/env bash
# Runs samples/java/PinnedGet against a loopback server of the test PKI: once with a policy
# pinning the genuine intermediate (must print the matched pin), once with foreign pins
# (must be refused with PIN_MISMATCH and print the detail).
#   run-sample.sh JAVA CLASSPATH     (env: PINCURL_TEST_PKI, PINCURL_SOURCE_DIR)
# The JNI library is found next to pincurl.jar on the class path.
set -euo pipefail
java=${1:?java} cp=${2:?classpath}
pki=${PINCURL_TEST_PKI:?} src=${PINCURL_SOURCE_DIR:?} py=${PINCURL_PYTHON:-python3}
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$py" "$src/tests/servers/tls_server.py" --cert "$pki/leaf-ec-chain.pem" --key "$pki/leaf-ec.key" \
  --port 0 --port-file "$work/port" --log "$work/log" --name sample --parent-pid $$ --lifetime 120 &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64; }
policy() { # pin-a pin-b
  printf '{"pincurl_policy": 1, "expires": "2099-12-31", "on_expiry": "block",\n "domains": {"localhost": {"enforce": true, "pins": ["sha256/%s", "sha256/%s"]}}}\n' "$1" "$2"
}
inter=$(pin "$pki/inter.pem")
policy "$inter" "$(pin "$pki/root.pem")" > "$work/good.json"
policy "$(pin "$pki/p256.pem")" "$(pin "$pki/p384.pem")" > "$work/foreign.json"

run() {
  "$java" -Xcheck:jni -cp "$cp" PinnedGet "$1" "https://localhost:$port/" \
    --ca "$pki/root.pem" --resolve "localhost:$port:127.0.0.1"
}
out=$(run "$work/good.json")
echo "$out"
grep -q "^HTTP 200 " <<<"$out"
grep -qF "matched pin: sha256/$inter" <<<"$out"

set +e
out=$(run "$work/foreign.json")
rc=$?
set -e
echo "$out"
[ "$rc" -eq 1 ] || { echo "expected exit status 1, got $rc"; exit 1; }
grep -q "^refused: PIN_MISMATCH" <<<"$out"
grep -q "localhost" <<<"$out"
grep -qF "sha256/$inter" <<<"$out"   # the detail lists the path's pins
echo "java sample: ok"
