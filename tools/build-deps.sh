#!/usr/bin/env bash
# Builds pincurl's TLS stack from Debian 13 (trixie) source packages, Debian's patches
# included: wolfSSL with the project's own configuration, nghttp2 (the library only) and
# libcurl on both, as static, position-independent archives that libpincurl links in and
# hides (docs/backends.md, "The bundled stack").
#
#   tools/build-deps.sh [--host TRIPLET] [--print-prefix]
#
# --host TRIPLET    cross-build for TRIPLET (aarch64-linux-gnu, arm-linux-gnueabihf, ...)
#                   with TRIPLET-gcc; default: the build machine.
# Environment: PINCURL_DEPS_CACHE (the cache), PINCURL_DEPS_CC (the compiler; default gcc,
# or TRIPLET-gcc with --host), PINCURL_DEPS_CFLAGS (added to every component's CFLAGS),
# AR and RANLIB (passed to configure).
# --print-prefix    print the install prefix the current versions and flags map to (and
#                   whether it is complete) without building anything.
#
# The result lands in $PINCURL_DEPS_CACHE/<triplet>-<key> (default cache:
# ${XDG_CACHE_HOME:-$HOME/.cache}/pincurl-deps), where <key> is a hash of the package
# versions, this script's configuration and the compiler. A finished prefix is reused; a
# missing or unfinished one is rebuilt. The last line printed is the prefix.
#
# Sources come through apt from Debian's mirror: a private apt configuration (deb-src for
# trixie and trixie-security) leaves the system's apt configuration alone. apt checks the
# downloaded files against the signed Sources index. The versions below are tried first;
# when the mirror no longer holds one, the newest revision of the same upstream version
# that it does hold is taken (and goes into the key).
set -euo pipefail

WOLFSSL_UPSTREAM=5.7.2
WOLFSSL_VERSIONS="5.7.2-0.1+deb13u2"
CURL_UPSTREAM=8.14.1
CURL_VERSIONS="8.14.1-2+deb13u7 8.14.1-2+deb13u5"
NGHTTP2_UPSTREAM=1.64.0
NGHTTP2_VERSIONS="1.64.0-1.1+deb13u2 1.64.0-1.1+deb13u1"

host=""
print_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=${2:?--host needs a triplet}; shift 2 ;;
    --print-prefix) print_only=1; shift ;;
    *) echo "build-deps: unknown argument $1" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
cache=${PINCURL_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pincurl-deps}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
jobs=$(nproc)

if [ -n "$host" ]; then
  # Debian's cross compiler by default; another toolchain (the Android NDK's clang, Apple's)
  # through PINCURL_DEPS_CC, with AR and RANLIB in the environment (docs/android.md)
  cc=${PINCURL_DEPS_CC:-$host-gcc}
  triplet=$host
  command -v "${cc%% *}" >/dev/null || {
    echo "build-deps: $cc not found (apt-get install gcc-$host, see tools/cross-build.sh)" >&2
    exit 1
  }
else
  # gcc whatever CC says: the archives have a C ABI that any compiler links, and one
  # compiler means one cached build for every flavour (PINCURL_DEPS_CC overrides)
  cc=${PINCURL_DEPS_CC:-gcc}
  triplet=$($cc -dumpmachine)
fi

# --- The configuration (part of the key) ------------------------------------------------
# wolfSSL: what libcurl and pincurl use, nothing more. No fpecc (a per-thread ECC cache
# that is never freed when a thread ends), OpenSSL compatibility (curl's BIO chain, the X509
# store, verify callbacks on every certificate) with --enable-opensslall (only that has
# wolfSSL_BIO_set_shutdown and wolfSSL_BIO_clear_retry_flags; without them libcurl's BIO
# keeps a read-retry flag, and a peer that closes during the handshake is read again and
# again until the timeout), ex data with cleanup hooks, the signer's
# DER kept (trust anchors as certificates), IP address SANs, alternate chains, TLS 1.3
# with tickets, SNI and ALPN, RSA-PSS, Ed25519/Ed448, the session's peer chain.
wolfssl_conf=(--enable-static --disable-shared --with-pic
  --disable-examples --disable-crypttests --disable-benchmark --disable-jobserver
  --enable-tls13 --enable-session-ticket --enable-sni --enable-alpn
  --enable-supportedcurves --enable-ecc --disable-fpecc --enable-rsapss
  --enable-ed25519 --enable-curve25519 --enable-ed448 --enable-curve448
  --enable-opensslextra --enable-opensslall --enable-sessioncerts
  --enable-ip-alt-name --enable-altcertchains --disable-oldtls --disable-sslv3
  --disable-md5 --enable-sha512 --enable-sha384 --enable-base64encode)
