#!/usr/bin/env bash
# Writes policy documents from the test PKI's pins (pins.txt, computed by openssl) and
# compiles each into C with the built tool: `pincurl policy compile`.
#   make_policies.sh PINCURL_TOOL PKI_DIR OUT_DIR
# fw_policy_pinned: localhost pinned to leaf-ec and inter (the served chain), expiring
#                   2030-01-01 with on_expiry block, one report URI;
# fw_policy_other:  localhost pinned to keys the server does not have (rogue-leaf, rogue-root);
# fw_policy_domain: localhost pinned to leaf-ec and inter with an expiry of its own,
#                   2029-01-01, on_expiry block (the policy has none).
set -euo pipefail
tool=$1 pki=$2 out=$3
pin() { awk -v n="$1" '$1 == n { print $2 }' "$pki/pins.txt"; }
mkdir -p "$out"
for name in leaf-ec inter rogue-leaf rogue-root; do
  [ -n "$(pin "$name")" ] || { echo "make_policies.sh: no pin for $name in $pki/pins.txt" >&2; exit 1; }
done
cat > "$out/pinned.json" <<JSON
{
  "pincurl_policy": 1,
  "expires": "2030-01-01",
  "on_expiry": "block",
  "report_uris": ["https://127.0.0.1:9/pin-report"],
  "domains": {
    "localhost": { "enforce": true, "pins": ["$(pin leaf-ec)", "$(pin inter)"] },
    "other.localhost": { "enforce": true, "pins": ["$(pin rogue-leaf)", "$(pin inter)"] }
  }
}
JSON
cat > "$out/other.json" <<JSON
{
  "pincurl_policy": 1,
  "domains": {
    "localhost": { "enforce": true, "pins": ["$(pin rogue-leaf)", "$(pin rogue-root)"] }
  }
}
JSON
cat > "$out/domain.json" <<JSON
{
  "pincurl_policy": 1,
  "domains": {
    "localhost": { "enforce": true, "pins": ["$(pin leaf-ec)", "$(pin inter)"],
                   "expires": "2029-01-01", "on_expiry": "block" }
  }
}
JSON
"$tool" policy compile "$out/pinned.json" --name fw_policy_pinned -o "$out/fw_policy_pinned.c"
"$tool" policy compile "$out/other.json" --name fw_policy_other -o "$out/fw_policy_other.c"
"$tool" policy compile "$out/domain.json" --name fw_policy_domain -o "$out/fw_policy_domain.c"
