#!/usr/bin/env python3
"""Checks `pincurl pin --cert` on every certificate file of a directory against an
independent reading of the same bytes.

usage: check_certs.py PINCURL DIR [--openssl] [--quiet]

For every file of DIR (PEM bundles or single DER certificates; files ending in .md, .py,
.json or .txt are skipped, and so are files with no certificate block), this script reads the
certificates itself, with its own DER walker written from X.690, X.509 and docs/policy.md
(it shares no code with pincurl), and runs `pincurl pin --cert FILE`. For each certificate
block of the file it checks that:

  - pincurl did not crash (no signal, exit code 0, 1 or 4 as docs/cli.md says);
  - when the SubjectPublicKeyInfo can be located, pincurl printed exactly the pin of its
    raw bytes (SHA-256, base64); when it cannot, pincurl printed no pin and said the block
    could not be read, naming its index and line;
  - subject, issuer, not-after and key type are either the value this script reads, or
    reported as unreadable exactly when this script cannot read them either (a name cut at
    1023 characters is the beginning of the name); never a guessed value such as 1970;
  - the exit code is 0 when everything was read, 1 when every pin was printed but a field
    could not be read, 4 when a block gave no pin;
  - with --openssl: the pin `openssl x509 -pubkey | openssl pkey -pubin -outform der`
    prints is computed too; pincurl prints a re-encoding note for a certificate exactly when
    that pin differs from the pin of the raw bytes (both values are shown on a failure).

The last line is "N files, N certificates, N pins checked, N fields checked, N openssl
comparisons, N failures"; the exit status is 1 when there was a failure.
"""
import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile

LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
NAME_MAX = 1024


class Bad(Exception):
    pass


# ---- DER, as X.690 defines it (definite, minimal lengths; low tag numbers) -------------

def read_tlv(b, i, end=None):
    """(tag, header_end, element_end) of the element at b[i:end]."""
    end = len(b) if end is None else end
    if i >= end:
        raise Bad("missing")
    tag = b[i]
    if tag & 0x1F == 0x1F:
        raise Bad("high tag")
    if i + 2 > end:
        raise Bad("truncated")
    first = b[i + 1]
    if first == 0x80:
        raise Bad("indefinite length")
    if first < 0x80:
        length, h = first, 2
    else:
        n = first & 0x7F
        if n > 4:
            raise Bad("length too long")
        if i + 2 + n > end:
            raise Bad("truncated")
        if b[i + 2] == 0:
            raise Bad("non-minimal length")
        length = int.from_bytes(b[i + 2:i + 2 + n], "big")
        if length < 0x80:
            raise Bad("non-minimal length")
        h = 2 + n
    if i + h + length > end:
        raise Bad("truncated")
    return tag, i + h, i + h + length


def children(b, start, end):
    out = []
    i = start
    while i < end:
        t = read_tlv(b, i, end)
        out.append(t + (i,))
        i = t[2]
    return out


def locate(der):
    """The parts of a certificate up to its SubjectPublicKeyInfo (docs: the key can be
    located when the TBSCertificate reads up to a well-formed SPKI)."""
    tag, s, e = read_tlv(der, 0)
    if tag != 0x30 or e != len(der):
        raise Bad("not one SEQUENCE")
    tag, ts, te = read_tlv(der, s, e)
    if tag != 0x30:
        raise Bad("no TBSCertificate")
    i = ts
    tag, _, ne = read_tlv(der, i, te)
    if tag == 0xA0:
        i = ne
    parts = {}
    for name, want in (("serial", 0x02), ("sigalg", 0x30), ("issuer", 0x30),
                       ("validity", 0x30), ("subject", 0x30), ("spki", 0x30)):
        tag, cs, ce = read_tlv(der, i, te)
        if tag != want:
            raise Bad("%s has tag %02x" % (name, tag))
        parts[name] = (i, cs, ce)
        i = ce
    start, cs, ce = parts["spki"]
    kids = children(der, cs, ce)
    if len(kids) != 2 or kids[0][0] != 0x30 or kids[1][0] != 0x03:
        raise Bad("SPKI shape")
    if kids[0][2] == kids[0][1]:
        raise Bad("SPKI without algorithm")
    k = kids[1]
    if k[2] - k[1] < 2 or der[k[1]] > 7:
        raise Bad("SPKI key bits")
    return parts


def pin_of(b):
    return "sha256/" + base64.b64encode(hashlib.sha256(b).digest()).decode()


# ---- names, as docs/cli.md and lib/core/der.h describe the printed form ---------------

ATTR = {
    "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.7": "L",
    "2.5.4.8": "ST", "2.5.4.9": "STREET", "2.5.4.5": "serialNumber",
    "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "emailAddress",
}
STRING_TAGS = {0x0C, 0x13, 0x14, 0x16, 0x12, 0x1A}


