"""What TrustKit and Android decide for a host, written from their sources.

Independent of pincurl: nothing here calls pincurl or shares its lookup. Each function
follows the source tool's code, cited by file and function:

Android (frameworks/base, core/java/android/security/net/config):
  XmlConfigSource.parseNetworkSecurityConfig / parseConfigEntry / parseDomain / parsePinSet /
  parsePin, NetworkSecurityConfig.Builder.getEffectivePinSet, ApplicationConfig
  .getConfigForHostname, NetworkSecurityTrustManager.checkPins; pins decoded with
  android.util.Base64.decode(text.trim(), DEFAULT).
TrustKit-Android (trustkit/src/main/java/com/datatheorem/android/trustkit/config):
  TrustKitConfigurationParser.readTrustkitConfig (enforcePinning: Boolean.parseBoolean,
  default false), DomainPinningPolicy.Builder.build (values inherited from the parent).
TrustKit (iOS, TrustKit/): parse_configuration.m parseTrustKitConfiguration,
  configuration_utils.m getPinningConfigurationKeyForDomain / isSubdomain,
  TSKPinningValidator.m evaluateTrust, TSKTrustKitConfig.m (the key strings).

A decision is a dict: {"state": S, "pins": [...]} with S one of "pinned", "report-only",
"expired", "excluded", "not-pinned" (the vocabulary of tests/cli/policy_decide.c); pins are
"sha256/" + canonical base64 of the 32 digest bytes.
"""
import base64
import datetime
import json
import plistlib
import xml.etree.ElementTree as ET

B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class Refused(Exception):
    """The source tool itself refuses the configuration."""


def pin_text(digest):
    return "sha256/" + base64.b64encode(digest).decode()


# ---- Android ---------------------------------------------------------------------------

def android_b64(text):
    """android.util.Base64.decode(text, DEFAULT): bytes outside the alphabet (other than
    '=') are skipped; padding optional but, when present, complete; a lone last character
    is an error; leftover bits are dropped."""
    kept = [c for c in text if c in B64 or c == "="]
    s = "".join(kept)
    body = s.rstrip("=")
    pad = len(s) - len(body)
    if "=" in body:
        raise Refused("bad base-64")
    rem = len(body) % 4
    if rem == 1:
        raise Refused("bad base-64")
    if pad and (rem == 0 or pad != 4 - rem):
        raise Refused("bad base-64")
    return base64.b64decode(body + "=" * ((4 - rem) % 4))


def java_trim(s):
    i, j = 0, len(s)
    while i < j and ord(s[i]) <= 32:
        i += 1
    while j > i and ord(s[j - 1]) <= 32:
        j -= 1
    return s[i:j]


class NscConfig:
    def __init__(self, parent):
        self.parent = parent
        self.pinset = None          # (set of digests, expiration datetime or None)
        self.trustkit = None        # (enforce, ) when a <trustkit-config> is present

    def effective_pinset(self):
        c = self
        while c is not None:
            if c.pinset is not None:
                return c.pinset
            c = c.parent
        return (frozenset(), None)

    def effective_trustkit(self):
        c = self
        while c is not None:
            if c.trustkit is not None:
                return c.trustkit
            c = c.parent
        return None


def android_parse(xml_text):
    """XmlConfigSource: [(hostname, includeSubdomains, config)] and the base config."""
    root = ET.fromstring(xml_text)
    if root.tag != "network-security-config":
        raise Refused("not a network-security-config")
    entries, seen = [], set()
    base = NscConfig(None)

    def parse_pinset(el):
        exp = el.get("expiration")
        when = None
        if exp is not None:
            try:
                when = datetime.datetime.strptime(exp, "%Y-%m-%d")
            except ValueError:
                raise Refused("Invalid expiration date in pin-set")
        pins = set()
        for p in el:
            if p.tag != "pin":
                continue
            if (p.get("digest") or "").upper() != "SHA-256":
                raise Refused("Unsupported pin digest algorithm")
            d = android_b64(java_trim(p.text or ""))
            if len(d) != 32:
                raise Refused("digest length")
            pins.add(d)
        return (frozenset(pins), when)

    def parse_config(el, parent):
        cfg = NscConfig(parent)
        domains = []
        for k in el:
            if k.tag == "domain":
                name = java_trim(k.text or "").lower()
                if name in seen:
                    raise Refused(name + " has already been specified")
                seen.add(name)
                domains.append((name, k.get("includeSubdomains") == "true"))
            elif k.tag == "pin-set":
                if cfg.pinset is not None:
                    raise Refused("Multiple pin-set elements not allowed")
                cfg.pinset = parse_pinset(k)
            elif k.tag == "domain-config":
                parse_config(k, cfg)
            elif k.tag == "trustkit-config":
                cfg.trustkit = ((k.get("enforcePinning") or "").lower() == "true",)
        if not domains:
            raise Refused("No domain elements in domain-config")
        for name, inc in domains:
            entries.append((name, inc, cfg))

    for child in root:
        if child.tag == "domain-config":
            parse_config(child, base)
    return entries


def android_lookup(entries, hostname, skip=None):
    """ApplicationConfig.getConfigForHostname: the entry, or None for the default config."""
    host = hostname.lower()
    if host.endswith("."):
        host = host[:-1]
    best = None
    for e in entries:
        if e is skip:
            continue
        name, inc, _ = e
        if name == host:
            return e
        if inc and host.endswith(name) and len(host) > len(name) and \
                host[len(host) - len(name) - 1] == ".":
            if best is None or len(name) > len(best[0]):
                best = e
    return best


