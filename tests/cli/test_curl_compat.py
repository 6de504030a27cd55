#!/usr/bin/env python3
"""The same command lines through Debian's curl and through pincurl, compared.

usage: test_curl_compat.py PINCURL_BINARY [CURL_BINARY]   (env: PINCURL_TEST_PKI)

Every case runs once with curl (default /usr/bin/curl) and once with pincurl against the
same loopback servers (tests/servers/tls_server.py over HTTPS with the test PKI and in
cleartext), each tool in a directory of its own. Compared: the exit code, stdout, the files
the command wrote (-o, -O, -D, -c) and, where a case says so, stderr. Normalised before
comparing: the User-Agent a tool sends by default (every case passes -A unless it is about
-A), multipart boundaries (random), and in -w output every timing value (compared by form,
N.NNNNNN) and the values that depend on the run (local port, speeds, curl_version). When
Debian's curl runs on another libcurl release than pincurl (7.88 against the bundled 8.14),
what libcurl itself changed between them is normalised too, each named in
LIBCURL_CHANGES; with the same release nothing is. Hosts
are unpinned, or pinned with pins both tools accept (curl's --pinnedpubkey, and pincurl's
--pin on top), so both succeed; failure cases fail in both. Standard library only. The last
line printed is "N passed, N failed".
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PKI = os.environ.get("PINCURL_TEST_PKI", "")
SOURCE = os.environ.get("PINCURL_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVER = os.path.join(SOURCE, "tests", "servers", "tls_server.py")
TIME = re.compile(r"^\d+\.\d{6}$")
# -w variables that differ between two runs of the same tool
RUN_DEPENDENT = {"local_port", "speed_download", "speed_upload", "curl_version"}
# Deliberately different: curl's certs/num_certs are its TLS library's dump of the chain the
# server sent (wolfSSL's libcurl has none); pincurl's are the validated path it decided on.
DIFFERENT = {"certs", "num_certs"}
PINCURL_ONLY = {"pin_decision", "pin_matched", "pin_matched_depth", "pin_result", "pinned"}


def pki(name):
    return os.path.join(PKI, name)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def cert_pin(pem):
    pub = openssl("x509", "-in", pem, "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", data=pub)
    digest = openssl("dgst", "-sha256", "-binary", data=der)
    return openssl("base64", "-A", data=digest).decode().strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp, name, *args):
        self.port_file = os.path.join(tmp, name + ".port")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, *args, "--port", "0", "--port-file", self.port_file,
             "--name", name, "--lifetime", "900", "--parent-pid", str(os.getpid())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("server %s did not start" % name)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def case(name, args, code=None, files=(), stderr=False, writeout=None, pincurl_extra=(),
         user_agent=True, env=None, stdin=None, needs=None):
    """One command line. code: the exit code both must give (None: whatever curl gives, as
    long as pincurl gives the same). files: names, relative to the tool's directory, to
    compare. writeout: 'text' (timings by form) or 'json' (%{json} compared key by key).
    needs: a feature of `pincurl -V`; without it pincurl must refuse the option (exit 2,
    "does not support") instead of behaving as curl."""
    return dict(name=name, args=list(args), code=code, files=list(files), stderr=stderr,
                writeout=writeout, pincurl_extra=list(pincurl_extra), user_agent=user_agent,
                env=env, stdin=stdin, needs=needs)


def cases(v):
    """The command lines; v holds the servers' URLs and the files."""
    https, http, ca = v["https"], v["http"], ["--cacert", pki("root.pem")]
    leaf = "sha256//" + v["leaf_pin"]
    pins = ["--pin", "sha256/" + v["inter_pin"], "--pin", "sha256/" + v["backup_pin"]]
    no_leaks = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"}
    timings = ("%{time_namelookup} %{time_connect} %{time_appconnect} %{time_pretransfer} "
               "%{time_starttransfer} %{time_redirect} %{time_total}\\n")
    return [
        # plain requests, output and headers
        case("get https", [*ca, https + "/"]),
        case("get http", [http + "/"]),
        case("include", ["-i", *ca, https + "/"]),
        case("head", ["-I", *ca, https + "/"]),
        case("dump header to a file", ["-D", "h.txt", *ca, https + "/"], files=["h.txt"]),
        case("dump header to stdout", ["-D", "-", "-o", "/dev/null", *ca, https + "/"]),
        case("output file", ["-o", "out.bin", *ca, https + "/bytes?n=300000"],
             files=["out.bin"]),
        case("output to stdout with -o -", ["-o", "-", *ca, https + "/"]),
        case("remote name", ["-O", *ca, https + "/bytes?n=1000"], files=["bytes"]),
        case("remote name without a file name", ["-O", *ca, https + "/"], code=23),
        case("url option", [*ca, "--url", https + "/"]),
        case("output into a missing directory", ["-o", "no/such/dir/x", *ca, https + "/"],
             code=23),
        case("user agent", ["-A", "tester/1", http + "/headers"], user_agent=False),
        case("custom headers", ["-H", "X-One: 1", "-H", "Accept: text/plain", http + "/request"]),
        # -w / --write-out
        case("write-out values", ["-s", "-o", "/dev/null", "-w",
                                  "%{http_code} %{response_code} %{num_redirects} "
                                  "%{size_download} %{size_header} %{size_request} "
                                  "%{size_upload} %{content_type} %{scheme} %{url_effective} "
                                  "%{remote_ip} %{remote_port} %{exitcode} %{http_version} "
                                  "%{method} %{num_headers} %{num_connects} %{url}\\n",
                                  *ca, https + "/"]),
        case("write-out timings", ["-s", "-o", "/dev/null", "-w", timings, *ca, https + "/"],
             writeout="text"),
        case("write-out json", ["-s", "-o", "/dev/null", "-w", "%{json}", *ca, https + "/"],
             writeout="json"),
        case("write-out json after a failure", ["-s", "-w", "%{json}",
                                                "http://127.0.0.1:%d/" % v["closed"]],
             writeout="json"),
        case("write-out header json", ["-s", "-o", "/dev/null", "-w", "%{header_json}",
                                       http + "/"]),
        case("write-out header values", ["-s", "-o", "/dev/null", "-w",
                                         "%header{content-type}|%header{SERVER}|%header{none}",
                                         http + "/"]),
        case("write-out to stderr", ["-s", "-o", "/dev/null", "-w",
                                     "out %{http_code}%{stderr}err %{http_code}%{stdout} out\\n",
                                     http + "/"], stderr=True),
        case("write-out onerror (success)", ["-s", "-o", "/dev/null", "-w",
                                             "a%{onerror}b %{exitcode}", http + "/"]),
        case("write-out onerror (failure)", ["-s", "-w", "a%{onerror}%{exitcode} %{errormsg}",
                                             "--connect-timeout", "5", "-m", "0.5",
                                             http + "/hang"], code=28, writeout="text"),
        case("write-out from a file", ["-s", "-o", "/dev/null", "-w", "@" + v["wfile"],
                                       http + "/"]),
        case("write-out escapes", ["-s", "-o", "/dev/null", "-w", "%%\\t%{http_code}\\n%z",
                                   http + "/"]),
        # redirects
        case("redirect not followed", ["-s", "-w", "%{redirect_url} %{http_code}", *ca,
                                       https + "/redirect?to=/"]),
        case("redirect followed", ["-L", "-w", "\\n%{num_redirects} %{url_effective}", *ca,
                                   https + "/redirect?to=/"]),
        case("redirect headers with -i", ["-i", "-L", *ca,
                                          https + "/redirect?to=" + http + "/"]),
        case("max-redirs 0", ["-L", "--max-redirs", "0", *ca, https + "/redirect?to=/"],
             code=47),
        case("max-redirs 1 on two hops", ["-L", "--max-redirs", "1", *ca, https +
                                          "/redirect?to=/redirect%3Fto%3D/"], code=47),
        # HTTP errors
        case("fail", ["-f", *ca, https + "/status?code=404"], code=22),
        case("fail with headers", ["-f", "-i", *ca, https + "/status?code=404"], code=22),
        case("fail and dump header", ["-f", "-D", "h.txt", "-w", "%{http_code} %{size_download}",
                                      http + "/status?code=500"], code=22, files=["h.txt"]),
        case("fail-with-body", ["--fail-with-body", *ca, https + "/status?code=500"], code=22),
        case("no fail on 404", [*ca, https + "/status?code=404"], code=0),
        # data
        case("put with data", ["-X", "PUT", "-d", "z", *ca, https + "/request"]),
        case("data joined", ["-d", "a=1", "-d", "b=2", http + "/request"]),
        case("data from a file", ["-d", "@" + v["data_file"], http + "/request"]),
        case("data-binary from a file", ["--data-binary", "@" + v["data_file"],
                                         http + "/request"]),
        case("data-raw keeps @", ["--data-raw", "@not-a-file", http + "/request"]),
        case("data-urlencode", ["--data-urlencode", "name=a b&c=d/é",
                                "--data-urlencode", "=x y", "--data-urlencode", "plain text",
                                "--data-urlencode", "f@" + v["data_file"], http + "/request"]),
        case("json", ["--json", '{"a": 1}', "--json", '{"b": 2}', http + "/request"]),
        case("json from a file with own Accept", ["--json", "@" + v["json_file"], "-H",
                                                  "Accept: text/plain", http + "/request"]),
        case("get with data", ["-G", "-d", "a=1", "-d", "b=2", http + "/request?x=0"]),
        case("head with -G data", ["-G", "-I", "-d", "a=1", http + "/request"]),
        case("form", ["-F", "a=b", "-F", "f=@" + v["data_file"] + ";type=text/plain",
                      http + "/request"]),
        case("form file contents and strings", ["-F", "g=<" + v["data_file"],
                                                "--form-string", "h=@literal;type=x",
                                                "-F", "i=@" + v["data_file"] + ";filename=n.txt",
                                                http + "/request"]),
        case("form with a missing file", ["-F", "f=@" + v["missing"], http + "/request"],
             code=26),
        case("upload", ["-T", v["data_file"], http + "/request"]),
        case("upload to a directory URL", ["-T", v["data_file"], "-w", "\\n%{url_effective}",
                                           http + "/dir/"]),
        case("upload a missing file", ["-T", v["missing"], http + "/request"], code=26),
        case("upload from stdin", ["-T", "-", http + "/request"], stdin=b"from stdin\n"),
        case("only one method: head and data", ["-I", "-d", "x", *ca, https + "/"], code=2),
        case("only one method: form and data", ["-F", "a=b", "-d", "c", http + "/"], code=2),
        case("only one method: upload and data", ["-T", v["data_file"], "-d", "c",
                                                  http + "/"], code=2),
        # credentials, referer, cookies
        case("basic credentials", ["-u", "user:pw", http + "/auth?user=user&pass=pw"]),
        case("wrong credentials with -f", ["-f", "-u", "user:no",
                                           http + "/auth?user=user&pass=pw"], code=22),
        case("referer", ["-e", "http://ref.example/", http + "/request"]),
        case("automatic referer", ["-e", ";auto", "-L", http + "/redirect?to=/request"]),
        case("cookie strings", ["-b", "a=b", "-b", "c=d", http + "/request"]),
        case("cookie jar", ["-c", "jar.txt", http + "/setcookie?x=1&y=2"], files=["jar.txt"]),
        case("cookie file", ["-b", v["cookie_file"], http + "/request"]),
        case("cookies across a redirect", ["-L", "-c", "jar.txt", "-b", "z=9", http +
                                           "/redirect?to=/setcookie%3Fs%3D1"],
             files=["jar.txt"]),
        case("cookie engine on both hops", ["-L", "-b", v["cookie_file"], http +
                                            "/redirect?to=/request"]),
        # encodings
        case("compressed", ["--compressed", http + "/gzip"]),
        case("not compressed", [http + "/gzip"]),
        # connections
        case("ipv4", ["-4", *ca, https + "/"]),
        case("ipv6", ["-6", *ca, "https://localhost:%d/" % v["v6_port"]]),
        case("connect-to", ["--connect-to", "other.example:443:127.0.0.1:%d" % v["other_port"],
                            *ca, "https://other.example/"]),
        case("resolve", ["--resolve", "other.example:%d:127.0.0.1" % v["other_port"], *ca,
                         "https://other.example:%d/" % v["other_port"]]),
        case("capath", ["--capath", v["capath"], https + "/"], needs="CApath"),
        case("missing cacert", ["--cacert", v["missing"], https + "/"], code=77),
        case("tls 1.2 minimum", ["--tlsv1.2", *ca, https + "/"]),
        case("tls 1.3 against a 1.2 server", ["--tlsv1.3", *ca, v["tls12"] + "/"], code=35),
        case("http 1.1", ["--http1.1", "-w", " %{http_version}", *ca, https + "/"]),
        case("http 1.0", ["--http1.0", "-i", http + "/request"]),
        case("http 2 (the server offers HTTP/1.1 only)", ["--http2", "-w", " %{http_version}",
                                                          *ca, https + "/"], needs="HTTP2"),
        # retries
        case("retry until it works", ["--retry", "3", "--retry-delay", "1", "-w",
                                      " %{http_code}", http + "/flaky?key={key}&fail=2"]),
        case("retries exhausted", ["--retry", "1", "--retry-delay", "1", "-w", " %{http_code}",
                                   http + "/flaky?key={key}&fail=3"]),
        case("retry with -f", ["--retry", "1", "--retry-delay", "1", "-f",
                               http + "/flaky?key={key}&fail=5"], code=22),
        case("retry within a time limit", ["--retry", "5", "--retry-delay", "2",
                                           "--retry-max-time", "3", "-w", " %{http_code}",
                                           http + "/flaky?key={key}&fail=9"]),
        case("retry after", ["--retry", "1", "-w", " %{http_code}",
                             http + "/flaky?key={key}&fail=1&retry-after=1"]),
        case("retry a refused connection", ["--retry", "1", "--retry-connrefused",
                                            "--retry-delay", "1",
                                            "http://127.0.0.1:%d/" % v["closed"]], code=7),
        # failures
        case("connection refused", ["http://127.0.0.1:%d/" % v["closed"]], code=7),
        case("timeout", ["-m", "0.5", *ca, https + "/hang"], code=28),
        case("unknown host", ["-m", "20", "https://no-such-host.invalid/"], code=6),
        case("untrusted certificate", ["--cacert", pki("rogue-root.pem"), https + "/"],
             code=60),
        case("certificate for another host", [*ca, "https://localhost:%d/" % v["other_port"]],
             code=60),
        # pinned
        case("pinned public key matches", ["--pinnedpubkey", leaf, *ca, https + "/"],
             code=0, pincurl_extra=pins, env=no_leaks),
        case("pinned public key mismatch", ["--pinnedpubkey", "sha256//" + v["backup_pin"],
                                            *ca, https + "/"], code=90, env=no_leaks),
        case("pinned with write-out", ["--pinnedpubkey", leaf, "-s", "-o", "/dev/null", "-w",
                                       "%{json}", *ca, https + "/"], code=0, writeout="json",
             pincurl_extra=pins, env=no_leaks),
    ]


