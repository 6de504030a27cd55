#!/usr/bin/env bash
# Generates the adversary's certificates into OUTDIR, next to the test PKI that
# make-pki.sh made there (it reads root, inter and their keys). Fresh keys every run.
#
#   tests/pki/make-adversary.sh OUTDIR
#
# Every file is named adv-*. The attacker controls a root the device trusts (an
# interception root) and knows the genuine certificates and public keys, never their
# private keys.
#
# Lookalike root (R'):  adv-lookalike-root copies the pinned root's subject DN; its SKID is
#   chosen so that wolfSSL's CA table (row = first four SKID bytes mod 11, in 5.5.4 and
#   5.7.2 alike; a name lookup walks rows 0..10, each newest first) lists it after the
#   genuine root. adv-lookalike-leaf (localhost) is issued by R' with no AKID and R''s SKID
#   as its own; adv-lookalike-leaf-akid has an AKID naming R'. Trust: adv-lookalike-cas.pem
#   (R' first, then the genuine root), adv-lookalike-only.pem (R' alone).
# Lookalike intermediate (R''): adv-lookalike-inter-root copies the intermediate's DN
#   (self-signed, trusted); adv-lookalike-inter-leaf[-akid] is issued by it; the chains
#   adv-lookalike-inter-chain.pem / -akid-chain.pem pad the genuine intermediate in. Trust:
#   adv-lookalike-inter-cas.pem (R'', then the genuine root).
# Same name, other key: adv-samename-root (the root's DN, a new key); trust
#   adv-samename-cas.pem (only it); the server sends the genuine full chain.
# Self-issued, not self-signed: adv-selfissued (subject = issuer = the root's DN, carrying
#   the genuine root's public key, signed by R'); served as adv-selfissued-chain.pem
#   (adv-lookalike-leaf, adv-selfissued) to a client trusting adv-lookalike-only.pem.
# Cross-signed roots: adv-xroot-a, adv-xroot-b (self-signed), adv-xroot-b-by-a (B's name
#   and key, issued by A), adv-xinter (issued by B), adv-xleaf (localhost, by adv-xinter);
#   adv-xleaf-chain.pem = xleaf, xinter, xroot-b-by-a; trust adv-xroots.pem (A and B) or
#   adv-xroot-a-only.pem (A alone).
# Issuers that may not sign: adv-under-leaf (issued by the genuine leaf, CA:FALSE; chain
#   adv-under-leaf-chain.pem), adv-ku-leaf under adv-ku-ca (CA:TRUE, keyUsage without
#   keyCertSign; chain adv-ku-leaf-chain.pem).
# Pins of every adv-*.pem certificate are appended to pins.txt.
set -euo pipefail
out=${1:?usage: make-adversary.sh OUTDIR}
cd "$out"
for f in root.pem root.key inter.pem inter.key; do
  [ -f "$f" ] || { echo "make-adversary.sh: $out/$f missing (run make-pki.sh first)" >&2; exit 1; }
done
rm -f adv-*

san="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
root_dn="/O=pincurl test/CN=pincurl test root"
inter_dn="/O=pincurl test/CN=pincurl test intermediate"

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# The SKID of a certificate as 40 hex digits.
skid_of() {
  openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :\n' | tr 'A-F' 'a-f'
}
# wolfSSL's CA table row of a SKID (hex): first four bytes, big endian, mod 11.
row_of() { echo $(( 0x${1:0:8} % 11 )); }
# A random 20-byte SKID whose row is $1, as colon-separated hex.
skid_for_row() {
  local target=$1 hex v
  hex=$(openssl rand -hex 20)
  v=$(( 0x${hex:0:8} ))
  v=$(( (v / 11) * 11 + target ))
  if [ "$v" -gt 4294967295 ]; then v=$(( v - 11 )); fi
  hex=$(printf '%08x' "$v")${hex:8}
  echo "$hex" | sed 's/../&:/g; s/:$//'
}
colon() { echo "$1" | sed 's/../&:/g; s/:$//'; }

