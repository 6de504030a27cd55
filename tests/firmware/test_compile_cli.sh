#!/usr/bin/env bash
# pincurl policy compile on the command line: what it refuses and how (exit codes of
# docs/embedded.md), and that what it writes compiles as C11 with the project's warnings.
#   test_compile_cli.sh PINCURL_TOOL C_COMPILER INCLUDE_DIR
set -uo pipefail
tool=$1 cc=$2 inc=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/pincurl-compile.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail=0 pass=0
expect() { # expected-exit description command...
  local want=$1 what=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"; local rc=$?
  if [ "$rc" = "$want" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $what: exit $rc, wanted $want"; cat "$dir/err"; fi
}
pin1=sha256/ftKbLkqsXekoK0mKVC+79BwHvR+LQLIpdvwMGc1e/BY=
pin2=sha256/E/t4KVlILb0E7bAxd9nq4nE8cRGZB6INgSugXTErxaM=
printf '{"pincurl_policy":1,"domains":{"a.example":{"enforce":true,"pins":["%s"]}}}' \
  "$pin1" >"$dir/one-pin.json"
printf '{"pincurl_policy":1,"domains":{"com":{"include_subdomains":true,"pins":["%s","%s"]}}}' \
  "$pin1" "$pin2" >"$dir/suffix.json"
printf '{"pincurl_policy":1,"report_uris":["https://r.example/?a=\\"b\\""],"domains":{
  "z.example":{"enforce":true,"pins":["%s","%s"]},"b.example":{"enforce":false,"include_subdomains":true,"pins":["%s"]},
  "x.b.example":{"exclude":true}}}' "$pin1" "$pin2" "$pin2" >"$dir/good.json"

expect 110 "one pin for an enforcing entry" "$tool" policy compile "$dir/one-pin.json"
grep -q 'a.example' "$dir/err" || { fail=$((fail + 1)); echo "FAIL: message names no domain"; }
expect 110 "a public suffix (libpsl at compile time)" "$tool" policy compile "$dir/suffix.json"
expect 26 "a missing file" "$tool" policy compile "$dir/missing.json"
expect 2 "no file" "$tool" policy compile
expect 2 "a --name that is not a C identifier" "$tool" policy compile "$dir/good.json" --name 9x
expect 2 "an unknown option" "$tool" policy compile "$dir/good.json" --frobnicate
expect 0 "a good document" "$tool" policy compile "$dir/good.json" --name dev_policy \
  -o "$dir/dev_policy.c"
[ ! -e "$dir/out.c" ] || { fail=$((fail + 1)); echo "FAIL: stray output"; }
expect 0 "the output compiles" "$cc" -std=c11 -Wall -Wextra -Werror -Wmissing-prototypes \
  -I"$inc" -c "$dir/dev_policy.c" -o "$dir/dev_policy.o"
# sorted hosts: b.example < x.b.example < z.example
order=$(grep -o '{"[a-z.]*", 0x' "$dir/dev_policy.c" | cut -d'"' -f2 | tr '\n' ' ')
if [ "$order" = "b.example x.b.example z.example " ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL: domains not sorted: $order"; fi
expect 0 "to stdout" "$tool" policy compile "$dir/good.json"
grep -q '^const pincurl_static_policy pincurl_compiled_policy = {' "$dir/out" &&
  pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: default symbol missing"; }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