wolfssl_cflags="-DHAVE_EX_DATA -DHAVE_EX_DATA_CLEANUP_HOOKS -DWOLFSSL_SIGNER_DER_CERT -DKEEP_PEER_CERT -DWOLFSSL_ALWAYS_VERIFY_CB -DWOLFSSL_VERIFY_CB_ALL_CERTS -DWOLFSSL_SMALL_CERT_VERIFY"
nghttp2_conf=(--enable-static --disable-shared --with-pic --enable-lib-only
  --disable-python-bindings --disable-examples --disable-hpack-tools --disable-app)
# libcurl: HTTP and HTTPS only, on wolfSSL, HTTP/2 through nghttp2, zlib for gzip/deflate.
curl_conf=(--enable-static --disable-shared --with-pic
  --without-openssl --without-gnutls --without-mbedtls --without-rustls
  --without-libpsl --without-libidn2 --without-librtmp --without-libssh --without-libssh2
  --without-brotli --without-zstd --without-gssapi --without-nghttp3 --without-ngtcp2
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet
  --disable-tftp --disable-pop3 --disable-imap --disable-smtp --disable-gopher
  --disable-mqtt --disable-smb --disable-ftp --disable-file --disable-ipfs
  --disable-ntlm --disable-kerberos-auth --disable-negotiate-auth --disable-aws
  --disable-manual --disable-docs --disable-libcurl-option --disable-websockets
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path)

# A 32-bit target gets 64-bit file offsets and time_t, as pincurl itself (CMakeLists.txt):
# readdir() and stat() would otherwise fail on a file system with 64-bit inode numbers (a
# CA directory could not be read), and times after 2038 could not be represented.
if printf '' | $cc -dM -E - 2>/dev/null | grep -q '__SIZEOF_POINTER__ 4'; then
  PINCURL_DEPS_CFLAGS="-D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64${PINCURL_DEPS_CFLAGS:+ $PINCURL_DEPS_CFLAGS}"
fi
cc_version="$($cc -dumpmachine) $($cc --version | head -n 1 | cut -d' ' -f2-)${PINCURL_DEPS_CFLAGS:+ $PINCURL_DEPS_CFLAGS}"
key=$( { echo "layout 2"
         echo "wolfssl $WOLFSSL_VERSIONS ${wolfssl_conf[*]} $wolfssl_cflags"
         echo "nghttp2 $NGHTTP2_VERSIONS ${nghttp2_conf[*]}"
         echo "curl $CURL_VERSIONS ${curl_conf[*]}"
         echo "cc $cc_version"; } | sha256sum | cut -c1-12)
prefix="$cache/$triplet-$key"
stamp="$prefix/.pincurl-deps-built"

if [ "$print_only" -eq 1 ]; then
  if [ -f "$stamp" ]; then echo "complete $prefix"; else echo "absent $prefix"; fi
  exit 0
fi
if [ -f "$stamp" ]; then
  echo "$prefix"
  exit 0
fi

log() { echo "build-deps: $*" >&2; }
run() { # logfile command...: output only when it fails
  local out=$1; shift
  if ! "$@" >"$out" 2>&1; then
    tail -n 60 "$out" >&2
    log "failed: $* (log: $out)"
    exit 1
  fi
}

