#!/usr/bin/env bash
# Builds libcurl on wolfSSL from Debian's curl source package (Debian's patches included)
# and installs it into PREFIX. Does nothing when PREFIX already holds a finished build.
#
#   tools/build-curl-wolfssl.sh PREFIX
#
# Needs: dpkg-dev, a deb-src line (tools/install-deps.sh adds one), libwolfssl-dev.
set -euo pipefail

prefix=${1:?usage: build-curl-wolfssl.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
stamp="$prefix/.pincurl-curl-built"
if [ -f "$stamp" ] && [ -f "$prefix/lib/libcurl.so" ]; then
  exit 0
fi

work="$prefix/src"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

if ! apt-get source --download-only curl >apt-source.log 2>&1; then
  cat apt-source.log >&2
  echo "build-curl-wolfssl: cannot fetch Debian's curl source; run tools/install-deps.sh as root" >&2
  exit 1
fi
dsc=$(ls curl_*.dsc | head -n 1)
dpkg-source --no-check -x "$dsc" curl-src >/dev/null
cd curl-src

# Debian's patch series is applied by dpkg-source; configure ships in the tarball.
[ -x configure ] || autoreconf -fi >/dev/null
./configure --prefix="$prefix" \
  --with-wolfssl --without-openssl --without-gnutls \
  --without-libpsl --without-nghttp2 --without-nghttp3 --without-ngtcp2 \
  --without-libidn2 --without-librtmp --without-libssh --without-libssh2 \
  --without-brotli --without-zstd --without-gssapi \
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
  --disable-tftp --disable-pop3 --disable-imap --disable-smtp --disable-gopher \
  --disable-mqtt --disable-smb --disable-manual --disable-docs \
  --enable-shared --enable-static >configure.log 2>&1 || { tail -40 configure.log >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
make install >install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
"$prefix/bin/curl-config" --ssl-backends
touch "$stamp"
