/* pincurl policy import / export: TrustKit dictionaries (plist XML or JSON) and Android's
 * network_security_config.xml (with TrustKit-Android's <trustkit-config>), to and from
 * pincurl policy documents.
 *
 * An import means exactly what the source meant, or says what it could not keep. Every line
 * on stderr names the source element:
 *   "note:"     nothing changes in behaviour (a key the source tool ignores too, a pin
 *               written in another base64 spelling, a debug-only section);
 *   "warning:"  the source is faithful but probably not what its author wants (pins that
 *               have already expired);
 *   "changed:"  imported, with the exact change in behaviour said (exit code 1);
 *   "refused:"  pincurl cannot express it, or the source tool itself refuses it (exit code
 *               110, nothing is printed on stdout).
 * The rules of each source tool come from its source: TrustKit's parse_configuration.m,
 * configuration_utils.m and TSKPinningValidator.m (the key strings of TSKTrustKitConfig.m,
 * NSData's base64 decoding), Android's XmlConfigSource, ApplicationConfig and
 * NetworkSecurityTrustManager (android.util.Base64), TrustKit-Android's
 * TrustKitConfigurationParser and DomainPinningPolicy. docs/cli.md lists every construct. */
#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

#define IMPORT_MAX_BYTES (4u * 1024u * 1024u)
#define NSC_MAX_DEPTH 32
#define WHERE_SIZE 512

/* TrustKit's default collector (TrustKit.m, TrustKit-Android's DomainPinningPolicy). */
static const char tk_default_uri[] = "https://overmind.datatheorem.com/trustkit/report";

enum single_pin { SINGLE_REFUSE, SINGLE_REPORT_ONLY, SINGLE_ENFORCE };
enum { MSG_NOTE, MSG_WARNING, MSG_CHANGED, MSG_REFUSED };

/* One domain entry of the policy being made. */
typedef struct entry {
    char host[PINCURL_HOST_MAX + 1]; /* normalised */
    char where[WHERE_SIZE];          /* the source element, for messages */
    int exclude;                     /* an exclusion (no pins) */
    int include;                     /* include_subdomains (an exclusion's reach) */
    int enforce;
    int single;                      /* allow_single_pin */
    pincurl_pin pins[PINCURL_MAX_PINS_PER_DOMAIN];
    size_t npins;
    int64_t expires;                 /* the entry's own expiry, 0: none */
    cJSON *uris;                     /* its report URIs in the source tool (array) */
    int default_uri;                 /* the source tool also reports to its default collector */
} entry;

typedef struct importer {
    const char *file;
    int single_mode;
    unsigned changed, refused;
    entry *entries;
    size_t n, cap;
    cJSON *uris; /* the union of every entry's report URIs, in order of appearance */
    int64_t now;
} importer;

static void say(importer *im, int kind, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(importer *im, int kind, const char *where, const char *fmt, ...)
{
    static const char *const names[] = {"note", "warning", "changed", "refused"};
    va_list ap;
    if (im != NULL && kind == MSG_CHANGED)
        im->changed++;
    if (im != NULL && kind == MSG_REFUSED)
        im->refused++;
    fprintf(stderr, "pincurl: %s: %s: ", names[kind], where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* snprintf for element names: a name cut short is still a name. */
static void wfmt(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wfmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(out, size, fmt, ap) < 0 && size > 0)
        out[0] = '\0';
    va_end(ap);
}

static void format_day(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, size, "1970-01-01");
}

/* "YYYY-MM-DD" exactly (the form both tools document), as 00:00:00 UTC. */
static int parse_day(const char *text, int64_t *out)
{
    if (text == NULL || strlen(text) != 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (text[i] != '-')
                return 0;
        } else if (text[i] < '0' || text[i] > '9') {
            return 0;
        }
    }
    return pincurl_parse_date(text, out) == PINCURL_OK && *out > 0;
}

/* ---- Pins as each source tool reads them ------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Appends one 6-bit group; returns the number of bytes written so far, or -1 past 32. */
static int b64_push(unsigned char *out, size_t *n, unsigned *acc, int *bits, int v)
{
    *acc = (*acc << 6) | (unsigned)v;
    *bits += 6;
    if (*bits >= 8) {
        *bits -= 8;
        if (*n >= PINCURL_PIN_DIGEST_SIZE)
            return -1;
        out[(*n)++] = (unsigned char)(*acc >> *bits);
    }
    return 0;
}

/* Foundation's -[NSData initWithBase64EncodedString:options:0], which TrustKit uses: the
 * standard alphabet only (no white space, nothing else), '=' only at the end, and the whole
 * length a multiple of four; the bits of a last partial group are dropped whatever they
 * are. Returns 1 with 32 bytes in *pin. */
static int decode_apple(const char *s, pincurl_pin *pin)
{
    size_t n = 0, len = strlen(s), valid = 0, pad = 0;
    unsigned acc = 0;
    int bits = 0;
    if (len % 4 != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad > 0)
            return 0;
        valid++;
        if (b64_push(pin->sha256, &n, &acc, &bits, v) != 0)
            return 0;
    }
    return (valid + pad) % 4 == 0 && n == PINCURL_PIN_DIGEST_SIZE;
}

/* android.util.Base64.decode(text, DEFAULT), which Android's XmlConfigSource and
 * TrustKit-Android use, after Java's trim(): bytes outside the alphabet other than '=' are
 * skipped, padding is optional but must be right when present, nothing may follow it, a
 * lone last character is an error, and the bits of a last partial group are dropped.
 * *skipped counts the bytes skipped. Returns 1 with 32 bytes in *pin. */
static int decode_android(const char *s, pincurl_pin *pin, size_t *skipped)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, state = 0; /* 0-3: characters of a group; 4: one '=' seen, one due; 5: done */
    *skipped = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        int v = b64_value(*p);
        if (v < 0 && *p != '=') {
            (*skipped)++;
            continue;
        }
        if (*p == '=') {
            if (state == 2)
                state = 4;
            else if (state == 3 || state == 4)
                state = 5;
            else
                return 0;
            continue;
        }
        if (state >= 4)
            return 0;
        if (b64_push(pin->sha256, &n, &acc, &bits, v) != 0)
            return 0;
        state = (state + 1) % 4;
    }
    if (state == 1 || state == 4)
        return 0;
    return n == PINCURL_PIN_DIGEST_SIZE;
}

/* 1 if text is exactly the canonical base64 of pin (what pincurl writes). */
static int canonical_b64(const pincurl_pin *pin, const char *text)
{
    char c[PINCURL_PIN_TEXT_SIZE];
    cli_format_pin(pin, c);
    return strcmp(c + strlen("sha256/"), text) == 0;
}

/* ---- Entries -------------------------------------------------------------------------- */

static entry *find_entry(importer *im, const char *host)
{
    for (size_t i = 0; i < im->n; i++)
        if (strcmp(im->entries[i].host, host) == 0)
            return &im->entries[i];
    return NULL;
}

/* A new entry for raw (normalised as pincurl does); NULL after a refusal. */
static entry *new_entry(importer *im, const char *raw, const char *where)
{
    char host[PINCURL_HOST_MAX + 1];
    pincurl_status st = pincurl_host_normalize(raw, strlen(raw), host, sizeof host);
    if (st == PINCURL_HOST_NOT_ASCII) {
        say(im, MSG_REFUSED, where,
            "not an ASCII host name: write it in its A-label (punycode) form, as the host "
            "is matched");
        return NULL;
    }
    if (st != PINCURL_OK) {
        say(im, MSG_REFUSED, where, "not a host name or IP address pincurl can pin");
        return NULL;
    }
    entry *prev = find_entry(im, host);
    if (prev != NULL) {
        say(im, MSG_REFUSED, where, "the same host as %s (host names compare without case)",
            prev->where);
        return NULL;
    }
    if (im->n == im->cap) {
        size_t cap = im->cap == 0 ? 16 : im->cap * 2;
        entry *e = realloc(im->entries, cap * sizeof *e);
        if (e == NULL) {
            say(im, MSG_REFUSED, where, "out of memory");
            return NULL;
        }
        im->entries = e;
        im->cap = cap;
    }
    if (im->n >= PINCURL_MAX_DOMAINS) {
        say(im, MSG_REFUSED, where, "more than %d domains", PINCURL_MAX_DOMAINS);
        return NULL;
    }
    entry *e = &im->entries[im->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->host, sizeof e->host, "%s", host);
    snprintf(e->where, sizeof e->where, "%s", where);
    e->enforce = 1;
    return e;
}

/* Adds pin to e unless it is there already (1 if added). */
static int add_pin(entry *e, const pincurl_pin *pin)
{
    for (size_t i = 0; i < e->npins; i++)
        if (pincurl_pin_equal(&e->pins[i], pin))
            return 0;
    if (e->npins >= PINCURL_MAX_PINS_PER_DOMAIN)
        return -1;
    e->pins[e->npins++] = *pin;
    return 1;
}