def oid_text(c):
    if not c:
        raise Bad("empty OID")
    arcs, v, i, started = [], 0, 0, False
    while i < len(c):
        if c[i] == 0x80 and v == 0 and not started:
            raise Bad("non-minimal OID")
        started = True
        v = (v << 7) | (c[i] & 0x7F)
        if v >= 1 << 64:
            raise Bad("OID arc too large")
        if c[i] & 0x80 == 0:
            arcs.append(v)
            v, started = 0, False
        i += 1
    if started:
        raise Bad("OID cut")
    first = 0 if arcs[0] < 40 else 1 if arcs[0] < 80 else 2
    return ".".join(str(x) for x in [first, arcs[0] - 40 * first] + arcs[1:])


def value_text(der, tag, cs, ce, start):
    if tag not in STRING_TAGS:
        return "#" + der[start:ce].hex().upper()
    out = []
    v = der[cs:ce]
    for j, ch in enumerate(v):
        if ch < 0x20 or ch >= 0x7F:
            out.append("\\%02X" % ch)
        elif chr(ch) in ',+"\\<>;' or (j == 0 and chr(ch) in "# ") or (j == len(v) - 1 and ch == 0x20):
            out.append("\\" + chr(ch))
        else:
            out.append(chr(ch))
    return "".join(out)


def name_text(der, part):
    _, cs, ce = part
    rdns = []
    for tag, rs, re_, _ in children(der, cs, ce):
        if tag != 0x31:
            raise Bad("RDN not a SET")
        atvs = []
        for atag, as_, ae, _ in children(der, rs, re_):
            if atag != 0x30:
                raise Bad("ATV not a SEQUENCE")
            kids = children(der, as_, ae)
            if len(kids) != 2 or kids[0][0] != 0x06:
                raise Bad("ATV shape")
            oid = oid_text(der[kids[0][1]:kids[0][2]])
            vt, vs, ve, vstart = kids[1]
            atvs.append(ATTR.get(oid, oid) + "=" + value_text(der, vt, vs, ve, vstart))
        rdns.append("+".join(atvs))
    return ",".join(reversed(rdns))


# ---- times, the X.680 forms docs/cli.md lists ------------------------------------------

def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def time_value(tag, s):
    s = s.decode("latin-1")
    if tag == 0x17:
        m = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d\d\d\d)", s)
        if not m:
            raise Bad("UTCTime form")
        year = int(m.group(1))
        year += 2000 if year < 50 else 1900
        mon, day, hour, minute = (int(m.group(k)) for k in range(2, 6))
        sec = int(m.group(6) or 0)
        frac, unit, zone = 0, 1, m.group(7)
    elif tag == 0x18:
        m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)?(\d\d)?(?:[.,](\d+))?(Z|[+-]\d\d(?:\d\d)?)", s)
        if not m or (m.group(6) and not m.group(5)):
            raise Bad("GeneralizedTime form (local time has no instant)")
        year, mon, day, hour = (int(m.group(k)) for k in range(1, 5))
        minute = int(m.group(5) or 0)
        sec = int(m.group(6) or 0)
        unit = 1 if m.group(6) else 60 if m.group(5) else 3600
        digits = (m.group(7) or "")[:9]
        frac = (int(digits) * unit // 10 ** len(digits)) if digits else 0
        zone = m.group(8)
    else:
        raise Bad("not a time")
    if not (1 <= mon <= 12 and 1 <= day and hour <= 23 and minute <= 59 and sec <= 60):
        raise Bad("time field out of range")
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if day > mdays[mon - 1]:
        raise Bad("day out of range")
    offset = 0
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[3:5] or 0)
        if oh > 23 or om > 59:
            raise Bad("offset out of range")
        offset = (oh * 3600 + om * 60) * (-1 if zone[0] == "-" else 1)
    return days_from_civil(year, mon, day) * 86400 + hour * 3600 + minute * 60 + sec + frac - offset


def rfc3339(t):
    days, rem = divmod(t, 86400)
    # civil from days (Howard Hinnant's algorithm)
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y += m <= 2
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, rem // 3600, rem // 60 % 60, rem % 60)


def validity_time(der, part, which):
    _, cs, ce = part
    kids = children(der, cs, ce)
    if len(kids) != 2:
        raise Bad("validity shape")
    tag, s, e, _ = kids[which]
    return rfc3339(time_value(tag, der[s:e]))


def not_before(der, part):
    return validity_time(der, part, 0)


def not_after(der, part):
    return validity_time(der, part, 1)


# ---- key type and size ------------------------------------------------------------------

