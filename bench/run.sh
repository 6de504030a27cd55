#!/usr/bin/env bash
# Runs pincurl's request benchmarks against nginx on loopback.
#
#   bench/run.sh BUILD_DIR [--requests N] [--warmup W] [--callgrind-requests N]
#                          [--no-callgrind] [--callgrind-out DIR] [--callgrind-only LIST]
#                          [--pki DIR] [--smoke]
#                          [--multi-requests N] [--multi-parallel P] [--multi-runs R]
#                          [-- BENCH_ARGS...]
#
# BUILD_DIR is a configured and built pincurl tree (it holds bench/bench_requests,
# bench/bench_multi and bench/bench_reports).
# Steps: a fresh test PKI (or --pki DIR), nginx on 127.0.0.1 (its own prefix and config,
# TLS with leaf-ec + intermediate, session cache and tickets off, HTTP/1.1 keep-alive, a
# small static body; a second server with session tickets and a session cache for the
# resumed-session scenario), bench_requests (arms alternating; scenarios full, cold, keep,
# resume and threads), bench_multi (many requests in flight on one thread, HTTP/2 and HTTP/1.1,
# on a third listener offering HTTP/2), then callgrind instruction counts per request for every arm of the
# scenarios full, cold, keep and resume, those of bench_multi's arms A and C in both modes (--multi-runs runs each, the median),
# the table of every figure against its target, the
# functions that make the difference, then nginx is stopped by its PID.
# --callgrind-out DIR keeps the callgrind files (for callgrind_annotate) in DIR.
# --callgrind-only LIST runs only those callgrind arms (scenario-arm, comma-separated, e.g.
# keep-A,keep-D); the table then shows what was measured.
# Arguments after -- go to the main bench_requests run (e.g. -- --arms AB --rounds 30).
# --multi-requests N (default 1000), --multi-parallel P (default 50): bench_multi's measured
# requests per arm and mode and how many are in flight; --multi-runs R (default 3).
# --smoke: 5 requests per arm, validations checked, 50 multi requests, no callgrind (the
# ctest bench.smoke).
# Exits 77 when nginx is not installed (tools/install-deps.sh installs it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${1:?usage: bench/run.sh BUILD_DIR [options]}
shift
requests=300
warmup=20
cg_requests=50
callgrind=1
pki=""
cg_out=""
smoke=0
multi_requests=1000
multi_parallel=50
multi_runs=3
cg_only=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --callgrind-requests) cg_requests=$2; shift 2 ;;
    --no-callgrind) callgrind=0; shift ;;
    --callgrind-only) cg_only=$2; shift 2 ;;
    --callgrind-out) cg_out=$2; shift 2 ;;
    --pki) pki=$2; shift 2 ;;
    --multi-requests) multi_requests=$2; shift 2 ;;
    --multi-parallel) multi_parallel=$2; shift 2 ;;
    --multi-runs) multi_runs=$2; shift 2 ;;
    --smoke) smoke=1; requests=5; warmup=2; callgrind=0; multi_requests=50; multi_runs=1
             shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bin=$(cd "$build" && pwd)/bench/bench_requests
[ -x "$bin" ] || { echo "run.sh: $bin not built (cmake --build $build)" >&2; exit 2; }
nginx_bin=$(command -v nginx || true)
[ -n "$nginx_bin" ] || nginx_bin=/usr/sbin/nginx
if [ ! -x "$nginx_bin" ]; then
  echo "run.sh: nginx is not installed (tools/install-deps.sh installs it); skipping" >&2
  exit 77
fi
if [ "$callgrind" -eq 1 ] && ! command -v valgrind >/dev/null; then
  echo "run.sh: valgrind not installed; skipping the callgrind part" >&2
  callgrind=0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pincurl-bench.XXXXXX")
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$pki" ]; then
  pki=$work/pki
  bash "$root/tests/pki/make-pki.sh" "$pki" >/dev/null
fi
for f in leaf-ec-chain.pem leaf-ec.key root.pem pins.txt; do
  [ -f "$pki/$f" ] || { echo "run.sh: $pki/$f missing" >&2; exit 2; }
done
pin_of() { awk -v n="$1" '$1 == n { print $2 }' "$pki/pins.txt"; }
leaf_pin=$(pin_of leaf-ec)
inter_pin=$(pin_of inter)
backup_pin=$(pin_of leaf-backup)

# nginx: its own prefix; workers may run as another user, so the body is world-readable.
prefix=$work/nginx
mkdir -p "$prefix/html" "$prefix/tmp" "$prefix/logs"
chmod 755 "$work" "$prefix" "$prefix/html"
printf 'pincurl benchmark body: a small static response, 63 bytes long\n' \
  > "$prefix/html/index.html"