static void add_union_uri(importer *im, const char *uri)
{
    cJSON *u;
    cJSON_ArrayForEach(u, im->uris)
        if (strcmp(u->valuestring, uri) == 0)
            return;
    cJSON_AddItemToArray(im->uris, cJSON_CreateString(uri));
}

/* 1 if a is a strict parent of b on a label boundary. */
static int is_parent(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return lb > la + 1 && b[lb - la - 1] == '.' && strcmp(b + lb - la, a) == 0;
}

/* The pinned include_subdomains entry that is a strict parent of host, or NULL. */
static const entry *pinned_parent(const importer *im, const char *host)
{
    for (size_t i = 0; i < im->n; i++) {
        const entry *p = &im->entries[i];
        if (!p->exclude && p->include && is_parent(p->host, host))
            return p;
    }
    return NULL;
}

/* The one-pin rule: an enforcing entry needs a backup pin, unless the user chose. tool
 * names the source tool; tool_refuses: it refuses such an entry itself. */
static void single_pin(importer *im, entry *e, const char *tool, int tool_refuses)
{
    if (e->exclude || !e->enforce || e->npins != 1)
        return;
    switch (im->single_mode) {
    case SINGLE_REPORT_ONLY:
        e->enforce = 0;
        say(im, MSG_CHANGED, e->where,
            "one pin: imported report-only, as --single-pin report-only asks: a mismatch is "
            "reported and the connection proceeds, where %s",
            tool_refuses ? "the source tool refuses the whole configuration"
                         : "the source tool refuses the connection");
        break;
    case SINGLE_ENFORCE:
        e->single = 1;
        say(im, tool_refuses ? MSG_CHANGED : MSG_NOTE, e->where,
            "one pin: enforced with allow_single_pin, as --single-pin enforce asks; there is no "
            "backup key, so a key change locks every client out%s",
            tool_refuses ? " (the source tool refuses the whole configuration)"
                         : " (as it does in the source)");
        break;
    default:
        say(im, MSG_REFUSED, e->where,
            "one pin and no backup pin (%s %s); pincurl refuses an enforcing pin set without a "
            "backup. Add a backup pin (pincurl pin --key), or choose --single-pin report-only "
            "or --single-pin enforce",
            tool, tool_refuses ? "refuses it too" : "enforces it");
    }
}

/* ---- The result ------------------------------------------------------------------------ */

/* The refused element for the library's diag path domains["host"]..., or NULL. */
static const char *where_of(importer *im, const char *path)
{
    const char *q = strstr(path, "domains[\"");
    if (q == NULL)
        return NULL;
    q += strlen("domains[\"");
    const char *end = strchr(q, '"');
    if (end == NULL || (size_t)(end - q) > PINCURL_HOST_MAX)
        return NULL;
    char host[PINCURL_HOST_MAX + 1];
    memcpy(host, q, (size_t)(end - q));
    host[end - q] = '\0';
    entry *e = find_entry(im, host);
    return e != NULL ? e->where : NULL;
}

