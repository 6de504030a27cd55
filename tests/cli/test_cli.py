#!/usr/bin/env python3
"""Drives the built `pincurl` binary against the local test servers.

usage: test_cli.py PINCURL_BINARY   (env: PINCURL_TEST_PKI, PINCURL_BINARY_DIR)

Every pin is computed with openssl while the test runs. Servers listen on loopback only
and are stopped by PID. The last line printed is "N passed, N failed".
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import odd_certs as oc  # noqa: E402

PINCURL = None
PKI = os.environ.get("PINCURL_TEST_PKI", "")
SOURCE = os.environ.get("PINCURL_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVER = os.path.join(SOURCE, "tests", "servers", "tls_server.py")


def pki(name):
    return os.path.join(PKI, name)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def cert_pin(pem):
    """sha256/ pin of a certificate, the pipeline users run."""
    pub = openssl("x509", "-in", pem, "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", data=pub)
    digest = openssl("dgst", "-sha256", "-binary", data=der)
    return "sha256/" + openssl("base64", "-A", data=digest).decode().strip()


def key_pin(path):
    der = openssl("pkey", "-in", path, "-pubout", "-outform", "der")
    digest = openssl("dgst", "-sha256", "-binary", data=der)
    return "sha256/" + openssl("base64", "-A", data=digest).decode().strip()


def cert_subject(pem):
    out = openssl("x509", "-in", pem, "-noout", "-subject", "-nameopt", "RFC2253").decode()
    return out.strip().split("=", 1)[1]


def cert_not_after(pem):
    out = openssl("x509", "-in", pem, "-noout", "-enddate").decode().strip().split("=", 1)[1]
    t = datetime.strptime(out.replace("  ", " "), "%b %d %H:%M:%S %Y GMT")
    return t.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp, chain=None, key=None, name="server", plain=False, extra=()):
        self.port_file = os.path.join(tmp, name + ".port")
        tls = ["--plain"] if plain else ["--cert", chain, "--key", key]
        self.plain = plain
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, *tls, "--host", "127.0.0.1",
             "--port", "0", "--port-file", self.port_file, "--name", name, "--lifetime", "300",
             "--parent-pid", str(os.getpid()), *extra])
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("server %s did not start" % name)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def url(self, path="/"):
        return "%s://localhost:%d%s" % ("http" if self.plain else "https", self.port, path)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


SILENT_SERVER = r"""
import socket, ssl, sys, time, threading
cert, key, port_file, tls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "tls"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
open(port_file + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(port_file + ".tmp", port_file)
def hold(c):
    try:
        if tls:
            c = ctx.wrap_socket(c, server_side=True)
        c.settimeout(120)
        while c.recv(4096):
            pass  # reads the request, never answers
    except Exception:
        pass
deadline = time.monotonic() + 120
srv.settimeout(1)
while time.monotonic() < deadline:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    threading.Thread(target=hold, args=(c,), daemon=True).start()
"""


class SilentServer:
    """Accepts on loopback and never answers: after the TLS handshake (tls=True) or before
    it. Exits by itself after 120 s; stopped by PID."""

    def __init__(self, tmp, name, tls):
        self.port_file = os.path.join(tmp, name + ".port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.proc = subprocess.Popen([sys.executable, "-c", SILENT_SERVER,
                                      pki("leaf-ec-chain.pem"), pki("leaf-ec.key"),
                                      self.port_file, "tls" if tls else "tcp"])
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("silent server did not start")
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def raw_pin(der):
    """sha256/ of exactly these bytes: the pin of an SPKI as the certificate carries it."""
    return "sha256/" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def openssl_cert_pin_der(cert_der):
    """The pin the openssl pipeline prints: it decodes the key and encodes it again."""
    pub = openssl("x509", "-inform", "DER", "-pubkey", "-noout", data=cert_der)
    der = openssl("pkey", "-pubin", "-outform", "der", data=pub)
    return raw_pin(der)


def run(*args, timeout=60, stdin=None, env=None):
    p = subprocess.run([PINCURL, *args], capture_output=True, timeout=timeout, input=stdin,
                       env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pincurl-cli-")
        cls.good = Server(cls.tmp, pki("leaf-ec-chain.pem"), pki("leaf-ec.key"), "good")
        cls.rogue = Server(cls.tmp, pki("padded-chain.pem"), pki("rogue-leaf.key"), "rogue")
        cls.other = Server(cls.tmp, pki("leaf-otherhost-chain.pem"), pki("leaf-otherhost.key"),
                           "other")
        cls.leaf = cert_pin(pki("leaf-ec.pem"))
        cls.inter = cert_pin(pki("inter.pem"))
        cls.root = cert_pin(pki("root.pem"))
        cls.backup = cert_pin(pki("leaf-backup.pem"))
        cls.rogue_pin = cert_pin(pki("rogue-leaf.pem"))
        cls.ca = ["--cacert", pki("root.pem")]

    @classmethod
    def tearDownClass(cls):
        for s in (cls.good, cls.rogue, cls.other):
            s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def policy(self, name, domains, **top):
        doc = {"pincurl_policy": 1, "domains": domains}
        doc.update(top)
        return self.write(name, json.dumps(doc))


class Basics(Base):
    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^pincurl \d+\.\d+\.\d+")

    def test_help_lists_options_and_exit_codes(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for opt in ("-X", "-H", "--data", "-o", "-s", "-v", "-i", "-L", "--max-redirs",
                    "--cacert", "--resolve", "--proxy", "--connect-timeout", "--max-time",
                    "--pinnedpubkey", "-#", "--policy", "--pin", "--report-only",
                    "--report-uri", "--spool", "--result-json", "--json", "-w", "-F",
                    "--retry", "--report-wait", "--connect-to", "--compressed"):
            self.assertIn(opt, out)
        for code in ("6 DNS", "7 connect", "28 timeout", "35 TLS", "90 pin mismatch",
                     "110 invalid policy"):
            self.assertIn(code, out)

    def test_unknown_option(self):
        rc, _, err = run("--frobnicate", self.good.url())
        self.assertEqual(rc, 2)
        self.assertIn("--frobnicate: is unknown", err)

    def test_missing_argument(self):
        rc, _, err = run(self.good.url(), "-H")
        self.assertEqual(rc, 2)
        self.assertIn("requires an argument", err)

    def test_no_url(self):
        rc, _, err = run("-s")
        self.assertEqual(rc, 2)
        self.assertIn("no URL", err)

    def test_man_page_generated(self):
        man = os.path.join(os.environ.get("PINCURL_BINARY_DIR", ""), "docs", "pincurl.1")
        with open(man) as f:
            text = f.read()
        self.assertTrue(text.startswith('.TH "PINCURL" "1"'))
        for opt in ("\\-\\-pin", "\\-\\-policy", "\\-\\-json", "\\-\\-report\\-only",
                    "\\-\\-result\\-json", "\\-\\-write\\-out", "\\-\\-report\\-wait"):
            self.assertIn(opt, text)
        if shutil.which("groff"):
            p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man],
                               capture_output=True)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stderr, b"", p.stderr.decode())


class Requests(Base):
    def test_pins_match(self):
        rc, out, err = run(*self.ca, "--pin", self.inter, "--pin", self.backup, self.good.url())
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "hello from good")

    def test_pin_mismatch(self):
        rc, out, err = run(*self.ca, "--pin", self.rogue_pin, "--pin", self.backup,
                           self.good.url())
        self.assertEqual(rc, 90)
        self.assertEqual(out, "")
        self.assertIn("PIN_MISMATCH", err)
        self.assertIn(self.leaf, err)  # the detail shows the validated path's pins

    def test_silent_hides_detail(self):
        rc, _, err = run("-s", *self.ca, "--pin", self.rogue_pin, "--pin", self.backup,
                         self.good.url())
        self.assertEqual(rc, 90)
        self.assertEqual(err, "")
        for flags in (["-s", "-S"], ["-sS"]):
            rc, _, err = run(*flags, *self.ca, "--pin", self.rogue_pin, "--pin", self.backup,
                             self.good.url())
            self.assertEqual(rc, 90)
            self.assertIn("PIN_MISMATCH", err)

    def test_grouped_short_options(self):
        rc, out, err = run("-fsSL", *self.ca, self.good.url("/redirect?to=/"))
        self.assertEqual((rc, out), (0, "hello from good"), err)
        rc, out, err = run("-sXPUT", "-dz", *self.ca, self.good.url("/echo"))
        self.assertEqual((rc, out), (0, "z"), err)
        path = os.path.join(self.tmp, "grouped.txt")
        rc, out, err = run("-so" + path, *self.ca, self.good.url())
        self.assertEqual((rc, out), (0, ""), err)
        with open(path) as f:
            self.assertEqual(f.read(), "hello from good")
        rc, _, err = run("-sz", self.good.url())
        self.assertEqual(rc, 2)
        self.assertIn("-sz: is unknown", err)

    def test_insecure_is_refused(self):
        for flag in ("-k", "--insecure", "-sk"):
            rc, out, err = run(flag, self.good.url())
            self.assertEqual((rc, out), (2, ""))
            self.assertIn("never skips certificate validation", err)

    def test_one_pin_needs_backup_or_report_only(self):
        rc, _, err = run(*self.ca, "--pin", self.leaf, self.good.url())
        self.assertEqual(rc, 110)
        self.assertIn("--pin twice", err)
        rc, out, err = run(*self.ca, "--pin", self.leaf, "--report-only", self.good.url())
        self.assertEqual(rc, 0, err)

    def test_report_only_mismatch_proceeds(self):
        rc, out, err = run(*self.ca, "--pin", self.rogue_pin, "--report-only", "--result-json",
                           self.good.url())
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["result"], "PIN_MISMATCH")
        self.assertEqual(doc["decision"], "ALLOW")
        self.assertEqual(doc["http_code"], 200)

    def test_bad_pin(self):
        rc, _, err = run(*self.ca, "--pin", "sha256/notbase64!", "--pin", self.backup,
                         self.good.url())
        self.assertEqual(rc, 110)
        self.assertIn("sha256/notbase64!", err)
        self.assertIn("base64", err)
        rc, _, err = run(*self.ca, "--pin", "md5/AAAA", "--pin", self.backup, self.good.url())
        self.assertEqual(rc, 110)
        self.assertIn("sha256/", err)

    def test_json_success(self):
        rc, out, err = run(*self.ca, "--pin", self.inter, "--pin", self.backup, "--result-json",
                           self.good.url())
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["outcome"], "ok")
        self.assertEqual(doc["status"], "OK")
        self.assertEqual(doc["exit_code"], 0)
        self.assertEqual(doc["http_code"], 200)
        self.assertTrue(doc["pinned"])
        self.assertEqual(doc["result"], "SUCCESS")
        self.assertEqual(doc["matched_pin"], self.inter)
        self.assertEqual(doc["matched_depth"], 1)
        path = doc["path"]
        self.assertEqual([c["pin"] for c in path], [self.leaf, self.inter, self.root])
        for c, pem in zip(path, ("leaf-ec.pem", "inter.pem", "root.pem")):
            self.assertEqual(c["subject"], cert_subject(pki(pem)))
            self.assertEqual(c["not_after"], cert_not_after(pki(pem)))

    def test_json_mismatch(self):
        rc, out, _ = run("-s", *self.ca, "--pin", self.rogue_pin, "--pin", self.backup,
                         "--result-json", self.good.url())
        self.assertEqual(rc, 90)
        doc = json.loads(out)
        self.assertEqual(doc["outcome"], "error")
        self.assertEqual(doc["status"], "PIN_MISMATCH")
        self.assertEqual(doc["exit_code"], 90)
        self.assertIsNone(doc["matched_pin"])
        self.assertEqual(doc["path"][0]["pin"], self.leaf)
        self.assertIn("PIN_MISMATCH", doc["detail"])

    def test_json_unpinned_shows_path(self):
        rc, out, err = run(*self.ca, "--result-json", self.good.url())
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertFalse(doc["pinned"])
        self.assertEqual(doc["result"], "NOT_PINNED")
        self.assertEqual(doc["path"][0]["pin"], self.leaf)

    def test_rogue_chain_refused_even_when_trusted(self):
        rc, _, err = run("--cacert", pki("cas.pem"), "--pin", self.inter, "--pin",
                         self.backup, self.rogue.url())
        self.assertEqual(rc, 90, err)

    def test_untrusted_certificate(self):
        rc, _, err = run("--cacert", pki("rogue-root.pem"), self.good.url())
        self.assertEqual(rc, 60, err)

    def test_host_mismatch(self):
        rc, _, err = run(*self.ca, self.other.url())
        self.assertEqual(rc, 60, err)

    def test_connect_refused(self):
        rc, _, err = run(*self.ca, "https://127.0.0.1:%d/" % free_port())
        self.assertEqual(rc, 7, err)

    def test_dns_failure(self):
        rc, _, err = run(*self.ca, "-m", "20", "https://no-such-host.invalid/")
        self.assertEqual(rc, 6, err)

    def test_timeout(self):
        start = time.monotonic()
        rc, _, err = run(*self.ca, "-m", "0.5", self.good.url("/hang"))
        self.assertEqual(rc, 28, err)
        self.assertLess(time.monotonic() - start, 10)

    def test_bad_timeout_value(self):
        rc, _, err = run("--connect-timeout", "soon", self.good.url())
        self.assertEqual(rc, 2)
        self.assertIn("seconds", err)

    def test_resolve(self):
        rc, out, err = run(*self.ca, "--resolve", "pinned.test:%d:127.0.0.1" % self.good.port,
                           "https://localhost:%d/" % self.good.port)
        self.assertEqual(rc, 0, err)
        # the certificate names localhost: reaching it as another name must fail
        rc, _, err = run(*self.ca, "--resolve", "pinned.test:%d:127.0.0.1" % self.good.port,
                         "https://pinned.test:%d/" % self.good.port)
        self.assertEqual(rc, 60, err)

    def test_post_data_and_file(self):
        rc, out, err = run(*self.ca, "-d", "a=1", "-d", "b=2", self.good.url("/echo"))
        self.assertEqual((rc, out), (0, "a=1&b=2"), err)
        data = self.write("data.txt", "x=1\ny=2\n")
        rc, out, _ = run(*self.ca, "-d", "@" + data, self.good.url("/echo"))
        self.assertEqual((rc, out), (0, "x=1y=2"))
        rc, out, _ = run(*self.ca, "--data-binary", "@" + data, self.good.url("/echo"))
        self.assertEqual((rc, out), (0, "x=1\ny=2\n"))
        rc, _, err = run(*self.ca, "-d", "@" + os.path.join(self.tmp, "absent"),
                         self.good.url("/echo"))
        self.assertEqual(rc, 26)
        self.assertIn("No such file", err)

    def test_headers_method_and_user_agent(self):
        rc, out, err = run(*self.ca, "-H", "X-Test: yes", "-A", "tester/1",
                           self.good.url("/headers"))
        self.assertEqual(rc, 0, err)
        self.assertIn("X-Test: yes", out)
        self.assertIn("User-Agent: tester/1", out)
        rc, out, err = run(*self.ca, "-X", "PUT", "-d", "z", self.good.url("/echo"))
        self.assertEqual((rc, out), (0, "z"), err)
        rc, _, err = run(*self.ca, "-H", "no colon here", self.good.url())
        self.assertEqual(rc, 2)

    def test_include_and_head(self):
        rc, out, err = run(*self.ca, "-i", self.good.url())
        self.assertEqual(rc, 0, err)
        # the header lines as received, as curl prints them
        self.assertTrue(out.startswith("HTTP/1.1 200 OK\r\nServer: pincurl-test/good\r\n"))
        self.assertIn("Content-Length: 15\r\n", out)
        self.assertTrue(out.endswith("\r\n\r\nhello from good"))
        rc, out, err = run(*self.ca, "-I", self.good.url())
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("HTTP/1.1 200 OK\r\n"))
        self.assertNotIn("hello", out)

    def test_verbose(self):
        rc, _, err = run(*self.ca, "-v", "--pin", self.leaf, "--pin", self.backup,
                         self.good.url())
        self.assertEqual(rc, 0)
        self.assertIn("> GET " + self.good.url(), err)
        self.assertIn("< HTTP/1.1 200 OK", err)
        self.assertIn("pin validation localhost:%d: SUCCESS, allow, matched %s"
                      % (self.good.port, self.leaf), err)

    def test_output_file(self):
        out_path = os.path.join(self.tmp, "body.bin")
        rc, out, err = run(*self.ca, "-#", "-o", out_path, self.good.url("/bytes?n=200000"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")
        with open(out_path, "rb") as f:
            body = f.read()
        self.assertEqual(len(body), 200000)
        self.assertEqual(body[:26], b"abcdefghijklmnopqrstuvwxyz")
        rc, _, err = run(*self.ca, "-o", os.path.join(self.tmp, "no", "dir", "x"),
                         self.good.url())
        self.assertEqual(rc, 23)

    def test_redirects(self):
        target = self.good.url("/")
        rc, out, err = run(*self.ca, "-i", self.good.url("/redirect?to=" + target))
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("HTTP/1.1 302 Found\r\n"))
        rc, out, err = run(*self.ca, "-L", self.good.url("/redirect?to=" + target))
        self.assertEqual((rc, out), (0, "hello from good"), err)
        loop = self.good.url("/redirect?to=" + self.good.url("/redirect?to=/"))
        rc, _, err = run(*self.ca, "-L", "--max-redirs", "1", loop)
        self.assertEqual(rc, 47, err)

    def test_fail(self):
        rc, out, err = run(*self.ca, "-f", self.good.url("/status?code=404"))
        self.assertEqual(rc, 22)
        self.assertEqual(out, "")
        self.assertIn("404", err)
        rc, out, _ = run(*self.ca, self.good.url("/status?code=404"))
        self.assertEqual((rc, out), (0, "status 404\n"))

    def test_pinnedpubkey(self):
        # libcurl's CURLOPT_PINNEDPUBLICKEY on wolfSSL leaks about 26 KB of wolfSSL objects
        # per process (the curl program built with the same libcurl leaks the same bytes),
        # so leak detection is off for these runs in sanitizer builds.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        spec = self.leaf.replace("sha256/", "sha256//")
        rc, out, err = run(*self.ca, "--pinnedpubkey", spec, self.good.url(), env=env)
        self.assertEqual(rc, 0, err)
        spec = self.backup.replace("sha256/", "sha256//")
        rc, _, err = run(*self.ca, "--pinnedpubkey", spec, self.good.url(), env=env)
        self.assertEqual(rc, 90, err)

    def test_policy_file(self):
        good = self.policy("req-good.json", {"localhost": {"pins": [self.leaf, self.backup]}})
        rc, out, err = run(*self.ca, "--policy", good, self.good.url())
        self.assertEqual((rc, out), (0, "hello from good"), err)
        bad = self.policy("req-bad.json", {"localhost": {"pins": [self.rogue_pin, self.backup]}})
        rc, _, err = run(*self.ca, "--policy", bad, self.good.url())
        self.assertEqual(rc, 90)
        rc, _, err = run(*self.ca, "--policy", bad, "--report-only", self.good.url())
        self.assertEqual(rc, 0, err)
        rc, _, err = run(*self.ca, "--policy", good, "--pin", self.leaf, self.good.url())
        self.assertEqual(rc, 2)

    def test_cleartext_to_pinned_host_refused(self):
        rc, _, err = run("--pin", self.leaf, "--pin", self.backup,
                         "http://localhost:%d/" % free_port())
        self.assertEqual(rc, 111, err)

    def test_policy_missing_and_malformed(self):
        rc, _, err = run("--policy", os.path.join(self.tmp, "nope.json"), self.good.url())
        self.assertEqual(rc, 26)
        self.assertIn("nope.json", err)
        bad = self.write("malformed.json", '{"pincurl_policy": 1, "domains": {"localhost": '
                                           '{"pins": ["sha256/AAAA", "%s"]}}}' % self.leaf)
        rc, _, err = run("--policy", bad, self.good.url())
        self.assertEqual(rc, 110)
        self.assertIn('domains["localhost"].pins[0]', err)

    def test_spool_and_report_uri(self):
        spool = os.path.join(self.tmp, "spool")
        rc, _, err = run("-v", *self.ca, "--pin", self.rogue_pin, "--report-only",
                         "--report-uri", "https://127.0.0.1:%d/report" % free_port(),
                         "--spool", spool, self.good.url())
        self.assertEqual(rc, 0, err)
        self.assertIn("PIN_MISMATCH, allow", err)
        # When the library queues the report (-v prints the event), it is in the spool.
        if "event REPORT_QUEUED" in err:
            reports = [n for n in os.listdir(spool) if not n.startswith(".")]
            self.assertGreaterEqual(len(reports), 1, "no report was spooled")
        rc, _, err = run("--report-uri", "http://insecure.example/", "--pin", self.leaf,
                         "--pin", self.backup, self.good.url())
        self.assertEqual(rc, 110)


class CurlOptions(Base):
    """curl's options where they meet the pin decision (test_curl_compat.py compares the
    rest with curl itself)."""

    def features(self):
        out = run("-V")[1]
        return set(out.split("Features:", 1)[1].split()) if "Features:" in out else set()

    def test_json_is_curls_data_and_result_json_is_pincurls(self):
        rc, out, err = run(*self.ca, "--json", '{"a":1}', self.good.url("/echo"))
        self.assertEqual((rc, out), (0, '{"a":1}'), err)
        rc, out, err = run(*self.ca, "--pin", self.inter, "--pin", self.backup,
                           "--result-json", self.good.url())
        self.assertEqual(json.loads(out)["result"], "SUCCESS")

    def test_connect_to_keeps_the_url_host_decided(self):
        # localhost's pins, the connection to the rogue server (padded chain, trusted root)
        entry = "localhost:%d:127.0.0.1:%d" % (self.good.port, self.rogue.port)
        rc, out, err = run("--cacert", pki("cas.pem"), "--pin", self.inter, "--pin",
                           self.backup, "--connect-to", entry, self.good.url())
        self.assertEqual((rc, out), (90, ""), err)
        self.assertIn("localhost", err)
        # without pins the same connection is curl's: validated, allowed
        rc, out, err = run("--cacert", pki("cas.pem"), "--connect-to", entry, self.good.url())
        self.assertEqual((rc, out), (0, "hello from rogue"), err)
        rc, _, err = run(*self.ca, "--connect-to", "bad-entry", self.good.url())
        self.assertEqual(rc, 2)

    def test_ip_versions_decide_the_same_host(self):
        rc, out, err = run(*self.ca, "-4", "--pin", self.inter, "--pin", self.backup,
                           "-w", " %{remote_ip} %{pin_result}", self.good.url())
        self.assertEqual((rc, out), (0, "hello from good 127.0.0.1 SUCCESS"), err)
        rc, _, err = run(*self.ca, "-6", "--pin", self.inter, "--pin", self.backup,
                         self.good.url())
        self.assertEqual(rc, 7, err)  # the server listens on IPv4 only

    def test_write_out_pin_variables(self):
        fmt = "%{pinned} %{pin_result} %{pin_decision} %{pin_matched} %{pin_matched_depth}"
        rc, out, err = run(*self.ca, "-s", "-o", "/dev/null", "--pin", self.inter, "--pin",
                           self.backup, "-w", fmt, self.good.url())
        self.assertEqual((rc, out), (0, "1 SUCCESS ALLOW %s 1" % self.inter), err)
        rc, out, err = run(*self.ca, "-s", "--pin", self.rogue_pin, "--pin", self.backup,
                           "-w", fmt, self.good.url())
        self.assertEqual((rc, out), (90, "1 PIN_MISMATCH BLOCK  "), err)
        rc, out, err = run(*self.ca, "-s", "-o", "/dev/null", "-w", fmt + " %{num_certs}",
                           self.good.url())
        self.assertEqual((rc, out), (0, "0 NOT_PINNED    3"), err)
        rc, out, err = run(*self.ca, "-s", "-o", "/dev/null", "-w", "%{certs}",
                           self.good.url())
        self.assertIn("Subject:%s\n" % cert_subject(pki("leaf-ec.pem")), out)
        self.assertIn("Pin:%s\n" % self.root, out)
        rc, out, err = run(*self.ca, "-s", "-o", "/dev/null", "--pin", self.inter, "--pin",
                           self.backup, "-w", "%{json}", self.good.url())
        doc = json.loads(out)
        self.assertEqual((doc["pinned"], doc["pin_result"], doc["pin_matched_depth"]),
                         (1, "SUCCESS", 1))
        self.assertEqual(doc["http_code"], 200)

    def test_retry_never_retries_a_pin_failure(self):
        log = os.path.join(self.tmp, "retry.log")
        srv = Server(self.tmp, chain=pki("leaf-ec-chain.pem"), key=pki("leaf-ec.key"),
                     name="retry", extra=["--log", log])
        try:
            rc, _, err = run(*self.ca, "--retry", "3", "--retry-delay", "1",
                             "--retry-all-errors", "--pin", self.rogue_pin, "--pin",
                             self.backup, srv.url())
            self.assertEqual(rc, 90, err)
            self.assertIn("not retrying", err)
            with open(log) as f:
                accepted = sum(1 for line in f if " accept " in line)
            self.assertEqual(accepted, 1)
            # a transient failure is retried: a refused connection with --retry-all-errors
            start = time.monotonic()
            rc, _, err = run(*self.ca, "--retry", "2", "--retry-delay", "0.2",
                             "--retry-all-errors", "https://127.0.0.1:%d/" % free_port())
            self.assertEqual(rc, 7, err)
            self.assertEqual(err.count("Will retry"), 2, err)
            self.assertLess(time.monotonic() - start, 10)
        finally:
            srv.stop()

    def test_cookie_of_a_pinned_domain_never_goes_in_cleartext(self):
        plain = Server(self.tmp, name="plain-cookies", plain=True)
        try:
            cookies = self.write("domain-cookies.txt",
                                 "# Netscape HTTP Cookie File\n"
                                 ".example.test\tTRUE\t/\tFALSE\t0\tsession\tsecret\n")
            url = "http://www.example.test:%d/headers" % plain.port
            resolve = "www.example.test:%d:127.0.0.1" % plain.port
            pinned = self.policy("cookie-pinned.json", {
                "api.example.test": {"pins": [self.leaf, self.backup]}})
            rc, out, err = run("--policy", pinned, "-b", cookies, "--resolve", resolve, url)
            self.assertEqual((rc, out), (111, ""), err)
            self.assertIn("example.test", err)
            other = self.policy("cookie-other.json", {
                "api.other.test": {"pins": [self.leaf, self.backup]}})
            rc, out, err = run("--policy", other, "-b", cookies, "--resolve", resolve, url)
            self.assertEqual(rc, 0, err)
            self.assertIn("Cookie: session=secret", out)
        finally:
            plain.stop()

    def test_refused_options_say_why(self):
        for opt, why in (("--http3", "no HTTP/3"), ("--tlsv1.1", "never offered"),
                         ("--netrc", ".netrc"), ("--digest", "Basic"),
                         ("--parallel", "one request per command"),
                         ("--proxy-insecure", "never skips certificate validation")):
            rc, out, err = run(opt, self.good.url())
            self.assertEqual((rc, out), (2, ""), opt)
            self.assertIn("not supported", err)
            self.assertIn(why, err)
        rc, _, err = run("-u", "nopassword", self.good.url())
        self.assertEqual(rc, 2)
        self.assertIn("USER:PASSWORD", err)

    def test_head_with_data_fails_at_once(self):
        start = time.monotonic()
        rc, out, err = run(*self.ca, "-I", "-d", "x", self.good.url("/hang"))
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("You can only select one HTTP request method!", err)
        self.assertLess(time.monotonic() - start, 5)

    def test_features_decide_http2_and_capath(self):
        features = self.features()
        rc, out, err = run(*self.ca, "--http2", self.good.url())
        if "HTTP2" in features:
            self.assertEqual((rc, out), (0, "hello from good"), err)
        else:
            self.assertEqual(rc, 2)
            self.assertIn("option --http2: the installed libcurl version does not support this",
                          err)
        capath = os.path.join(self.tmp, "capath")
        os.makedirs(capath, exist_ok=True)
        shutil.copy(pki("root.pem"), os.path.join(capath, "root.pem"))
        # OpenSSL looks roots up by subject hash (c_rehash's links); wolfSSL reads every file
        link = os.path.join(capath, openssl("x509", "-in", pki("root.pem"), "-noout",
                                            "-hash").decode().strip() + ".0")
        if not os.path.exists(link):
            os.symlink("root.pem", link)
        rc, out, err = run("--capath", capath, "--pin", self.root, "--pin", self.backup,
                           self.good.url())
        if "CApath" in features:
            self.assertEqual((rc, out), (0, "hello from good"), err)
        else:
            self.assertEqual(rc, 2)
            self.assertIn("option --capath: the installed libcurl version does not support",
                          err)

    def test_missing_cacert_is_77(self):
        rc, _, err = run("--cacert", os.path.join(self.tmp, "none.pem"), self.good.url())
        self.assertEqual(rc, 77, err)


class ReportDelivery(Base):
    """A CLI failure reaches a real collector (samples/report-collector) exactly once."""

    def start_collector(self, name, port=0):
        db = os.path.join(self.tmp, name + ".db")
        port_file = os.path.join(self.tmp, name + ".port")
        proc = subprocess.Popen(
            [sys.executable, os.path.join(SOURCE, "samples", "report-collector", "collector.py"),
             "--db", db, "--port", str(port), "--port-file", port_file, "--tls-cert",
             pki("leaf-ec-chain.pem"), "--tls-key", pki("leaf-ec.key")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("collector did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            return proc, db, int(f.read().strip())

    @staticmethod
    def count(db):
        if not os.path.exists(db):
            return 0
        con = sqlite3.connect(db)
        try:
            return con.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            con.close()

    @staticmethod
    def pending(spool):
        # report files (NNN.report; the spool's dedup.json remembers what was reported)
        return sorted(n for n in os.listdir(spool) if n.endswith(".report"))

    def failing_request(self, spool, collector_port, *extra):
        # the collector answers as 127.0.0.1, a host the policy (localhost) does not pin
        return run(*self.ca, "--pin", self.rogue_pin, "--pin", self.backup, "--report-uri",
                   "https://127.0.0.1:%d/pin-report" % collector_port, "--spool", spool,
                   *extra, self.good.url())

    def test_one_failure_reaches_the_collector_exactly_once_in_three_runs(self):
        proc, db, port = self.start_collector("once")
        spool = os.path.join(self.tmp, "spool-once")
        try:
            for n in range(3):
                rc, out, err = self.failing_request(spool, port)
                self.assertEqual((rc, out), (90, ""), err)
                # the acknowledgement is on disk when the process has exited
                self.assertEqual(self.pending(spool), [], "run %d left a report" % (n + 1))
                self.assertEqual(self.count(db), 1, "after run %d" % (n + 1))
            with sqlite3.connect(db) as con:
                host, result = con.execute(
                    "SELECT hostname, validation_result FROM reports").fetchone()
            self.assertEqual((host, result), ("localhost", 1))
        finally:
            proc.terminate()
            proc.wait(10)

    def test_the_wait_is_bounded_and_what_is_left_stays_spooled(self):
        spool = os.path.join(self.tmp, "spool-down")
        down = free_port()  # nothing listens: every delivery attempt fails
        start = time.monotonic()
        rc, _, err = self.failing_request(spool, down, "--report-wait", "1")
        took = time.monotonic() - start
        self.assertEqual(rc, 90, err)
        self.assertIn("not delivered within 1000 ms", err)
        self.assertGreaterEqual(took, 1.0)
        self.assertLess(took, 8)
        self.assertEqual(len(self.pending(spool)), 1)
        # --report-wait 0: no waiting at all; the report is still there for a later run
        start = time.monotonic()
        rc, _, err = self.failing_request(spool, down, "--report-wait", "0")
        self.assertEqual(rc, 90, err)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(len(self.pending(spool)), 1)
        # a later run, the collector up at the report's URI, delivers the report left
        # behind, once
        proc, db, port = self.start_collector("later", down)
        try:
            rc, _, err = run(*self.ca, "--pin", self.inter, "--pin", self.backup,
                             "--report-uri", "https://127.0.0.1:%d/r" % port, "--spool",
                             spool, "--report-wait", "5", self.good.url())
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.pending(spool), [])
            self.assertEqual(self.count(db), 1)
        finally:
            proc.terminate()
            proc.wait(10)


@unittest.skipUnless(shutil.which("mitmdump"), "mitmproxy is not installed")
class Interception(Base):
    """An intercepting proxy whose CA the client trusts: only the pins notice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.confdir = os.path.join(cls.tmp, "mitm")
        os.makedirs(cls.confdir)
        cls.proxy_port = free_port()
        cls.mitm = subprocess.Popen(
            ["mitmdump", "-q", "--listen-host", "127.0.0.1", "--listen-port",
             str(cls.proxy_port), "--set", "confdir=" + cls.confdir, "--set",
             "ssl_insecure=true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ca = os.path.join(cls.confdir, "mitmproxy-ca-cert.pem")
        # its first start generates a CA; on a loaded two-core machine that can take long
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.proxy_port), 1).close()
                if os.path.exists(ca):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or cls.mitm.poll() is not None:
                raise RuntimeError("mitmdump did not start")
            time.sleep(0.2)
        cls.mitm_ca = ca

    @classmethod
    def tearDownClass(cls):
        cls.mitm.terminate()
        try:
            cls.mitm.wait(10)
        except subprocess.TimeoutExpired:
            cls.mitm.kill()
            cls.mitm.wait()
        super().tearDownClass()

    def test_interception_is_a_pin_mismatch(self):
        proxy = "http://127.0.0.1:%d" % self.proxy_port
        rc, out, err = run("-x", proxy, "--cacert", self.mitm_ca, "--result-json",
                           self.good.url())
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertNotEqual(doc["path"][0]["pin"], self.leaf)  # mitmproxy's own leaf
        rc, _, err = run("-x", proxy, "--cacert", self.mitm_ca, "--pin", self.leaf, "--pin",
                         self.backup, self.good.url())
        self.assertEqual(rc, 90, err)


