/*
 * Policy documents (docs/policy.md): JSON text -> core policy, through the core builder.
 *
 * Every refusal fills a pincurl_diag with the JSON path of the offending value and the rule
 * it breaks. The order of checks is fixed: size, NUL bytes, a lexical pre-scan (nesting
 * depth, control characters and \u0000 in strings), JSON syntax, then the document's
 * schema from the top down in document order, then the builder's whole-policy checks.
 *
 * Memory: cJSON allocates through its own global hooks, which this file never changes
 * (cJSON_InitHooks is process-wide), so the parse tree lives in malloc() memory (or in
 * whatever the application installed into cJSON). The resulting policy and everything else
 * allocated here use the caller's pincurl_allocator.
 *
 * Thread-safety: reentrant. The syntax error position comes from the return_parse_end
 * argument of cJSON_ParseWithLengthOpts, never from cJSON_GetErrorPtr (a global). cJSON
 * itself also records a failed parse's position in a global of its own; it is never read
 * here.
 */
#include "pincurl/policy.h"

#include "config/file.h"

#include "core/alloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__) || defined(__clang__)
#define PC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PC_PRINTF(f, a)
#endif

enum { PATH_SIZE = sizeof(((pincurl_diag *)0)->path) };

/* ------------------------------------------------------------------------------------ */
/* Diagnostics and JSON paths                                                            */

/* A bounded string: appends truncate, the buffer is always NUL-terminated. */
typedef struct text_buf {
    char *buf;
    size_t size;
    size_t len;
} text_buf;

static void tb_init(text_buf *t, char *buf, size_t size)
{
    t->buf = buf;
    t->size = size;
    t->len = 0;
    buf[0] = '\0';
}

static void tb_putc(text_buf *t, char c)
{
    if (t->len + 1 < t->size) {
        t->buf[t->len++] = c;
        t->buf[t->len] = '\0';
    }
}

static void tb_puts(text_buf *t, const char *s)
{
    while (*s != '\0')
        tb_putc(t, *s++);
}

static void tb_printf(text_buf *t, const char *fmt, ...) PC_PRINTF(2, 3);
static void tb_printf(text_buf *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->buf[t->len] = '\0';
        return;
    }
    t->len += (size_t)n < t->size - t->len ? (size_t)n : t->size - t->len - 1;
}

/* Writes s as a JSON string literal: quotes, backslashes and control characters escaped;
 * other bytes as they are. */
static void tb_put_quoted(text_buf *t, const char *s)
{
    tb_putc(t, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"': tb_puts(t, "\\\""); break;
        case '\\': tb_puts(t, "\\\\"); break;
        case '\n': tb_puts(t, "\\n"); break;
        case '\r': tb_puts(t, "\\r"); break;
        case '\t': tb_puts(t, "\\t"); break;
        case '\b': tb_puts(t, "\\b"); break;
        case '\f': tb_puts(t, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                tb_printf(t, "\\u%04x", (unsigned)*p);
            else
                tb_putc(t, (char)*p);
        }
    }
    tb_putc(t, '"');
}