static cJSON *make_document(importer *im)
{
    cJSON *doc = cJSON_CreateObject(), *domains = cJSON_CreateObject();
    char pin[PINCURL_PIN_TEXT_SIZE], day[32];
    if (doc == NULL || domains == NULL) {
        cJSON_Delete(doc);
        cJSON_Delete(domains);
        return NULL;
    }
    cJSON_AddNumberToObject(doc, "pincurl_policy", 1);
    if (cJSON_GetArraySize(im->uris) > 0)
        cJSON_AddItemToObject(doc, "report_uris", cJSON_Duplicate(im->uris, 1));
    cJSON_AddItemToObject(doc, "domains", domains);
    for (size_t i = 0; i < im->n; i++) {
        const entry *e = &im->entries[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(domains, e->host, o);
        if (e->exclude) {
            cJSON_AddBoolToObject(o, "exclude", 1);
            cJSON_AddBoolToObject(o, "include_subdomains", e->include);
            continue;
        }
        cJSON_AddBoolToObject(o, "include_subdomains", e->include);
        cJSON_AddBoolToObject(o, "enforce", e->enforce);
        if (e->single)
            cJSON_AddBoolToObject(o, "allow_single_pin", 1);
        cJSON *pins = cJSON_AddArrayToObject(o, "pins");
        for (size_t k = 0; k < e->npins; k++) {
            cli_format_pin(&e->pins[k], pin);
            cJSON_AddItemToArray(pins, cJSON_CreateString(pin));
        }
        if (e->expires != 0) {
            format_day(e->expires, day, sizeof day);
            cJSON_AddStringToObject(o, "expires", day);
        }
    }
    return doc;
}

static int has_string(const cJSON *array, const char *text)
{
    const cJSON *u;
    cJSON_ArrayForEach(u, array)
        if (cJSON_IsString(u) && strcmp(u->valuestring, text) == 0)
            return 1;
    return 0;
}

/* Where each domain's failure reports go, in the source tool (its own report URIs, plus
 * the tool's default collector unless disabled) and in pincurl (the policy's report_uris,
 * the union of every domain's): each difference is a change. Then the reports after an
 * entry's expiry. */
static void report_notes(importer *im, const char *tool, const char *label)
{
    size_t nu = (size_t)cJSON_GetArraySize(im->uris);
    int union_default = has_string(im->uris, tk_default_uri);
    char elist[1024];
    size_t eused = (size_t)snprintf(elist, sizeof elist, "%s ", label), ebase = eused;
    int expiring = 0;
    for (size_t i = 0; i < im->n; i++) {
        entry *e = &im->entries[i];
        char extra[1024] = "";
        size_t xused = 0;
        if (e->exclude)
            continue;
        if (e->expires != 0 && eused + strlen(e->host) + 4 < sizeof elist) {
            expiring = 1;
            eused += (size_t)snprintf(elist + eused, sizeof elist - eused, "%s%s",
                                      eused > ebase ? ", " : "", e->host);
        }
        const cJSON *u;
        cJSON_ArrayForEach(u, im->uris) {
            if (has_string(e->uris, u->valuestring) ||
                (e->default_uri && strcmp(u->valuestring, tk_default_uri) == 0))
                continue;
            if (xused + strlen(u->valuestring) + 3 < sizeof extra)
                xused += (size_t)snprintf(extra + xused, sizeof extra - xused, "%s%s",
                                          xused > 0 ? ", " : "", u->valuestring);
        }
        int lost_default = e->default_uri && !union_default;
        if (xused > 0)
            say(im, MSG_CHANGED, e->where,
                "its failure reports also go to %s: report URIs are policy-wide in pincurl "
                "(%s sends this domain's reports only to its own)",
                extra, tool);
        if (lost_default)
            say(im, MSG_CHANGED, e->where,
                "%s also sends its failure reports to its default collector %s "
                "(disableDefaultReportUri is not set); pincurl has no default collector and "
                "sends reports only to report_uris (add it there to keep sending them)",
                tool, tk_default_uri);
    }
    if (expiring && nu > 0)
        say(im, MSG_CHANGED, elist,
            "once a domain's pins have expired %s neither checks nor reports them; pincurl "
            "(on_expiry report_and_allow) lets every connection through and still reports "
            "mismatches to report_uris, marked as expired",
            tool);
}

static void expiry_warnings(importer *im)
{
    size_t pinned = 0, expired = 0;
    char day[32];
    for (size_t i = 0; i < im->n; i++) {
        const entry *e = &im->entries[i];
        if (e->exclude)
            continue;
        pinned++;
        if (e->expires != 0 && e->expires <= im->now) {
            expired++;
            format_day(e->expires, day, sizeof day);
            say(im, MSG_WARNING, e->where,
                "these pins expired on %s: neither the source tool nor pincurl enforces them "
                "any more",
                day);
        }
    }
    if (pinned > 0 && expired == pinned)
        say(im, MSG_WARNING, im->file,
            "every pin set of this configuration has expired: the imported policy pins "
            "nothing today");
}

/* Prints the document (unless something was refused), checks it with the library, and
 * returns the exit code. */
static int finish_import(importer *im)
{
    if (im->refused > 0)
        return CLI_BAD_POLICY;
    if (im->n == 0) {
        say(im, MSG_REFUSED, im->file,
            "no pin set applies to any domain: the source pins nothing, and a pincurl policy "
            "needs at least one pinned domain");
        return CLI_BAD_POLICY;
    }
    for (size_t i = 0; i < im->n; i++) {
        entry *e = &im->entries[i];
        if (e->include && pincurl_host_is_ip(e->host)) {
            e->include = 0;
            say(im, MSG_NOTE, e->where,
                "includeSubdomains on an IP address: no host name is below an address, so "
                "the entry is written as the address alone (which pincurl requires)");
        }
    }
    cJSON *doc = make_document(im);
    char *text = doc != NULL ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (text == NULL) {
        cli_error("out of memory");
        return CLI_OUT_OF_MEMORY;
    }
    pincurl_policy *policy = NULL;
    pincurl_diag diag;
    if (pincurl_policy_load_json(text, strlen(text), NULL, &policy, &diag) != PINCURL_OK) {
        const char *where = where_of(im, diag.path);
        say(im, MSG_REFUSED, where != NULL ? where : im->file, "pincurl cannot express it: %s",
            diag.message);
        free(text);
        return CLI_BAD_POLICY;
    }
    pincurl_policy_unref(policy);
    expiry_warnings(im);
    printf("%s\n", text);
    free(text);
    return im->changed > 0 ? CLI_WARNINGS : CLI_OK;
}

/* ---- TrustKit ------------------------------------------------------------------------ */

static int is(const xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE &&
           xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static xmlNode *next_element(xmlNode *n)
{
    while (n != NULL && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* The text of n exactly as written (a plist keeps white space in strings and keys). */
static char *node_text(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    char *s = strdup(c != NULL ? (const char *)c : "");
    xmlFree(c);
    return s;
}

/* Java's String.trim(): every byte <= ' ' off both ends. */
static void java_trim(char *s)
{
    size_t len = strlen(s), start = 0;
    while (len > 0 && (unsigned char)s[len - 1] <= ' ')
        s[--len] = '\0';
    while (s[start] != '\0' && (unsigned char)s[start] <= ' ')
        start++;
    memmove(s, s + start, len - start + 1);
}

/* A plist value as cJSON: dict, array, string, integer, real, true, false; date and data
 * become strings (TrustKit has no key of those types). NULL for anything else. */
static cJSON *plist_value(xmlNode *n, int depth)
{
    if (depth > 16 || n == NULL)
        return NULL;
    if (is(n, "dict")) {
        cJSON *o = cJSON_CreateObject();
        for (xmlNode *k = next_element(n->children); k != NULL && o != NULL;) {
            xmlNode *v = next_element(k->next);
            char *key = is(k, "key") ? node_text(k) : NULL;
            cJSON *value = v != NULL ? plist_value(v, depth + 1) : NULL;
            if (key == NULL || value == NULL) {
                free(key);
                cJSON_Delete(value);
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToObject(o, key, value);
            free(key);
            k = next_element(v->next);
        }
        return o;
    }
    if (is(n, "array")) {
        cJSON *a = cJSON_CreateArray();
        for (xmlNode *e = next_element(n->children); e != NULL && a != NULL;
             e = next_element(e->next)) {
            cJSON *value = plist_value(e, depth + 1);
            if (value == NULL) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, value);
        }
        return a;
    }
    if (is(n, "true") || is(n, "false"))
        return cJSON_CreateBool(is(n, "true"));
    if (is(n, "string") || is(n, "date") || is(n, "data") || is(n, "integer") ||
        is(n, "real")) {
        char *s = node_text(n);
        cJSON *v = NULL;
        if (s != NULL && (is(n, "integer") || is(n, "real"))) {
            char *end;
            java_trim(s);
            double d = strtod(s, &end);
            v = *s != '\0' && *end == '\0' ? cJSON_CreateNumber(d) : NULL;
        } else if (s != NULL) {
            v = cJSON_CreateString(s);
        }
        free(s);
        return v;
    }
    return NULL;
}

/* A TrustKit boolean: <true/>/<false/> (JSON true/false); an integer is read as
 * -[NSNumber boolValue] reads it (non-zero: YES), with a note. -1 (after a refusal) for
 * anything else: NSString's boolValue has rules of its own that an import should not
 * guess at. */
static int tk_bool(importer *im, const char *where, const cJSON *v)
{
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) {
        say(im, MSG_NOTE, where, "a number, read as TrustKit reads it (%s)",
            v->valuedouble != 0 ? "YES" : "NO");
        return v->valuedouble != 0;
    }
    say(im, MSG_REFUSED, where, "not a boolean (<true/> or <false/>)");
    return -1;
}

/* The domain keys TrustKit reads (the string values of its kTSK* constants,
 * TSKTrustKitConfig.m). The exclusion's constant is the one whose string differs from its
 * documented name. */
#define TK_EXCLUDE_KEY "kSKExcludeSubdomainFromParentPolicy"
#define TK_EXCLUDE_DOC "TSKExcludeSubdomainFromParentPolicy"
static const char *const tk_domain_keys[] = {
    "TSKPublicKeyHashes", "TSKEnforcePinning", "TSKIncludeSubdomains", "TSKPublicKeyAlgorithms",
    "TSKReportUris", "TSKDisableDefaultReportUri", "TSKExpirationDate", TK_EXCLUDE_KEY,
    TK_EXCLUDE_DOC};

/* An unknown key: TrustKit ignores it, and so does the import (a note); a key that looks
 * like one TrustKit reads but is not gets a warning. */
static void tk_unknown(importer *im, const char *where, const char *key, const char *const *known,
                       size_t nknown)
{
    for (size_t i = 0; i < nknown; i++) {
        if (strcasecmp(key, known[i]) == 0 ||
            (key[0] == 'k' && strcasecmp(key + 1, known[i]) == 0)) {
            say(im, MSG_WARNING, where,
                "TrustKit reads the key \"%s\", not \"%s\": it ignores this one, and so does "
                "the import",
                known[i], key);
            return;
        }
    }
    say(im, MSG_NOTE, where, "not a key TrustKit reads: ignored, as TrustKit ignores it");
}

static void tk_domain(importer *im, const char *key, const cJSON *d)
{
    char where[WHERE_SIZE], kwhere[WHERE_SIZE];
    wfmt(where, sizeof where, "TSKPinnedDomains[\"%s\"]", key);
    if (!cJSON_IsObject(d)) {
        say(im, MSG_REFUSED, where, "not a dictionary");
        return;
    }
    entry *e = new_entry(im, key, where);
    if (e == NULL)
        return;
    char lower[PINCURL_HOST_MAX + 2];
    snprintf(lower, sizeof lower, "%s", key);
    if (strcmp(lower, e->host) != 0 && strlen(key) <= PINCURL_HOST_MAX + 1)
        say(im, MSG_CHANGED, where,
            "TrustKit looks host names up exactly as written; pincurl matches \"%s\" without "
            "regard to case or a trailing dot",
            e->host);

    /* The exclusion comes first: with it, TrustKit allows no other key. */
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(d, TK_EXCLUDE_KEY);
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(d, TK_EXCLUDE_DOC);
    int nkeys = cJSON_GetArraySize(d);
    if (ex != NULL) {
        wfmt(kwhere, sizeof kwhere, "%s.%s", where, TK_EXCLUDE_KEY);
        int v = tk_bool(im, kwhere, ex);
        if (v < 0)
            return;
        if (v) {
            if (nkeys > 1) {
                say(im, MSG_REFUSED, kwhere,
                    "TrustKit refuses an excluded domain with any other key");
                return;
            }
            e->exclude = 1;
            e->include = 0;
            return;
        }
    } else if (doc != NULL) {
        wfmt(kwhere, sizeof kwhere, "%s.%s", where, TK_EXCLUDE_DOC);
        int v = tk_bool(im, kwhere, doc);
        if (v < 0)
            return;
        if (v && nkeys == 1) {
            e->exclude = 1;
            e->include = 0;
            say(im, MSG_CHANGED, kwhere,
                "TrustKit reads the exclusion under the key \"" TK_EXCLUDE_KEY "\" (the value "
                "of kTSKExcludeSubdomainFromParentPolicy) and ignores this documented name, so "
                "it would refuse this domain for having no pins; imported as the exclusion of "
                "this host alone that the name documents");
            return;
        }
        say(im, MSG_NOTE, kwhere,
            "TrustKit ignores this documented name (it reads \"" TK_EXCLUDE_KEY "\"); the "
            "domain is imported as TrustKit reads it");
    }

    int disable_default = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, d) {
        wfmt(kwhere, sizeof kwhere, "%s.%s", where, k->string);
        if (strcmp(k->string, "TSKPublicKeyHashes") == 0) {
            if (!cJSON_IsArray(k)) {
                say(im, MSG_REFUSED, kwhere, "not an array of strings");
                continue;
            }
            int i = 0;
            const cJSON *h;
            cJSON_ArrayForEach(h, k) {
                char pwhere[WHERE_SIZE];
                pincurl_pin pin;
                wfmt(pwhere, sizeof pwhere, "%s[%d]", kwhere, i++);
                if (!cJSON_IsString(h)) {
                    say(im, MSG_REFUSED, pwhere, "not a string");
                    continue;
                }
                if (!decode_apple(h->valuestring, &pin)) {
                    say(im, MSG_REFUSED, pwhere,
                        "\"%s\" is not base64 of 32 bytes as TrustKit reads it (NSData: the "
                        "standard alphabet, no white space, padded to a multiple of four); "
                        "TrustKit refuses the configuration",
                        h->valuestring);
                    continue;
                }
                int added = add_pin(e, &pin);
                char canon[PINCURL_PIN_TEXT_SIZE];
                cli_format_pin(&pin, canon);
                if (added < 0)
                    say(im, MSG_REFUSED, pwhere, "more than %d pins", PINCURL_MAX_PINS_PER_DOMAIN);
                else if (added == 0)
                    say(im, MSG_NOTE, pwhere, "the same pin again; TrustKit counts it once");
                else if (!canonical_b64(&pin, h->valuestring))
                    say(im, MSG_NOTE, pwhere,
                        "\"%s\" has non-zero bits past the 256th, which TrustKit drops: the "
                        "same digest, written as pincurl writes it, %s",
                        h->valuestring, canon);
            }
        } else if (strcmp(k->string, "TSKIncludeSubdomains") == 0) {
            int v = tk_bool(im, kwhere, k);
            if (v >= 0)
                e->include = v;
        } else if (strcmp(k->string, "TSKEnforcePinning") == 0) {
            int v = tk_bool(im, kwhere, k);
            if (v >= 0)
                e->enforce = v;
        } else if (strcmp(k->string, "TSKDisableDefaultReportUri") == 0) {
            int v = tk_bool(im, kwhere, k);
            if (v >= 0)
                disable_default = v;
        } else if (strcmp(k->string, "TSKReportUris") == 0) {
            if (!cJSON_IsArray(k)) {
                say(im, MSG_REFUSED, kwhere, "not an array of strings");
                continue;
            }
            if (e->uris == NULL)
                e->uris = cJSON_CreateArray();
            const cJSON *u;
            cJSON_ArrayForEach(u, k) {
                if (!cJSON_IsString(u)) {
                    say(im, MSG_REFUSED, kwhere, "a report URI is not a string");
                } else if (strncmp(u->valuestring, "https://", 8) != 0) {
                    say(im, MSG_CHANGED, kwhere,
                        "\"%s\" is not imported: pincurl sends reports over https:// only, so "
                        "this collector gets none",
                        u->valuestring);
                } else {
                    cJSON_AddItemToArray(e->uris, cJSON_CreateString(u->valuestring));
                    add_union_uri(im, u->valuestring);
                }
            }
        } else if (strcmp(k->string, "TSKExpirationDate") == 0) {
            int64_t t;
            if (!cJSON_IsString(k) || !parse_day(k->valuestring, &t))
                say(im, MSG_REFUSED, kwhere,
                    "not a date written yyyy-MM-dd, the only form TrustKit reads");
            else
                e->expires = t;
        } else if (strcmp(k->string, "TSKPublicKeyAlgorithms") == 0) {
            say(im, MSG_NOTE, kwhere,
                "ignored since TrustKit 1.6; pincurl pins hash the whole SubjectPublicKeyInfo "
                "of any key type");
        } else if (strcmp(k->string, TK_EXCLUDE_KEY) == 0 ||
                   strcmp(k->string, TK_EXCLUDE_DOC) == 0) {
            continue; /* read above (false, or the documented name ignored) */
        } else {
            tk_unknown(im, kwhere, k->string, tk_domain_keys,
                       sizeof tk_domain_keys / sizeof tk_domain_keys[0]);
        }
    }
    e->default_uri = !disable_default;
    if (e->npins == 0) {
        say(im, MSG_REFUSED, where, "no pins: TrustKit refuses a domain with fewer than %s",
            e->enforce ? "two pins (it enforces)" : "one pin");
        return;
    }
    single_pin(im, e, "TrustKit", 1);
}

static cJSON *tk_read(const char *file, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", data[i]) != NULL)
        i++;
    if (len >= 8 && memcmp(data, "bplist00", 8) == 0) {
        cli_error("%s: a binary property list: convert it first (plutil -convert xml1)", file);
        return NULL;
    }
    if (i < len && data[i] == '<') {
        xmlDoc *doc = xmlReadMemory(data, (int)len, file, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
        cJSON *dict = NULL;
        if (root != NULL && is(root, "plist"))
            dict = plist_value(next_element(root->children), 0);
        xmlFreeDoc(doc);
        return dict;
    }
    return cJSON_ParseWithLength(data, len);
}

static int import_trustkit(importer *im, const char *data, size_t len)
{
    cJSON *dict = tk_read(im->file, data, len);
    if (!cJSON_IsObject(dict)) {
        cli_error("%s: not a TrustKit dictionary (plist XML or JSON)", im->file);
        cJSON_Delete(dict);
        return CLI_LINT_ERRORS;
    }
    /* An Info.plist carries the dictionary under TSKConfiguration; its other keys are the
     * application's and none of TrustKit's business. */
    cJSON *conf = cJSON_GetObjectItemCaseSensitive(dict, "TSKConfiguration");
    if (!cJSON_IsObject(conf))
        conf = dict;
    static const char *const top_keys[] = {"TSKPinnedDomains", "TSKSwizzleNetworkDelegates",
                                           "TSKIgnorePinningForUserDefinedTrustAnchors"};
    const cJSON *k;
    cJSON_ArrayForEach(k, conf) {
        if (strcmp(k->string, "TSKPinnedDomains") == 0)
            continue;
        if (strcmp(k->string, "TSKSwizzleNetworkDelegates") == 0) {
            say(im, MSG_NOTE, k->string,
                "how TrustKit hooks into NSURLSession; nothing to do with what is pinned");
        } else if (strcmp(k->string, "TSKIgnorePinningForUserDefinedTrustAnchors") == 0) {
            int v = tk_bool(im, k->string, k);
            if (v == 1)
                say(im, MSG_CHANGED, k->string,
                    "on macOS TrustKit skips pinning (and reporting) for a chain that ends at a "
                    "user-defined trust anchor; pincurl pins every chain, so such connections "
                    "(a corporate proxy) are refused");
            else if (v == 0)
                say(im, MSG_NOTE, k->string, "pincurl pins every chain, as this asks");
        } else {
            size_t j = 0, nd = sizeof tk_domain_keys / sizeof tk_domain_keys[0];
            while (j < nd && strcmp(k->string, tk_domain_keys[j]) != 0)
                j++;
            if (j < nd)
                say(im, MSG_WARNING, k->string,
                    "TrustKit reads this key only inside a domain's dictionary of "
                    "TSKPinnedDomains: here it ignores it, and so does the import");
            else
                tk_unknown(im, k->string, k->string, top_keys,
                           sizeof top_keys / sizeof top_keys[0]);
        }
    }
    cJSON *domains = cJSON_GetObjectItemCaseSensitive(conf, "TSKPinnedDomains");
    if (!cJSON_IsObject(domains) || cJSON_GetArraySize(domains) == 0) {
        say(im, MSG_REFUSED, "TSKPinnedDomains",
            "missing or empty: TrustKit refuses a configuration without pinned domains");
        cJSON_Delete(dict);
        return finish_import(im);
    }
    cJSON_ArrayForEach(k, domains)
        tk_domain(im, k->string, k);
    /* An exclusion needs an includeSubdomains parent (TrustKit refuses it otherwise). */
    for (size_t i = 0; i < im->n; i++) {
        entry *e = &im->entries[i];
        if (e->exclude && pinned_parent(im, e->host) == NULL)
            say(im, MSG_REFUSED, e->where,
                "excluded, but no TSKIncludeSubdomains domain above it: TrustKit refuses it");
    }
    report_notes(im, "TrustKit", "TSKPinnedDomains of");
    cJSON_Delete(dict);
    return finish_import(im);
}

/* ---- Android network_security_config.xml ----------------------------------------- */

/* A <domain-config> (or the base-config) and what it sets itself; unset values are
 * inherited from the enclosing one. */
typedef struct nsc_cfg {
    struct nsc_cfg *parent;
    xmlNode *node;
    xmlNode *pinset;              /* its own <pin-set>, or NULL */
    pincurl_pin pins[PINCURL_MAX_PINS_PER_DOMAIN];
    size_t npins;
    int64_t expires;              /* of its pin-set, 0: none */
    int cleartext;                /* -1: unset */
    xmlNode *anchors;             /* its own <trust-anchors>, or NULL */
    int anchors_override;         /* a <certificates overridePins="true"> */
    int anchors_other;            /* a source other than "system" */
    int anchors_noted;
    xmlNode *tk;                  /* its own <trustkit-config>, or NULL */
    int tk_enforce;
    int tk_disable;               /* -1: unset */
    cJSON *tk_uris;
    struct nsc_cfg *next_alloc;
} nsc_cfg;

typedef struct nsc_domain {
    char name[PINCURL_HOST_MAX + 2];
    int include;
    nsc_cfg *cfg;
    char where[WHERE_SIZE];
} nsc_domain;

typedef struct nsc {
    importer *im;
    nsc_cfg *cfgs;   /* every one made, for freeing */
    nsc_cfg *base;   /* the base-config, or NULL */
    nsc_domain *domains;
    size_t ndomains, cap;
    int uses_trustkit;
} nsc;

static void xwhere(nsc *x, xmlNode *n, const char *detail, char *out, size_t size)
{
    snprintf(out, size, "%s:%ld: <%s>%s%s", x->im->file, xmlGetLineNo(n), (const char *)n->name,
             detail != NULL ? " " : "", detail != NULL ? detail : "");
}

static char *xattr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v != NULL ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* An attribute Android reads as a boolean: absent (-1), "true" or "false"; anything else is
 * refused (-2): Android's resource compiler decides what other spellings become. */
static int nsc_bool(nsc *x, xmlNode *n, const char *name)
{
    char *v = xattr(n, name);
    char where[WHERE_SIZE];
    int r = -1;
    if (v == NULL)
        return -1;
    if (strcmp(v, "true") == 0)
        r = 1;
    else if (strcmp(v, "false") == 0)
        r = 0;
    else {
        xwhere(x, n, NULL, where, sizeof where);
        say(x->im, MSG_REFUSED, where, "%s=\"%s\": write true or false", name, v);
        r = -2;
    }
    free(v);
    return r;
}

/* Attributes Android ignores on an element: named in a note each. */
static void nsc_other_attributes(nsc *x, xmlNode *n, const char *const *known, size_t nknown)
{
    char where[WHERE_SIZE];
    for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
        size_t i = 0;
        while (i < nknown && xmlStrcmp(a->name, (const xmlChar *)known[i]) != 0)
            i++;
        if (i < nknown && a->ns == NULL)
            continue;
        xwhere(x, n, NULL, where, sizeof where);
        say(x->im, MSG_NOTE, where,
            "attribute %s%s%s: Android does not read it on this element, nor does the import",
            a->ns != NULL && a->ns->prefix != NULL ? (const char *)a->ns->prefix : "",
            a->ns != NULL && a->ns->prefix != NULL ? ":" : "", (const char *)a->name);
    }
}

static nsc_cfg *nsc_new_cfg(nsc *x, nsc_cfg *parent, xmlNode *node)
{
    nsc_cfg *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->parent = parent;
    c->node = node;
    c->cleartext = -1;
    c->tk_disable = -1;
    c->next_alloc = x->cfgs;
    x->cfgs = c;
    return c;
}

static void nsc_trust_anchors(nsc *x, nsc_cfg *c, xmlNode *n)
{
    char where[WHERE_SIZE];
    xwhere(x, n, NULL, where, sizeof where);
    if (c->anchors != NULL) {
        say(x->im, MSG_REFUSED, where, "a second <trust-anchors>: Android refuses the file");
        return;
    }
    c->anchors = n;
    for (xmlNode *k = next_element(n->children); k != NULL; k = next_element(k->next)) {
        if (!is(k, "certificates"))
            continue;
        char *src = xattr(k, "src");
        int ov = nsc_bool(x, k, "overridePins");
        char cw[WHERE_SIZE];
        xwhere(x, k, NULL, cw, sizeof cw);
        if (src == NULL)
            say(x->im, MSG_REFUSED, cw, "no src: Android refuses the file");
        else if (strcmp(src, "system") != 0 && strcmp(src, "user") != 0 &&
                 strcmp(src, "wfa") != 0 && src[0] != '@')
            say(x->im, MSG_REFUSED, cw, "src=\"%s\": Android refuses the file", src);
        else if (strcmp(src, "system") != 0)
            c->anchors_other = 1;
        if (ov == 1)
            c->anchors_override = 1;
        free(src);
    }
}

static void nsc_pin_set(nsc *x, nsc_cfg *c, xmlNode *n)
{
    char where[WHERE_SIZE];
    char *exp = xattr(n, "expiration");
    xwhere(x, n, NULL, where, sizeof where);
    if (c->pinset != NULL) {
        say(x->im, MSG_REFUSED, where, "a second <pin-set>: Android refuses the file");
        free(exp);
        return;
    }
    c->pinset = n;
    if (exp != NULL && !parse_day(exp, &c->expires))
        say(x->im, MSG_REFUSED, where,
            "expiration=\"%s\" is not a date written yyyy-MM-dd: Android refuses the file", exp);
    free(exp);
    nsc_other_attributes(x, n, (const char *const[]){"expiration"}, 1);
    for (xmlNode *p = next_element(n->children); p != NULL; p = next_element(p->next)) {
        char pw[WHERE_SIZE];
        xwhere(x, p, NULL, pw, sizeof pw);
        if (!is(p, "pin")) {
            say(x->im, MSG_NOTE, pw,
                "Android skips this element in a <pin-set>, as does the import");
            continue;
        }
        char *digest = xattr(p, "digest");
        if (digest == NULL || strcasecmp(digest, "SHA-256") != 0) {
            say(x->im, MSG_REFUSED, pw,
                "digest=\"%s\": Android refuses every digest but SHA-256 (and the file with it)",
                digest != NULL ? digest : "");
            free(digest);
            continue;
        }
        free(digest);
        if (next_element(p->children) != NULL) {
            say(x->im, MSG_REFUSED, pw, "a <pin> with elements inside: Android refuses the file");
            continue;
        }
        char *text = node_text(p);
        if (text == NULL)
            continue;
        java_trim(text);
        pincurl_pin pin;
        size_t skipped = 0;
        if (!decode_android(text, &pin, &skipped)) {
            say(x->im, MSG_REFUSED, pw,
                "\"%s\" is not 32 bytes as Android decodes base64: Android refuses the file",
                text);
            free(text);
            continue;
        }
        size_t k = 0;
        while (k < c->npins && !pincurl_pin_equal(&c->pins[k], &pin))
            k++;
        char canon[PINCURL_PIN_TEXT_SIZE];
        cli_format_pin(&pin, canon);
        if (k < c->npins)
            say(x->im, MSG_NOTE, pw, "the same pin again; Android counts it once");
        else if (c->npins >= PINCURL_MAX_PINS_PER_DOMAIN)
            say(x->im, MSG_REFUSED, pw, "more than %d pins", PINCURL_MAX_PINS_PER_DOMAIN);
        else {
            c->pins[c->npins++] = pin;
            if (!canonical_b64(&pin, text))
                say(x->im, MSG_NOTE, pw,
                    "\"%s\" is read as Android reads it (%s): the same digest, written as "
                    "pincurl writes it, %s",
                    text,
                    skipped > 0 ? "skipping the bytes outside the base64 alphabet"
                                : "padding optional, bits past the 256th dropped",
                    canon);
        }
        free(text);
    }
}

static void nsc_trustkit(nsc *x, nsc_cfg *c, xmlNode *n)
{
    char where[WHERE_SIZE];
    xwhere(x, n, NULL, where, sizeof where);
    if (c->tk != NULL)
        say(x->im, MSG_NOTE, where,
            "a second <trustkit-config> in one <domain-config>: TrustKit-Android keeps the last, "
            "as does the import");
    x->uses_trustkit = 1;
    c->tk = n;
    /* Boolean.parseBoolean: "true" in any case is true, anything else false. */
    char *v = xattr(n, "enforcePinning");
    c->tk_enforce = v != NULL && strcasecmp(v, "true") == 0;
    free(v);
    v = xattr(n, "disableDefaultReportUri");
    c->tk_disable = v == NULL ? -1 : strcasecmp(v, "true") == 0;
    free(v);
    nsc_other_attributes(x, n, (const char *const[]){"enforcePinning", "disableDefaultReportUri"},
                         2);
    cJSON_Delete(c->tk_uris);
    c->tk_uris = cJSON_CreateArray();
    for (xmlNode *u = next_element(n->children); u != NULL; u = next_element(u->next)) {
        if (!is(u, "report-uri"))
            continue;
        char *uri = node_text(u);
        char uw[WHERE_SIZE];
        xwhere(x, u, NULL, uw, sizeof uw);
        if (uri == NULL)
            continue;
        if (strncmp(uri, "https://", 8) != 0)
            say(x->im, MSG_CHANGED, uw,
                "\"%s\" is not imported: pincurl sends reports over https:// only, so this "
                "collector gets none",
                uri);
        else
            cJSON_AddItemToArray(c->tk_uris, cJSON_CreateString(uri));
        free(uri);
    }
}

static void nsc_domain_config(nsc *x, nsc_cfg *parent, xmlNode *n, int depth);

/* <certificateTransparency enabled=...> (Android 16 and later), and elements the import
 * does not know, in a <base-config> or <domain-config>. */
static void nsc_other_element(nsc *x, xmlNode *k, const char *in)
{
    char kw[WHERE_SIZE];
    xwhere(x, k, NULL, kw, sizeof kw);
    if (is(k, "certificateTransparency")) {
        int v = nsc_bool(x, k, "enabled");
        if (v == 1)
            say(x->im, MSG_CHANGED, kw,
                "enabled=\"true\": Android (16 and later) refuses these hosts' certificates "
                "without valid Certificate Transparency; pincurl does not check it");
        else if (v == 0)
            say(x->im, MSG_NOTE, kw, "Certificate Transparency not required, as in pincurl");
        return;
    }
    say(x->im, MSG_CHANGED, kw,
        "an element in <%s> this import does not know: Android skips what it does not know, "
        "but a newer Android may read it; not imported",
        in);
}

static void nsc_add_domain(nsc *x, nsc_cfg *c, xmlNode *d)
{
    char where[WHERE_SIZE];
    char *text = node_text(d);
    xwhere(x, d, NULL, where, sizeof where);
    if (text == NULL)
        return;
    java_trim(text);
    for (char *p = text; *p != '\0'; p++) /* toLowerCase(Locale.US) */
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(where + strlen(where), sizeof where - strlen(where), "%s</domain>", text);
    int inc = nsc_bool(x, d, "includeSubdomains");
    nsc_other_attributes(x, d, (const char *const[]){"includeSubdomains"}, 1);
    if (next_element(d->children) != NULL || text[0] == '\0') {
        say(x->im, MSG_REFUSED, where,
            text[0] == '\0' ? "no domain name: Android refuses the file"
                            : "elements inside <domain>: Android refuses the file");
        free(text);
        return;
    }
    for (size_t i = 0; i < x->ndomains; i++) {
        if (strcmp(x->domains[i].name, text) == 0) {
            say(x->im, MSG_REFUSED, where, "already named at %s: Android refuses the file",
                x->domains[i].where);
            free(text);
            return;
        }
    }
    if (strlen(text) > PINCURL_HOST_MAX + 1) {
        say(x->im, MSG_REFUSED, where, "not a host name pincurl can pin");
        free(text);
        return;
    }
    if (x->ndomains == x->cap) {
        size_t cap = x->cap == 0 ? 16 : x->cap * 2;
        nsc_domain *nd = realloc(x->domains, cap * sizeof *nd);
        if (nd == NULL) {
            free(text);
            return;
        }
        x->domains = nd;
        x->cap = cap;
    }
    nsc_domain *nd = &x->domains[x->ndomains++];
    snprintf(nd->name, sizeof nd->name, "%s", text);
    nd->include = inc == 1;
    nd->cfg = c;
    snprintf(nd->where, sizeof nd->where, "%s", where);
    free(text);
}

static void nsc_config_attributes(nsc *x, nsc_cfg *c, xmlNode *n)
{
    int v = nsc_bool(x, n, "cleartextTrafficPermitted");
    if (v >= 0)
        c->cleartext = v;
    if (nsc_bool(x, n, "hstsEnforced") == 1) {
        char where[WHERE_SIZE];
        xwhere(x, n, NULL, where, sizeof where);
        say(x->im, MSG_NOTE, where,
            "hstsEnforced=\"true\": pincurl keeps no HSTS state; it never contacts a pinned "
            "host over http:// in the first place");
    }
    nsc_other_attributes(x, n, (const char *const[]){"cleartextTrafficPermitted", "hstsEnforced"},
                         2);
}

static void nsc_domain_config(nsc *x, nsc_cfg *parent, xmlNode *n, int depth)
{
    char where[WHERE_SIZE];
    xwhere(x, n, NULL, where, sizeof where);
    if (depth > NSC_MAX_DEPTH) {
        say(x->im, MSG_REFUSED, where, "nested deeper than %d levels", NSC_MAX_DEPTH);
        return;
    }
    nsc_cfg *c = nsc_new_cfg(x, parent, n);
    if (c == NULL) {
        say(x->im, MSG_REFUSED, where, "out of memory");
        return;
    }
    nsc_config_attributes(x, c, n);
    int named = 0;
    for (xmlNode *k = next_element(n->children); k != NULL; k = next_element(k->next)) {
        char kw[WHERE_SIZE];
        xwhere(x, k, NULL, kw, sizeof kw);
        if (is(k, "domain")) {
            nsc_add_domain(x, c, k);
            named = 1;
        } else if (is(k, "pin-set")) {
            nsc_pin_set(x, c, k);
        } else if (is(k, "trust-anchors")) {
            nsc_trust_anchors(x, c, k);
        } else if (is(k, "domain-config")) {
            nsc_domain_config(x, c, k, depth + 1);
        } else if (is(k, "trustkit-config")) {
            nsc_trustkit(x, c, k);
        } else {
            nsc_other_element(x, k, "domain-config");
        }
    }
    if (!named)
        say(x->im, MSG_REFUSED, where, "no <domain>: Android refuses the file");
}

static void nsc_base_config(nsc *x, xmlNode *n)
{
    char where[WHERE_SIZE];
    xwhere(x, n, NULL, where, sizeof where);
    if (x->base != NULL) {
        say(x->im, MSG_REFUSED, where, "a second <base-config>: Android refuses the file");
        return;
    }
    x->base = nsc_new_cfg(x, NULL, n);
    if (x->base == NULL)
        return;
    nsc_config_attributes(x, x->base, n);
    for (xmlNode *k = next_element(n->children); k != NULL; k = next_element(k->next)) {
        char kw[WHERE_SIZE];
        xwhere(x, k, NULL, kw, sizeof kw);
        if (is(k, "trust-anchors"))
            nsc_trust_anchors(x, x->base, k);
        else if (is(k, "domain") || is(k, "pin-set") || is(k, "domain-config"))
            say(x->im, MSG_REFUSED, kw, "not allowed in <base-config>: Android refuses the file");
        else if (is(k, "trustkit-config"))
            say(x->im, MSG_NOTE, kw,
                "TrustKit-Android reads <trustkit-config> only in a <domain-config>; ignored");
        else
            nsc_other_element(x, k, "base-config");
    }
    if (x->base->cleartext == 0)
        say(x->im, MSG_CHANGED, where,
            "cleartextTrafficPermitted=\"false\": Android refuses http:// to every host without "
            "a <domain-config> of its own; a pincurl policy refuses http:// only to pinned "
            "hosts (refuse the others in the application)");
    else if (x->base->cleartext == 1)
        say(x->im, MSG_NOTE, where,
            "cleartextTrafficPermitted=\"true\": hosts the policy does not pin may be reached "
            "over http://, as in Android");
    if (x->base->anchors != NULL) {
        char aw[WHERE_SIZE];
        xwhere(x, x->base->anchors, NULL, aw, sizeof aw);
        x->base->anchors_noted = 1;
        if (x->base->anchors_other)
            say(x->im, MSG_CHANGED, aw,
                "trust anchors other than the system's: Android validates hosts without trust "
                "anchors of their own against them; pincurl validates against the application's "
                "CA setting (pincurl_options_set_ca_file, --cacert), which the policy does not "
                "hold: configure the same anchors there");
        else
            say(x->im, MSG_NOTE, aw,
                "the system's trust anchors, which pincurl uses unless the application sets "
                "another CA file");
        if (x->base->anchors_override)
            say(x->im, MSG_CHANGED, aw,
                "overridePins=\"true\": Android skips the pins of a chain that ends at these "
                "anchors; pincurl applies the pins to every chain, so such connections are "
                "refused");
    }
}

/* The nearest value along the inheritance chain: the domain-configs, then the base-config. */
static nsc_cfg *nsc_up(nsc *x, nsc_cfg *c)
{
    return c->parent != NULL ? c->parent : (c == x->base ? NULL : x->base);
}

static void nsc_entries(nsc *x)
{
    importer *im = x->im;
    /* Pinned entries first (an exclusion needs to know its pinned parents), then the
     * domains without pins; document order within each. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < x->ndomains; i++) {
            nsc_domain *d = &x->domains[i];
            nsc_cfg *pins = NULL, *tk = NULL, *clear = NULL, *anchors = NULL, *disable = NULL;
            for (nsc_cfg *c = d->cfg; c != NULL; c = nsc_up(x, c)) {
                if (pins == NULL && c->pinset != NULL)
                    pins = c;
                if (tk == NULL && c->tk != NULL)
                    tk = c;
                if (disable == NULL && c->tk != NULL && c->tk_disable >= 0)
                    disable = c;
                if (clear == NULL && c->cleartext >= 0)
                    clear = c;
                if (anchors == NULL && c->anchors != NULL)
                    anchors = c;
            }
            int pinned = pins != NULL && pins->npins > 0;
            if (pinned != (pass == 0))
                continue;
            if (d->name[strlen(d->name) - 1] == '.') {
                say(im, MSG_NOTE, d->where,
                    "a name written with a trailing dot: Android removes the host's trailing "
                    "dot and compares, so it never matches this entry; not imported");
                continue;
            }
            if (!pinned) {
                if (clear != NULL && clear != x->base && clear->cleartext == 0) {
                    char cw[WHERE_SIZE];
                    xwhere(x, clear->node, NULL, cw, sizeof cw);
                    say(im, MSG_CHANGED, d->where,
                        "cleartextTrafficPermitted=\"false\" (%s): Android refuses http:// to "
                        "this host; pincurl refuses http:// only to pinned hosts, and this one "
                        "is not pinned",
                        cw);
                }
                if (pinned_parent(im, d->name) == NULL) {
                    say(im, MSG_NOTE, d->where,
                        "no pins apply to it and no pinned parent covers it: Android does not "
                        "pin it, and it is not in the policy");
                    continue;
                }
                entry *e = new_entry(im, d->name, d->where);
                if (e != NULL) {
                    e->exclude = 1;
                    e->include = d->include;
                }
                continue;
            }
            entry *e = new_entry(im, d->name, d->where);
            if (e == NULL)
                continue;
            e->include = d->include;
            e->npins = pins->npins;
            memcpy(e->pins, pins->pins, pins->npins * sizeof pins->pins[0]);
            e->expires = pins->expires;
            if (tk != NULL) {
                char tw[WHERE_SIZE];
                xwhere(x, tk->tk, NULL, tw, sizeof tw);
                e->enforce = tk->tk_enforce;
                if (!e->enforce)
                    say(im, MSG_NOTE, e->where,
                        "report-only, as %s (enforcePinning is not \"true\") makes "
                        "TrustKit-Android treat it; Android itself (API 24 and later) still "
                        "enforces these pins on connections that do not go through TrustKit",
                        tw);
                e->uris = cJSON_Duplicate(tk->tk_uris, 1);
                const cJSON *u;
                cJSON_ArrayForEach(u, e->uris)
                    add_union_uri(im, u->valuestring);
                e->default_uri = disable == NULL || disable->tk_disable != 1;
            } else {
                e->enforce = 1;
                if (x->uses_trustkit) {
                    say(im, MSG_CHANGED, e->where,
                        "no <trustkit-config> applies: TrustKit-Android does not enforce these "
                        "pins (its enforcePinning defaults to false) while Android (API 24 and "
                        "later) does; imported as enforcing, as Android does");
                    e->default_uri = 1;
                }
            }
            if (clear != NULL && clear->cleartext == 1) {
                char cw[WHERE_SIZE];
                xwhere(x, clear->node, NULL, cw, sizeof cw);
                say(im, MSG_CHANGED, e->where,
                    "cleartextTrafficPermitted=\"true\" (%s): Android lets http:// through to "
                    "this pinned host; pincurl refuses it",
                    cw);
            }
            if (anchors != NULL && !anchors->anchors_noted) {
                char aw[WHERE_SIZE];
                anchors->anchors_noted = 1;
                xwhere(x, anchors->anchors, NULL, aw, sizeof aw);
                if (anchors->anchors_other)
                    say(im, MSG_CHANGED, aw,
                        "trust anchors other than the system's: Android validates these "
                        "domains' chains against them; pincurl validates against the "
                        "application's CA setting (pincurl_options_set_ca_file, --cacert): "
                        "configure the same anchors there");
                if (anchors->anchors_override)
                    say(im, MSG_CHANGED, aw,
                        "overridePins=\"true\": Android skips these domains' pins for a chain "
                        "that ends at these anchors; pincurl applies the pins to every chain, "
                        "so such connections are refused");
            }
            if (tk != NULL && tk->tk_enforce)
                single_pin(im, e, "TrustKit-Android", 1); /* it refuses fewer than two */
            else
                single_pin(im, e, "Android", 0);
        }
    }
}