class PinCommand(Base):
    def test_live_path(self):
        rc, out, err = run("pin", "localhost:%d" % self.good.port, *self.ca)
        self.assertEqual(rc, 0, err)
        for pem, depth in (("leaf-ec.pem", 0), ("inter.pem", 1), ("root.pem", 2)):
            self.assertIn("depth %d" % depth, out)
            self.assertIn("subject:   " + cert_subject(pki(pem)), out)
            self.assertIn("not after: " + cert_not_after(pki(pem)), out)
            self.assertIn("pin:       " + cert_pin(pki(pem)), out)
        self.assertIn("key:       EC 256 bits", out)
        self.assertIn("key:       RSA 2048 bits", out)

    def test_live_with_resolve_and_untrusted(self):
        rc, out, err = run("pin", "localhost:%d" % self.good.port, "--resolve",
                           "localhost:%d:127.0.0.1" % self.good.port, *self.ca)
        self.assertEqual(rc, 0, err)
        rc, out, err = run("pin", "localhost:%d" % self.good.port, "--cacert",
                           pki("rogue-root.pem"))
        self.assertEqual(rc, 60, err)
        rc, _, err = run("pin", "localhost:notaport")
        self.assertEqual(rc, 2)

    def test_files(self):
        rc, out, err = run("pin", "--cert", pki("leaf-ec-chain.pem"))
        self.assertEqual(rc, 0, err)
        self.assertIn(self.leaf, out)
        self.assertIn(self.inter, out)
        self.assertIn("2 certificates", out)
        rc, out, err = run("pin", "--cert", pki("root.der"))
        self.assertEqual(rc, 0, err)
        self.assertIn(self.root, out)
        for key in ("leaf-backup.key", "rsa3072.key", "ed25519.key", "p384.pub.pem",
                    "p521.pub.der"):
            rc, out, err = run("pin", "--key", pki(key))
            self.assertEqual(rc, 0, err)
            self.assertIn(key_pin(pki(key)) if not key.endswith((".pub.pem", ".pub.der"))
                          else cert_pin(pki(key.split(".")[0] + ".pem")), out)
        rc, out, _ = run("pin", "--key", pki("rsa3072.key"))
        self.assertIn("RSA 3072 bits", out)

    def test_csr(self):
        csr = os.path.join(self.tmp, "backup.csr")
        openssl("req", "-new", "-key", pki("leaf-backup.key"), "-subj", "/CN=backup", "-out",
                csr)
        rc, out, err = run("pin", "--csr", csr)
        self.assertEqual(rc, 0, err)
        self.assertIn(self.backup, out)
        rc, _, err = run("pin", "--csr", pki("leaf-ec.pem"))
        self.assertEqual(rc, 4)
        self.assertIn("no public key", err)

    def odd_cert(self, not_before, not_after, subject=None, spki=None):
        """A leaf for localhost under the test intermediate, in the given forms."""
        inter = oc.pem_to_der(pki("inter.pem"))
        return oc.certificate(oc.subject_of(inter),
                              subject or oc.name([(oc.CN, oc.utf8("localhost"))]),
                              not_before, not_after, spki or oc.spki_of_key(pki("leaf-ec.key")),
                              pki("inter.key"))

    def test_times_and_names_x509_allows(self):
        spki = oc.spki_of_key(pki("leaf-ec.key"))
        pin = raw_pin(spki)
        nb = oc.utc("260101000000Z")
        cases = [  # not after, what it reads as
            (oc.utc("3512312359Z"), "2035-12-31T23:59:00Z"),            # UTCTime, no seconds
            (oc.utc("351231235959+0130"), "2035-12-31T22:29:59Z"),      # UTCTime, offset
            (oc.utc("3601010000-0200"), "2036-01-01T02:00:00Z"),        # both
            (oc.gen("20351231235959.75Z"), "2035-12-31T23:59:59Z"),     # fraction, cut
            (oc.gen("20351231235959,5+0100"), "2035-12-31T22:59:59Z"),  # comma, offset
            (oc.gen("203512312359Z"), "2035-12-31T23:59:00Z"),          # no seconds
            (oc.gen("2035123123.5Z"), "2035-12-31T23:30:00Z"),          # fraction of an hour
            (oc.utc("351231235960Z"), "2036-01-01T00:00:00Z"),          # leap second
            (oc.gen("00010101000000Z"), "0001-01-01T00:00:00Z"),        # year 1, not 1970
        ]
        for i, (na, want) in enumerate(cases):
            path = os.path.join(self.tmp, "odd-time-%d.der" % i)
            with open(path, "wb") as f:
                f.write(self.odd_cert(nb, na))
            rc, out, err = run("pin", "--cert", path)
            self.assertEqual(rc, 0, "%s: %s" % (want, out + err))
            self.assertIn("not after: " + want, out)
            self.assertIn("pin:       " + pin, out)

        # local time (no Z, no offset) names no instant: said so, the pin still printed
        path = os.path.join(self.tmp, "odd-local.der")
        with open(path, "wb") as f:
            f.write(self.odd_cert(oc.gen("20260101000000"), oc.gen("20351231235959")))
        rc, out, err = run("pin", "--cert", path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("not after: (could not be read", out)
        self.assertIn("pin:       " + pin, out)
        self.assertNotIn("1970", out)
        self.assertIn("could not read not before, not after; the pin is printed", err)

        # an empty RDN, and 150 RDNs: read; a name over 1023 characters: its beginning
        empty = oc.name([(oc.O, oc.utf8("pincurl test"))], [], [(oc.CN, oc.utf8("localhost"))])
        letters = [chr(97 + k % 26) for k in range(150)]
        many = oc.name(*([[(oc.CN, oc.utf8(c))] for c in letters]))
        long_name = oc.name([(oc.O, oc.utf8("x" * 1500))])
        for tag, subject, shown, rc_want in (
                ("empty", empty, "CN=localhost,,O=pincurl test", 0),
                ("many", many, ",".join("CN=" + c for c in reversed(letters)), 0),
                ("long", long_name, "O=" + "x" * 1021 + "... (cut: longer than 1023 characters)",
                 1)):
            path = os.path.join(self.tmp, "odd-name-%s.der" % tag)
            with open(path, "wb") as f:
                f.write(self.odd_cert(nb, oc.utc("351231235959Z"), subject=subject))
            rc, out, err = run("pin", "--cert", path)
            self.assertEqual(rc, rc_want, tag + ": " + out + err)
            self.assertIn("subject:   " + shown + "\n", out, tag)
            self.assertIn("pin:       " + pin, out)

    def test_pem_labels_and_a_bad_block(self):
        leaf = oc.pem_to_der(pki("leaf-ec.pem"))
        inter = oc.pem_to_der(pki("inter.pem"))
        trusted = openssl("x509", "-in", pki("root.pem"), "-trustout", "-addtrust", "serverAuth",
                          "-addreject", "clientAuth", "-setalias", "test root").decode()
        self.assertIn("BEGIN TRUSTED CERTIFICATE", trusted)
        bad_base64 = oc.pem(inter).replace("\n-----END", "!\n-----END")
        not_a_cert = oc.pem(oc.seq(oc.integer(1), oc.integer(2)))
        unterminated = "-----BEGIN CERTIFICATE-----\nMIIB\n"
        bundle = ("# a bundle\n" + oc.pem(leaf) + bad_base64 + oc.pem(inter, "X509 CERTIFICATE")
                  + not_a_cert + trusted + unterminated)
        path = self.write("bundle.pem", bundle)
        rc, out, err = run("pin", "--cert", path)
        self.assertEqual(rc, 4, out + err)
        self.assertIn("3 certificates (3 more could not be read)", out)
        for pem_file in ("leaf-ec.pem", "inter.pem", "root.pem"):
            self.assertIn("pin:       " + cert_pin(pki(pem_file)), out)
        lines = bundle.split("\n")
        begins = [i + 1 for i, l in enumerate(lines) if l.startswith("-----BEGIN")]
        self.assertEqual(len(begins), 6)
        for k, line in enumerate(begins):
            self.assertIn("certificate %d (line %d)\n" % (k, line), out)
        for k in (1, 3, 5):  # named on stderr, with the reason
            self.assertRegex(err, r"certificate %d \(line %d\): could not be read \(.+\): no pin"
                             % (k, begins[k]))
        # the trust settings after a TRUSTED CERTIFICATE are not part of it
        rc, out, err = run("pin", "--cert", self.write("trusted.pem", trusted))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("subject:   CN=pincurl test root,O=pincurl test", out)
        self.assertIn("pin:       " + cert_pin(pki("root.pem")), out)

    def test_keys_other_tools_re_encode(self):
        """The pin is of the SPKI bytes the certificate carries; where openssl pkey re-encodes
        them, its pin differs and pincurl says why. openssl is the oracle."""
        n, e = oc.rsa_parts(oc.spki_of_key(pki("rsa2048.key")))
        content = n[2 + (n[1] & 0x7F if n[1] >= 0x80 else 0):]
        self.assertEqual(content[0], 0)  # a 2048-bit modulus needs its leading zero octet
        n_body = content[1:]  # without it, the INTEGER is negative
        rsa_null = oc.seq(oc.oid(oc.RSA_OID), oc.tlv(0x05, b""))
        sha256_no_null = oc.seq(oc.oid("2.16.840.1.101.3.4.2.1"))
        pss_params = oc.seq(oc.explicit(0, sha256_no_null),
                            oc.explicit(1, oc.seq(oc.oid("1.2.840.113549.1.1.8"), sha256_no_null)),
                            oc.explicit(2, oc.integer(32)))
        cases = {
            "canonical": (oc.rsa_spki(n, e, rsa_null), False),
            "no NULL parameter": (oc.rsa_spki(n, e, oc.seq(oc.oid(oc.RSA_OID))), True),
            "non-minimal exponent": (oc.rsa_spki(n, oc.tlv(0x02, b"\x00\x01\x00\x01"), rsa_null), True),
            "negative modulus": (oc.rsa_spki(oc.tlv(0x02, n_body), e, rsa_null), True),
            "PSS without NULL": (oc.rsa_spki(n, e, oc.seq(oc.oid(oc.PSS_OID), pss_params)), True),
        }
        for what, (spki, reencoded) in cases.items():
            cert = self.odd_cert(oc.utc("260101000000Z"), oc.utc("351231235959Z"), spki=spki)
            path = os.path.join(self.tmp, "key-%s.der" % what.replace(" ", "-"))
            with open(path, "wb") as f:
                f.write(cert)
            ours, theirs = raw_pin(spki), openssl_cert_pin_der(cert)
            rc, out, err = run("pin", "--cert", path)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("pin:       " + ours, out, what)
            self.assertEqual(theirs != ours, reencoded,
                             "%s: raw %s, openssl %s" % (what, ours, theirs))
            self.assertEqual("openssl pkey" in out, reencoded,
                             "%s: raw %s, openssl %s:\n%s" % (what, ours, theirs, out))
            # the public key given on its own: the same pin and note
            key = self.write("key-%s.pem" % what.replace(" ", "-"), oc.pem(spki, "PUBLIC KEY"))
            rc, out, err = run("pin", "--key", key)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("pin:       " + ours, out)
            self.assertEqual("openssl pkey" in out, reencoded, what)

    def test_default_timeout(self):
        """A server that completes the handshake and never answers: the default total
        timeout ends the probe (exit 28), and -m sets another."""
        silent = SilentServer(self.tmp, "silent-tls", tls=True)
        mute = SilentServer(self.tmp, "silent-tcp", tls=False)
        try:
            for srv in (silent, mute):
                start = time.monotonic()
                rc, out, err = run("pin", "localhost:%d" % srv.port, *self.ca, "-m", "1",
                                   timeout=30)
                self.assertEqual(rc, 28, out + err)
                self.assertLess(time.monotonic() - start, 10)
            start = time.monotonic()
            rc, out, err = run("pin", "localhost:%d" % silent.port, *self.ca, timeout=60)
            took = time.monotonic() - start
            self.assertEqual(rc, 28, out + err)
            self.assertGreater(took, 14)  # the documented 15 s
            self.assertLess(took, 30)
        finally:
            silent.stop()
            mute.stop()

    def test_errors(self):
        rc, _, err = run("pin", "--cert", os.path.join(self.tmp, "missing.pem"))
        self.assertEqual(rc, 26)
        self.assertIn("missing.pem", err)
        garbage = self.write("garbage.pem", "not a certificate\n")
        rc, _, err = run("pin", "--cert", garbage)
        self.assertEqual(rc, 4)
        self.assertIn("no certificate", err)
        rc, _, err = run("pin", "--bogus")
        self.assertEqual(rc, 2)
        rc, _, err = run("pin")
        self.assertEqual(rc, 2)


class PolicyCheck(Base):
    def check(self, *args):
        return run("policy", "check", *args, *self.ca, "--port", str(self.good.port),
                   "--resolve", "localhost:%d:127.0.0.1" % self.good.port,
                   "--connect-timeout", "5")

    def test_clean(self):
        p = self.policy("clean.json", {"localhost": {"pins": [self.leaf, self.backup]}})
        rc, out, err = self.check(p, "--live")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("0 errors, 0 warnings", out)
        self.assertIn("%s: matches depth 0" % self.leaf, out)
        self.assertIn("%s: not on today's path" % self.backup, out)

    def test_no_backup_outside_path(self):
        p = self.policy("nobackup.json", {"localhost": {"pins": [self.leaf, self.inter]}})
        rc, out, _ = self.check(p)
        self.assertEqual(rc, 0, out)  # without --live nothing is wrong
        rc, out, _ = self.check(p, "--live")
        self.assertEqual(rc, 1, out)
        self.assertIn("no backup key outside it", out)

    def test_no_pin_matches_today(self):
        p = self.policy("lockout.json", {"localhost": {"pins": [self.rogue_pin, self.backup]}})
        rc, out, _ = self.check(p, "--live")
        self.assertEqual(rc, 4, out)
        self.assertIn("error: domains[\"localhost\"]: no pin matches today's path", out)

    def test_expiry_soon_and_broad_parent_and_single_pin(self):
        soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 10 * 86400))
        p = self.policy("warn.json", {
            "example.com": {"include_subdomains": True, "pins": [self.leaf, self.backup]},
            "ro.example.org": {"enforce": False, "pins": [self.leaf]},
            "api.service.example.net": {"include_subdomains": True,
                                        "pins": [self.leaf, self.backup]}}, expires=soon)
        rc, out, _ = self.check(p)
        self.assertEqual(rc, 1, out)
        self.assertIn("expires within 30 days", out)
        self.assertIn('domains["example.com"]: include_subdomains on a broad parent', out)
        self.assertNotIn('domains["api.service.example.net"]: include_subdomains', out)
        self.assertIn('domains["ro.example.org"]: only one pin', out)
        self.assertIn("0 errors, 3 warnings", out)

    def live_odd(self, tag, chain_pem, key, cafile, pins):
        """policy check --live against a server sending chain_pem, trusting cafile."""
        srv = Server(self.tmp, chain_pem, key, tag)
        try:
            p = self.policy(tag + ".json", {"localhost": {"pins": pins}})
            return run("policy", "check", p, "--live", "--cacert", cafile, "--port",
                       str(srv.port), "--resolve", "localhost:%d:127.0.0.1" % srv.port,
                       "--connect-timeout", "5")
        finally:
            srv.stop()

    def test_live_uses_only_what_was_read(self):
        inter = oc.pem_to_der(pki("inter.pem"))
        leaf_spki = oc.spki_of_key(pki("leaf-ec.key"))
        leaf_pin = raw_pin(leaf_spki)

        # a leaf whose subject is longer than 1023 characters: its real expiry, its name cut
        long_leaf = oc.certificate(oc.subject_of(inter),
                                   oc.name([(oc.O, oc.utf8("x" * 1100))],
                                           [(oc.CN, oc.utf8("localhost"))]),
                                   oc.utc("260101000000Z"), oc.utc("351231235959Z"), leaf_spki,
                                   pki("inter.key"))
        chain = self.write("long-leaf-chain.pem", oc.pem(long_leaf) + open(pki("inter.pem")).read())
        rc, out, err = self.live_odd("longleaf", chain, pki("leaf-ec.key"), pki("root.pem"),
                                     [leaf_pin, self.backup])
        self.assertIn("%s: matches depth 0, CN=localhost,O=%s..., not after 2035-12-31T23:59:59Z"
                      % (leaf_pin, "x" * (1023 - len("CN=localhost,O="))), out)
        self.assertNotIn("1970", out)
        self.assertIn("0 errors, 0 warnings", out)
        self.assertEqual(rc, 0, out + err)

        # an anchor whose notAfter names no day (February 30). TLS libraries that do not
        # check an anchor's dates when it is used validate the path; the core's own path
        # builder refuses it, and then no path carries an unreadable date
        rootkey = pki("p256.key")
        rootname = oc.name([(oc.O, oc.utf8("pincurl test"))], [(oc.CN, oc.utf8("odd root"))])
        ca = oc.seq(oc.oid("2.5.29.19"), oc.tlv(0x01, b"\xff"),
                    oc.tlv(0x04, oc.seq(oc.tlv(0x01, b"\xff"))))
        root = oc.certificate(rootname, rootname, oc.utc("260101000000Z"),
                              oc.gen("20350230000000Z"), oc.spki_of_key(rootkey), rootkey,
                              serial=7, extensions=(ca,))
        leaf = oc.certificate(rootname, oc.name([(oc.CN, oc.utf8("localhost"))]),
                              oc.utc("260101000000Z"), oc.utc("351231235959Z"), leaf_spki, rootkey)
        root_file = self.write("odd-root.pem", oc.pem(root))
        chain = self.write("odd-root-chain.pem", oc.pem(leaf))
        root_pin = raw_pin(oc.spki_of_key(rootkey))
        rc, out, err = self.live_odd("oddroot", chain, pki("leaf-ec.key"), root_file,
                                     [root_pin, self.backup])
        if "live check failed" in out:
            print("note: this stack validates no path through an anchor dated February 30",
                  file=sys.stderr)
        else:
            self.assertIn("%s: matches depth 1, CN=odd root,O=pincurl test, not after: could "
                          "not be read" % root_pin, out)
            self.assertNotIn("1970", out)
            self.assertNotIn("expires within 30 days", out)
            self.assertIn("the expiry of 1 matching certificate(s) could not be read", out)
            self.assertEqual(rc, 1, out + err)

        # a leaf whose notAfter is a UTCTime with an offset: dated correctly where a path is
        # built with it (the core's path builder keeps to RFC 5280's time forms)
        odd_leaf = oc.certificate(oc.subject_of(inter), oc.name([(oc.CN, oc.utf8("localhost"))]),
                                  oc.utc("260101000000Z"), oc.utc("351231235959+0100"),
                                  leaf_spki, pki("inter.key"))
        chain = self.write("odd-leaf-chain.pem",
                           oc.pem(odd_leaf) + open(pki("inter.pem")).read())
        rc, out, err = self.live_odd("oddleaf", chain, pki("leaf-ec.key"), pki("root.pem"),
                                     [leaf_pin, self.backup])
        if "live check failed" in out:
            print("note: this stack validates no path through a UTCTime with an offset",
                  file=sys.stderr)
        else:
            self.assertIn("matches depth 0, CN=localhost, not after 2035-12-31T22:59:59Z", out)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("0 errors, 0 warnings", out)

    def test_refused_documents(self):
        rc, _, err = run("policy", "check", os.path.join(self.tmp, "absent.json"))
        self.assertEqual(rc, 26)
        self.assertIn("absent.json", err)
        p = self.write("syntax.json", '{"pincurl_policy": 1,\n "domains": {')
        rc, _, err = run("policy", "check", p)
        self.assertEqual(rc, 110)
        self.assertIn("syntax.json:2:", err)
        p = self.policy("onepin.json", {"localhost": {"pins": [self.leaf]}})
        rc, _, err = run("policy", "check", p)
        self.assertEqual(rc, 110)
        self.assertIn('domains["localhost"]', err)
        self.assertIn("POLICY_TOO_FEW_PINS", err)
        rc, _, err = run("policy", "check", p, "--what")
        self.assertEqual(rc, 2)