static int is_identifier(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* dst = parent + key: `key` at the top, `.key` below it, `["key"]` for host names (always)
 * and for any key that is not a plain identifier. */
static void path_key(char *dst, const char *parent, const char *key, int host)
{
    text_buf t;
    char tmp[PATH_SIZE];
    tb_init(&t, tmp, sizeof tmp);
    tb_puts(&t, parent);
    if (key == NULL)
        key = "";
    if (host || !is_identifier(key)) {
        tb_putc(&t, '[');
        tb_put_quoted(&t, key);
        tb_putc(&t, ']');
    } else {
        if (parent[0] != '\0')
            tb_putc(&t, '.');
        tb_puts(&t, key);
    }
    memcpy(dst, tmp, t.len + 1);
}

/* dst = parent + `[i]`. */
static void path_index(char *dst, const char *parent, size_t i)
{
    text_buf t;
    char tmp[PATH_SIZE];
    tb_init(&t, tmp, sizeof tmp);
    tb_puts(&t, parent);
    tb_printf(&t, "[%zu]", i);
    memcpy(dst, tmp, t.len + 1);
}

/* Fills diag: status, path, "<path>: <rule>" (just the rule when the path is empty). */
static pincurl_status fail(pincurl_diag *d, pincurl_status status, const char *path,
                           const char *fmt, ...) PC_PRINTF(4, 5);
static pincurl_status fail(pincurl_diag *d, pincurl_status status, const char *path,
                           const char *fmt, ...)
{
    text_buf t;
    d->status = status;
    tb_init(&t, d->path, sizeof d->path);
    tb_puts(&t, path);
    tb_init(&t, d->message, sizeof d->message);
    if (path[0] != '\0') {
        tb_puts(&t, path);
        tb_puts(&t, ": ");
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t.buf + t.len, t.size - t.len, fmt, ap);
    va_end(ap);
    if (n < 0)
        t.buf[t.len] = '\0';
    return status;
}

/* A builder status no rule below anticipates: refuse with the library's own sentence. */
static pincurl_status fail_other(pincurl_diag *d, pincurl_status status, const char *path)
{
    if (status == PINCURL_OUT_OF_MEMORY)
        return fail(d, status, "", "out of memory");
    if (status == PINCURL_OK)
        status = PINCURL_INTERNAL; /* never report success for a refusal */
    return fail(d, status, path, "%s", pincurl_strerror(status));
}

/* 1-based line and column (in bytes) of offset pos. */
static void line_column(const char *json, size_t pos, size_t *line, size_t *column)
{
    size_t l = 1, line_start = 0;
    for (size_t i = 0; i < pos; i++) {
        if (json[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *column = pos - line_start + 1;
}

static pincurl_status fail_syntax(pincurl_diag *d, const char *json, size_t pos,
                                  const char *rule)
{
    size_t line, column;
    line_column(json, pos, &line, &column);
    fail(d, PINCURL_POLICY_SYNTAX, "", "line %zu, column %zu: %s", line, column, rule);
    d->line = line;
    d->column = column;
    return PINCURL_POLICY_SYNTAX;
}

/* ------------------------------------------------------------------------------------ */
/* Lexical pre-scan: nesting depth (with the path of the first value too deep), raw      */
/* control characters and \u0000 inside strings. Brackets inside strings do not count.   */
/* Malformed JSON is left to the parser; this only has to be safe on any input.          */

typedef struct scan_frame {
    char kind;             /* '{' or '[' */
    int expect_key;        /* object: the next string is a key */
    size_t index;          /* array: index of the current element */
    const char *key;       /* object: current key, raw (with its quotes) */
    size_t key_len;
} scan_frame;

/* Decodes a raw JSON string literal (quotes included) into out; "?" if it does not parse. */
static void decode_raw_key(const char *raw, size_t len, char *out, size_t size)
{
    snprintf(out, size, "?");
    if (raw == NULL)
        return;
    cJSON *s = cJSON_ParseWithLength(raw, len);
    if (s != NULL && cJSON_IsString(s) && s->valuestring != NULL)
        snprintf(out, size, "%s", s->valuestring);
    cJSON_Delete(s);
}

static pincurl_status too_deep(pincurl_diag *d, const scan_frame *frames, size_t depth)
{
    char path[PATH_SIZE] = "";
    char key[PATH_SIZE];
    int under_domains = 0;
    for (size_t k = 0; k < depth; k++) {
        if (frames[k].kind == '{') {
            decode_raw_key(frames[k].key, frames[k].key_len, key, sizeof key);
            path_key(path, path, key, k == 1 && under_domains);
            if (k == 0)
                under_domains = strcmp(key, "domains") == 0;
        } else {
            path_index(path, path, frames[k].index);
        }
    }
    return fail(d, PINCURL_POLICY_TOO_LARGE, path, "nesting deeper than %d levels",
                PINCURL_POLICY_MAX_DEPTH);
}

static pincurl_status prescan(const char *json, size_t len, pincurl_diag *d)
{
    scan_frame frames[PINCURL_POLICY_MAX_DEPTH];
    size_t depth = 0;
    size_t i = 0;
    while (i < len) {
        char c = json[i];
        if (c == '"') {
            size_t start = i++;
            while (i < len && json[i] != '"') {
                unsigned char u = (unsigned char)json[i];
                if (u < 0x20)
                    return fail_syntax(d, json, i, "control character inside a string");
                if (u == '\\') {
                    if (i + 1 < len && json[i + 1] == 'u' && i + 5 < len &&
                        memcmp(json + i + 2, "0000", 4) == 0)
                        return fail_syntax(d, json, i, "\\u0000 is not allowed in a string");
                    i++; /* skip the escaped character */
                }
                i++;
            }
            if (i >= len)
                return PINCURL_OK; /* unterminated: the parser reports it */
            if (depth > 0 && frames[depth - 1].kind == '{' && frames[depth - 1].expect_key) {
                frames[depth - 1].key = json + start;
                frames[depth - 1].key_len = i + 1 - start;
                frames[depth - 1].expect_key = 0;
            }
        } else if (c == '{' || c == '[') {
            if (depth == PINCURL_POLICY_MAX_DEPTH)
                return too_deep(d, frames, depth);
            frames[depth].kind = c;
            frames[depth].expect_key = c == '{';
            frames[depth].index = 0;
            frames[depth].key = NULL;
            frames[depth].key_len = 0;
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
        } else if (c == ',' && depth > 0) {
            if (frames[depth - 1].kind == '{')
                frames[depth - 1].expect_key = 1;
            else
                frames[depth - 1].index++;
        }
        i++;
    }
    return PINCURL_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Schema                                                                                */

/* Collects an object's members by name: found[k] is the member named keys[k] or NULL.
 * Reports the first unknown key (POLICY_UNKNOWN_KEY) or repeated key (POLICY_BAD_VALUE),
 * in document order. */
static pincurl_status collect_members(pincurl_diag *d, const cJSON *obj, const char *parent,
                                      const char *const *keys, size_t nkeys,
                                      const cJSON **found)
{
    char path[PATH_SIZE];
    for (size_t k = 0; k < nkeys; k++)
        found[k] = NULL;
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        const char *name = m->string != NULL ? m->string : "";
        size_t k = 0;
        while (k < nkeys && strcmp(name, keys[k]) != 0)
            k++;
        path_key(path, parent, name, 0);
        if (k == nkeys)
            return fail(d, PINCURL_POLICY_UNKNOWN_KEY, path, "unknown key");
        if (found[k] != NULL)
            return fail(d, PINCURL_POLICY_BAD_VALUE, path,
                        "duplicate key: it appears twice in the same object");
        found[k] = m;
    }
    return PINCURL_OK;
}

static pincurl_status want_bool(pincurl_diag *d, const cJSON *v, const char *parent,
                                const char *key, int *out)
{
    if (v == NULL)
        return PINCURL_OK;
    if (!cJSON_IsBool(v)) {
        char path[PATH_SIZE];
        path_key(path, parent, key, 0);
        return fail(d, PINCURL_POLICY_WRONG_TYPE, path, "must be true or false");
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return PINCURL_OK;
}

/* What the loader remembers of each domain handed to the builder, by builder index. */
typedef struct domain_note {
    const char *key;  /* the host as written (borrowed from the parse tree) */
    unsigned flags;
    size_t npins;
} domain_note;

typedef struct loader {
    pincurl_allocator alloc;
    pincurl_policy_builder *b;
    pincurl_diag *d;
    domain_note *notes;
    size_t nnotes;
} loader;

static const char *const top_keys[] = {"pincurl_policy", "expires", "on_expiry", "report_uris",
                                       "domains"};
enum { TOP_VERSION, TOP_EXPIRES, TOP_ON_EXPIRY, TOP_REPORT_URIS, TOP_DOMAINS, TOP_COUNT };

static const char *const domain_keys[] = {"include_subdomains", "enforce", "pins", "exclude",
                                          "expires", "on_expiry", "allow_single_pin"};
enum {
    DOM_INCLUDE_SUBDOMAINS,
    DOM_ENFORCE,
    DOM_PINS,
    DOM_EXCLUDE,
    DOM_EXPIRES,
    DOM_ON_EXPIRY,
    DOM_ALLOW_SINGLE_PIN,
    DOM_COUNT
};

static pincurl_status check_version(pincurl_diag *d, const cJSON *v)
{
    const char *path = "pincurl_policy";
    if (v == NULL)
        return fail(d, PINCURL_POLICY_MISSING_KEY, path,
                    "required key is missing (this library reads version 1)");
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, path, "must be an integer");
    if (v->valuedouble != 1.0)
        return fail(d, PINCURL_POLICY_BAD_VERSION, path,
                    "version %.0f is not supported; this library reads version 1",
                    v->valuedouble);
    return PINCURL_OK;
}

/* Reads an "expires" / "on_expiry" pair of the object at parent ("" for the top level).
 * *when is 0 and *have_action 0 when absent. */
static pincurl_status read_expiry(pincurl_diag *d, const char *parent, const cJSON *expires,
                                  const cJSON *on_expiry, int64_t *when,
                                  pincurl_on_expiry *action, int *have_action)
{
    char epath[PATH_SIZE], apath[PATH_SIZE];
    path_key(epath, parent, "expires", 0);
    path_key(apath, parent, "on_expiry", 0);
    *when = 0;
    *action = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    *have_action = 0;

    if (expires != NULL) {
        if (!cJSON_IsString(expires))
            return fail(d, PINCURL_POLICY_WRONG_TYPE, epath, "must be a string");
        if (pincurl_parse_date(expires->valuestring, when) != PINCURL_OK)
            return fail(d, PINCURL_POLICY_BAD_DATE, epath,
                        "not a valid date: use YYYY-MM-DD or an RFC 3339 time such as "
                        "2027-06-30T00:00:00Z");
        if (*when <= 0)
            return fail(d, PINCURL_POLICY_BAD_DATE, epath,
                        "must be later than 1970-01-01T00:00:00Z");
    }
    if (on_expiry != NULL) {
        if (!cJSON_IsString(on_expiry))
            return fail(d, PINCURL_POLICY_WRONG_TYPE, apath, "must be a string");
        if (strcmp(on_expiry->valuestring, "report_and_allow") == 0)
            *action = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
        else if (strcmp(on_expiry->valuestring, "block") == 0)
            *action = PINCURL_ON_EXPIRY_BLOCK;
        else
            return fail(d, PINCURL_POLICY_BAD_VALUE, apath,
                        "must be \"report_and_allow\" or \"block\"");
        if (expires == NULL)
            return fail(d, PINCURL_POLICY_BAD_VALUE, apath,
                        parent[0] == '\0'
                            ? "has no effect without \"expires\""
                            : "has no effect without \"expires\" in the same domain (the "
                              "policy's on_expiry applies to the policy's expires)");
        *have_action = 1;
    }
    return PINCURL_OK;
}

static pincurl_status load_expiry(loader *l, const cJSON *expires, const cJSON *on_expiry)
{
    int64_t when;
    pincurl_on_expiry action;
    int have_action;
    pincurl_status st = read_expiry(l->d, "", expires, on_expiry, &when, &action, &have_action);
    if (st != PINCURL_OK)
        return st;
    if (expires != NULL) {
        st = pincurl_policy_builder_set_expiry(l->b, when, action);
        if (st != PINCURL_OK)
            return fail_other(l->d, st, "expires");
    }
    return PINCURL_OK;
}

static pincurl_status load_report_uris(loader *l, const cJSON *uris)
{
    pincurl_diag *d = l->d;
    char path[PATH_SIZE];
    if (uris == NULL)
        return PINCURL_OK;
    if (!cJSON_IsArray(uris))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, "report_uris", "must be an array of strings");
    size_t i = 0;
    for (const cJSON *u = uris->child; u != NULL; u = u->next, i++) {
        path_index(path, "report_uris", i);
        if (!cJSON_IsString(u))
            return fail(d, PINCURL_POLICY_WRONG_TYPE, path, "must be a string");
        pincurl_status st = pincurl_policy_builder_add_report_uri(l->b, u->valuestring);
        switch (st) {
        case PINCURL_OK:
            break;
        case PINCURL_POLICY_BAD_URI:
            if (strlen(u->valuestring) > PINCURL_MAX_URI_LENGTH)
                return fail(d, st, path, "longer than %d bytes", PINCURL_MAX_URI_LENGTH);
            return fail(d, st, path, "not an absolute https:// URL with a host");
        case PINCURL_POLICY_TOO_LARGE:
            if (i >= PINCURL_MAX_REPORT_URIS)
                return fail(d, st, path, "more than %d report URIs", PINCURL_MAX_REPORT_URIS);
            return fail(d, st, path, "longer than %d bytes", PINCURL_MAX_URI_LENGTH);
        default:
            return fail_other(d, st, path);
        }
    }
    return PINCURL_OK;
}

static pincurl_status load_pins(loader *l, const cJSON *pins, const char *dpath, size_t index)
{
    pincurl_diag *d = l->d;
    char ppath[PATH_SIZE], path[PATH_SIZE];
    pincurl_pin seen[PINCURL_MAX_PINS_PER_DOMAIN];

    path_key(ppath, dpath, "pins", 0);
    if (!cJSON_IsArray(pins))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, ppath, "must be an array of strings");
    size_t i = 0;
    for (const cJSON *p = pins->child; p != NULL; p = p->next, i++) {
        pincurl_pin pin;
        path_index(path, ppath, i);
        if (!cJSON_IsString(p))
            return fail(d, PINCURL_POLICY_WRONG_TYPE, path, "must be a string");
        pincurl_status st = pincurl_pin_parse(p->valuestring, strlen(p->valuestring), &pin);
        switch (st) {
        case PINCURL_OK:
            break;
        case PINCURL_PIN_BAD_PREFIX:
            return fail(d, st, path, "does not start with sha256/");
        case PINCURL_PIN_BAD_BASE64:
            return fail(d, st, path, "not valid base64 after sha256/");
        case PINCURL_PIN_BAD_LENGTH:
            return fail(d, st, path, "not 32 bytes after base64 decoding");
        default:
            return fail_other(d, st, path);
        }
        st = pincurl_policy_builder_add_pin(l->b, index, &pin);
        switch (st) {
        case PINCURL_OK:
            break;
        case PINCURL_POLICY_DUPLICATE_PIN:
            for (size_t j = 0; j < i && j < PINCURL_MAX_PINS_PER_DOMAIN; j++)
                if (pincurl_pin_equal(&seen[j], &pin))
                    return fail(d, st, path, "the same pin as pins[%zu]", j);
            return fail(d, st, path, "the same pin appears earlier in this domain");
        case PINCURL_POLICY_TOO_LARGE:
            return fail(d, st, path, "more than %d pins", PINCURL_MAX_PINS_PER_DOMAIN);
        default:
            return fail_other(d, st, path);
        }
        if (i < PINCURL_MAX_PINS_PER_DOMAIN)
            seen[i] = pin;
    }
    l->notes[index].npins = i;
    return PINCURL_OK;
}

static pincurl_status load_domain(loader *l, const cJSON *entry)
{
    pincurl_diag *d = l->d;
    char dpath[PATH_SIZE], path[PATH_SIZE];
    const cJSON *f[DOM_COUNT];
    const char *host = entry->string != NULL ? entry->string : "";
    pincurl_status st;

    path_key(dpath, "domains", host, 1);
    if (!cJSON_IsObject(entry))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, dpath, "must be an object");
    st = collect_members(d, entry, dpath, domain_keys, DOM_COUNT, f);
    if (st != PINCURL_OK)
        return st;

    int include_subdomains = 0, enforce = 1, exclude = 0, single = 0;
    if ((st = want_bool(d, f[DOM_INCLUDE_SUBDOMAINS], dpath, "include_subdomains",
                        &include_subdomains)) != PINCURL_OK ||
        (st = want_bool(d, f[DOM_ENFORCE], dpath, "enforce", &enforce)) != PINCURL_OK ||
        (st = want_bool(d, f[DOM_EXCLUDE], dpath, "exclude", &exclude)) != PINCURL_OK ||
        (st = want_bool(d, f[DOM_ALLOW_SINGLE_PIN], dpath, "allow_single_pin", &single)) !=
            PINCURL_OK)
        return st;
    if (f[DOM_PINS] != NULL && !cJSON_IsArray(f[DOM_PINS])) {
        path_key(path, dpath, "pins", 0);
        return fail(d, PINCURL_POLICY_WRONG_TYPE, path, "must be an array of strings");
    }

    unsigned flags;
    if (exclude) {
        /* An exclusion says its reach: include_subdomains (default true, a subtree
         * exclusion as before); false excludes the host alone. */
        for (const cJSON *m = entry->child; m != NULL; m = m->next) {
            if (m != f[DOM_EXCLUDE] && m != f[DOM_INCLUDE_SUBDOMAINS]) {
                path_key(path, dpath, m->string, 0);
                return fail(d, PINCURL_POLICY_EXCLUDE_CONFLICT, path,
                            "an excluded domain takes no other key than include_subdomains");
            }
        }
        flags = PINCURL_DOMAIN_EXCLUDE;
        if (f[DOM_INCLUDE_SUBDOMAINS] != NULL && !include_subdomains)
            flags |= PINCURL_DOMAIN_HOST_ONLY;
    } else {
        flags = (include_subdomains ? PINCURL_DOMAIN_INCLUDE_SUBDOMAINS : 0u) |
                (enforce ? PINCURL_DOMAIN_ENFORCE : 0u);
        if (single) {
            if (!enforce) {
                path_key(path, dpath, "allow_single_pin", 0);
                return fail(d, PINCURL_POLICY_BAD_VALUE, path,
                            "only for an enforcing domain (a report-only domain needs one pin "
                            "anyway)");
            }
            flags |= PINCURL_DOMAIN_ALLOW_SINGLE_PIN;
        }
    }
    int64_t when = 0;
    pincurl_on_expiry action = PINCURL_ON_EXPIRY_REPORT_AND_ALLOW;
    int have_action = 0;
    st = read_expiry(d, dpath, f[DOM_EXPIRES], f[DOM_ON_EXPIRY], &when, &action, &have_action);
    if (st != PINCURL_OK)
        return st;

    if (strchr(host, ':') != NULL) {
        /* ::ffff:a.b.c.d is the IPv4 host a.b.c.d (pincurl_host_normalize): the entry is
         * refused rather than silently stored under another spelling */
        char norm[PINCURL_HOST_MAX + 1];
        if (pincurl_host_normalize(host, strlen(host), norm, sizeof norm) == PINCURL_OK &&
            strchr(norm, ':') == NULL)
            return fail(d, PINCURL_POLICY_BAD_VALUE, dpath,
                        "an IPv4-mapped IPv6 address is the IPv4 host %s; write \"%s\"", norm,
                        norm);
    }

    size_t index = SIZE_MAX;
    st = pincurl_policy_builder_add_domain(l->b, host, flags, &index);
    path_key(path, dpath, "include_subdomains", 0);
    switch (st) {
    case PINCURL_OK:
        break;
    case PINCURL_HOST_INVALID:
        return fail(d, st, dpath, "not a valid host name or IP address");
    case PINCURL_HOST_NOT_ASCII:
        return fail(d, st, dpath, "not ASCII; write the host in its A-label (punycode) form");
    case PINCURL_POLICY_DUPLICATE_DOMAIN:
        return fail(d, st, dpath,
                    "the same host as an earlier entry (hosts compare without case and "
                    "trailing dot)");
    case PINCURL_POLICY_PUBLIC_SUFFIX:
        return fail(d, st, path, "not allowed on a public suffix");
    case PINCURL_POLICY_BAD_VALUE:
        if (flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS)
            return fail(d, st, path, "not allowed on an IP address");
        return fail_other(d, st, dpath);
    case PINCURL_POLICY_TOO_LARGE:
        return fail(d, st, dpath, "more than %d domains", PINCURL_MAX_DOMAINS);
    default:
        return fail_other(d, st, dpath);
    }
    if (index >= l->nnotes)
        return fail(d, PINCURL_INTERNAL, dpath, "%s", pincurl_strerror(PINCURL_INTERNAL));
    l->notes[index].key = host;
    l->notes[index].flags = flags;
    l->notes[index].npins = 0;
    if (f[DOM_EXPIRES] != NULL) {
        path_key(path, dpath, "expires", 0);
        st = pincurl_policy_builder_set_domain_expiry(l->b, index, when);
        if (st == PINCURL_OK && have_action)
            st = pincurl_policy_builder_set_domain_on_expiry(l->b, index, action);
        if (st != PINCURL_OK)
            return fail_other(d, st, path);
    }

    if (f[DOM_PINS] != NULL)
        return load_pins(l, f[DOM_PINS], dpath, index);
    return PINCURL_OK;
}

static pincurl_status load_domains(loader *l, const cJSON *domains)
{
    pincurl_diag *d = l->d;
    char path[PATH_SIZE];
    if (domains == NULL)
        return fail(d, PINCURL_POLICY_MISSING_KEY, "domains", "required key is missing");
    if (!cJSON_IsObject(domains))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, "domains",
                    "must be an object keyed by host name");
    size_t n = 0;
    for (const cJSON *e = domains->child; e != NULL; e = e->next)
        n++;
    if (n == 0)
        return fail(d, PINCURL_POLICY_NO_DOMAINS, "domains", "pins no domain");
    if (n > PINCURL_MAX_DOMAINS)
        return fail(d, PINCURL_POLICY_TOO_LARGE, "domains", "more than %d domains",
                    PINCURL_MAX_DOMAINS);
    l->notes = pc_calloc(&l->alloc, n, sizeof *l->notes);
    if (l->notes == NULL)
        return fail(d, PINCURL_OUT_OF_MEMORY, "", "out of memory");
    l->nnotes = n;

    for (const cJSON *e = domains->child; e != NULL; e = e->next) {
        /* The same key twice: cJSON keeps both members. */
        for (const cJSON *prev = domains->child; prev != e; prev = prev->next) {
            if (e->string != NULL && prev->string != NULL &&
                strcmp(prev->string, e->string) == 0) {
                path_key(path, "domains", e->string, 1);
                return fail(d, PINCURL_POLICY_DUPLICATE_DOMAIN, path,
                            "the same host appears twice in domains");
            }
        }
        pincurl_status st = load_domain(l, e);
        if (st != PINCURL_OK)
            return st;
    }
    return PINCURL_OK;
}