/* Trust anchors of domain-configs whose domains have no pins (the pinned ones were named
 * with their domains). */
static void nsc_anchor_notes(nsc *x)
{
    for (nsc_cfg *c = x->cfgs; c != NULL; c = c->next_alloc) {
        if (c->anchors == NULL || c->anchors_noted || c == x->base || !c->anchors_other)
            continue;
        char where[WHERE_SIZE];
        c->anchors_noted = 1;
        xwhere(x, c->anchors, NULL, where, sizeof where);
        say(x->im, MSG_CHANGED, where,
            "trust anchors other than the system's: Android validates these domains' chains "
            "against them; pincurl validates against the application's CA setting "
            "(pincurl_options_set_ca_file, --cacert): configure the same anchors there");
    }
}

static void nsc_expiry_notes(nsc *x)
{
    for (nsc_cfg *c = x->cfgs; c != NULL; c = c->next_alloc) {
        if (c->pinset == NULL || c->expires == 0 || c->npins == 0)
            continue;
        char where[WHERE_SIZE], day[32];
        format_day(c->expires, day, sizeof day);
        xwhere(x, c->pinset, NULL, where, sizeof where);
        say(x->im, MSG_CHANGED, where,
            "expiration=\"%s\": Android stops checking these pins at the start of that day in "
            "the device's time zone, pincurl at %sT00:00:00Z (up to 14 hours apart)",
            day, day);
    }
}

