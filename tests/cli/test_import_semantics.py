#!/usr/bin/env python3
"""An imported policy decides as the source tool does, host name by host name.

usage: test_import_semantics.py PINCURL POLICY_DECIDE   (env: PINCURL_TEST_PKI)

For every configuration of the corpus (tests/data/import) and every row of the table
below, the configuration is imported with `pincurl policy import`, and each host name is
decided twice: by pincurl on the imported policy (tests/cli/policy_decide.c, the public
API) and by the source tool's own rules (tests/cli/import_reference.py, written from
TrustKit's and Android's sources). The decision is the state (pinned, report-only,
expired, excluded, not pinned) and, for pinned states, the pins. When the source tool
refuses a configuration, the import must refuse it too (exit 110), unless the row says
the import reads it differently on purpose (and then it must say so on stderr).
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import import_reference as ref  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(SOURCE, "tests", "data", "import")
PKI = os.environ.get("PINCURL_TEST_PKI", "")

# Instants the decisions are made at: between the 2015 and 2017 expiries of the corpus,
# after all of them, and far ahead. Months from any expiry day, so Android's local-time
# midnight and pincurl's UTC midnight agree.
TIMES = [datetime.datetime(2016, 6, 1, 12), datetime.datetime(2024, 6, 1, 12),
         datetime.datetime(2090, 6, 1, 12)]

P1 = "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
P2 = "rFjc3wG7lTZe43zeYTvPq8k4xdDEutCmIhI5dn4oCeE="
P3 = "HXXQgxueCIU5TTLHob/bPbwcKOKw6DkfsTWYHbxbqTY="
P4 = "0SDf3cRToyZJaMsoS17oF72VMavLxj/N7WBNasNuiR8="


def nsc(body):
    return '<?xml version="1.0" encoding="utf-8"?>\n<network-security-config>\n%s\n' \
           '</network-security-config>\n' % body


def pinset(*pins, exp=None):
    attr = ' expiration="%s"' % exp if exp else ""
    return "<pin-set%s>%s</pin-set>" % (attr, "".join(
        '<pin digest="SHA-256">%s</pin>' % p for p in pins))


def dom(name, inc=None):
    attr = ' includeSubdomains="%s"' % inc if inc is not None else ""
    return "<domain%s>%s</domain>" % (attr, name)


def tk(domains, **top):
    d = {"TSKPinnedDomains": domains}
    d.update(top)
    return json.dumps(d)


# (name, format, source text, extra hosts, import options, lenient)
# lenient: the source tool refuses this configuration, the import reads it on purpose
# (the string it must say on stderr).
TABLE = [
    ("nested domain-configs inherit the pin set", "android", nsc(
        "<domain-config>%s%s%s"
        "<domain-config>%s</domain-config>"
        "<domain-config>%s%s</domain-config>"
        "</domain-config>" % (dom("example.com", "true"), pinset(P1, P2), dom("x.org"),
                              dom("inherits.example.com", "true"),
                              dom("own.example.com"), pinset(P3, P4))),
     ["deep.inherits.example.com", "q.own.example.com", "x.x.org"], [], None),
    ("an empty nested pin-set unpins a subtree", "android", nsc(
        "<domain-config>%s%s"
        "<domain-config>%s<pin-set></pin-set>"
        "<domain-config>%s%s</domain-config>"
        "</domain-config></domain-config>" % (
            dom("example.com", "true"), pinset(P1, P2), dom("open.example.com", "true"),
            dom("api.open.example.com", "true"), pinset(P3, P4))),
     ["z.open.example.com", "v1.api.open.example.com", "other.example.com"], [], None),
    ("a host-only exclusion leaves the names below it pinned", "android", nsc(
        "<domain-config>%s%s</domain-config>"
        "<domain-config>%s</domain-config>" % (
            dom("example.com", "true"), pinset(P1, P2), dom("unsecured.example.com", "false"))),
     ["x.unsecured.example.com", "y.x.unsecured.example.com"], [], None),
    ("a subtree exclusion and a more specific pinned name below it", "android", nsc(
        "<domain-config>%s%s</domain-config>"
        "<domain-config>%s</domain-config>"
        "<domain-config>%s%s</domain-config>" % (
            dom("example.com", "true"), pinset(P1, P2), dom("legacy.example.com", "true"),
            dom("api.legacy.example.com"), pinset(P3, P4))),
     ["x.legacy.example.com", "v.api.legacy.example.com"], [], None),
    ("each pin set expires on its own", "android", nsc(
        "<domain-config>%s%s</domain-config>"
        "<domain-config>%s%s</domain-config>" % (
            dom("old.example.com", "true"), pinset(P1, P2, exp="2019-03-01"),
            dom("new.example.net", "true"), pinset(P3, P4, exp="2050-03-01"))),
     [], [], None),
    ("trustkit-config: enforcePinning, its default and its inheritance", "android", nsc(
        "<domain-config>%s%s<trustkit-config enforcePinning=\"false\" />"
        "<domain-config>%s</domain-config>"
        "<domain-config>%s<trustkit-config /></domain-config>"
        "<domain-config>%s<trustkit-config enforcePinning=\"TRUE\" /></domain-config>"
        "</domain-config>"
        "<domain-config>%s%s</domain-config>" % (
            dom("watch.example.com", "true"), pinset(P1, P2), dom("child.watch.example.com"),
            dom("bare.watch.example.com"), dom("strict.watch.example.com"),
            dom("plain.example.net"), pinset(P3, P4))),
     [], [], None),
    ("pins read as Android reads base64", "android", nsc(
        "<domain-config>%s<pin-set>"
        "<pin digest=\"SHA-256\">ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFA</pin>"
        "<pin digest=\"sha-256\">  BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=  </pin>"
        "<pin digest=\"SHA-256\">TQEtdMbm wFgYUifM\n4LDF+xgEtd0z69mPGmkp014d6ZY=</pin>"
        "</pin-set></domain-config>" % dom("example.com", "true")),
     [], [], None),
    ("host names without regard to case and one trailing dot", "android", nsc(
        "<domain-config>%s%s</domain-config>" % (dom("  API.Example.COM ", "true"),
                                                 pinset(P1, P2))),
     ["API.EXAMPLE.COM.", "V1.api.example.com"], [], None),
    ("one pin, enforced by choice", "android", nsc(
        "<domain-config>%s%s</domain-config>" % (dom("one.example.com"), pinset(P1))),
     [], ["--single-pin", "enforce"], None),
    ("a duplicate domain is refused by Android", "android", nsc(
        "<domain-config>%s%s</domain-config><domain-config>%s%s</domain-config>" % (
            dom("a.example.com"), pinset(P1, P2), dom("A.example.com"), pinset(P3, P4))),
     [], [], None),
    ("an unknown digest is refused by Android", "android", nsc(
        "<domain-config>%s<pin-set><pin digest=\"SHA-1\">%s</pin></pin-set>"
        "</domain-config>" % (dom("a.example.com"), P1)), [], [], None),
    ("TrustKit: the exclusion key string, most specific parent, report-only", "trustkit", tk({
        "example.com": {"TSKIncludeSubdomains": True, "TSKPublicKeyHashes": [P1, P2]},
        "api.example.com": {"TSKIncludeSubdomains": True, "TSKPublicKeyHashes": [P3, P4],
                            "TSKEnforcePinning": False},
        "legacy.api.example.com": {"kSKExcludeSubdomainFromParentPolicy": True},
        "old.example.com": {"TSKPublicKeyHashes": [P1, P3], "TSKExpirationDate": "2019-01-01"}}),
     ["v1.legacy.api.example.com", "a.b.api.example.com", "x.old.example.com",
      "notexample.com"], [], None),
    ("TrustKit: pins with bits past the 256th", "trustkit", tk({
        "example.com": {"TSKPublicKeyHashes": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                               "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="]}}),
     [], [], None),
    ("TrustKit refuses unpadded base64", "trustkit", tk({
        "example.com": {"TSKPublicKeyHashes": [P1, P2.rstrip("=")]}}), [], [], None),
    ("TrustKit refuses an exclusion with other keys", "trustkit", tk({
        "example.com": {"TSKIncludeSubdomains": True, "TSKPublicKeyHashes": [P1, P2]},
        "x.example.com": {"kSKExcludeSubdomainFromParentPolicy": True,
                          "TSKPublicKeyHashes": [P3, P4]}}), [], [], None),
    ("TrustKit refuses an exclusion without a parent", "trustkit", tk({
        "example.com": {"TSKPublicKeyHashes": [P1, P2]},
        "x.example.com": {"kSKExcludeSubdomainFromParentPolicy": True}}), [], [], None),
    ("the documented exclusion name, read as documented", "trustkit", tk({
        "example.com": {"TSKIncludeSubdomains": True, "TSKPublicKeyHashes": [P1, P2]},
        "x.example.com": {"TSKExcludeSubdomainFromParentPolicy": True}}),
     ["y.x.example.com"], [], "ignores this documented name"),
]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def hosts_for(names, extra):
    out = []
    for n in names:
        n = n.strip().lower()
        parts = n.split(".")
        if all(p.isdigit() for p in parts):
            out.append(n)  # an IP address: matched exactly, nothing below it
            continue
        out += [n, "a." + n, "b.a." + n, "x" + n]
        if len(parts) > 2:
            out.append(".".join(parts[1:]))
            out.append("sibling." + ".".join(parts[1:]))
    out += extra
    seen, uniq = set(), []
    for h in out:
        if h not in seen:
            seen.add(h)
            uniq.append(h)
    return uniq


def source_names(fmt, text):
    if fmt == "android":
        import xml.etree.ElementTree as ET
        return [ref.java_trim(d.text or "") for d in ET.fromstring(text).iter("domain")]
    try:
        conf = ref.plistlib.loads(text.encode()) if text.lstrip().startswith("<") \
            else json.loads(text)
    except Exception:
        return []
    conf = conf.get("TSKConfiguration", conf)
    return list(conf.get("TSKPinnedDomains", {}).keys())


def check(name, fmt, text, extra, opts, lenient, pincurl, decide, cert, tmp):
    """Returns a list of failure strings."""
    fails = []
    src = os.path.join(tmp, "source.%s" % ("xml" if fmt == "android" else "txt"))
    with open(src, "w") as f:
        f.write(text)
    decide_ref = ref.android_decide if fmt == "android" else ref.trustkit_decide
    try:
        (ref.android_parse if fmt == "android" else ref.trustkit_parse)(text)
        refused = None
    except ref.Refused as e:
        refused = str(e)
    imp = run([pincurl, "policy", "import", "--from", fmt] + opts + [src])
    if refused is not None and lenient is None:
        if imp.returncode != 110:
            fails.append("%s: the source tool refuses it (%s) but the import exited %d"
                         % (name, refused, imp.returncode))
        return fails
    if lenient is not None:
        if lenient not in imp.stderr:
            fails.append("%s: read differently on purpose, but stderr does not say so:\n%s"
                         % (name, imp.stderr))
        return fails
    names = source_names(fmt, text)
    if not any(decide_ref(text, n.strip().lower(), t)["pins"] for n in names for t in TIMES):
        # the source pins nothing at all: a pincurl policy cannot be empty
        if imp.returncode != 110 or "no pin set applies to any domain" not in imp.stderr:
            fails.append("%s: pins nothing, but the import did not refuse with the reason"
                         % name)
        return fails
    if imp.returncode not in (0, 1):
        return ["%s: import exited %d:\n%s" % (name, imp.returncode, imp.stderr)]
    policy = os.path.join(tmp, "policy.json")
    with open(policy, "w") as f:
        f.write(imp.stdout)
    hosts = hosts_for(names, extra)
    for when in TIMES:
        epoch = int(when.replace(tzinfo=datetime.timezone.utc).timestamp())
        out = run([decide, policy, str(epoch), cert] + hosts)
        if out.returncode != 0:
            return ["%s: policy_decide failed: %s" % (name, out.stderr)]
        got = [json.loads(line) for line in out.stdout.splitlines()]
        for host, g in zip(hosts, got):
            want = decide_ref(text, host, when)
            gp = sorted(g.get("pins", [])) if g["state"] not in ("excluded", "not-pinned") \
                else []
            if g["state"] != want["state"] or gp != want["pins"]:
                fails.append("%s: %s at %s: pincurl %s %s, %s says %s %s"
                              % (name, host, when.date(), g["state"], gp, fmt,
                                 want["state"], want["pins"]))
            want_block = want["state"] == "pinned"
            if (g.get("decision") == "BLOCK") != want_block:
                fails.append("%s: %s at %s: a mismatch is %s" % (name, host, when.date(),
                                                                 g.get("decision")))
    return fails


def corpus_rows():
    rows = []
    for fmt in ("trustkit", "android"):
        d = os.path.join(CORPUS, fmt)
        for fn in sorted(os.listdir(d)):
            with open(os.path.join(d, fn)) as f:
                text = f.read()
            # Android's one-pin sets: enforced by choice, as Android enforces them (TrustKit
            # refuses them, and so must the import without a choice)
            opts = ["--single-pin", "enforce"] if fmt == "android" else []
            rows.append(("corpus " + fn, fmt, text, [], opts, None))
    return rows


def main():
    if len(sys.argv) < 3 or not PKI:
        print("usage: test_import_semantics.py PINCURL POLICY_DECIDE (with PINCURL_TEST_PKI)",
              file=sys.stderr)
        return 2
    pincurl, decide = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    cert = os.path.join(PKI, "leaf-ec.pem")
    failures, failed, rows = [], 0, TABLE + corpus_rows()
    with tempfile.TemporaryDirectory(prefix="pincurl-semantics-") as tmp:
        for row in rows:
            f = check(*row, pincurl, decide, cert, tmp)
            print("%s %s" % ("FAIL" if f else "ok  ", row[0]))
            failures += f
            failed += 1 if f else 0
    for f in failures:
        print(f)
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