static pincurl_status finish(loader *l, pincurl_policy **out)
{
    pincurl_diag *d = l->d;
    char dpath[PATH_SIZE], path[PATH_SIZE];
    size_t bad = SIZE_MAX;
    pincurl_status st = pincurl_policy_builder_finish(l->b, out, &bad);
    if (st == PINCURL_OK) {
        if (*out == NULL)
            return fail(d, PINCURL_INTERNAL, "", "%s", pincurl_strerror(PINCURL_INTERNAL));
        return PINCURL_OK;
    }
    *out = NULL;
    if (bad >= l->nnotes || l->notes[bad].key == NULL) {
        if (st == PINCURL_POLICY_NO_DOMAINS)
            return fail(d, st, "domains", "pins no domain");
        return fail_other(d, st, "domains");
    }
    const domain_note *note = &l->notes[bad];
    path_key(dpath, "domains", note->key, 1);
    switch (st) {
    case PINCURL_POLICY_TOO_FEW_PINS:
        path_key(path, dpath, "pins", 0);
        if ((note->flags & PINCURL_DOMAIN_ALLOW_SINGLE_PIN) != 0)
            return fail(d, st, path, "an enforcing domain needs at least one pin (has %zu)",
                        note->npins);
        if (note->flags & PINCURL_DOMAIN_ENFORCE)
            return fail(d, st, path,
                        "an enforcing domain needs at least two distinct pins (has %zu)",
                        note->npins);
        return fail(d, st, path, "a report-only domain needs at least one pin (has %zu)",
                    note->npins);
    case PINCURL_POLICY_EXCLUDE_ORPHAN:
        return fail(d, st, dpath, "excluded, but no include_subdomains domain covers it");
    case PINCURL_POLICY_BAD_VALUE: /* the loader refuses an on_expiry without expires itself */
        return fail_other(d, st, dpath);
    default:
        return fail_other(d, st, dpath);
    }
}

