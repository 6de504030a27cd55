#!/usr/bin/env python3
"""The large run of `pincurl pin --cert` over public X.509 test suites (docs/cli.md).

usage: tools/cert-corpus.py PINCURL OUTDIR TREE [TREE...]

Every certificate found in the TREEs (source checkouts of test suites: PEM blocks labelled
CERTIFICATE, X509 CERTIFICATE or TRUSTED CERTIFICATE in any text file, JSON strings
included, and files that are one DER element) is written to OUTDIR as a file of its own,
deduplicated, with OUTDIR/manifest.json naming where each came from. Then
tests/cli/check_certs.py checks `pincurl pin --cert` on every one of them against its own
reading and openssl's, and prints its summary line. Exit status: that of the check.
"""
import hashlib
import json
import os
import re
import subprocess
import sys

LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE")
PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)


def single_element(data):
    """1 if data is exactly one DER element starting with a SEQUENCE."""
    if len(data) < 2 or data[0] != 0x30:
        return False
    first = data[1]
    if first < 0x80:
        return 2 + first == len(data)
    n = first & 0x7F
    if n == 0 or n > 4 or len(data) < 2 + n:
        return False
    return 2 + n + int.from_bytes(data[2:2 + n], "big") == len(data)


def texts_of(path, data):
    """The texts to look for PEM blocks in: the file, or the strings of a JSON document."""
    if not path.endswith(".json"):
        return [data]
    try:
        doc = json.loads(data)
    except ValueError:
        return [data]
    found = []

    def walk(o):
        if isinstance(o, str) and "-----BEGIN" in o:
            found.append(o.encode())
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(doc)
    return found


def collect(trees, out):
    os.makedirs(out, exist_ok=True)
    seen, manifest = set(), []

    def add(kind, data, src):
        key = hashlib.sha256(data).hexdigest()
        if key in seen:
            return
        seen.add(key)
        name = "%05d.%s" % (len(manifest), kind)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        manifest.append({"file": name, "source": src})

    for tree in trees:
        base = os.path.basename(os.path.normpath(tree))
        for root, dirs, files in os.walk(tree):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for fn in sorted(files):
                path = os.path.join(root, fn)
                src = os.path.join(base, os.path.relpath(path, tree))
                with open(path, "rb") as f:
                    data = f.read()
                if b"-----BEGIN" in data:
                    for text in texts_of(fn, data):
                        for m in PEM.finditer(text):
                            if m.group(1) in LABELS and re.fullmatch(rb"[A-Za-z0-9+/=\s]*",
                                                                      m.group(2)):
                                add("pem", m.group(0) + b"\n", src)
                elif single_element(data):
                    add("der", data, src)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=0)
    return len(manifest)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    pincurl, out, trees = sys.argv[1], sys.argv[2], sys.argv[3:]
    n = collect(trees, out)
    print("%d files collected into %s" % (n, out))
    check = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli",
                         "check_certs.py")
    return subprocess.call([sys.executable, check, pincurl, out, "--openssl", "--quiet"])


if __name__ == "__main__":
    sys.exit(main())