TRUSTKIT_PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>TSKSwizzleNetworkDelegates</key>
  <false/>
  <key>TSKIgnorePinningForUserDefinedTrustAnchors</key>
  <true/>
  <key>TSKPinnedDomains</key>
  <dict>
    <key>api.example.com</key>
    <dict>
      <key>TSKIncludeSubdomains</key>
      <true/>
      <key>TSKEnforcePinning</key>
      <true/>
      <key>TSKExpirationDate</key>
      <string>2030-01-31</string>
      <key>TSKPublicKeyHashes</key>
      <array>
        <string>%(a)s</string>
        <string>%(b)s</string>
        <string>not-a-digest</string>
      </array>
      <key>TSKReportUris</key>
      <array><string>https://collector.example.com/r</string></array>
    </dict>
    <key>legacy.api.example.com</key>
    <dict>
      <key>TSKExcludeSubdomainFromParentPolicy</key>
      <true/>
    </dict>
    <key>watch.example.org</key>
    <dict>
      <key>TSKEnforcePinning</key>
      <false/>
      <key>TSKPublicKeyHashes</key>
      <array><string>%(a)s</string></array>
    </dict>
  </dict>
</dict>
</plist>
"""

ANDROID_XML = """<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
  <base-config cleartextTrafficPermitted="false" />
  <domain-config>
    <domain includeSubdomains="true">example.com</domain>
    <pin-set expiration="2030-06-30">
      <pin digest="SHA-256">%(a)s</pin>
      <pin digest="SHA-256">%(b)s</pin>
      <pin digest="SHA-1">AAAAAAAAAAAAAAAAAAAAAAAAAAA=</pin>
    </pin-set>
    <domain-config>
      <domain>nested.example.com</domain>
    </domain-config>
  </domain-config>
  <domain-config>
    <domain>open.example.com</domain>
  </domain-config>
  <domain-config>
    <domain>other.example.net</domain>
  </domain-config>
