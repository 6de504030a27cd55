/* pincurl policy import / export: TrustKit dictionaries (plist XML or JSON) and Android's
 * network_security_config.xml, to and from pincurl policy documents. What does not map is
 * reported on stderr ("not mapped: ..."), never dropped silently. */
#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define IMPORT_MAX_BYTES (4u * 1024u * 1024u)

typedef struct mapping {
    unsigned lost;    /* things with no equivalent: the exit code says so */
    int64_t expires;  /* earliest expiry seen (0: none) */
    int expiry_mixed; /* different expiries were seen */
    cJSON *domains;   /* the policy document's "domains" object */
    cJSON *uris;      /* its "report_uris" array */
} mapping;

static void lost(mapping *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lost(mapping *m, const char *fmt, ...)
{
    va_list ap;
    m->lost++;
    va_start(ap, fmt);
    fputs("pincurl: not mapped: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pincurl: note: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- Shared pieces ------------------------------------------------------------------- */

static void see_expiry(mapping *m, const char *where, const char *text)
{
    int64_t t;
    if (pincurl_parse_date(text, &t) != PINCURL_OK) {
        lost(m, "%s: expiration '%s' is not a date", where, text);
        return;
    }
    if (m->expires != 0 && m->expires != t)
        m->expiry_mixed = 1;
    if (m->expires == 0 || t < m->expires)
        m->expires = t;
}

static void add_uri(mapping *m, const char *uri)
{
    cJSON *u;
    cJSON_ArrayForEach(u, m->uris)
        if (strcmp(u->valuestring, uri) == 0)
            return;
    cJSON_AddItemToArray(m->uris, cJSON_CreateString(uri));
}

/* Adds "sha256/<b64>" to pins after checking it. */
static void add_pin(mapping *m, const char *where, cJSON *pins, const char *b64)
{
    char text[128];
    pincurl_pin pin;
    int n = snprintf(text, sizeof text, "sha256/%s", b64);
    if (n < 0 || (size_t)n >= sizeof text ||
        pincurl_pin_parse(text, strlen(text), &pin) != PINCURL_OK) {
        lost(m, "%s: '%s' is not a base64 SHA-256 digest", where, b64);
        return;
    }
    char canonical[PINCURL_PIN_TEXT_SIZE];
    cli_format_pin(&pin, canonical);
    cJSON *p;
    cJSON_ArrayForEach(p, pins)
        if (strcmp(p->valuestring, canonical) == 0)
            return;
    cJSON_AddItemToArray(pins, cJSON_CreateString(canonical));
}

static void format_day(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, size, "1970-01-01");
}

/* Prints the policy document and checks it with the library. */
static int finish_import(mapping *m, const char *what)
{
    cJSON *doc = cJSON_CreateObject();
    char day[32];
    int rc = CLI_OK;
    cJSON_AddNumberToObject(doc, "pincurl_policy", 1);
    if (m->expires != 0) {
        char when[32];
        cli_format_time(m->expires, when, sizeof when);
        if (strlen(when) == 20 && strcmp(when + 10, "T00:00:00Z") == 0) {
            format_day(m->expires, day, sizeof day);
            cJSON_AddStringToObject(doc, "expires", day);
        } else {
            cJSON_AddStringToObject(doc, "expires", when);
        }
        if (m->expiry_mixed)
            lost(m, "%s: different expiration dates; pincurl has one per policy, the earliest "
                    "is used",
                 what);
    }
    if (cJSON_GetArraySize(m->uris) > 0)
        cJSON_AddItemReferenceToObject(doc, "report_uris", m->uris);
    cJSON_AddItemReferenceToObject(doc, "domains", m->domains);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text == NULL) {
        cli_error("out of memory");
        return CLI_OUT_OF_MEMORY;
    }
    pincurl_policy *policy = NULL;
    pincurl_diag diag;
    if (pincurl_policy_load_json(text, strlen(text), NULL, &policy, &diag) != PINCURL_OK) {
        cli_error("the imported policy is not valid: %s", diag.message);
        rc = CLI_BAD_POLICY;
    } else if (m->lost > 0) {
        rc = CLI_WARNINGS;
    }
    pincurl_policy_unref(policy);
    printf("%s\n", text);
    free(text);
    return rc;
}

/* ---- TrustKit --------------------------------------------------------------------------- */

static char *node_text(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    char *s = strdup(c != NULL ? (const char *)c : "");
    xmlFree(c);
    /* Trim surrounding whitespace (plist strings of pins may be indented). */
    if (s != NULL) {
        size_t len = strlen(s), start = 0;
        while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
            s[--len] = '\0';
        while (s[start] != '\0' && strchr(" \t\r\n", s[start]) != NULL)
            start++;
        memmove(s, s + start, len - start + 1);
    }
    return s;
}

static xmlNode *next_element(xmlNode *n)
{
    while (n != NULL && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

static int is(const xmlNode *n, const char *name)
{
    return n != NULL && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

/* A plist value as cJSON: dict, array, string, date, data, integer, real, true, false. */
static cJSON *plist_value(xmlNode *n, int depth)
{
    if (depth > 16)
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
        if (s != NULL)
            v = is(n, "integer") || is(n, "real") ? cJSON_CreateNumber(strtod(s, NULL))
                                                  : cJSON_CreateString(s);
        free(s);
        return v;
    }
    return NULL;
}

static int bool_value(mapping *m, const char *where, const cJSON *v, int *out)
{
    if (!cJSON_IsBool(v)) {
        lost(m, "%s: not a boolean", where);
        return 0;
    }
    *out = cJSON_IsTrue(v);
    return 1;
}

static void trustkit_domain(mapping *m, const char *host, const cJSON *d)
{
    char where[PINCURL_HOST_MAX + 64];
    int include = 0, enforce = 1, exclude = 0;
    cJSON *entry = cJSON_CreateObject(), *pins = cJSON_CreateArray();
    const cJSON *k;

    if (!cJSON_IsObject(d)) {
        lost(m, "TSKPinnedDomains.%s: not a dictionary", host);
        cJSON_Delete(entry);
        cJSON_Delete(pins);
        return;
    }
    cJSON_ArrayForEach(k, d) {
        snprintf(where, sizeof where, "TSKPinnedDomains.%s.%s", host, k->string);
        if (strcmp(k->string, "TSKPublicKeyHashes") == 0 && cJSON_IsArray(k)) {
            const cJSON *h;
            cJSON_ArrayForEach(h, k) {
                if (cJSON_IsString(h))
                    add_pin(m, where, pins, h->valuestring);
                else
                    lost(m, "%s: an entry is not a string", where);
            }
        } else if (strcmp(k->string, "TSKIncludeSubdomains") == 0) {
            bool_value(m, where, k, &include);
        } else if (strcmp(k->string, "TSKEnforcePinning") == 0) {
            bool_value(m, where, k, &enforce);
        } else if (strcmp(k->string, "TSKExcludeSubdomainFromParentPolicy") == 0) {
            bool_value(m, where, k, &exclude);
        } else if (strcmp(k->string, "TSKReportUris") == 0 && cJSON_IsArray(k)) {
            const cJSON *u;
            cJSON_ArrayForEach(u, k) {
                if (cJSON_IsString(u))
                    add_uri(m, u->valuestring);
                else
                    lost(m, "%s: an entry is not a string", where);
            }
            note("%s: report URIs apply to the whole policy in pincurl", where);
        } else if (strcmp(k->string, "TSKExpirationDate") == 0 && cJSON_IsString(k)) {
            see_expiry(m, where, k->valuestring);
        } else if (strcmp(k->string, "TSKDisableDefaultReportUri") == 0) {
            note("%s: pincurl has no default report URI; nothing to disable", where);
        } else if (strcmp(k->string, "TSKPublicKeyAlgorithms") == 0) {
            note("%s: pincurl pins hash the whole SubjectPublicKeyInfo, for any algorithm",
                 where);
        } else {
            lost(m, "%s: unknown or malformed key", where);
        }
    }
    if (exclude) {
        if (cJSON_GetArraySize(pins) > 0 || include)
            lost(m, "TSKPinnedDomains.%s: an excluded domain's pins and flags", host);
        cJSON_AddBoolToObject(entry, "exclude", 1);
        cJSON_Delete(pins);
    } else {
        cJSON_AddBoolToObject(entry, "include_subdomains", include);
        cJSON_AddBoolToObject(entry, "enforce", enforce);
        cJSON_AddItemToObject(entry, "pins", pins);
    }
    cJSON_AddItemToObject(m->domains, host, entry);
}

static int import_trustkit(const char *file, const char *data, size_t len, mapping *m)
{
    cJSON *dict = NULL;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", data[i]) != NULL)
        i++;
    if (i < len && data[i] == '<') {
        xmlDoc *doc = xmlReadMemory(data, (int)len, file, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
        if (root != NULL && is(root, "plist"))
            dict = plist_value(next_element(root->children), 0);
        xmlFreeDoc(doc);
    } else {
        dict = cJSON_ParseWithLength(data, len);
    }
    if (!cJSON_IsObject(dict)) {
        cli_error("%s: not a TrustKit dictionary (plist XML or JSON)", file);
        cJSON_Delete(dict);
        return CLI_LINT_ERRORS;
    }
    /* An Info.plist carries the dictionary under TSKConfiguration. */
    cJSON *conf = cJSON_GetObjectItemCaseSensitive(dict, "TSKConfiguration");
    if (!cJSON_IsObject(conf))
        conf = dict;
    cJSON *domains = cJSON_GetObjectItemCaseSensitive(conf, "TSKPinnedDomains");
    if (!cJSON_IsObject(domains)) {
        cli_error("%s: no TSKPinnedDomains dictionary", file);
        cJSON_Delete(dict);
        return CLI_LINT_ERRORS;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, conf) {
        if (strcmp(k->string, "TSKPinnedDomains") == 0)
            continue;
        if (strcmp(k->string, "TSKSwizzleNetworkDelegates") == 0)
            note("%s: iOS networking hooks have no meaning for pincurl", k->string);
        else
            lost(m, "%s: no pincurl equivalent", k->string);
    }
    cJSON_ArrayForEach(k, domains)
        trustkit_domain(m, k->string, k);
    cJSON_Delete(dict);
    return CLI_OK;
}

/* ---- Android network_security_config.xml ----------------------------------------- */

static char *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v != NULL ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

typedef struct unpinned {
    char host[PINCURL_HOST_MAX + 1];
    int include;
} unpinned;

typedef struct android_ctx {
    mapping *m;
    unpinned list[256];
    size_t count;
} android_ctx;

static void android_attributes(mapping *m, xmlNode *n, const char *where, const char *known)
{
    for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if (known != NULL && xmlStrcmp(a->name, (const xmlChar *)known) == 0)
            continue;
        if (xmlStrcmp(a->name, (const xmlChar *)"cleartextTrafficPermitted") == 0) {
            char *v = attr(n, "cleartextTrafficPermitted");
            if (v != NULL && strcmp(v, "false") == 0)
                note("%s cleartextTrafficPermitted=\"false\": pincurl never sends cleartext "
                     "to a pinned host",
                     where);
            else
                lost(m, "%s cleartextTrafficPermitted=\"%s\": pincurl refuses http:// to a "
                        "pinned host",
                     where, v != NULL ? v : "");
            free(v);
        } else {
            lost(m, "%s attribute %s", where, (const char *)a->name);
        }
    }
}

static void android_config(android_ctx *ctx, xmlNode *cfg, cJSON *inherited, int depth)
{
    mapping *m = ctx->m;
    cJSON *pins = NULL;
    if (depth > 8) {
        lost(m, "domain-config nested too deeply");
        return;
    }
    android_attributes(m, cfg, "domain-config", NULL);
    for (xmlNode *c = next_element(cfg->children); c != NULL; c = next_element(c->next)) {
        if (!is(c, "pin-set"))
            continue;
        if (pins != NULL) {
            lost(m, "a second pin-set in one domain-config");
            continue;
        }
        pins = cJSON_CreateArray();
        char *exp = attr(c, "expiration");
        if (exp != NULL)
            see_expiry(m, "pin-set", exp);
        free(exp);
        android_attributes(m, c, "pin-set", "expiration");
        for (xmlNode *p = next_element(c->children); p != NULL; p = next_element(p->next)) {
            char *digest = attr(p, "digest");
            char *value = node_text(p);
            if (!is(p, "pin"))
                lost(m, "pin-set element <%s>", (const char *)p->name);
            else if (digest == NULL || strcmp(digest, "SHA-256") != 0)
                lost(m, "pin digest=\"%s\": only SHA-256 pins exist in pincurl",
                     digest != NULL ? digest : "");
            else if (value != NULL)
                add_pin(m, "pin-set", pins, value);
            free(digest);
            free(value);
        }
    }
    cJSON *effective = pins != NULL ? pins : inherited;
    for (xmlNode *c = next_element(cfg->children); c != NULL; c = next_element(c->next)) {
        if (is(c, "pin-set") || is(c, "domain-config"))
            continue;
        if (!is(c, "domain")) {
            lost(m, "domain-config element <%s> (trust anchors and overrides are the "
                    "application's CA settings)",
                 (const char *)c->name);
            continue;
        }
        char *host = node_text(c);
        char *inc = attr(c, "includeSubdomains");
        int include = inc != NULL && strcmp(inc, "true") == 0;
        android_attributes(m, c, "domain", "includeSubdomains");
        if (host == NULL || host[0] == '\0') {
            lost(m, "an empty <domain>");
        } else if (cJSON_GetObjectItemCaseSensitive(m->domains, host) != NULL) {
            lost(m, "domain %s appears twice; the first is kept", host);
        } else if (effective != NULL && cJSON_GetArraySize(effective) > 0) {
            cJSON *entry = cJSON_CreateObject();
            cJSON_AddBoolToObject(entry, "include_subdomains", include);
            cJSON_AddBoolToObject(entry, "enforce", 1);
            cJSON_AddItemToObject(entry, "pins", cJSON_Duplicate(effective, 1));
            cJSON_AddItemToObject(m->domains, host, entry);
        } else if (ctx->count < sizeof ctx->list / sizeof ctx->list[0] &&
                   strlen(host) <= PINCURL_HOST_MAX) {
            snprintf(ctx->list[ctx->count].host, sizeof ctx->list[0].host, "%s", host);
            ctx->list[ctx->count++].include = include;
        } else {
            lost(m, "domain %s without pins", host);
        }
        free(host);
        free(inc);
    }
    for (xmlNode *c = next_element(cfg->children); c != NULL; c = next_element(c->next))
        if (is(c, "domain-config"))
            android_config(ctx, c, effective, depth + 1);
    cJSON_Delete(pins);
}

/* 1 if host is under an include_subdomains entry of the imported domains. */
static int under_pinned_parent(const mapping *m, const char *host)
{
    const cJSON *d;
    size_t hl = strlen(host);
    cJSON_ArrayForEach(d, m->domains) {
        size_t dl = strlen(d->string);
        if (hl > dl + 1 && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, d->string) == 0 &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "include_subdomains")))
            return 1;
    }
    return 0;
}