chmod 644 "$prefix/html/index.html"
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1]); s.close()'
}
port=$(free_port)
port2=$(free_port)
while [ "$port2" = "$port" ]; do port2=$(free_port); done
port3=$(free_port)
while [ "$port3" = "$port" ] || [ "$port3" = "$port2" ]; do port3=$(free_port); done
# two workers: the threads scenario must not wait on one nginx process
cat > "$prefix/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $pki/leaf-ec-chain.pem;
        ssl_certificate_key $pki/leaf-ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        root $prefix/html;
        location / { }
    }
    # resumed sessions: each arm asks for /?arm=X; the log says whether it resumed
    log_format resume '\$arg_arm \$ssl_session_reused';
    server {
        listen 127.0.0.1:$port2 ssl;
        ssl_certificate $pki/leaf-ec-chain.pem;
        ssl_certificate_key $pki/leaf-ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:resume:1m;
        ssl_session_tickets on;
        access_log $prefix/logs/resume.log resume;
        root $prefix/html;
        location / { }
    }
    server {
        listen 127.0.0.1:$port3 ssl http2;
        ssl_certificate $pki/leaf-ec-chain.pem;
        ssl_certificate_key $pki/leaf-ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        http2_max_concurrent_streams 128;
        root $prefix/html;
        location / { }
    }
}
CONF
"$nginx_bin" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
     (exec 3<>"/dev/tcp/127.0.0.1/$port2") 2>/dev/null &&
     (exec 3<>"/dev/tcp/127.0.0.1/$port3") 2>/dev/null; then break; fi
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$prefix/logs/error.log" >&2; exit 1; }
  sleep 0.05
done
url="https://127.0.0.1:$port/"
resume_url="https://127.0.0.1:$port2/"

common=(--url "$url" --resume-url "$resume_url" --ca-file "$pki/root.pem"
        --leaf-pin "$leaf_pin" --pin "$inter_pin" --pin "$backup_pin")
scenarios=full,cold,keep,resume,threads

os_name=$(. /etc/os-release && echo "$PRETTY_NAME")
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's|.*/||')
echo "== machine: $(nproc) cores, $os_name, $(uname -r); nginx $nginx_version"
echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== load average before the run: $(cut -d" " -f1-3 /proc/loadavg)"
if [ "$smoke" -eq 1 ]; then
  "$bin" "${common[@]}" --scenario "$scenarios" --requests "$requests" --warmup "$warmup" \
    --check-handshakes "${extra[@]}" | tee "$work/main.log"
else
  "$bin" "${common[@]}" --scenario "$scenarios" --requests "$requests" --warmup "$warmup" \
    "${extra[@]}" | tee "$work/main.log"
fi
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

# Which connections of the resume scenario resumed a session, as nginx saw them.
echo
echo "== resume scenario, as the server logged it: connections that resumed a TLS session"
for arm in A C D; do
  total=$(awk -v a="$arm" '$1 == a' "$prefix/logs/resume.log" | wc -l)
  reused=$(awk -v a="$arm" '$1 == a && $2 == "r"' "$prefix/logs/resume.log" | wc -l)
  echo "  arm $arm: $reused of $total connections resumed"
  if [ "$smoke" -eq 1 ] && [ "$arm" != D ] && [ "$total" -gt 0 ] &&
     [ "$reused" -lt "$requests" ]; then
    echo "run.sh: arm $arm resumed $reused sessions, expected at least $requests" >&2
    exit 1
  fi
done

# Many requests in flight on one thread (bench/bench_multi.c), against the HTTP/2 listener.
multi_bin=$(dirname "$bin")/bench_multi
multi_url="https://127.0.0.1:$port3/"
multi_common=(--url "$multi_url" --ca-file "$pki/root.pem" --pin "$inter_pin"
              --pin "$backup_pin" --requests "$multi_requests" --parallel "$multi_parallel")
echo
echo "== many requests in flight on one thread: pincurl's multi against libcurl's"
"$multi_bin" "${multi_common[@]}" --rounds "$multi_runs"

# A hanging report collector against none (bench/bench_reports.c): pins that do not match,
# report-only, so every request calls for a report.
echo
echo "== reports: a black-hole collector against none"
"$(dirname "$bin")/bench_reports" --url "$url" --ca-file "$pki/root.pem" \
  --pin "$backup_pin" --pin "$(pin_of rogue-root)" --requests "$requests" --warmup "$warmup"