static pincurl_status load_tree(loader *l, const cJSON *root, pincurl_policy **out)
{
    pincurl_diag *d = l->d;
    const cJSON *f[TOP_COUNT];
    pincurl_status st;

    if (!cJSON_IsObject(root))
        return fail(d, PINCURL_POLICY_WRONG_TYPE, "", "the document must be a JSON object");
    /* The version decides how the rest reads, so it is checked before unknown keys. */
    st = check_version(d, cJSON_GetObjectItemCaseSensitive(root, "pincurl_policy"));
    if (st != PINCURL_OK)
        return st;
    st = collect_members(d, root, "", top_keys, TOP_COUNT, f);
    if (st != PINCURL_OK)
        return st;

    l->b = pincurl_policy_builder_new(&l->alloc);
    if (l->b == NULL)
        return fail(d, PINCURL_OUT_OF_MEMORY, "", "out of memory");
    if ((st = load_expiry(l, f[TOP_EXPIRES], f[TOP_ON_EXPIRY])) != PINCURL_OK ||
        (st = load_report_uris(l, f[TOP_REPORT_URIS])) != PINCURL_OK ||
        (st = load_domains(l, f[TOP_DOMAINS])) != PINCURL_OK)
        return st;
    return finish(l, out);
}

/* ------------------------------------------------------------------------------------ */
/* Entry points                                                                          */