def android_decide(xml_text, hostname, now):
    """NetworkSecurityTrustManager.checkPins (Android, API 24 and later), with
    TrustKit-Android's enforcePinning when a <trustkit-config> applies."""
    entries = android_parse(xml_text)
    e = android_lookup(entries, hostname)
    if e is None:
        return {"state": "not-pinned", "pins": []}
    pins, when = e[2].effective_pinset()
    if not pins:
        # a domain-config without pins: "excluded" when, without it, pins would apply
        other = android_lookup(entries, hostname, skip=e)
        if other is not None and other[2].effective_pinset()[0]:
            return {"state": "excluded", "pins": []}
        return {"state": "not-pinned", "pins": []}
    texts = sorted(pin_text(d) for d in pins)
    if when is not None and now > when:
        return {"state": "expired", "pins": texts}
    tk = e[2].effective_trustkit()
    if tk is not None and not tk[0]:
        return {"state": "report-only", "pins": texts}
    return {"state": "pinned", "pins": texts}


# ---- TrustKit ----------------------------------------------------------------------------

# The registry-controlled suffixes of the hosts these tests use (TrustKit's
# domain_registry, a copy of the public suffix list); an unknown one stops the test.
SUFFIXES = {"com", "net", "org", "ch", "lv", "gov.lv", "co.uk", "uk", "de", "io"}


def registry_length(host):
    labels = host.split(".")
    for i in range(len(labels)):
        cand = ".".join(labels[i:])
        if cand in SUFFIXES:
            return len(cand)
    raise AssertionError("no known public suffix for %s: extend SUFFIXES" % host)


def trustkit_is_subdomain(domain, subdomain):
    """configuration_utils.m isSubdomain."""
    if len(subdomain) <= len(domain):
        return 0
    dl, sl = registry_length(domain), registry_length(subdomain)
    if dl != sl or domain[-dl:] != subdomain[-sl:]:
        return 0
    domain_label = "." + domain[:len(domain) - dl - 1]
    sub_label = subdomain[:len(subdomain) - dl - 1]
    if sub_label.split(domain_label)[-1] == "":
        return len(domain_label)
    return 0


def apple_b64(text):
    """-[NSData initWithBase64EncodedString:options:0]: alphabet only, '=' only at the end,
    length a multiple of four; leftover bits dropped. None when it returns nil."""
    if len(text) % 4:
        return None
    body = text.rstrip("=")
    if any(c not in B64 for c in body):
        return None
    return base64.b64decode(body + "=" * ((4 - len(body) % 4) % 4))


def trustkit_parse(data):
    """parseTrustKitConfiguration: {domain: policy}."""
    text = data.lstrip()
    conf = plistlib.loads(data.encode()) if text.startswith("<") else json.loads(data)
    if "TSKConfiguration" in conf and isinstance(conf["TSKConfiguration"], dict):
        conf = conf["TSKConfiguration"]
    domains = conf.get("TSKPinnedDomains")
    if not domains:
        raise Refused("no pinned domains")
    out = {}
    for name, pol in domains.items():
        if pol.get("kSKExcludeSubdomainFromParentPolicy"):
            if len(pol) > 1:
                raise Refused("excluded with additional keys")
            out[name] = {"exclude": True, "include": False}
            continue
        final = {"exclude": False, "include": bool(pol.get("TSKIncludeSubdomains", False)),
                 "enforce": bool(pol.get("TSKEnforcePinning", True)), "expires": None}
        if "TSKExpirationDate" in pol:
            final["expires"] = datetime.datetime.strptime(pol["TSKExpirationDate"], "%Y-%m-%d")
        pins = set()
        for p in pol.get("TSKPublicKeyHashes", []):
            d = apple_b64(p)
            if d is None or len(d) != 32:
                raise Refused("invalid pin")
            pins.add(d)
        if len(pins) < (2 if final["enforce"] else 1):
            raise Refused("less than required pins")
        final["pins"] = frozenset(pins)
        out[name] = final
    for name, pol in out.items():
        if pol["exclude"] and trustkit_key(out, "a" + name) is None:
            raise Refused("no parent for an excluded domain")
    return out


def trustkit_key(policies, hostname):
    """getPinningConfigurationKeyForDomain."""
    if hostname in policies:
        return hostname
    best, noted = 0, None
    for name, pol in policies.items():
        if pol.get("include"):
            m = trustkit_is_subdomain(name, hostname)
            if m > best:
                best, noted = m, name
    return noted


def trustkit_decide(data, hostname, now):
    """-[TSKPinningValidator evaluateTrust:forHostname:] for a chain no pin matches."""
    policies = trustkit_parse(data)
    key = trustkit_key(policies, hostname)
    if key is None:
        return {"state": "not-pinned", "pins": []}
    pol = policies[key]
    if pol["exclude"]:
        return {"state": "excluded", "pins": []}
    texts = sorted(pin_text(d) for d in pol["pins"])
    if pol["expires"] is not None and pol["expires"] < now:
        return {"state": "expired", "pins": texts}
    return {"state": "pinned" if pol["enforce"] else "report-only", "pins": texts}