# --- Sources --------------------------------------------------------------------------
src="$cache/src"
mkdir -p "$src"
apt_dir="$cache/apt"
fetch_sources() { # package versions...: unpacks the first version the mirror holds into $src
  local pkg=$1; shift
  local upstream=$1; shift
  local dir="$src/$pkg-$upstream"
  if [ -f "$dir/.pincurl-unpacked" ]; then
    echo "$dir"
    return 0
  fi
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts" "$apt_dir/archives/partial"
  cat >"$apt_dir/parts/trixie.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/parts"
                 -o "Dir::State::Lists=$apt_dir/lists" -o APT::Sandbox::User=root)
  if [ ! -f "$apt_dir/lists/.updated" ]; then
    run "$apt_dir/update.log" apt-get "${aptopts[@]}" update
    touch "$apt_dir/lists/.updated"
  fi
  # the pinned revisions first, then whatever else the index lists for this upstream
  local listed
  listed=$(apt-cache "${aptopts[@]}" showsrc "$pkg" 2>/dev/null |
           awk '/^Version:/ {print $2}' | grep "^$upstream-" | sort -rV | uniq || true)
  local work="$src/dl-$pkg"
  rm -rf "$work"; mkdir -p "$work"
  local got=""
  for v in "$@" $listed; do
    if (cd "$work" && apt-get "${aptopts[@]}" source --download-only "$pkg=$v" \
          >"$work/apt-$v.log" 2>&1); then
      got=$v
      break
    fi
    rm -f "$work"/*.dsc "$work"/*.tar.* 2>/dev/null || true
  done
  if [ -z "$got" ]; then
    log "cannot fetch Debian's $pkg $upstream source (tried: $* $listed)"
    cat "$work"/apt-*.log >&2 || true
    exit 1
  fi
  rm -rf "$dir"
  (cd "$work" && dpkg-source --no-check -x "$pkg"_*.dsc "$dir" >/dev/null)
  echo "$got" >"$dir/.pincurl-version"
  touch "$dir/.pincurl-unpacked"
  echo "$dir"
}

wolfssl_src=$(fetch_sources wolfssl "$WOLFSSL_UPSTREAM" $WOLFSSL_VERSIONS)
nghttp2_src=$(fetch_sources nghttp2 "$NGHTTP2_UPSTREAM" $NGHTTP2_VERSIONS)
curl_src=$(fetch_sources curl "$CURL_UPSTREAM" $CURL_VERSIONS)

# --- Build ----------------------------------------------------------------------------
rm -rf "$prefix"
mkdir -p "$prefix/build"
hostargs=()
[ -n "$host" ] && hostargs=(--host="$host")
export CC="$cc"

build_one() { # name srcdir configure-args...
  local name=$1 dir=$2; shift 2
  local b="$prefix/build/$name"
  log "$name ($(cat "$dir/.pincurl-version")) for $triplet"
  rm -rf "$b"
  cp -a "$dir" "$b"
  (cd "$b" && { [ -x configure ] || run "$b/autoreconf.log" autoreconf -fi; } &&
   run "$b/configure.log" ./configure --prefix="$prefix" "${hostargs[@]}" "$@" &&
   run "$b/make.log" make -j"$jobs" &&
   run "$b/install.log" make install)
}

start=$(date +%s)
extra_cflags=${PINCURL_DEPS_CFLAGS:-}
CFLAGS="-O2 -g0 $extra_cflags $wolfssl_cflags" build_one wolfssl "$wolfssl_src" "${wolfssl_conf[@]}"
CFLAGS="-O2 -g0 $extra_cflags" build_one nghttp2 "$nghttp2_src" "${nghttp2_conf[@]}"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" \
CFLAGS="-O2 -g0 $extra_cflags" CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" LIBS="-lm -lpthread" \
  build_one curl "$curl_src" "${curl_conf[@]}" --with-wolfssl="$prefix" \
  --with-nghttp2="$prefix" --with-zlib
# Separate include directories, so a flavour on the distribution's libcurl never picks up
# the bundled curl headers next to wolfSSL's.
mkdir -p "$prefix/wolfssl-include" "$prefix/curl-include"
cp -a "$prefix/include/wolfssl" "$prefix/wolfssl-include/"
cp -a "$prefix/include/curl" "$prefix/curl-include/"
# wolfSSL's OpenSSL compatibility layer defines a few functions under OpenSSL's own names
# (SSL_COMP_get_compression_methods, ...). Where OpenSSL is in the same process (the
# distribution's libcurl), a call inside libssl could bind to them. They are renamed in the
# archive, definitions and references alike; nothing outside wolfSSL calls them.
renames="$prefix/build/openssl-names.txt"
nm -g --defined-only "$prefix/lib/libwolfssl.a" 2>/dev/null |
  awk 'NF == 3 {print $3}' |
  grep -E '^(SSL_|ERR_|EVP_|X509_|BIO_|CRYPTO_|OPENSSL_|RSA_|EC_|BN_|PEM_|DH_|DSA_|d2i_|i2d_)' |
  sort -u | awk '{print $1 " pincurl_wolfssl_" $1}' >"$renames"
if [ -s "$renames" ]; then
  if nm -u "$prefix/lib/libcurl.a" "$prefix/lib/libnghttp2.a" 2>/dev/null |
       awk '{print $NF}' | grep -qxF -f <(cut -d' ' -f1 "$renames"); then
    log "libcurl or nghttp2 calls an OpenSSL-named wolfSSL function; not renaming"
    exit 1
  fi
  objcopy_tool=objcopy
  [ -n "$host" ] && objcopy_tool="$host-objcopy"
  "$objcopy_tool" --redefine-syms="$renames" "$prefix/lib/libwolfssl.a"
fi
# The versions as built, for pincurl's version report and the licence notes.
{
  echo "wolfssl $(cat "$wolfssl_src/.pincurl-version")"
  echo "nghttp2 $(cat "$nghttp2_src/.pincurl-version")"
  echo "curl $(cat "$curl_src/.pincurl-version")"
  echo "triplet $triplet"
  echo "cc $cc_version"
} >"$prefix/VERSIONS"
rm -rf "$prefix/build" "$prefix/share/man" "$prefix/bin/wolfssl-config"
log "built in $(( $(date +%s) - start )) s: $prefix"
touch "$stamp"
echo "$prefix"