pincurl_status pincurl_policy_load_json(const char *json, size_t len,
                                        const pincurl_allocator *alloc, pincurl_policy **out,
                                        pincurl_diag *diag)
{
    pincurl_diag local;
    pincurl_diag *d = diag != NULL ? diag : &local;
    memset(d, 0, sizeof *d);
    if (out == NULL)
        return fail(d, PINCURL_INVALID_ARGUMENT, "", "no place for the policy (out is NULL)");
    *out = NULL;
    if (json == NULL && len != 0)
        return fail(d, PINCURL_INVALID_ARGUMENT, "", "no document (json is NULL)");

    if (len > PINCURL_POLICY_MAX_BYTES)
        return fail(d, PINCURL_POLICY_TOO_LARGE, "", "the document is larger than %u bytes",
                    PINCURL_POLICY_MAX_BYTES);
    if (len == 0)
        return fail_syntax(d, "", 0, "the document is empty");
    const char *nul = memchr(json, '\0', len);
    if (nul != NULL)
        return fail_syntax(d, json, (size_t)(nul - json), "NUL byte in the document");
    pincurl_status st = prescan(json, len, d);
    if (st != PINCURL_OK)
        return st;

    /* The parse tree is allocated by cJSON's global hooks (malloc unless the application
     * changed them); see the top of this file. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        size_t pos = end != NULL && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        /* cJSON also fails this way when it runs out of memory: refused either way. */
        return fail_syntax(d, json, pos, "not valid JSON");
    }
    size_t pos = end != NULL && end >= json && end <= json + len ? (size_t)(end - json) : len;
    while (pos < len && (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' ||
                         json[pos] == '\r'))
        pos++;
    if (pos < len) {
        cJSON_Delete(root);
        return fail_syntax(d, json, pos, "unexpected text after the JSON value");
    }

    loader l;
    memset(&l, 0, sizeof l);
    pc_allocator_init(&l.alloc, alloc);
    l.d = d;
    st = load_tree(&l, root, out);
    pincurl_policy_builder_free(l.b);
    pc_free(&l.alloc, l.notes);
    cJSON_Delete(root);
    if (st != PINCURL_OK) {
        pincurl_policy_unref(*out);
        *out = NULL;
        return st;
    }
    memset(d, 0, sizeof *d);
    return PINCURL_OK;
}

