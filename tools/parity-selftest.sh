#!/usr/bin/env bash
# ctest bindings.parity_selftest: tools/parity.py fails for what a change could leave
# unaccounted for. On a copy of the headers, the bindings' sources and the table: a new
# public function, a place that does not exist, a new status, a new event kind; each must
# be named in parity.py's complaints. The unchanged copy must pass.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/bindings/java" "$t/bindings/swift/Pincurl" "$t/tools"
cp -R "$src/include" "$t/"
cp -R "$src/bindings/java/src" "$src/bindings/java/pincurl.i" "$src/bindings/java/cmake" \
      "$src/bindings/java/CMakeLists.txt" "$t/bindings/java/"
cp -R "$src/bindings/swift/Pincurl/Sources" "$t/bindings/swift/Pincurl/"
cp "$src/bindings/parity.tsv" "$t/bindings/"
python3 "$src/tools/parity.py" "$t" >/dev/null 2>"$t/ok.err" || { cat "$t/ok.err"; exit 1; }

sed -i 's|^PINCURL_API void pincurl_thread_cleanup(void);|&\nPINCURL_API int pincurl_new_thing(int x);|' \
  "$t/include/pincurl/client.h"
sed -i 's/^pincurl_client_tls_backend\tClient#tlsBackend\t/pincurl_client_tls_backend\tClient#tlsBackendGone\t/' \
  "$t/bindings/parity.tsv"
sed -i 's/^PINCURL_STATUS(PROXY, *116, \(.*\))$/&\nPINCURL_STATUS(NEW_ONE, 117, "new")/' \
  "$t/include/pincurl/status_list.h"
sed -i 's/PINCURL_EVENT_REPORT_SET_ASIDE = 11$/PINCURL_EVENT_REPORT_SET_ASIDE = 11,\n    PINCURL_EVENT_NEW_KIND = 12/' \
  "$t/include/pincurl/events.h"
if python3 "$src/tools/parity.py" "$t" >/dev/null 2>"$t/bad.err"; then
  echo "parity-selftest: parity.py passed a tree with unaccounted changes" >&2; exit 1
fi
for want in "pincurl_new_thing: a public C function neither binding accounts for" \
            "Client#tlsBackendGone" "status NEW_ONE = 117" "event kind NEW_KIND = 12: not in Java" \
            "event kind NEW_KIND = 12: not in Swift"; do
  grep -qF "$want" "$t/bad.err" || { cat "$t/bad.err"; echo "parity-selftest: no complaint about $want" >&2; exit 1; }
done
echo "parity-selftest: every unaccounted change was named"
