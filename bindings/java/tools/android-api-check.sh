#!/usr/bin/env bash
# ctest java.android_api: the Java layer (the hand-written sources, the SWIG-generated
# bridge and Status.java) compiles against Android's API level 23 alone (android.jar as the
# boot class path: a class or method that API level lacks is a compile error), as Java 8
# bytecode; then dx turns the classes into classes.dex for minSdk 24 (dx does not desugar:
# a lambda or other invokedynamic in the layer fails here), and dexdump reads the result.
#
# android.jar (API 23) comes from Debian 11's libandroid-23-java and dx from its
# dalvik-exchange (tools/install-deps.sh installs both: Debian 12 has neither). Without
# them the check is skipped (exit 77), except under CI=true, where it fails.
set -euo pipefail
javac= android_jar= dx= dexdump= jsr305= work= sources=
while [ $# -gt 0 ]; do
  case "$1" in
    --javac) javac=$2 ;; --android-jar) android_jar=$2 ;; --dx) dx=$2 ;;
    --dexdump) dexdump=$2 ;; --jsr305) jsr305=$2 ;; --work) work=$2 ;; --sources) sources=$2 ;;
    *) echo "android-api-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
missing=()
[ -f "$android_jar" ] || missing+=("android.jar (libandroid-23-java)")
[ -x "$dx" ] || missing+=("dx (dalvik-exchange)")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "android-api-check: missing ${missing[*]}; run tools/install-deps.sh" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
rm -rf "$work"; mkdir -p "$work/classes"
files=()
IFS=: read -r -a dirs <<<"$sources"
for d in "${dirs[@]}"; do
  while IFS= read -r f; do files+=("$f"); done < <(find "$d" -name '*.java' | LC_ALL=C sort)
done
[ "${#files[@]}" -gt 20 ] || { echo "android-api-check: only ${#files[@]} sources found" >&2; exit 1; }
"$javac" -source 8 -target 8 -bootclasspath "$android_jar" -classpath "$jsr305" \
  -encoding UTF-8 -Xlint:all -Xlint:-options -Werror -d "$work/classes" "${files[@]}"
echo "android-api-check: ${#files[@]} sources compile against $(basename "$(dirname "$android_jar")")"
"$dx" --dex --min-sdk-version=24 --output="$work/classes.dex" "$work/classes"
[ -s "$work/classes.dex" ] || { echo "android-api-check: dx wrote no classes.dex" >&2; exit 1; }
classes=$(find "$work/classes" -name '*.class' | wc -l)
if [ -x "$dexdump" ]; then
  defs=$("$dexdump" -f "$work/classes.dex" | sed -n 's/^class_defs_size *: *//p')
  [ "$defs" -eq "$classes" ] || { echo "android-api-check: $classes classes, $defs in the dex" >&2; exit 1; }
  echo "android-api-check: classes.dex for minSdk 24 holds all $defs classes (dexdump)"
else
  echo "android-api-check: classes.dex for minSdk 24 ($classes classes; no dexdump to read it)"
fi