static pincurl_status fail_io(pincurl_diag *d, const char *what, const char *file, int err)
{
    char reason[256];
    if (strerror_r(err, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", err);
    return fail(d, PINCURL_IO, "", "cannot %s %s: %s", what, file, reason);
}

pincurl_status pincurl_policy_load_file(const char *path, const pincurl_allocator *alloc,
                                        pincurl_policy **out, pincurl_diag *diag)
{
    pincurl_diag local;
    pincurl_diag *d = diag != NULL ? diag : &local;
    memset(d, 0, sizeof *d);
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return fail(d, PINCURL_INVALID_ARGUMENT, "", "no file name or no place for the policy");

    pincurl_allocator a;
    unsigned char *buf = NULL;
    size_t len = 0;
    int more = 0, err = 0;
    const char *what = "";
    pc_allocator_init(&a, alloc);
    pincurl_status rst = pc_file_read(path, PINCURL_POLICY_MAX_BYTES, 0, &a, &buf, &len, &more,
                                      &err, &what);
    if (rst == PINCURL_IO)
        return fail_io(d, what, path, err);
    if (rst != PINCURL_OK)
        return fail(d, PINCURL_OUT_OF_MEMORY, "", "out of memory");
    if (more)
        return fail(d, PINCURL_POLICY_TOO_LARGE, "", "the document is larger than %u bytes",
                    PINCURL_POLICY_MAX_BYTES);

    pincurl_status st = pincurl_policy_load_json((const char *)buf, len, alloc, out, d);
    pc_free(&a, buf);
    return st;
}