CURVES = {"1.2.840.10045.3.1.7": 256, "1.3.132.0.34": 384, "1.3.132.0.35": 521,
          "1.3.132.0.10": 256, "1.2.840.10045.3.1.1": 192, "1.3.132.0.33": 224}
NAMED = {"1.3.101.112": ("Ed25519", 256), "1.3.101.113": ("Ed448", 456),
         "1.3.101.110": ("X25519", 256), "1.3.101.111": ("X448", 448)}


def key_text(der, part):
    _, cs, ce = part
    alg, key = children(der, cs, ce)
    akids = children(der, alg[1], alg[2])
    if not akids or akids[0][0] != 0x06:
        raise Bad("no algorithm OID")
    oid = oid_text(der[akids[0][1]:akids[0][2]])
    if oid in ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"):
        ks, ke = key[1] + 1, key[2]
        tag, s, e = read_tlv(der, ks, ke)
        if tag != 0x30 or e != ke:
            raise Bad("RSA key shape")
        tag, ns, ne = read_tlv(der, s, e)
        if tag != 0x02:
            raise Bad("RSA modulus")
        n = der[ns:ne].lstrip(b"\0")
        bits = (len(n) - 1) * 8 + n[0].bit_length() if n else 0
        return "%s %d bits" % ("RSA" if oid.endswith(".1") else "RSASSA-PSS", bits)
    if oid == "1.2.840.10045.2.1":
        bits = 0
        if len(akids) > 1 and akids[1][0] == 0x06:
            bits = CURVES.get(oid_text(der[akids[1][1]:akids[1][2]]), 0)
        klen = key[2] - key[1]
        if bits == 0 and klen > 2 and der[key[1] + 1] == 0x04:
            bits = (klen - 2) // 2 * 8
        return "EC %d bits" % bits
    if oid in NAMED:
        return "%s %d bits" % NAMED[oid]
    return "%s 0 bits" % oid


# ---- the input files -------------------------------------------------------------------

# RFC 7468: BEGIN and END lines start a line and end it (blanks may follow).
PEM = re.compile(rb"^-----BEGIN ([^-\r\n]+)-----[ \t\r]*\n(.*?)^-----END \1-----[ \t\r]*(?:\n|\Z)",
                 re.S | re.M)
BEGIN = re.compile(rb"^-----BEGIN ([^-\r\n]+)-----[ \t\r]*$", re.M)


def blocks_of(data):
    """[(index, line, der or None)] of the certificate blocks of a file, as the docs define
    them; der is None when the block's base64 does not decode."""
    if data[:1] == b"\x30":
        try:
            tag, s, e = read_tlv(data, 0)
            if e == len(data):
                return [(0, 0, data)]
        except Bad:
            pass
    out = []
    # every certificate BEGIN line is a block; one without its END line is not readable
    wellformed = {m.start(): m for m in PEM.finditer(data)}
    for b in BEGIN.finditer(data):
        label = b.group(1).decode("latin-1")
        if label not in LABELS:
            continue
        line = data.count(b"\n", 0, b.start()) + 1
        m = wellformed.get(b.start())
        if m is None or BEGIN.search(data, b.end(), m.end()) is not None:
            out.append((len(out), line, None))
            continue
        body = re.sub(rb"[ \t\r\n\v\f]", b"", m.group(2))
        der = None
        if re.fullmatch(rb"[A-Za-z0-9+/]*={0,2}", body) and len(body) % 4 == 0:
            der = base64.b64decode(body)
            if label == "TRUSTED CERTIFICATE":
                try:
                    der = der[:read_tlv(der, 0)[2]]
                except Bad:
                    pass
        out.append((len(out), line, der))
    if not out and data[:1] == b"\x30":
        out.append((0, 0, data))  # one DER element that is not well formed
    return out


def expected(der):
    """What pincurl should print for one certificate."""
    exp = {"pin": None, "subject": None, "issuer": None, "not before": None, "not after": None,
           "key": None}
    if der is None:
        return exp
    try:
        parts = locate(der)
    except Bad:
        return exp
    s, _, e = parts["spki"]
    exp["pin"] = pin_of(der[s:e])
    exp["spki"] = der[s:e]
    for field, fn, part in (("subject", name_text, "subject"), ("issuer", name_text, "issuer"),
                            ("not before", not_before, "validity"),
                            ("not after", not_after, "validity"), ("key", key_text, "spki")):
        try:
            exp[field] = fn(der, parts[part])
        except (Bad, IndexError, ValueError):
            exp[field] = None
    return exp


