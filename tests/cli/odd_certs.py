"""Certificates in the rarer forms X.509 allows, made at test time: a small DER writer
(X.690) and openssl to sign. For the `pincurl pin` and `policy check --live` tests.

Nothing here is pincurl's code; the encodings follow X.680/X.690 and RFC 5280 directly.
"""
import base64
import subprocess
import tempfile


def _len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + _len(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_(*items):
    return tlv(0x31, b"".join(items))


def oid(dotted):
    arcs = [int(x) for x in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(chunk)
    return tlv(0x06, bytes(out))


def integer(n):
    return tlv(0x02, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def utf8(s):
    return tlv(0x0C, s.encode())


def utc(s):
    return tlv(0x17, s.encode())


def gen(s):
    return tlv(0x18, s.encode())


def explicit(n, inner):
    return tlv(0xA0 | n, inner)


CN, O = "2.5.4.3", "2.5.4.10"


def name(*rdns):
    """rdns: most general first; each a list of (oid, value TLV); [] is an empty RDN."""
    return seq(*(set_(*(seq(oid(t), v) for t, v in rdn)) for rdn in rdns))


def children(der):
    """(tag, whole element) of the content of the element at der[0]."""
    out, i = [], 0
    tag, body = der[0], der
    h = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    body = der[h:h + int.from_bytes(der[2:h], "big") if der[1] >= 0x80 else h + der[1]]
    while i < len(body):
        l0 = body[i + 1]
        hh = 2 if l0 < 0x80 else 2 + (l0 & 0x7F)
        ln = l0 if l0 < 0x80 else int.from_bytes(body[i + 2:i + hh], "big")
        out.append((body[i], body[i:i + hh + ln]))
        i += hh + ln
    return out


def subject_of(cert_der):
    """The subject Name of a DER certificate, as its bytes."""
    tbs = children(cert_der)[0][1]
    fields = [e for _, e in children(tbs)]
    if fields[0][0] == 0xA0:
        fields = fields[1:]
    return fields[4]


def run(*args, data=None):
    return subprocess.run(list(args), input=data, capture_output=True, check=True).stdout


def pem_to_der(path):
    return run("openssl", "x509", "-in", path, "-outform", "der")


def spki_of_key(key_path):
    return run("openssl", "pkey", "-in", key_path, "-pubout", "-outform", "der")


ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))
SAN_LOCALHOST = seq(oid("2.5.29.17"), tlv(0x04, seq(tlv(0x82, b"localhost"))))


def certificate(issuer, subject, not_before, not_after, spki, signing_key, serial=0x5EED,
                extensions=(SAN_LOCALHOST,)):
    """A v3 certificate signed with signing_key (an EC key file: ecdsa-with-SHA256)."""
    parts = [explicit(0, integer(2)), integer(serial), ECDSA_SHA256, issuer,
             seq(not_before, not_after), subject, spki]
    if extensions:
        parts.append(explicit(3, seq(*extensions)))
    tbs = seq(*parts)
    with tempfile.NamedTemporaryFile() as f:
        f.write(tbs)
        f.flush()
        sig = run("openssl", "dgst", "-sha256", "-sign", signing_key, f.name)
    return seq(tbs, ECDSA_SHA256, tlv(0x03, b"\x00" + sig))


def pem(der, label="CERTIFICATE"):
    b = base64.b64encode(der).decode()
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


# ---- public keys whose encoding re-encoders change ------------------------------------

RSA_OID = "1.2.840.113549.1.1.1"
PSS_OID = "1.2.840.113549.1.1.10"


def rsa_parts(spki_der):
    """(n, e) INTEGER elements of an RSA SubjectPublicKeyInfo."""
    alg, bits = (e for _, e in children(spki_der))
    h = 2 if bits[1] < 0x80 else 2 + (bits[1] & 0x7F)
    rsakey = bits[h + 1:]
    n, e = (x for _, x in children(rsakey))
    return n, e


def rsa_spki(n_tlv, e_tlv, algorithm):
    key = seq(n_tlv, e_tlv)
    return seq(algorithm, tlv(0x03, b"\x00" + key))
