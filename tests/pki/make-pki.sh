#!/usr/bin/env bash
# Generates the test PKI into OUTDIR (fresh keys every run; nothing is checked in).
#
#   tests/pki/make-pki.sh OUTDIR
#
# Genuine hierarchy:  root (RSA 2048) -> inter (EC P-256) -> leaves for localhost,
#                     127.0.0.1 and ::1: leaf-ec (P-256), leaf-rsa (RSA 2048),
#                     leaf-backup (the backup key, P-256), leaf-expired, leaf-otherhost,
#                     leaf-soon (expires in 7 days).
# Rogue hierarchy:    rogue-root (P-256) -> rogue-leaf (localhost).
# Key zoo (self-signed certificates, for SPKI tests): rsa2048 rsa3072 rsa4096 p256 p384
#                     p521 ed25519 ed448; plus the pins file pins.txt for each cert above.
# Chains:             leaf-ec-chain.pem (leaf, inter), leaf-ec-fullchain.pem (+root),
#                     padded-chain.pem (rogue-leaf, inter, root), cas.pem (root + rogue-root).
set -euo pipefail
out=${1:?usage: make-pki.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
rm -f ./*.pem ./*.der ./*.key ./*.csr ./*.srl pins.txt index.txt* serial* ./*.cnf
rm -rf newcerts

# Addresses are iPAddress entries only, as in real certificates (no DNS entry spelling an
# address).
san="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

key() { # name algorithm-args...
  local name=$1; shift
  openssl genpkey -quiet "$@" -out "$name.key" 2>/dev/null || openssl genpkey "$@" -out "$name.key" 2>/dev/null
}
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash"
leaf_ext() {
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n%s\n' "$1"
}

selfsigned() { # name cn
  openssl req -new -x509 -key "$1.key" -subj "/O=pincurl test/CN=$2" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem" 2>/dev/null
}
sign() { # name issuer cn ext-text [days]
  local name=$1 issuer=$2 cn=$3 ext=$4 days=${5:-825}
  openssl req -new -key "$name.key" -subj "/O=pincurl test/CN=$cn" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.ext"
}

# Genuine hierarchy
key root -algorithm RSA -pkeyopt rsa_keygen_bits:2048
selfsigned root "pincurl test root"
key inter -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign inter root "pincurl test intermediate" "$ca_ext
authorityKeyIdentifier=keyid" 1825
key leaf-ec -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign leaf-ec inter localhost "$(leaf_ext "$san")"
key leaf-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
sign leaf-rsa inter localhost "$(leaf_ext "$san")"
key leaf-backup -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign leaf-backup inter localhost "$(leaf_ext "$san")"
# A leaf that expires in 7 days (the expiry warning window is 14).
key leaf-soon -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign leaf-soon inter localhost "$(leaf_ext "$san")" 7
key leaf-otherhost -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign leaf-otherhost inter other.example "$(leaf_ext "subjectAltName=DNS:other.example")"

# An expired leaf: validity in the past, through `openssl ca`, which takes explicit dates.
key leaf-expired -algorithm EC -pkeyopt ec_paramgen_curve:P-256
openssl req -new -key leaf-expired.key -subj "/O=pincurl test/CN=localhost" -out leaf-expired.csr 2>/dev/null
mkdir -p newcerts; : > index.txt; echo 1000 > serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[ any ]
organizationName = optional
commonName = supplied
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
$san
CNF
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -in leaf-expired.csr \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions leaf -notext \
  -out leaf-expired.pem 2>/dev/null
rm -rf newcerts index.txt* serial* ca.cnf

# Rogue hierarchy (an interception CA the client may be tricked into trusting)
key rogue-root -algorithm EC -pkeyopt ec_paramgen_curve:P-256
selfsigned rogue-root "rogue root"
key rogue-leaf -algorithm EC -pkeyopt ec_paramgen_curve:P-256
sign rogue-leaf rogue-root localhost "$(leaf_ext "$san")"

# Key zoo
key rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
key rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
key p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key p521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
key ed25519 -algorithm ED25519
key ed448 -algorithm ED448
for k in rsa2048 rsa3072 rsa4096 p256 p384 p521 ed25519 ed448; do
  selfsigned "$k" "zoo $k"
  openssl x509 -in "$k.pem" -outform der -out "$k.der"
  openssl pkey -in "$k.key" -pubout -out "$k.pub.pem"
  openssl pkey -in "$k.key" -pubout -outform der -out "$k.pub.der"
done
openssl rsa -in rsa2048.key -RSAPublicKey_out -out rsa2048.pkcs1.pem 2>/dev/null

# Chains and bundles
cat leaf-ec.pem inter.pem > leaf-ec-chain.pem
cat leaf-ec.pem inter.pem root.pem > leaf-ec-fullchain.pem
cat leaf-rsa.pem inter.pem > leaf-rsa-chain.pem
cat leaf-backup.pem inter.pem > leaf-backup-chain.pem
cat leaf-soon.pem inter.pem > leaf-soon-chain.pem
cat leaf-expired.pem inter.pem > leaf-expired-chain.pem
cat leaf-otherhost.pem inter.pem > leaf-otherhost-chain.pem
cat rogue-leaf.pem inter.pem root.pem > padded-chain.pem
cat root.pem rogue-root.pem > cas.pem
for c in root inter leaf-ec; do openssl x509 -in "$c.pem" -outform der -out "$c.der"; done

# Reference pins, computed by openssl (the pipeline users run), one "name pin" per line.
for c in *.pem; do
  case "$c" in *chain.pem|cas.pem|*.pub.pem|*.pkcs1.pem) continue ;; esac
  pin=$(openssl x509 -in "$c" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64)
  printf '%s sha256/%s\n' "${c%.pem}" "$pin" >> pins.txt
done
rm -f ./*.csr ./*.srl
echo "pki: $(ls | wc -l) files in $out"
# The adversary's certificates (adv-*), made from the hierarchy above.
bash "$here/make-adversary.sh" "$out"