def parse_output(out):
    certs = []
    for line in out.splitlines():
        m = re.match(r"^certificate (\d+)(?: \(line (\d+)\))?$", line)
        if m:
            certs.append({"index": int(m.group(1)), "line": int(m.group(2) or 0), "notes": 0})
            continue
        m = re.match(r"^  ([a-z ]+):\s+(.*)$", line)
        if m and certs:
            if m.group(1) == "note":
                certs[-1]["notes"] += 1
            else:
                certs[-1][m.group(1)] = m.group(2)
        elif line.startswith("  (could not be read") and certs:
            certs[-1]["unreadable"] = True
    return certs


def openssl_pin(der):
    with tempfile.NamedTemporaryFile(suffix=".der") as f:
        f.write(der)
        f.flush()
        r = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f.name, "-pubkey",
                            "-noout"], capture_output=True)
        if r.returncode != 0:
            return None
        r = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=r.stdout,
                           capture_output=True)
        if r.returncode != 0:
            return None
        return pin_of(r.stdout)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    use_openssl = "--openssl" in sys.argv
    quiet = "--quiet" in sys.argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    pincurl, root = args
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                   if not f.endswith((".md", ".py", ".json", ".txt")))
    stats = {"files": 0, "certificates": 0, "pins": 0, "fields": 0, "openssl": 0}
    failures = []

    def fail(path, msg):
        failures.append("%s: %s" % (os.path.relpath(path, root), msg))

    for path in files:
        data = open(path, "rb").read()
        blocks = blocks_of(data)
        if not blocks:
            continue
        stats["files"] += 1
        r = subprocess.run([pincurl, "pin", "--cert", path], capture_output=True, timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode < 0 or r.returncode not in (0, 1, 4):
            fail(path, "exit status %d (a crash or an undocumented code): %s" %
                 (r.returncode, r.stderr.decode("utf-8", "replace")[:300]))
            continue
        got = parse_output(out)
        if len(got) != len(blocks):
            fail(path, "%d certificate blocks, pincurl listed %d" % (len(blocks), len(got)))
            continue
        want_rc = 0
        for (index, line, der), g in zip(blocks, got):
            stats["certificates"] += 1
            exp = expected(der)
            where = "certificate %d" % index
            if g["index"] != index or g["line"] != line:
                fail(path, "%s (line %d) listed as %d (line %d)" % (where, line, g["index"], g["line"]))
            if exp["pin"] is None:
                want_rc = 4
                if "pin" in g or not g.get("unreadable"):
                    fail(path, "%s: no key can be located, but pincurl did not say so" % where)
                continue
            stats["pins"] += 1
            if g.get("pin") != exp["pin"]:
                fail(path, "%s: pin %s, the raw SPKI hashes to %s" % (where, g.get("pin"), exp["pin"]))
            if exp["not before"] is None:  # not shown; only the exit code and a warning say it
                want_rc = want_rc or 1
                if "could not read" not in r.stderr.decode("utf-8", "replace"):
                    fail(path, "%s: not before cannot be read, and pincurl did not say so" % where)
            for field in ("subject", "issuer", "not after", "key"):
                stats["fields"] += 1
                shown = g.get(field, "")
                unread = shown.startswith("(could not be read")
                if exp[field] is None:
                    if not unread:
                        fail(path, "%s: %s shown as %r, but it cannot be read" % (where, field, shown))
                    if want_rc == 0:
                        want_rc = 1
                elif unread:
                    fail(path, "%s: %s reported unreadable, it reads as %r" % (where, field, exp[field]))
                    want_rc = want_rc or 1
                elif field in ("subject", "issuer") and len(exp[field]) >= NAME_MAX:
                    cut = "%s... (cut: longer than %d characters)" % (exp[field][:NAME_MAX - 1], NAME_MAX - 1)
                    if shown != cut:
                        fail(path, "%s: long %s not cut to its beginning" % (where, field))
                    want_rc = want_rc or 1
                elif shown != exp[field]:
                    fail(path, "%s: %s %r, expected %r" % (where, field, shown, exp[field]))
            if use_openssl:
                theirs = openssl_pin(der)
                if theirs is not None:
                    stats["openssl"] += 1
                    if (theirs != exp["pin"]) != (g["notes"] > 0):
                        fail(path, "%s: raw pin %s, openssl pkey pin %s, pincurl note %s" %
                             (where, exp["pin"], theirs, "printed" if g["notes"] else "missing"))
        if r.returncode != want_rc:
            fail(path, "exit status %d, expected %d" % (r.returncode, want_rc))

    if not quiet or failures:
        for f in failures:
            print("FAIL " + f)
    print("%d files, %d certificates, %d pins checked, %d fields checked, %d openssl "
          "comparisons, %d failures" % (stats["files"], stats["certificates"], stats["pins"],
                                         stats["fields"], stats["openssl"], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