static int import_android(importer *im, const char *data, size_t len)
{
    xmlDoc *doc = xmlReadMemory(data, (int)len, im->file, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL || !is(root, "network-security-config")) {
        cli_error("%s: not a network-security-config XML document", im->file);
        xmlFreeDoc(doc);
        return CLI_LINT_ERRORS;
    }
    nsc x;
    memset(&x, 0, sizeof x);
    x.im = im;
    int debug_seen = 0;
    for (xmlNode *c = next_element(root->children); c != NULL; c = next_element(c->next)) {
        char where[WHERE_SIZE];
        xwhere(&x, c, NULL, where, sizeof where);
        if (is(c, "base-config")) {
            nsc_base_config(&x, c);
        } else if (is(c, "domain-config")) {
            nsc_domain_config(&x, NULL, c, 0);
        } else if (is(c, "debug-overrides")) {
            if (debug_seen++)
                say(im, MSG_REFUSED, where, "a second <debug-overrides>: Android refuses the file");
            else
                say(im, MSG_NOTE, where,
                    "applies only to debuggable builds (android:debuggable=\"true\"); the import "
                    "is the release configuration");
        } else {
            say(im, MSG_CHANGED, where,
                "an element this import does not know: Android skips what it does not know, "
                "but a newer Android may read it; not imported");
        }
    }
    if (im->refused == 0) {
        nsc_entries(&x);
        nsc_anchor_notes(&x);
        nsc_expiry_notes(&x);
        if (x.uses_trustkit)
            report_notes(im, "TrustKit-Android", "<domain-config> of");
    }
    for (nsc_cfg *c = x.cfgs; c != NULL;) {
        nsc_cfg *next = c->next_alloc;
        cJSON_Delete(c->tk_uris);
        free(c);
        c = next;
    }
    free(x.domains);
    xmlFreeDoc(doc);
    return finish_import(im);
}

