#!/usr/bin/env bash
# A library never runs on a TLS backend it was not built for.
#   test_backend.sh SHIM CLI FLAVOUR
# With SHIM preloaded, curl_version_info() names another TLS library. The "system"
# flavour (the distribution's libcurl, called through the dynamic linker) must notice and
# refuse every request with BACKEND_UNSUPPORTED, and `pincurl --version` must say so; the
# "bundled" flavour's libcurl is inside libpincurl and cannot be replaced: nothing changes.
set -euo pipefail
shim=${1:?}; cli=${2:?}; flavour=${3:?}
pki=${PINCURL_TEST_PKI:?}
fail() { echo "backend: $*" >&2; exit 1; }

plain=$("$cli" --version)
echo "$plain"
echo "$plain" | grep -q "^Backend: [a-z]* (built for" || fail "no backend line"
echo "$plain" | grep -q "every request is refused" && fail "the real libcurl is refused"

faked=$(PINCURL_FAKE_SSL_VERSION="GnuTLS/3.7.9" LD_PRELOAD="$shim" "$cli" --version)
echo "$faked"
policy="$pki/../backend-policy.json"
inter=$(awk '$1 == "inter" {print $2}' "$pki/pins.txt")
backup=$(awk '$1 == "leaf-backup" {print $2}' "$pki/pins.txt")
printf '{"pincurl_policy":1,"domains":{"localhost":{"pins":["%s","%s"]}}}\n' "$inter" "$backup" \
  >"$policy"
set +e
out=$(PINCURL_FAKE_SSL_VERSION="GnuTLS/3.7.9" LD_PRELOAD="$shim" \
      "$cli" --policy "$policy" --cacert "$pki/root.pem" -s -S https://localhost:1/ 2>&1)
rc=$?
set -e
echo "request under the shim: exit $rc: $out"
case "$flavour" in
  system)
    echo "$faked" | grep -q "GnuTLS/3.7.9" || fail "the shim did not take effect"
    echo "$faked" | grep -q "every request is refused (BACKEND_UNSUPPORTED)" ||
      fail "--version does not say the backend is not the one built for"
    [ "$rc" -ne 0 ] || fail "a request ran on the wrong backend"
    echo "$out" | grep -q "BACKEND_UNSUPPORTED" || fail "the refusal does not name BACKEND_UNSUPPORTED"
    ;;
  bundled)
    [ "$faked" = "$plain" ] || fail "the bundled libcurl was replaced from outside"
    echo "$out" | grep -q "BACKEND_UNSUPPORTED" && fail "the bundled library was refused"
    ;;
esac
echo "backend: ok ($flavour)"