if [ "$callgrind" -eq 1 ]; then
  cg=${cg_out:-$work/callgrind}
  mkdir -p "$cg"
  echo
  echo "== callgrind: instructions (Ir) per measured request, $cg_requests requests per arm" \
       "and scenario, each arm in its own process after 5 warm-up requests (not counted)"
  for sc in full cold keep resume; do
    case $sc in
      full) arms="A B C" ;;
      cold) arms="C" ;;  # against full's arm A: the same plain libcurl handshake
      *) arms="A C D" ;;
    esac
    for arm in $arms; do
      if [ -n "$cg_only" ] && ! grep -qw -- "$sc-$arm" <<<"${cg_only//,/ }"; then
        continue
      fi
      # A kept-alive request is ~100,000 Ir, and whether libcurl's first read after the
      # request finds the response (or tries, fails and polls: some 3,500 Ir more) is a
      # race with the server that one process tends to win or lose all along. Three runs,
      # the cheapest kept: every arm then counts the request without the extra round.
      runs=1
      [ "$sc" = keep ] && runs=3
      for run in $(seq 1 "$runs"); do
        valgrind --tool=callgrind --collect-atstart=no --toggle-collect=measured_batch \
          --callgrind-out-file="$cg/$sc-$arm.run$run" \
          "$bin" "${common[@]}" --arms "$arm" --scenario "$sc" --requests "$cg_requests" \
          --warmup 5 > "$cg/$sc-$arm.log" 2>&1 \
          || { cat "$cg/$sc-$arm.log" >&2; exit 1; }
      done
      best=$(for f in "$cg/$sc-$arm".run*; do
               echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$f") $f"
             done | sort -n | head -n 1 | cut -d' ' -f2-)
      if [ "$runs" -gt 1 ]; then
        echo "  $sc-$arm: Ir over the measured requests in $runs runs:" \
             "$(for f in "$cg/$sc-$arm".run*; do
                  awk '/^(summary|totals):/ {printf "%s ", $2; exit}' "$f"; done)(kept: the least)"
      fi
      mv "$best" "$cg/$sc-$arm.out"
      rm -f "$cg/$sc-$arm".run*
    done
  done
  threads_ratio=$(sed -n 's/^  pincurl (pincurl_client_perform).* ratio \([0-9.]*\) .*/\1/p' \
                  "$work/main.log" | tail -n 1)
  python3 - "$cg" "$cg_requests" "${threads_ratio:-nan}" <<'PY'
import os, re, subprocess, sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?:\s+\[([^\]]*)\])?\s*$")

def costs(path, inclusive):
    # Run away from the source tree: inside it callgrind_annotate shortens some file names
    # and splits one function over two lines.
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=" + inclusive,
                          "--threshold=100", os.path.abspath(path)], cwd="/",
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or m.group(2) == "PROGRAM TOTALS":
            continue
        func = m.group(2).split(":", 1)[1] if ":" in m.group(2) else m.group(2)
        key = (func, os.path.basename(m.group(3) or "?"))
        result[key] = result.get(key, 0) + int(m.group(1).replace(",", ""))
    return result

def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit("no totals in " + path)

cg, n, threads_ratio = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ir = {}
for name in os.listdir(cg):
    if name.endswith(".out"):
        sc, arm = name[:-4].split("-")
        ir[(sc, arm)] = total(os.path.join(cg, name)) / n
names = {"full": "full handshake", "cold": "new chain (cold)", "keep": "kept-alive",
         "resume": "resumed session"}
for sc, arms in (("full", "BC"), ("cold", "C"), ("keep", "CD"), ("resume", "CD")):
    base = "full" if sc == "cold" else sc
    if (base, "A") not in ir:
        continue
    a = ir[(base, "A")]
    if sc != "cold":
        print("  %-17s arm A: %11.0f Ir/request" % (names[sc], a))
    for arm in arms:
        if (sc, arm) not in ir:
            continue
        x = ir[(sc, arm)]
        print("  %-17s arm %s: %11.0f Ir/request   %s/A = %.4f   (%s - A = %.0f Ir/request)"
              % (names[sc], arm, x, arm, x / a, arm, x - a))

# Every figure against its target (instructions per request, pincurl / plain libcurl).
def ratio(sc, arm, base=None):
    if (sc, arm) not in ir or (base or sc, "A") not in ir:
        return float("nan")  # not measured (--callgrind-only)
    return ir[(sc, arm)] / ir[(base or sc, "A")]
full_b = ratio("full", "B")
rows = [
    ("full handshake, warm path cache: C/A", ratio("full", "C"),
     "<= 1.015 and < B/A (%.4f)" % full_b,
     ratio("full", "C") <= 1.015 and ratio("full", "C") < full_b),
    ("first connection to a new chain: C(cold)/A(full)", ratio("cold", "C", "full"),
     "<= 1.10", ratio("cold", "C", "full") <= 1.10),
    ("kept-alive, pincurl_client_perform: C/A", ratio("keep", "C"), "<= 1.03",
     ratio("keep", "C") <= 1.03),
    ("kept-alive, pincurl_attach: D/A", ratio("keep", "D"), "<= 1.01",
     ratio("keep", "D") <= 1.01),
    ("resumed session, pincurl_client_perform: C/A", ratio("resume", "C"), "<= 1.03",
     ratio("resume", "C") <= 1.03),
    ("resumed session, pincurl_attach: D/A", ratio("resume", "D"), "(no target)", None),
    ("8 threads / 1 thread, kept-alive throughput", threads_ratio, ">= 1.8 (wall time)",
     None if threads_ratio != threads_ratio else threads_ratio >= 1.8),
]
print("\n== targets: instructions per request, pincurl / plain libcurl (same build, this run)")
for what, value, target, met in rows:
    verdict = "-" if met is None or value != value else ("met" if met else "MISSED")
    print("  %-50s %8.4f   target %-28s %s" % (what, value, target, verdict))