# mk NAME SUBJECT KEY ISSUER(self|name) EXT [extra x509 args...]
mk() {
  local name=$1 subj=$2 key=$3 issuer=$4 ext=$5
  shift 5
  openssl req -new -key "$key.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  if [ "$issuer" = self ]; then
    openssl x509 -req -in "$name.csr" -signkey "$key.key" -days 825 -sha256 \
      -extfile "$name.ext" "$@" -out "$name.pem" 2>/dev/null
  else
    openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days 825 -sha256 -extfile "$name.ext" "$@" \
      -out "$name.pem" 2>/dev/null
  fi
  rm -f "$name.csr" "$name.ext"
}
ca_ext() { # skid akid-line
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=%s\n%s\n' "$1" "$2"
}
leaf_ext() { # skid akid-line
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=%s\n%s\n%s\n' "$1" "$2" "$san"
}

# ---- lookalike root -----------------------------------------------------------------
# R' goes to row 10, the last one a name lookup visits. Should the genuine root be in
# row 10 too, R' still comes after it: the trust file lists R' first, and a row is
# searched newest first.
root_row=$(row_of "$(skid_of root.pem)")
rp_skid=$(skid_for_row 10)
ec_key adv-lookalike-root
mk adv-lookalike-root "$root_dn" adv-lookalike-root self "$(ca_ext "$rp_skid" authorityKeyIdentifier=none)"
ec_key adv-lookalike-leaf
mk adv-lookalike-leaf /CN=localhost adv-lookalike-leaf adv-lookalike-root \
  "$(leaf_ext "$rp_skid" authorityKeyIdentifier=none)"
mk adv-lookalike-leaf-akid /CN=localhost adv-lookalike-leaf adv-lookalike-root \
  "$(leaf_ext "$rp_skid" authorityKeyIdentifier=keyid:always)"
cat adv-lookalike-root.pem root.pem > adv-lookalike-cas.pem
cp adv-lookalike-root.pem adv-lookalike-only.pem

# ---- lookalike intermediate ---------------------------------------------------------
rpp_skid=$(skid_for_row 10)
ec_key adv-lookalike-inter-root
mk adv-lookalike-inter-root "$inter_dn" adv-lookalike-inter-root self \
  "$(ca_ext "$rpp_skid" authorityKeyIdentifier=none)"
ec_key adv-lookalike-inter-leaf
mk adv-lookalike-inter-leaf /CN=localhost adv-lookalike-inter-leaf adv-lookalike-inter-root \
  "$(leaf_ext "$rpp_skid" authorityKeyIdentifier=none)"
mk adv-lookalike-inter-leaf-akid /CN=localhost adv-lookalike-inter-leaf adv-lookalike-inter-root \
  "$(leaf_ext "$rpp_skid" authorityKeyIdentifier=keyid:always)"
cat adv-lookalike-inter-leaf.pem inter.pem > adv-lookalike-inter-chain.pem
cat adv-lookalike-inter-leaf-akid.pem inter.pem > adv-lookalike-inter-akid-chain.pem
cat adv-lookalike-inter-root.pem root.pem > adv-lookalike-inter-cas.pem

# ---- same name, other key -----------------------------------------------------------
ec_key adv-samename-root
mk adv-samename-root "$root_dn" adv-samename-root self \
  "$(ca_ext hash authorityKeyIdentifier=keyid:always)"
cp adv-samename-root.pem adv-samename-cas.pem

# ---- self-issued, not self-signed ---------------------------------------------------
# The genuine root's public key under the root's name, signed by R'. Row 0: a name lookup
# meets it before R'.
openssl x509 -in root.pem -noout -pubkey > adv-root-pub.pem
ec_key adv-selfissued-req
mk adv-selfissued "$root_dn" adv-selfissued-req adv-lookalike-root \
  "$(ca_ext "$(skid_for_row 0)" authorityKeyIdentifier=keyid:always)" -force_pubkey adv-root-pub.pem
rm -f adv-selfissued-req.key adv-root-pub.pem
cat adv-lookalike-leaf.pem adv-selfissued.pem > adv-selfissued-chain.pem

# ---- cross-signed roots -------------------------------------------------------------
ec_key adv-xroot-a
mk adv-xroot-a "/O=pincurl test/CN=pincurl cross root A" adv-xroot-a self \
  "$(ca_ext hash authorityKeyIdentifier=none)"
ec_key adv-xroot-b
mk adv-xroot-b "/O=pincurl test/CN=pincurl cross root B" adv-xroot-b self \
  "$(ca_ext hash authorityKeyIdentifier=none)"
# B's name and key, issued by A.
openssl req -new -key adv-xroot-b.key -subj "/O=pincurl test/CN=pincurl cross root B" \
  -out adv-xroot-b-by-a.csr 2>/dev/null
