#!/usr/bin/env bash
# Test of make-aar.sh (ctest java.aar): assembles an .aar from this build's jar and its
# x86_64 JNI library, then checks what an Android build reads from it: the entries, the
# manifest's minSdk, the consumer rules naming every class and method the glue looks up by
# name (pincurl.i), the library's alignment and exports; and that the script refuses a
# glibc library without --linux-test, a library of another machine, and a shared-linked
# library.
#   check-aar.sh MAKE_AAR JAR JNI_LIBRARY WORKDIR
set -euo pipefail
make_aar=${1:?} jar=${2:?} lib=${3:?} work=${4:?}
src=$(cd "$(dirname "$make_aar")/.." && pwd)
rm -rf "$work"; mkdir -p "$work"
fail() { echo "check-aar: $*" >&2; exit 1; }

bash "$make_aar" --linux-test --jar "$jar" --jni "x86_64=$lib" --out "$work/pincurl.aar"
unzip -Z1 "$work/pincurl.aar" | LC_ALL=C sort > "$work/entries"
printf '%s\n' AndroidManifest.xml R.txt classes.jar jni/x86_64/libpincurl_jni.so proguard.txt \
  | LC_ALL=C sort | diff -u - "$work/entries" || fail "unexpected entries"
mkdir "$work/x" && (cd "$work/x" && unzip -q "$work/pincurl.aar")
grep -q 'android:minSdkVersion="23"' "$work/x/AndroidManifest.xml" || fail "minSdk"
unzip -Z1 "$work/x/classes.jar" > "$work/classes"
grep -qx 'org/pincurl/Client.class' "$work/classes" || fail "no classes"
grep -qx 'org/pincurl/pincurl-jni.properties' "$work/classes" || fail "no properties"
# Every class and method the C glue reaches by name is kept by the consumer rules.
for m in "EventDispatcher" "void dispatch(long)" "long now()" "BodySource" "int fill(byte\[\], int)" \
         "BodySink" "boolean write(byte\[\])" "PincurlNativeJNI" "SWIGTYPE_p_"; do
  grep -q "$m" "$work/x/proguard.txt" || fail "consumer rules miss $m"
done
grep -q '"dispatch", "(J)V"' "$src/pincurl.i" && grep -q '"now", "()J"' "$src/pincurl.i" &&
  grep -q '"fill", "(\[BI)I"' "$src/pincurl.i" && grep -q '"write", "(\[B)Z"' "$src/pincurl.i" ||
  fail "pincurl.i looks up other methods than the rules keep"
so="$work/x/jni/x86_64/libpincurl_jni.so"
while read -r align; do
  [ $((align)) -ge 16384 ] || fail "a LOAD segment is aligned to $align (< 16 KB)"
done < <(readelf -lW "$so" | awk '$1 == "LOAD" {print $NF}')
if readelf -d "$so" | grep 'NEEDED' | grep -q 'libpincurl'; then fail "the JNI library needs libpincurl"; fi

# Refusals.
if bash "$make_aar" --jar "$jar" --jni "x86_64=$lib" --out "$work/no.aar" 2>"$work/err"; then
  fail "a glibc library was packed without --linux-test"
fi
grep -q "links glibc" "$work/err" || fail "wrong refusal: $(cat "$work/err")"
if bash "$make_aar" --linux-test --jar "$jar" --jni "arm64-v8a=$lib" --out "$work/no.aar" 2>"$work/err"; then
  fail "an x86-64 library was packed as arm64-v8a"
fi
grep -q "not arm64-v8a" "$work/err" || fail "wrong refusal: $(cat "$work/err")"
printf 'int Java_x(void);\nint Java_x(void) { return 0; }\n' > "$work/t.c"
cc -shared -fPIC -o "$work/libpincurl_jni.so" "$work/t.c" -Wl,-z,max-page-size=4096 \
   -Wl,-z,common-page-size=4096
if bash "$make_aar" --linux-test --jar "$jar" --jni "x86_64=$work/libpincurl_jni.so" \
     --out "$work/no.aar" 2>"$work/err"; then
  fail "a library aligned to 4 KB was packed"
fi
grep -q "aligned to" "$work/err" || fail "wrong refusal: $(cat "$work/err")"
echo "check-aar: pincurl.aar as an Android build reads it; refusals as expected"