int cli_policy_import_main(int argc, char **argv)
{
    const char *from = NULL, *file = NULL, *single = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = cli_opt_value(argc, argv, &i, NULL, "--from", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0) {
            from = v;
            continue;
        }
        r = cli_opt_value(argc, argv, &i, NULL, "--single-pin", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            single = v;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("policy import: option %s: is unknown", argv[i]);
            return CLI_USAGE;
        } else if (file != NULL) {
            cli_error("policy import: only one FILE");
            return CLI_USAGE;
        } else {
            file = argv[i];
        }
    }
    importer im;
    memset(&im, 0, sizeof im);
    im.single_mode = SINGLE_REFUSE;
    if (single != NULL) {
        if (strcmp(single, "refuse") == 0)
            im.single_mode = SINGLE_REFUSE;
        else if (strcmp(single, "report-only") == 0)
            im.single_mode = SINGLE_REPORT_ONLY;
        else if (strcmp(single, "enforce") == 0)
            im.single_mode = SINGLE_ENFORCE;
        else {
            cli_error("policy import: --single-pin: expected refuse, report-only or enforce");
            return CLI_USAGE;
        }
    }
    if (from == NULL || file == NULL ||
        (strcmp(from, "trustkit") != 0 && strcmp(from, "android") != 0)) {
        fputs("usage: pincurl policy import --from trustkit|android "
              "[--single-pin refuse|report-only|enforce] FILE\n",
              stderr);
        return CLI_USAGE;
    }
    size_t len;
    unsigned char *data = cli_read_file(file, IMPORT_MAX_BYTES, &len);
    if (data == NULL)
        return CLI_READ_ERROR;
    im.file = file;
    im.now = (int64_t)time(NULL);
    im.uris = cJSON_CreateArray();
    int rc = im.uris == NULL                  ? CLI_OUT_OF_MEMORY
             : strcmp(from, "trustkit") == 0 ? import_trustkit(&im, (const char *)data, len)
                                             : import_android(&im, (const char *)data, len);
    for (size_t i = 0; i < im.n; i++)
        cJSON_Delete(im.entries[i].uris);
    free(im.entries);
    cJSON_Delete(im.uris);
    free(data);
    return rc;
}