ca_ext hash authorityKeyIdentifier=keyid:always > adv-xroot-b-by-a.ext
openssl x509 -req -in adv-xroot-b-by-a.csr -CA adv-xroot-a.pem -CAkey adv-xroot-a.key \
  -set_serial "0x$(openssl rand -hex 8)" -days 825 -sha256 -extfile adv-xroot-b-by-a.ext \
  -out adv-xroot-b-by-a.pem 2>/dev/null
rm -f adv-xroot-b-by-a.csr adv-xroot-b-by-a.ext
ec_key adv-xinter
mk adv-xinter "/O=pincurl test/CN=pincurl cross intermediate" adv-xinter adv-xroot-b \
  "$(ca_ext hash authorityKeyIdentifier=keyid:always)"
ec_key adv-xleaf
mk adv-xleaf /CN=localhost adv-xleaf adv-xinter "$(leaf_ext hash authorityKeyIdentifier=keyid:always)"
cat adv-xleaf.pem adv-xinter.pem adv-xroot-b-by-a.pem > adv-xleaf-chain.pem
cat adv-xroot-a.pem adv-xroot-b.pem > adv-xroots.pem
cp adv-xroot-a.pem adv-xroot-a-only.pem

# ---- issuers that may not sign ------------------------------------------------------
# adv-under-leaf: issued by the genuine localhost leaf (CA:FALSE); adv-ku-ca: CA:TRUE under
# the root but keyUsage without keyCertSign, and adv-ku-leaf under it.
ec_key adv-under-leaf
mk adv-under-leaf /CN=localhost adv-under-leaf leaf-ec "$(leaf_ext hash authorityKeyIdentifier=keyid:always)"
cat adv-under-leaf.pem leaf-ec.pem inter.pem > adv-under-leaf-chain.pem
ec_key adv-ku-ca
mk adv-ku-ca "/O=pincurl test/CN=pincurl no keyCertSign CA" adv-ku-ca root \
  "$(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n')"
ec_key adv-ku-leaf
mk adv-ku-leaf /CN=localhost adv-ku-leaf adv-ku-ca "$(leaf_ext hash authorityKeyIdentifier=keyid:always)"
cat adv-ku-leaf.pem adv-ku-ca.pem > adv-ku-leaf-chain.pem

# ---- checks: each construction is what it claims to be ------------------------------
same_subject() {
  [ "$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253)" = \
    "$(openssl x509 -in "$2" -noout -subject -nameopt RFC2253)" ]
}
same_subject adv-lookalike-root.pem root.pem
same_subject adv-lookalike-inter-root.pem inter.pem
same_subject adv-samename-root.pem root.pem
same_subject adv-selfissued.pem root.pem
[ "$(row_of "$(skid_of adv-lookalike-root.pem)")" = 10 ]
[ "$(skid_of adv-lookalike-leaf.pem)" = "$(skid_of adv-lookalike-root.pem)" ]
! openssl x509 -in adv-lookalike-leaf.pem -noout -ext authorityKeyIdentifier 2>/dev/null | grep -q keyid
cmp -s <(openssl x509 -in adv-selfissued.pem -noout -pubkey) <(openssl x509 -in root.pem -noout -pubkey)
openssl verify -CAfile adv-lookalike-root.pem adv-lookalike-leaf.pem >/dev/null
openssl verify -CAfile adv-lookalike-root.pem adv-selfissued.pem >/dev/null
# self-issued but not self-signed: its own key does not verify it
! openssl verify -CAfile adv-selfissued.pem adv-selfissued.pem >/dev/null 2>&1
openssl verify -CAfile adv-xroots.pem -untrusted adv-xinter.pem adv-xleaf.pem >/dev/null
openssl verify -CAfile adv-xroot-a-only.pem -untrusted <(cat adv-xinter.pem adv-xroot-b-by-a.pem) \
  adv-xleaf.pem >/dev/null
echo "adversary: genuine root in row $root_row; R' in row 10" > adv-rows.txt

for c in adv-*.pem; do
  case "$c" in *chain.pem|*cas.pem|*-only.pem|adv-xroots.pem) continue ;; esac
  pin=$(openssl x509 -in "$c" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64)
  printf '%s sha256/%s\n' "${c%.pem}" "$pin" >> pins.txt
done
echo "adversary: $(ls adv-* | wc -l) files in $out"
