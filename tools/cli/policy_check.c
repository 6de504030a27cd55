/* pincurl policy check FILE [--live]: the library's verdict on a policy document, then a
 * lint for lockout risks, optionally against the hosts as they are today. */
#include <libpsl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define DAY 86400
#define SOON (30 * DAY)

typedef struct lint {
    unsigned errors;
    unsigned warnings;
} lint;

static void finding(lint *l, int error, const char *host, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finding(lint *l, int error, const char *host, const char *fmt, ...)
{
    va_list ap;
    if (error)
        l->errors++;
    else
        l->warnings++;
    printf("%s: ", error ? "error" : "warning");
    if (host != NULL)
        printf("domains[\"%s\"]: ", host);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static size_t label_count(const char *host)
{
    size_t n = 1;
    for (const char *p = host; *p != '\0'; p++)
        n += *p == '.';
    return n;
}

/* 1 if host is so broad that include_subdomains on it pins a whole organisation: two
 * labels or fewer, or a registrable domain itself (example.co.uk). */
static int broad_parent(const char *host)
{
    if (pincurl_host_is_ip(host))
        return 0;
    if (label_count(host) <= 2)
        return 1;
    const char *reg = psl_registrable_domain(psl_builtin(), host);
    return reg != NULL && strcmp(reg, host) == 0;
}

static void check_live(const pincurl_domain *d, unsigned port, const cli_conn_opts *conn,
                       int64_t now, lint *l)
{
    const char *host = pincurl_domain_host(d);
    int enforce = (pincurl_domain_flags(d) & PINCURL_DOMAIN_ENFORCE) != 0;
    cli_path *path = calloc(1, sizeof *path);
    char pin[PINCURL_PIN_TEXT_SIZE], when[32];
    if (path == NULL) {
        finding(l, 1, host, "out of memory");
        return;
    }
    pincurl_status st = cli_probe(host, port, conn, path, NULL, 0);
    if (st != PINCURL_OK || !path->seen || path->count == 0) {
        finding(l, 0, host, "live check failed: %s", pincurl_strerror(st));
        free(path);
        return;
    }
    printf("live %s:%u: validated path of %zu certificates\n", host, port, path->count);
    size_t matching = 0, outside = 0, matching_soon = 0, matching_undated = 0;
    int64_t latest = 0;
    for (size_t k = 0; k < pincurl_domain_pin_count(d); k++) {
        const pincurl_pin *p = pincurl_domain_pin(d, k);
        size_t depth = path->count;
        for (size_t i = 0; i < path->count && depth == path->count; i++)
            if (pincurl_pin_equal(p, &path->certs[i].pin))
                depth = i;
        cli_format_pin(p, pin);
        if (depth == path->count) {
            outside++;
            printf("  %s: not on today's path\n", pin);
            continue;
        }
        const pincurl_cert_info *c = &path->certs[depth];
        /* Only what was read: an unreadable field is said to be so, never guessed. */
        int named = path->info_ok[depth] && !(c->unread & PINCURL_CERT_SUBJECT);
        int cut = path->info_ok[depth] && (c->unread & PINCURL_CERT_SUBJECT) &&
                  c->subject_status == PINCURL_BUFFER_TOO_SMALL;
        int dated = path->info_ok[depth] && !(c->unread & PINCURL_CERT_NOT_AFTER);
        char subject[PINCURL_CERT_NAME_MAX + 8];
        snprintf(subject, sizeof subject, "%s%s",
                 named || cut ? c->subject : "(subject could not be read)", cut ? "..." : "");
        matching++;
        if (dated) {
            cli_format_time(c->not_after, when, sizeof when);
            printf("  %s: matches depth %zu, %s, not after %s\n", pin, depth, subject, when);
            if (c->not_after > latest)
                latest = c->not_after;
            if (c->not_after - now < SOON)
                matching_soon++;
        } else {
            printf("  %s: matches depth %zu, %s, not after: could not be read (%s)\n", pin,
                   depth, subject,
                   path->info_ok[depth] ? pincurl_strerror(c->not_after_status)
                                        : "the certificate could not be read");
            matching_undated++;
        }
    }
    if (matching == 0)
        finding(l, enforce, host, "no pin matches today's path: %s",
                enforce ? "connections are refused" : "every connection is reported");
    else if (outside == 0)
        finding(l, 0, host,
                "every pin is on today's path: no backup key outside it, so replacing "
                "these keys locks clients out");
    if (matching > 0 && matching_undated == 0 && matching_soon == matching) {
        cli_format_time(latest, when, sizeof when);
        finding(l, 0, host,
                "every matching pin is on a certificate that expires within 30 days (%s); "
                "make sure the renewal keeps a pinned key",
                when);
    } else if (matching_undated > 0 && matching_soon + matching_undated == matching) {
        finding(l, 0, host,
                "the expiry of %zu matching certificate(s) could not be read%s; check when "
                "they expire",
                matching_undated,
                matching_soon > 0 ? ", and the others expire within 30 days" : "");
    }
    free(path);
}

int cli_policy_check_main(int argc, char **argv)
{
    const char *file = NULL;
    int live = 0;
    unsigned port = 443;
    cli_conn_opts conn;
    memset(&conn, 0, sizeof conn);
    for (int i = 1; i < argc; i++) {
        int r = cli_conn_opt(argc, argv, &i, &conn);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        const char *v;
        if ((r = cli_opt_value(argc, argv, &i, NULL, "--port", &v)) != 0) {
            char *end;
            unsigned long p = r > 0 ? strtoul(v, &end, 10) : 0;
            if (r < 0 || *end != '\0' || p == 0 || p > 65535) {
                if (r > 0)
                    cli_error("policy check: --port: expected 1 to 65535, got '%s'", v);
                return CLI_USAGE;
            }
            port = (unsigned)p;
        } else if (strcmp(argv[i], "--live") == 0) {
            live = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("policy check: option %s: is unknown", argv[i]);
            return CLI_USAGE;
        } else if (file != NULL) {
            cli_error("policy check: only one FILE");
            return CLI_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL) {
        fputs("usage: pincurl policy check FILE [--live [--port N]] [--cacert FILE] "
              "[--resolve HOST:PORT:ADDR] [--connect-timeout S] [-m S]\n",
              stderr);
        return CLI_USAGE;
    }

    pincurl_policy *policy = NULL;
    pincurl_diag diag;
    pincurl_status st = pincurl_policy_load_file(file, NULL, &policy, &diag);
    if (st != PINCURL_OK) {
        if (diag.line > 0)
            cli_error("%s:%zu:%zu: %s", file, diag.line, diag.column, diag.message);
        else
            cli_error("%s: %s", file, diag.message);
        if (diag.path[0] != '\0')
            fprintf(stderr, "  at %s (%s)\n", diag.path, pincurl_status_name(diag.status));
        return st == PINCURL_IO ? CLI_READ_ERROR : CLI_BAD_POLICY;
    }

    lint l = {0, 0};
    int64_t now = (int64_t)time(NULL);
    char when[32];
    size_t n = pincurl_policy_domain_count(policy);
    printf("%s: valid policy, %zu domains\n", file, n);

    int64_t exp = pincurl_policy_expires(policy);
    if (exp != 0) {
        int block = pincurl_policy_on_expiry(policy) == PINCURL_ON_EXPIRY_BLOCK;
        cli_format_time(exp, when, sizeof when);
        if (exp <= now)
            finding(&l, block, NULL,
                    block ? "the policy expired on %s and on_expiry is block: every pinned "
                            "host is refused"
                          : "the policy expired on %s: pins are no longer enforced",
                    when);
        else if (exp - now < SOON)
            finding(&l, 0, NULL, "the policy expires within 30 days (%s)%s", when,
                    block ? "; on_expiry is block: pinned hosts will be refused" : "");
    }

    for (size_t i = 0; i < n; i++) {
        const pincurl_domain *d = pincurl_policy_domain(policy, i);
        const char *host = pincurl_domain_host(d);
        unsigned flags = pincurl_domain_flags(d);
        if (flags & PINCURL_DOMAIN_EXCLUDE)
            continue;
        if (pincurl_domain_pin_count(d) < 2)
            finding(&l, 0, host,
                    "only one pin: no backup key, so it cannot be enforced safely");
        if ((flags & PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) && broad_parent(host))
            finding(&l, 0, host,
                    "include_subdomains on a broad parent: every name under %s takes these "
                    "pins",
                    host);
        if (live)
            check_live(d, port, &conn, now, &l);
    }
    printf("%u errors, %u warnings\n", l.errors, l.warnings);
    pincurl_policy_unref(policy);
    return l.errors > 0 ? CLI_LINT_ERRORS : l.warnings > 0 ? CLI_WARNINGS : CLI_OK;
}