/* ---- Export ------------------------------------------------------------------------- */

static void xml_text(const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': fputs("&lt;", stdout); break;
        case '>': fputs("&gt;", stdout); break;
        case '&': fputs("&amp;", stdout); break;
        case '"': fputs("&quot;", stdout); break;
        default: putchar(*s);
        }
    }
}

static void plist_write(const cJSON *v, int indent)
{
    if (cJSON_IsObject(v)) {
        printf("%*s<dict>\n", indent, "");
        const cJSON *k;
        cJSON_ArrayForEach(k, v) {
            printf("%*s<key>", indent + 2, "");
            xml_text(k->string);
            printf("</key>\n");
            plist_write(k, indent + 2);
        }
        printf("%*s</dict>\n", indent, "");
    } else if (cJSON_IsArray(v)) {
        printf("%*s<array>\n", indent, "");
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
            plist_write(e, indent + 2);
        printf("%*s</array>\n", indent, "");
    } else if (cJSON_IsBool(v)) {
        printf("%*s<%s/>\n", indent, "", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsString(v)) {
        printf("%*s<string>", indent, "");
        xml_text(v->valuestring);
        printf("</string>\n");
    }
}

/* The day a domain's pins stop being in force (its own expiry or the policy's, the
 * earlier), written as both tools take it; notes what a day cannot say. 0 if none. */
static int export_day(importer *im, const pincurl_policy *p, const pincurl_domain *d,
                      const char *where, char *day, size_t size)
{
    int64_t pe = pincurl_policy_expires(p), de = pincurl_domain_expires(d);
    int64_t exp = pe == 0 || (de != 0 && de < pe) ? de : pe;
    int block = exp == de && de != 0 ? pincurl_domain_on_expiry(d) == PINCURL_ON_EXPIRY_BLOCK
                                     : pincurl_policy_on_expiry(p) == PINCURL_ON_EXPIRY_BLOCK;
    if (exp == 0)
        return 0;
    format_day(exp, day, size);
    if (exp % 86400 != 0)
        say(im, MSG_CHANGED, where,
            "expires at a time of day; the format has a day only, so the pins end at the start "
            "of %s, earlier than the policy says",
            day);
    if (block)
        say(im, MSG_CHANGED, where,
            "on_expiry block: after %s the format stops checking the pins and lets connections "
            "through instead of refusing them",
            day);
    if (exp <= im->now)
        say(im, MSG_WARNING, where, "these pins expired on %s", day);
    return 1;
}

static int export_trustkit(const pincurl_policy *p, importer *im, int json)
{
    char day[32], pin[PINCURL_PIN_TEXT_SIZE], where[PINCURL_HOST_MAX + 16];
    cJSON *root = cJSON_CreateObject(), *domains = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "TSKPinnedDomains", domains);
    for (size_t i = 0; i < pincurl_policy_domain_count(p); i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        unsigned flags = pincurl_domain_flags(d);
        cJSON *e = cJSON_CreateObject();
        snprintf(where, sizeof where, "domains[\"%s\"]", pincurl_domain_host(d));
        cJSON_AddItemToObject(domains, pincurl_domain_host(d), e);
        if (pincurl_host_is_ip(pincurl_domain_host(d)))
            say(im, MSG_CHANGED, where,
                "an IP address: TrustKit refuses a domain that is not a registered name");
        if (flags & PINCURL_DOMAIN_EXCLUDE) {
            /* The key string TrustKit reads: the value of its constant. */
            cJSON_AddBoolToObject(e, TK_EXCLUDE_KEY, 1);
            if (!(flags & PINCURL_DOMAIN_HOST_ONLY))
                say(im, MSG_CHANGED, where,
                    "excludes the names below it too; TrustKit's exclusion covers the host "
                    "alone, so they fall under the parent's pins again");
            continue;
        }
        cJSON_AddBoolToObject(e, "TSKEnforcePinning", (flags & PINCURL_DOMAIN_ENFORCE) != 0);
        cJSON_AddBoolToObject(e, "TSKIncludeSubdomains",
                              (flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0);
        cJSON *hashes = cJSON_AddArrayToObject(e, "TSKPublicKeyHashes");
        for (size_t k = 0; k < pincurl_domain_pin_count(d); k++) {
            cli_format_pin(pincurl_domain_pin(d, k), pin);
            cJSON_AddItemToArray(hashes, cJSON_CreateString(pin + strlen("sha256/")));
        }
        if ((flags & PINCURL_DOMAIN_ENFORCE) && pincurl_domain_pin_count(d) < 2)
            say(im, MSG_CHANGED, where,
                "enforced with one pin (allow_single_pin): TrustKit refuses an enforcing domain "
                "with fewer than two pins, and the configuration with it");
        if (pincurl_policy_report_uri_count(p) > 0) {
            cJSON *uris = cJSON_AddArrayToObject(e, "TSKReportUris");
            for (size_t k = 0; k < pincurl_policy_report_uri_count(p); k++)
                cJSON_AddItemToArray(uris, cJSON_CreateString(pincurl_policy_report_uri(p, k)));
        }
        /* pincurl sends reports only where the policy says; so must TrustKit. */
        cJSON_AddBoolToObject(e, "TSKDisableDefaultReportUri", 1);
        if (export_day(im, p, d, where, day, sizeof day))
            cJSON_AddStringToObject(e, "TSKExpirationDate", day);
    }
    if (json) {
        char *text = cJSON_Print(root);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
    } else {
        printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
               "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
               "<plist version=\"1.0\">\n");
        plist_write(root, 0);
        printf("</plist>\n");
    }
    cJSON_Delete(root);
    return CLI_OK;
}