</network-security-config>
"""


class PolicyImportExport(Base):
    def b64(self, pin):
        return pin[len("sha256/"):]

    def test_trustkit_plist(self):
        src = self.write("tk.plist", TRUSTKIT_PLIST % {"a": self.b64(self.leaf),
                                                         "b": self.b64(self.backup)})
        rc, out, err = run("policy", "import", "--from", "trustkit", src)
        self.assertEqual(rc, 1, err)  # something did not map
        doc = json.loads(out)
        d = doc["domains"]
        self.assertEqual(d["api.example.com"]["pins"], [self.leaf, self.backup])
        self.assertTrue(d["api.example.com"]["include_subdomains"])
        self.assertTrue(d["api.example.com"]["enforce"])
        self.assertEqual(d["legacy.api.example.com"], {"exclude": True})
        self.assertFalse(d["watch.example.org"]["enforce"])
        self.assertEqual(doc["expires"], "2030-01-31")
        self.assertEqual(doc["report_uris"], ["https://collector.example.com/r"])
        self.assertIn("not mapped: TSKIgnorePinningForUserDefinedTrustAnchors", err)
        self.assertIn("not-a-digest", err)
        # the output is a policy the library accepts
        p = self.write("tk-imported.json", out)
        rc, out2, err2 = run("policy", "check", p)
        self.assertIn(rc, (0, 1), err2)

    def test_trustkit_json(self):
        src = self.write("tk.json", json.dumps({"TSKPinnedDomains": {"localhost": {
            "TSKPublicKeyHashes": [self.b64(self.leaf), self.b64(self.backup)]}}}))
        rc, out, err = run("policy", "import", "--from", "trustkit", src)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertTrue(doc["domains"]["localhost"]["enforce"])
        # and the imported policy pins the live server
        p = self.write("tk-live.json", out)
        rc, body, err = run(*self.ca, "--policy", p, self.good.url())
        self.assertEqual((rc, body), (0, "hello from good"), err)

    def test_android(self):
        src = self.write("nsc.xml", ANDROID_XML % {"a": self.b64(self.leaf),
                                                    "b": self.b64(self.backup)})
        rc, out, err = run("policy", "import", "--from", "android", src)
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        d = doc["domains"]
        self.assertEqual(d["example.com"]["pins"], [self.leaf, self.backup])
        self.assertTrue(d["example.com"]["include_subdomains"])
        self.assertEqual(d["nested.example.com"]["pins"], [self.leaf, self.backup])  # inherited
        self.assertEqual(d["open.example.com"], {"exclude": True})  # unpinned under a parent
        self.assertNotIn("other.example.net", d)
        self.assertEqual(doc["expires"], "2030-06-30")
        self.assertIn('digest="SHA-1"', err)
        self.assertIn("base-config", err)

    def test_android_unpinned_child_is_excluded(self):
        xml = ("<network-security-config><domain-config>"
               "<domain includeSubdomains=\"true\">example.com</domain>"
               "<pin-set><pin digest=\"SHA-256\">%s</pin><pin digest=\"SHA-256\">%s</pin>"
               "</pin-set></domain-config><domain-config><domain>free.example.com</domain>"
               "</domain-config></network-security-config>"
               % (self.b64(self.leaf), self.b64(self.backup)))
        rc, out, err = run("policy", "import", "--from", "android", self.write("x.xml", xml))
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["domains"]["free.example.com"], {"exclude": True})

    def test_import_errors(self):
        rc, _, err = run("policy", "import", "--from", "android", os.path.join(self.tmp, "n"))
        self.assertEqual(rc, 26)
        rc, _, err = run("policy", "import", "--from", "android",
                         self.write("bad.xml", "<not-closed>"))
        self.assertEqual(rc, 4)
        rc, _, err = run("policy", "import", "--from", "trustkit",
                         self.write("bad.json", "{\"TSKPinnedDomains\": 3}"))
        self.assertEqual(rc, 4)
        rc, _, err = run("policy", "import", "--from", "ios", self.write("y", "{}"))
        self.assertEqual(rc, 2)
        one = self.write("one.json", json.dumps({"TSKPinnedDomains": {"a.example.com": {
            "TSKPublicKeyHashes": [self.b64(self.leaf)]}}}))
        rc, out, err = run("policy", "import", "--from", "trustkit", one)
        self.assertEqual(rc, 110)
        self.assertIn("not valid", err)

    def test_export_round_trips(self):
        src = self.policy("export.json", {
            "example.com": {"include_subdomains": True, "pins": [self.leaf, self.backup]},
            "x.example.com": {"exclude": True},
            "watch.example.org": {"enforce": False, "pins": [self.inter]}},
            expires="2031-02-03", report_uris=["https://collector.example.com/r"])
        for fmt, extra in (("trustkit", []), ("trustkit", ["--json"])):
            rc, out, err = run("policy", "export", "--to", fmt, *extra, src)
            self.assertEqual(rc, 0, err)
            back = self.write("back.%s" % ("json" if extra else "plist"), out)
            rc, out2, err2 = run("policy", "import", "--from", "trustkit", back)
            self.assertEqual(rc, 0, err2)
            doc = json.loads(out2)
            self.assertEqual(doc["domains"]["example.com"]["pins"], [self.leaf, self.backup])
            self.assertEqual(doc["domains"]["x.example.com"], {"exclude": True})
            self.assertFalse(doc["domains"]["watch.example.org"]["enforce"])
            self.assertEqual(doc["expires"], "2031-02-03")
            self.assertEqual(doc["report_uris"], ["https://collector.example.com/r"])
        rc, out, err = run("policy", "export", "--to", "android", src)
        self.assertEqual(rc, 1)  # report-only and report URIs do not exist on Android
        self.assertIn("watch.example.org", err)
        self.assertIn("report_uris", err)
        back = self.write("back.xml", out)
        rc, out2, err2 = run("policy", "import", "--from", "android", back)
        doc = json.loads(out2)
        self.assertEqual(doc["domains"]["example.com"]["pins"], [self.leaf, self.backup])
        self.assertEqual(doc["domains"]["x.example.com"], {"exclude": True})
        self.assertNotIn("watch.example.org", doc["domains"])
        rc, _, err = run("policy", "export", "--to", "android", os.path.join(self.tmp, "q"))
        self.assertEqual(rc, 26)

    def test_update_subcommands_dispatch(self):
        rc, _, err = run("policy", "show")
        built = os.path.exists(os.path.join(SOURCE, "tools", "cli", "cli_update.c"))
        if not built:
            self.assertEqual(rc, 2)
            self.assertIn("not built", err)
        else:
            self.assertNotIn("not built", err)
        rc, _, err = run("policy", "frob")
        self.assertEqual(rc, 2)
        self.assertIn("unknown subcommand", err)


class Result(unittest.TextTestResult):
    pass


def main():
    global PINCURL
    if len(sys.argv) < 2 or not PKI:
        print("usage: test_cli.py PINCURL (with PINCURL_TEST_PKI set)", file=sys.stderr)
        return 2
    PINCURL = os.path.abspath(sys.argv[1])
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, resultclass=Result).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