static int import_android(const char *file, const char *data, size_t len, mapping *m)
{
    xmlDoc *doc = xmlReadMemory(data, (int)len, file, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL || !is(root, "network-security-config")) {
        cli_error("%s: not a network-security-config XML document", file);
        xmlFreeDoc(doc);
        return CLI_LINT_ERRORS;
    }
    android_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        xmlFreeDoc(doc);
        return CLI_OUT_OF_MEMORY;
    }
    ctx->m = m;
    for (xmlNode *c = next_element(root->children); c != NULL; c = next_element(c->next)) {
        if (is(c, "domain-config"))
            android_config(ctx, c, NULL, 0);
        else
            lost(m, "<%s> (the application's default and debug trust settings)",
                 (const char *)c->name);
    }
    /* A domain-config without pins overrides a pinned parent: an exclude entry. */
    for (size_t i = 0; i < ctx->count; i++) {
        const unpinned *u = &ctx->list[i];
        if (!under_pinned_parent(m, u->host)) {
            note("domain %s has no pins: it is not in the policy", u->host);
            continue;
        }
        if (cJSON_GetObjectItemCaseSensitive(m->domains, u->host) != NULL)
            continue;
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddBoolToObject(entry, "exclude", 1);
        cJSON_AddItemToObject(m->domains, u->host, entry);
        if (u->include)
            lost(m, "domain %s includeSubdomains=\"true\" without pins: pincurl excludes only "
                    "%s itself from its parent's pins",
                 u->host, u->host);
    }
    free(ctx);
    xmlFreeDoc(doc);
    return CLI_OK;
}