def run_tool(argv, cwd, env, stdin):
    e = dict(os.environ)
    if env:
        e.update(env)
    start = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=120, env=e, input=stdin)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


BOUNDARY = re.compile(rb"-{2,}[0-9A-Za-z]{8,}")
UA = re.compile(rb"User-Agent: (curl|pincurl)/[0-9.A-Za-z-]+")
# What libcurl itself does differently between the two releases, when they differ (both
# tools call the same libcurl options; these are libcurl's answers, which its own curl
# gives too):
LIBCURL_CHANGES = [
    "CURLINFO_SCHEME: 'https' in libcurl 8.14, 'HTTPS' in 7.88",
    "a multipart boundary: 22 alphanumerics in 8.14, 16 hex digits in 7.88, so a request's "
    "Content-Length differs by the boundary's length: checked against the body in each, "
    "then compared as N",
    "Expect: 100-continue: 8.14 asks for it above 1 MiB only (EXPECT_100_THRESHOLD), 7.88 "
    "for a small PUT too",
    "ports libcurl has not learnt: -1 in 8.14, 0 in 7.88; and 8.14 reports the scheme of a "
    "connection that failed",
]
VERSIONS_DIFFER = False


def multipart_length(data):
    """An echoed multipart request: its Content-Length checked against its body, then
    written as N (the boundaries it counts are normalised away)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)\r\n", head)
    if not sep or m is None or b"multipart/form-data" not in head or int(m.group(1)) != len(body):
        return data
    return head.replace(m.group(0), b"Content-Length: N\r\n") + sep + body


def normalise(data):
    if VERSIONS_DIFFER:
        data = multipart_length(data)
        data = data.replace(b"Expect: 100-continue\r\n", b"")
    data = BOUNDARY.sub(b"--BOUNDARY", data)
    return UA.sub(b"User-Agent: TOOL/VERSION", data)


def normalise_writeout(text):
    text = re.sub(r"after \d+ milliseconds", "after N milliseconds", text)
    return re.sub(r"\b\d+\.\d{6}\b", "N.NNNNNN", text)


def same_value(key, a, b):
    if a == b:
        return True
    if not VERSIONS_DIFFER:
        return False
    if key == "scheme" and isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if key == "scheme" and a is None:
        return True  # 8.x names the scheme of a connection that failed
    if key in ("remote_port", "local_port") and {a, b} <= {0, -1}:
        return True
    return False


def compare_json(curl_out, pin_out):
    """Every key curl writes, with the same value (timings by form); pincurl's extra keys
    are its pin variables. Returns a list of differences."""
    try:
        c = json.loads(curl_out)
        p = json.loads(pin_out)
    except ValueError as e:
        return ["not JSON: %s" % e]
    diffs = []
    if set(p) - set(c) != PINCURL_ONLY & set(p):
        diffs.append("extra keys %s" % sorted(set(p) - set(c) - PINCURL_ONLY))
    if set(c) - set(p):
        diffs.append("missing keys %s" % sorted(set(c) - set(p)))
    for k in sorted(set(c) & set(p)):
        if k in RUN_DEPENDENT or k in DIFFERENT:
            continue
        if k.startswith("time_"):
            form = lambda x: x is None or isinstance(x, (int, float))
            if not (form(c[k]) and form(p[k]) and (c[k] is None) == (p[k] is None)):
                diffs.append("%s: %r vs %r" % (k, c[k], p[k]))
            continue
        if k == "errormsg" and c[k] is not None and p[k] is not None:
            continue  # the two tools word their messages differently; present in both
        if not same_value(k, c[k], p[k]):
            diffs.append("%s: curl %r, pincurl %r" % (k, c[k], p[k]))
    return diffs


def main():
    if len(sys.argv) < 2 or not PKI:
        print("usage: test_curl_compat.py PINCURL [CURL] (with PINCURL_TEST_PKI set)",
              file=sys.stderr)
        return 2
    pincurl = os.path.abspath(sys.argv[1])
    curl = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/curl"
    if not os.path.exists(curl):
        print("%s is missing: install Debian's curl (tools/install-deps.sh)" % curl)
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="pincurl-compat-")
    servers = []
    try:
        good = Server(tmp, "good", "--cert", pki("leaf-ec-chain.pem"), "--key", pki("leaf-ec.key"))
        plain = Server(tmp, "plain", "--plain")
        tls12 = Server(tmp, "tls12", "--cert", pki("leaf-ec-chain.pem"), "--key",
                       pki("leaf-ec.key"), "--tls-max", "1.2")
        other = Server(tmp, "other", "--cert", pki("leaf-otherhost-chain.pem"), "--key",
                       pki("leaf-otherhost.key"))
        v6 = Server(tmp, "six", "--cert", pki("leaf-ec-chain.pem"), "--key", pki("leaf-ec.key"),
                    "--host", "::1")
        servers = [good, plain, tls12, other, v6]
        data_file = os.path.join(tmp, "data.txt")
        with open(data_file, "w") as f:
            f.write("x=1 y\r\nz=2&w\n")
        json_file = os.path.join(tmp, "data.json")
        with open(json_file, "w") as f:
            f.write('{"from": "file"}\n')
        wfile = os.path.join(tmp, "format.txt")
        with open(wfile, "w") as f:  # curl joins a format file's lines
            f.write("code %{http_code}\n type %{content_type}\\n\n")
        cookie_file = os.path.join(tmp, "cookies.txt")
        with open(cookie_file, "w") as f:
            f.write("# Netscape HTTP Cookie File\n"
                    "127.0.0.1\tFALSE\t/\tFALSE\t0\tfromfile\tyes\n"
                    "127.0.0.1\tFALSE\t/other\tFALSE\t0\telsewhere\tno\n")
        capath = os.path.join(tmp, "capath")
        os.makedirs(capath)
        shutil.copy(pki("root.pem"), os.path.join(capath, "root.pem"))
        h = openssl("x509", "-in", pki("root.pem"), "-noout", "-hash").decode().strip()
        os.symlink("root.pem", os.path.join(capath, h + ".0"))
        v = dict(https="https://localhost:%d" % good.port, http="http://127.0.0.1:%d" % plain.port,
                 tls12="https://localhost:%d" % tls12.port, other_port=other.port,
                 v6_port=v6.port, closed=free_port(), data_file=data_file, json_file=json_file,
                 wfile=wfile, cookie_file=cookie_file, capath=capath,
                 missing=os.path.join(tmp, "missing.pem"),
                 leaf_pin=cert_pin(pki("leaf-ec.pem")), inter_pin=cert_pin(pki("inter.pem")),
                 backup_pin=cert_pin(pki("leaf-backup.pem")))
        version = subprocess.run([pincurl, "-V"], capture_output=True).stdout.decode()
        features = set(version.split("Features:", 1)[1].split()) if "Features:" in version \
            else set()
        curl_version = subprocess.run([curl, "-V"], capture_output=True).stdout.decode()
        libcurls = [re.search(r"libcurl/(\d+\.\d+)", t) for t in (curl_version, version)]
        global VERSIONS_DIFFER
        VERSIONS_DIFFER = None in libcurls or libcurls[0].group(1) != libcurls[1].group(1)
        print("pincurl features: %s" % " ".join(sorted(features)))
        print("libcurl: curl's %s, pincurl's %s%s" % (
            libcurls[0].group(1) if libcurls[0] else "?", libcurls[1].group(1) if libcurls[1]
            else "?", "; normalised: " + "; ".join(LIBCURL_CHANGES) if VERSIONS_DIFFER else ""))
        all_cases = cases(v)
        passed = failed = 0
        for n, c in enumerate(all_cases):
            results = {}
            for tool, binary in (("curl", curl), ("pincurl", pincurl)):
                cwd = os.path.join(tmp, "run%d-%s" % (n, tool))
                os.makedirs(cwd)
                args = [a.replace("{key}", "%d-%s" % (n, tool)) for a in c["args"]]
                # -g: curl globs [] and {} in URLs unless told not to; pincurl never does
                argv = [binary, "-g"] + (["-A", "compat/1.0"] if c["user_agent"] else []) + args
                if tool == "pincurl":
                    argv += c["pincurl_extra"]
                rc, out, err, secs = run_tool(argv, cwd, c["env"], c["stdin"])
                files = {}
                for name in c["files"]:
                    path = os.path.join(cwd, name)
                    files[name] = open(path, "rb").read() if os.path.exists(path) else None
                results[tool] = (rc, out, err, files, secs)
            problems = []
            (crc, cout, cerr, cfiles, _), (prc, pout, perr, pfiles, _) = (results["curl"],
                                                                          results["pincurl"])
            if c["needs"] is not None and c["needs"] not in features:
                # this libcurl cannot: pincurl refuses the option rather than ignore it
                if prc != 2 or b"does not support" not in perr:
                    problems.append("without %s pincurl must refuse: exit %d, %r" % (
                        c["needs"], prc, perr[:200]))
                if problems:
                    failed += 1
                    print("FAIL %s: %s" % (c["name"], "; ".join(problems)))
                else:
                    passed += 1
                    print("ok   %s (pincurl refuses: no %s in this libcurl)" % (c["name"],
                                                                             c["needs"]))
                continue
            if c["code"] is not None and crc != c["code"]:
                problems.append("curl exited %d, the case expects %d" % (crc, c["code"]))
            if crc != prc:
                problems.append("exit code: curl %d, pincurl %d" % (crc, prc))
            if c["writeout"] == "json":
                problems += compare_json(cout.decode("utf-8", "replace"),
                                         pout.decode("utf-8", "replace"))
            elif c["writeout"] == "text":
                co, po = (normalise_writeout(x.decode("utf-8", "replace")) for x in (cout, pout))
                if co != po:
                    problems.append("stdout: curl %r, pincurl %r" % (co, po))
            elif normalise(cout) != normalise(pout) and not (
                    VERSIONS_DIFFER and c["name"] == "write-out values" and
                    normalise(cout).replace(b" HTTPS ", b" https ") == normalise(pout)):
                problems.append("stdout: curl %r, pincurl %r" % (cout[:400], pout[:400]))
            if c["stderr"] and cerr != perr:
                problems.append("stderr: curl %r, pincurl %r" % (cerr[:300], perr[:300]))
            for name in c["files"]:
                a, b = cfiles[name], pfiles[name]
                if (a is None) != (b is None) or (a is not None and normalise(a) != normalise(b)):
                    problems.append("file %s: curl %r, pincurl %r" % (
                        name, a[:300] if a else a, b[:300] if b else b))
            if problems:
                failed += 1
                print("FAIL %s: %s\n  curl stderr: %s\n  pincurl stderr: %s" % (
                    c["name"], "; ".join(problems), cerr.decode("utf-8", "replace")[:400],
                    perr.decode("utf-8", "replace")[:400]))
            else:
                passed += 1
                print("ok   %s (exit %d)" % (c["name"], crc))
        print("%d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 and passed >= 40 else 1
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
