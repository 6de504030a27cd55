#!/usr/bin/env bash
# Assembles pincurl.aar from pincurl.jar and one JNI library per Android ABI:
#
#   make-aar.sh --jar pincurl.jar --jni arm64-v8a=DIR/libpincurl_jni.so \
#               [--jni armeabi-v7a=...] [--jni x86_64=...] --out pincurl.aar
#
# The .aar holds AndroidManifest.xml (minSdk 23), classes.jar (the jar's classes, Java 8
# bytecode), jni/<abi>/libpincurl_jni.so, proguard.txt (consumer rules for what the JNI
# library calls by name) and an empty R.txt. Each library is checked first: an ELF of the
# ABI's machine, pincurl and its TLS stack linked in (no libpincurl.so, libcurl, wolfSSL
# or nghttp2 needed), only the JNI entry points exported, every LOAD segment aligned to
# at least 16 KB (Android 15's 16 KB page devices refuse less). An Android library links
# bionic (libc.so); a glibc one (libc.so.6) is refused unless --linux-test is given, which
# the build uses to check the layout with the Linux x86_64 library (docs/android.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jar= out= linux_test=0
jnis=()
while [ $# -gt 0 ]; do
  case "$1" in
    --jar) jar=$2; shift 2 ;;
    --jni) jnis+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --linux-test) linux_test=1; shift ;;
    *) echo "make-aar.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$jar" ] && [ -n "$out" ] && [ "${#jnis[@]}" -gt 0 ] ||
  { echo "usage: make-aar.sh --jar JAR --jni ABI=LIB [--jni ...] --out AAR [--linux-test]" >&2; exit 2; }
fail() { echo "make-aar.sh: $*" >&2; exit 1; }

machine_of() { # ABI -> readelf's Machine
  case "$1" in
    arm64-v8a) echo "AArch64" ;;
    armeabi-v7a) echo "ARM" ;;
    x86_64) echo "Advanced Micro Devices X86-64" ;;
    x86) echo "Intel 80386" ;;
    *) return 1 ;;
  esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/aar" "$work/classes"

for spec in "${jnis[@]}"; do
  abi=${spec%%=*} lib=${spec#*=}
  want=$(machine_of "$abi") || fail "unknown ABI $abi (arm64-v8a, armeabi-v7a, x86_64, x86)"
  [ -f "$lib" ] || fail "$lib: no such file"
  got=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p')
  [ "$got" = "$want" ] || fail "$lib is for $got, not $abi ($want)"
  needed=$(readelf -d "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
  case " $needed" in
    *" libpincurl"*|*" libcurl"*|*" libwolfssl"*|*" libnghttp2"*)
      fail "$lib needs $needed: pincurl and its TLS stack must be linked in" ;;
  esac
  if [[ " $needed" == *" libc.so.6 "* ]] && [ "$linux_test" -ne 1 ]; then
    fail "$lib links glibc (libc.so.6): build it with the Android NDK (docs/android.md)"
  fi
  exports=$(nm -D --defined-only "$lib" | awk 'NF == 3 {print $3}' |
            grep -v -E '^(Java_|JNI_OnLoad$|JNI_OnUnload$)' || true)
  [ -z "$exports" ] || fail "$lib exports more than JNI entry points: $(echo "$exports" | head -3)"
  while read -r align; do
    [ $((align)) -ge 16384 ] || fail "$lib has a LOAD segment aligned to $align (< 16 KB)"
  done < <(readelf -lW "$lib" | awk '$1 == "LOAD" {print $NF}')
  mkdir -p "$work/aar/jni/$abi"
  cp "$lib" "$work/aar/jni/$abi/libpincurl_jni.so"
done

(cd "$work/classes" && unzip -q "$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")")
rm -rf "$work/classes/META-INF"
(cd "$work/classes" && find . -type f | LC_ALL=C sort | zip -q -X -D "$work/aar/classes.jar" -@)
cp "$here/android/AndroidManifest.xml" "$work/aar/AndroidManifest.xml"
cp "$here/android/consumer-rules.pro" "$work/aar/proguard.txt"
: > "$work/aar/R.txt"
rm -f "$out"
(cd "$work/aar" && find . -type f | LC_ALL=C sort | zip -q -X -D "$work/out.aar" -@)
mv "$work/out.aar" "$out"
echo "make-aar.sh: $out ($(cd "$work/aar" && find jni -name '*.so' | tr '\n' ' '))"
