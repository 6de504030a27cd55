#!/usr/bin/env python3
"""The sample collector (samples/report-collector/collector.py): it stores POSTed reports in
SQLite and summarises them by host and result. Reports used: the example of docs/reports.md
and a variant of it."""
import copy
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SRC = os.environ.get("PINCURL_SOURCE_DIR") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
COLLECTOR = os.path.join(SRC, "samples", "report-collector", "collector.py")


def docs_example():
    text = open(os.path.join(SRC, "docs", "reports.md"), encoding="utf-8").read()
    m = re.search(r"<!-- example-report -->\s*```json\n(.*?)\n```", text, re.S)
    assert m, "docs/reports.md has no example report"
    return json.loads(m.group(1))


def post(port, data, ctype="application/json", tls=None):
    scheme = "https" if tls else "http"
    req = urllib.request.Request("%s://127.0.0.1:%d/pin-report" % (scheme, port), data=data,
                                 headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10, context=tls) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def start(tmp, name, extra=()):
    db = os.path.join(tmp, name + ".db")
    port_file = os.path.join(tmp, name + ".port")
    proc = subprocess.Popen([sys.executable, COLLECTOR, "--db", db, "--port", "0",
                             "--port-file", port_file, "--quiet"] + list(extra))
    for _ in range(500):
        if os.path.exists(port_file):
            break
        assert proc.poll() is None, "collector exited"
        time.sleep(0.02)
    return proc, db, int(open(port_file).read())


def summary(db):
    out = subprocess.run([sys.executable, COLLECTOR, "--db", db, "--summary"], check=True,
                         capture_output=True, text=True).stdout
    print(out)
    return out.strip().splitlines()


def tls_round(tmp, report):
    """HTTPS with a certificate of the test PKI, verified against its root."""
    pki = os.environ.get("PINCURL_TEST_PKI")
    if not pki or not os.path.exists(os.path.join(pki, "leaf-ec-chain.pem")):
        print("no test PKI: HTTPS round skipped")
        return
    proc, db, port = start(tmp, "tls", ["--tls-cert", os.path.join(pki, "leaf-ec-chain.pem"),
                                        "--tls-key", os.path.join(pki, "leaf-ec.key")])
    try:
        ctx = ssl.create_default_context(cafile=os.path.join(pki, "root.pem"))
        assert post(port, json.dumps(report).encode(), tls=ctx) == 200
        # a client that does not trust the PKI is refused by its own verification
        try:
            post(port, b"{}", tls=ssl.create_default_context())
            raise AssertionError("untrusted HTTPS collector accepted")
        except urllib.error.URLError:
            pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lines = summary(db)
    assert lines[0] == "1 report(s)", lines


def main():
    tmp = tempfile.mkdtemp(prefix="pincurl-sample-collector-")
    proc, db, port = start(tmp, "plain")
    try:

        first = docs_example()
        second = copy.deepcopy(first)
        second["hostname"] = "cdn.example.com"
        second["noted-hostname"] = "example.com"
        second["validation-result"] = 2
        assert post(port, json.dumps(first).encode()) == 200
        assert post(port, json.dumps(second).encode()) == 200
        # refused: not JSON, not a report
        assert post(port, b"{not json") == 400
        assert post(port, b"[1, 2]") == 400
        assert post(port, json.dumps({"hostname": 7}).encode()) == 400
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    lines = summary(db)
    assert lines[0] == "2 report(s)", lines
    rows = [l.split() for l in lines[2:]]
    assert len(rows) == 2, rows
    got = sorted((r[0], r[1], r[2], r[3]) for r in rows)
    want = sorted([(first["hostname"], "PIN_MISMATCH", "(1)", "1"),
                   ("cdn.example.com", "INVALID_CHAIN", "(2)", "1")])
    assert got == want, (got, want)

    # the stored body is the report as received
    import sqlite3
    con = sqlite3.connect(db)
    bodies = [json.loads(b) for (b,) in con.execute("SELECT body FROM reports ORDER BY id")]
    assert bodies == [first, second]
    ports = [p for (p,) in con.execute("SELECT port FROM reports ORDER BY id")]
    assert ports == [first["port"], second["port"]]
    con.close()

    # a missing database is an error, not an empty summary
    r = subprocess.run([sys.executable, COLLECTOR, "--db", os.path.join(tmp, "none.db"),
                        "--summary"], capture_output=True, text=True)
    assert r.returncode == 1
    tls_round(tmp, first)
    subprocess.run(["rm", "-rf", tmp])
    print("sample collector: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