for sc in ("full", "keep"):
    pa, pc = (os.path.join(cg, "%s-%s.out" % (sc, arm)) for arm in "AC")
    if not (os.path.exists(pa) and os.path.exists(pc)):
        continue
    a, c = costs(pa, "no"), costs(pc, "no")
    diff = {k: c.get(k, 0) - a.get(k, 0) for k in set(a) | set(c)}
    net = sum(diff.values())
    print("\n== callgrind, %s: largest differences in self Ir, arm C - arm A (Ir per request)"
          % names[sc])
    print("  %10s %7s  %s" % ("Ir/req", "share", "function [object]"))
    for (func, obj), d in sorted(diff.items(), key=lambda kv: -kv[1])[:12]:
        print("  %10.0f %6.1f%%  %s [%s]" % (d / n, 100.0 * d / net if net else 0.0, func, obj))
    print("  %10.0f %7s  net difference over all functions" % (net / n, ""))
    incl = costs(pc, "yes")
    incl_a = costs(pa, "yes")
    idiff = {k: incl.get(k, 0) - incl_a.get(k, 0) for k in set(incl) | set(incl_a)}
    print("  largest differences in inclusive Ir, C - A, below the common callers"
          " (Ir per request, share of the net difference):")
    shown = 0
    for (func, obj), d in sorted(idiff.items(), key=lambda kv: -kv[1]):
        if d >= 0.9 * net or obj == "?":
            continue  # main, curl_easy_perform, ...: the callers every difference is under
        print("  %10.0f %6.1f%%  %s [%s]" % (d / n, 100.0 * d / net if net else 0.0, func, obj))
        shown += 1
        if shown == 14:
            break
    ours = sorted(((v, k[0]) for k, v in incl.items()
                   if k[0].startswith(("pincurl_", "pc_", "ws_", "prereq_hook", "ssl_ctx_hook",
                                       "reverify", "target_of", "on_verdict"))),
                  reverse=True)
    print("  arm C, pincurl's functions by inclusive Ir per request:")
    for v, func in ours[:10]:
        print("  %10.0f  %s" % (v / n, func))
PY
fi

if [ "$callgrind" -eq 1 ]; then
  cg=${cg_out:-$work/callgrind}
  mkdir -p "$cg"
  echo
  echo "== callgrind, bench_multi: instructions (Ir) per measured request, $multi_requests" \
       "requests with $multi_parallel in flight after 100 warm-up requests (not counted);" \
       "$multi_runs runs per arm and mode, each in its own process"
  for mode in h2 h1; do
    for arm in A C; do
      for run in $(seq 1 "$multi_runs"); do
        valgrind --tool=callgrind --collect-atstart=no --toggle-collect=measured_run \
          --callgrind-out-file="$cg/multi-$mode-$arm-$run.out" \
          "$multi_bin" "${multi_common[@]}" --arms "$arm" --mode "$mode" --rounds 1 \
          > "$cg/multi-$mode-$arm-$run.log" 2>&1 \
          || { cat "$cg/multi-$mode-$arm-$run.log" >&2; exit 1; }
      done
    done
  done
  python3 - "$cg" "$multi_requests" "$multi_runs" <<'PY'
import os, statistics, sys

def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit("no totals in " + path)

cg, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for mode, name in (("h2", "HTTP/2"), ("h1", "HTTP/1.1")):
    per = {}
    for arm in "AC":
        values = [total(os.path.join(cg, "multi-%s-%s-%d.out" % (mode, arm, r))) / n
                  for r in range(1, runs + 1)]
        per[arm] = statistics.median(values)
        print("  %-9s arm %s: %9.0f Ir/request (median; runs: %s)"
              % (name, arm, per[arm], ", ".join("%.0f" % v for v in values)))
    ratio = per["C"] / per["A"]
    print("  %-9s C/A = %.4f   (C - A = %.0f Ir/request)   target <= 1.03: %s"
          % (name, ratio, per["C"] - per["A"], "met" if ratio <= 1.03 else "missed"))
PY
fi

kill -TERM "$nginx_pid"
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=""
echo "== nginx stopped"