static int export_android(const pincurl_policy *p, importer *im)
{
    char day[32], pin[PINCURL_PIN_TEXT_SIZE], where[PINCURL_HOST_MAX + 16];
    size_t nd = pincurl_policy_domain_count(p), nu = pincurl_policy_report_uri_count(p);
    int trustkit = nu > 0, any_expiry = 0;
    /* TrustKit-Android's <trustkit-config> carries report-only pins and report URIs; when
     * one domain needs it, every domain gets one (a domain without it is not enforced by
     * TrustKit-Android). */
    for (size_t i = 0; i < nd; i++) {
        unsigned f = pincurl_domain_flags(pincurl_policy_domain(p, i));
        if (!(f & PINCURL_DOMAIN_EXCLUDE) && !(f & PINCURL_DOMAIN_ENFORCE))
            trustkit = 1;
    }
    printf("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    for (size_t i = 0; i < nd; i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        const char *host = pincurl_domain_host(d);
        unsigned flags = pincurl_domain_flags(d);
        int subtree = (flags & PINCURL_DOMAIN_EXCLUDE)
                          ? (flags & PINCURL_DOMAIN_HOST_ONLY) == 0
                          : (flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0;
        snprintf(where, sizeof where, "domains[\"%s\"]", host);
        printf("    <domain-config>\n        <domain includeSubdomains=\"%s\">",
               subtree ? "true" : "false");
        xml_text(host);
        printf("</domain>\n");
        if (!(flags & PINCURL_DOMAIN_EXCLUDE)) {
            if (export_day(im, p, d, where, day, sizeof day)) {
                any_expiry = 1;
                printf("        <pin-set expiration=\"%s\">\n", day);
            } else {
                printf("        <pin-set>\n");
            }
            for (size_t k = 0; k < pincurl_domain_pin_count(d); k++) {
                cli_format_pin(pincurl_domain_pin(d, k), pin);
                printf("            <pin digest=\"SHA-256\">%s</pin>\n", pin + strlen("sha256/"));
            }
            printf("        </pin-set>\n");
            if (trustkit) {
                int enforce = (flags & PINCURL_DOMAIN_ENFORCE) != 0;
                printf("        <trustkit-config enforcePinning=\"%s\" "
                       "disableDefaultReportUri=\"true\">\n",
                       enforce ? "true" : "false");
                for (size_t k = 0; k < nu; k++) {
                    printf("            <report-uri>");
                    xml_text(pincurl_policy_report_uri(p, k));
                    printf("</report-uri>\n");
                }
                printf("        </trustkit-config>\n");
                if (!enforce)
                    say(im, MSG_CHANGED, where,
                        "report-only: written as <trustkit-config enforcePinning=\"false\">, "
                        "which TrustKit-Android reads; Android itself (API 24 and later) "
                        "enforces every pin set on connections that do not go through TrustKit");
            }
        }
        printf("    </domain-config>\n");
    }
    printf("</network-security-config>\n");
    if (nu > 0)
        say(im, MSG_CHANGED, "report_uris",
            "written as TrustKit-Android's <report-uri>: Android itself sends no failure "
            "reports");
    if (any_expiry)
        say(im, MSG_CHANGED, "expires",
            "written as <pin-set expiration>: Android ends the pins at the start of that day in "
            "the device's time zone, not at 00:00:00Z (up to 14 hours apart)");
    return CLI_OK;
}

int cli_policy_export_main(int argc, char **argv)
{
    const char *to = NULL, *file = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = cli_opt_value(argc, argv, &i, NULL, "--to", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            to = v;
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("policy export: option %s: is unknown", argv[i]);
            return CLI_USAGE;
        } else if (file != NULL) {
            cli_error("policy export: only one FILE");
            return CLI_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (to == NULL || file == NULL ||
        (strcmp(to, "trustkit") != 0 && strcmp(to, "android") != 0)) {
        fputs("usage: pincurl policy export --to trustkit|android [--json] FILE\n", stderr);
        return CLI_USAGE;
    }
    pincurl_policy *policy = NULL;
    pincurl_diag diag;
    pincurl_status st = pincurl_policy_load_file(file, NULL, &policy, &diag);
    if (st != PINCURL_OK) {
        cli_error("%s: %s", file, diag.message);
        return st == PINCURL_IO ? CLI_READ_ERROR : CLI_BAD_POLICY;
    }
    importer im;
    memset(&im, 0, sizeof im);
    im.file = file;
    im.now = (int64_t)time(NULL);
    int rc = strcmp(to, "trustkit") == 0 ? export_trustkit(policy, &im, json)
                                         : export_android(policy, &im);
    pincurl_policy_unref(policy);
    if (rc == CLI_OK && im.changed > 0)
        rc = CLI_WARNINGS;
    return rc;
}