int cli_policy_import_main(int argc, char **argv)
{
    const char *from = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = cli_opt_value(argc, argv, &i, NULL, "--from", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            from = v;
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
    if (from == NULL || file == NULL ||
        (strcmp(from, "trustkit") != 0 && strcmp(from, "android") != 0)) {
        fputs("usage: pincurl policy import --from trustkit|android FILE\n", stderr);
        return CLI_USAGE;
    }
    size_t len;
    unsigned char *data = cli_read_file(file, IMPORT_MAX_BYTES, &len);
    if (data == NULL)
        return CLI_READ_ERROR;
    mapping m;
    memset(&m, 0, sizeof m);
    m.domains = cJSON_CreateObject();
    m.uris = cJSON_CreateArray();
    int rc = m.domains == NULL || m.uris == NULL ? CLI_OUT_OF_MEMORY
             : strcmp(from, "trustkit") == 0
                 ? import_trustkit(file, (const char *)data, len, &m)
                 : import_android(file, (const char *)data, len, &m);
    if (rc == CLI_OK)
        rc = finish_import(&m, file);
    cJSON_Delete(m.domains);
    cJSON_Delete(m.uris);
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

/* The day of the policy's expiry; a time of day is cut to the day before it. */
static int export_day(mapping *m, const pincurl_policy *p, char *day, size_t size)
{
    int64_t exp = pincurl_policy_expires(p);
    if (exp == 0)
        return 0;
    format_day(exp, day, size);
    if (exp % 86400 != 0)
        lost(m, "expires: the time of day; the day is used (pinning ends at its start)");
    if (pincurl_policy_on_expiry(p) == PINCURL_ON_EXPIRY_BLOCK)
        lost(m, "on_expiry block: after expiry, pins are simply no longer enforced");
    return 1;
}

static int export_trustkit(const pincurl_policy *p, mapping *m, int json)
{
    char day[32], pin[PINCURL_PIN_TEXT_SIZE];
    int has_day = export_day(m, p, day, sizeof day);
    cJSON *root = cJSON_CreateObject(), *domains = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "TSKPinnedDomains", domains);
    for (size_t i = 0; i < pincurl_policy_domain_count(p); i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        unsigned flags = pincurl_domain_flags(d);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(domains, pincurl_domain_host(d), e);
        if (flags & PINCURL_DOMAIN_EXCLUDE) {
            cJSON_AddBoolToObject(e, "TSKExcludeSubdomainFromParentPolicy", 1);
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
        if (pincurl_policy_report_uri_count(p) > 0) {
            cJSON *uris = cJSON_AddArrayToObject(e, "TSKReportUris");
            for (size_t k = 0; k < pincurl_policy_report_uri_count(p); k++)
                cJSON_AddItemToArray(uris, cJSON_CreateString(pincurl_policy_report_uri(p, k)));
        }
        /* pincurl sends reports only where the policy says; so must TrustKit. */
        cJSON_AddBoolToObject(e, "TSKDisableDefaultReportUri", 1);
        if (has_day)
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

static int export_android(const pincurl_policy *p, mapping *m)
{
    char day[32], pin[PINCURL_PIN_TEXT_SIZE];
    int has_day = export_day(m, p, day, sizeof day);
    if (pincurl_policy_report_uri_count(p) > 0)
        lost(m, "report_uris: Android does not send pin failure reports");
    printf("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    for (size_t i = 0; i < pincurl_policy_domain_count(p); i++) {
        const pincurl_domain *d = pincurl_policy_domain(p, i);
        const char *host = pincurl_domain_host(d);
        unsigned flags = pincurl_domain_flags(d);
        if (!(flags & PINCURL_DOMAIN_EXCLUDE) && !(flags & PINCURL_DOMAIN_ENFORCE)) {
            lost(m, "domains[\"%s\"]: report-only; Android has no report-only pins, so the "
                    "domain is left out",
                 host);
            continue;
        }
        printf("    <domain-config>\n        <domain includeSubdomains=\"%s\">",
               (flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) ? "true" : "false");
        xml_text(host);
        printf("</domain>\n");
        if (!(flags & PINCURL_DOMAIN_EXCLUDE)) {
            if (has_day)
                printf("        <pin-set expiration=\"%s\">\n", day);
            else
                printf("        <pin-set>\n");
            for (size_t k = 0; k < pincurl_domain_pin_count(d); k++) {
                cli_format_pin(pincurl_domain_pin(d, k), pin);
                printf("            <pin digest=\"SHA-256\">%s</pin>\n", pin + strlen("sha256/"));
            }
            printf("        </pin-set>\n");
        }
        printf("    </domain-config>\n");
    }
    printf("</network-security-config>\n");
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
    mapping m;
    memset(&m, 0, sizeof m);
    int rc = strcmp(to, "trustkit") == 0 ? export_trustkit(policy, &m, json)
                                         : export_android(policy, &m);
    pincurl_policy_unref(policy);
    if (rc == CLI_OK && m.lost > 0)
        rc = CLI_WARNINGS;
    return rc;
}
