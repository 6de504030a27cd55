/* `pincurl policy keygen|sign|verify|show`: Ed25519 keys and signed policy bundles
 * (docs/updates.md), built only on the public API. */
#include "cli_update.h"

#include "pincurl/policy.h"
#include "pincurl/update.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    U_OK = 0,
    U_USAGE = 2,
    U_WRITE = 23,
    U_READ = 26,
    U_BAD_POLICY = 110,
    U_INTERNAL = 114,
    U_REJECTED = 120,
    U_BAD_KEY = 121
};

#define MAX_PUBS 16

static const char USAGE[] =
    "Usage: pincurl policy keygen --out PREFIX [--key-id ID] [--force]\n"
    "       pincurl policy sign --key PREFIX.key --sequence N [--not-before TIME]\n"
    "                           (--expires TIME | --valid-for DURATION) --out BUNDLE POLICY\n"
    "       pincurl policy verify --pub PREFIX.pub [--pub ...] BUNDLE\n"
    "       pincurl policy show BUNDLE\n"
    "TIME: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; DURATION: a number with s, m, h or d.\n";

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
    va_list ap;
    fputs("pincurl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    fputs("pincurl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(USAGE, stderr);
    return U_USAGE;
}

/* "--name VALUE" or "--name=VALUE". 1 when matched (value set, *i advanced), 0 when not
 * this option, -1 when the value is missing. */
static int opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static unsigned char *read_all(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    size_t got = 0;
    *len = 0;
    if (f == NULL) {
        err("%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 2);
    if (buf == NULL) {
        fclose(f);
        err("%s: out of memory", path);
        return NULL;
    }
    got = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        err("%s: %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    if (got > max) {
        err("%s: larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Writes a file: a new one only (O_EXCL) unless overwrite, with mode. */
static int write_all(const char *path, const void *data, size_t len, mode_t mode, int overwrite)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    const unsigned char *p = data;
    size_t done = 0;
    if (fd < 0) {
        err("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, mode) != 0) {
        err("%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err("%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        err("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void format_time(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "@%lld", (long long)t);
}

/* Reads a key file of the given kind. 0 on success, else the exit code. */
static int load_key(const char *path, int want_private, char *key_id, unsigned char key[32])
{
    size_t len = 0;
    int is_private = 0;
    unsigned char *text = read_all(path, 4096, &len);
    if (text == NULL)
        return U_READ;
    pincurl_status st = pincurl_update_key_parse((const char *)text, len, &is_private, key_id,
                                                 key);
    memset(text, 0, len);
    free(text);
    if (st != PINCURL_OK) {
        err("%s: not a pincurl Ed25519 key file (%s)", path, pincurl_strerror(st));
        return U_BAD_KEY;
    }
    if (is_private != want_private) {
        err("%s: a %s key, expected a %s key", path, is_private ? "private" : "public",
            want_private ? "private" : "public");
        memset(key, 0, 32);
        return U_BAD_KEY;
    }
    return 0;
}

/* ---- keygen -------------------------------------------------------------------------- */

static int cmd_keygen(int argc, char **argv)
{
    const char *out = NULL, *key_id = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = opt(argc, argv, &i, "--out", &out)) != 0 ||
            (r = opt(argc, argv, &i, "--key-id", &key_id)) != 0) {
            if (r < 0)
                return usage("keygen: %s needs a value", argv[i]);
        } else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else {
            return usage("keygen: unexpected argument '%s'", argv[i]);
        }
    }
    if (out == NULL)
        return usage("keygen: %s is required", "--out PREFIX");

    unsigned char priv[32], pub[32];
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    char priv_text[PINCURL_UPDATE_KEY_TEXT_SIZE], pub_text[PINCURL_UPDATE_KEY_TEXT_SIZE];
    char priv_path[4096], pub_path[4096];
    int rc = U_OK;

    if (snprintf(priv_path, sizeof priv_path, "%s.key", out) >= (int)sizeof priv_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", out) >= (int)sizeof pub_path)
        return usage("keygen: path too long: %s", out);
    if (pincurl_update_keygen(priv, pub) != PINCURL_OK) {
        err("keygen: the random number generator failed");
        return U_INTERNAL;
    }
    if (key_id != NULL)
        snprintf(id, sizeof id, "%s", key_id);
    else if (pincurl_update_key_id_default(pub, id, sizeof id) != PINCURL_OK)
        rc = U_INTERNAL;
    if (rc == U_OK && (strlen(key_id != NULL ? key_id : id) > PINCURL_UPDATE_KEY_ID_MAX ||
                       pincurl_update_key_format(1, id, priv, priv_text, sizeof priv_text) !=
                           PINCURL_OK)) {
        err("keygen: key id '%s' is not 1-64 characters of A-Z a-z 0-9 . _ -",
            key_id != NULL ? key_id : id);
        rc = U_USAGE;
    }
    if (rc == U_OK && pincurl_update_key_format(0, id, pub, pub_text, sizeof pub_text) !=
                          PINCURL_OK)
        rc = U_INTERNAL;
    if (rc == U_OK && write_all(priv_path, priv_text, strlen(priv_text), 0600, force) != 0)
        rc = U_WRITE;
    if (rc == U_OK && write_all(pub_path, pub_text, strlen(pub_text), 0644, force) != 0) {
        unlink(priv_path);
        rc = U_WRITE;
    }
    memset(priv, 0, sizeof priv);
    memset(priv_text, 0, sizeof priv_text);
    if (rc != U_OK)
        return rc;
    printf("key id: %s\n", id);
    printf("public key: %s", pub_text);
    printf("private key file: %s (mode 0600; keep it offline)\n", priv_path);
    printf("public key file: %s\n", pub_path);
    return U_OK;
}

/* ---- sign ---------------------------------------------------------------------------- */

/* "90d", "12h", "30m", "45s" -> seconds; -1 if malformed. */
static int64_t parse_duration(const char *text)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    int64_t unit;
    if (errno != 0 || end == text || n <= 0 || text[0] == '-' || text[0] == '+')
        return -1;
    if (strcmp(end, "s") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    else
        return -1;
    if (n > INT64_MAX / unit / 2)
        return -1;
    return (int64_t)n * unit;
}

static int parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    const char *key_path = NULL, *seq_text = NULL, *nb_text = NULL, *exp_text = NULL;
    const char *valid_for = NULL, *out = NULL, *policy_path = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = opt(argc, argv, &i, "--key", &key_path)) != 0 ||
            (r = opt(argc, argv, &i, "--sequence", &seq_text)) != 0 ||
            (r = opt(argc, argv, &i, "--not-before", &nb_text)) != 0 ||
            (r = opt(argc, argv, &i, "--expires", &exp_text)) != 0 ||
            (r = opt(argc, argv, &i, "--valid-for", &valid_for)) != 0 ||
            (r = opt(argc, argv, &i, "--out", &out)) != 0) {
            if (r < 0)
                return usage("sign: %s needs a value", argv[i]);
        } else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("sign: unknown option '%s'", argv[i]);
        } else if (policy_path == NULL) {
            policy_path = argv[i];
        } else {
            return usage("sign: unexpected argument '%s'", argv[i]);
        }
    }
    if (key_path == NULL || seq_text == NULL || out == NULL || policy_path == NULL)
        return usage("sign: %s are required", "--key, --sequence, --out and POLICY");
    if ((exp_text == NULL) == (valid_for == NULL))
        return usage("sign: give exactly one of %s", "--expires and --valid-for");

    uint64_t seq = 0;
    if (parse_u64(seq_text, &seq) != 0 || seq == 0)
        return usage("sign: --sequence '%s' is not an integer from 1 to 2^64-1", seq_text);
    int64_t not_before = (int64_t)time(NULL), expires = 0;
    if (nb_text != NULL && pincurl_parse_date(nb_text, &not_before) != PINCURL_OK)
        return usage("sign: --not-before '%s' is not YYYY-MM-DD or an RFC 3339 UTC time",
                     nb_text);
    if (exp_text != NULL && pincurl_parse_date(exp_text, &expires) != PINCURL_OK)
        return usage("sign: --expires '%s' is not YYYY-MM-DD or an RFC 3339 UTC time",
                     exp_text);
    if (valid_for != NULL) {
        int64_t d = parse_duration(valid_for);
        if (d < 0)
            return usage("sign: --valid-for '%s' is not a duration like 90d, 12h, 30m", valid_for);
        expires = not_before + d;
    }
    if (expires <= not_before)
        return usage("sign: the expiry must come after not-before");

    size_t plen = 0;
    unsigned char *policy = read_all(policy_path, PINCURL_POLICY_MAX_BYTES, &plen);
    if (policy == NULL)
        return U_READ;
    pincurl_policy *p = NULL;
    pincurl_diag diag;
    pincurl_status st = pincurl_policy_load_json((const char *)policy, plen, NULL, &p, &diag);
    if (st != PINCURL_OK) {
        err("%s: %s", policy_path, diag.message);
        free(policy);
        return U_BAD_POLICY;
    }
    pincurl_policy_unref(p);

    char key_id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char priv[32];
    int rc = load_key(key_path, 1, key_id, priv);
    if (rc != 0) {
        free(policy);
        return rc;
    }
    unsigned char *bundle = NULL;
    size_t blen = 0;
    st = pincurl_update_bundle_sign(policy, plen, key_id, seq, not_before, expires, priv,
                                    &bundle, &blen);
    memset(priv, 0, sizeof priv);
    free(policy);
    if (st != PINCURL_OK) {
        err("sign: %s", pincurl_strerror(st));
        return st == PINCURL_UPDATE_KEY_INVALID ? U_BAD_KEY : U_INTERNAL;
    }
    rc = write_all(out, bundle, blen, 0644, force) == 0 ? U_OK : U_WRITE;
    pincurl_update_buffer_free(bundle);
    if (rc == U_OK) {
        char nb[40], ex[40];
        format_time(not_before, nb, sizeof nb);
        format_time(expires, ex, sizeof ex);
        printf("signed %s: sequence %" PRIu64 ", key id %s, valid %s to %s, %zu bytes\n", out,
               seq, key_id, nb, ex, blen);
    }
    return rc;
}

/* ---- verify and show ----------------------------------------------------------------- */

static void print_header(const pincurl_update_bundle *b, size_t total)
{
    char nb[40], ex[40];
    format_time(b->not_before, nb, sizeof nb);
    format_time(b->expires, ex, sizeof ex);
    printf("format: pincurl update bundle v1 (Ed25519)\n");
    printf("key id: %s\n", b->key_id);
    printf("sequence: %" PRIu64 "\n", b->sequence);
    printf("not before: %s\n", nb);
    printf("expires: %s\n", ex);
    printf("policy bytes: %zu\n", b->policy_len);
    printf("bundle bytes: %zu\n", total);
}

static int cmd_verify(int argc, char **argv)
{
    const char *pubs[MAX_PUBS];
    size_t npubs = 0;
    const char *bundle_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = opt(argc, argv, &i, "--pub", &v);
        if (r < 0)
            return usage("verify: %s needs a value", argv[i]);
        if (r > 0) {
            if (npubs == MAX_PUBS)
                return usage("verify: at most 16 %s", "--pub");
            pubs[npubs++] = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("verify: unknown option '%s'", argv[i]);
        } else if (bundle_path == NULL) {
            bundle_path = argv[i];
        } else {
            return usage("verify: unexpected argument '%s'", argv[i]);
        }
    }
    if (npubs == 0 || bundle_path == NULL)
        return usage("verify: %s are required", "--pub and BUNDLE");

    char ids[MAX_PUBS][PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char keys[MAX_PUBS][32];
    for (size_t k = 0; k < npubs; k++) {
        int rc = load_key(pubs[k], 0, ids[k], keys[k]);
        if (rc != 0)
            return rc;
    }
    size_t len = 0;
    unsigned char *data = read_all(bundle_path, PINCURL_UPDATE_MAX_BYTES, &len);
    if (data == NULL)
        return U_READ;
    pincurl_update_bundle b;
    pincurl_status st = pincurl_update_bundle_parse(data, len, &b);
    int rc = U_OK;
    int64_t now = (int64_t)time(NULL);
    if (st != PINCURL_OK) {
        err("%s: %s", bundle_path, pincurl_strerror(st));
        rc = U_REJECTED;
    }
    if (rc == U_OK) {
        size_t k = 0;
        while (k < npubs && strcmp(ids[k], b.key_id) != 0)
            k++;
        if (k == npubs) {
            err("%s: signed with key id '%s', which no --pub key has", bundle_path, b.key_id);
            rc = U_REJECTED;
        } else if ((st = pincurl_update_bundle_verify(&b, keys[k])) != PINCURL_OK) {
            err("%s: %s (key id '%s')", bundle_path, pincurl_strerror(st), b.key_id);
            rc = U_REJECTED;
        }
    }
    if (rc == U_OK && now < b.not_before) {
        err("%s: %s", bundle_path, pincurl_strerror(PINCURL_UPDATE_NOT_YET_VALID));
        rc = U_REJECTED;
    }
    if (rc == U_OK && now >= b.expires) {
        err("%s: %s", bundle_path, pincurl_strerror(PINCURL_UPDATE_EXPIRED));
        rc = U_REJECTED;
    }
    if (rc == U_OK) {
        pincurl_policy *p = NULL;
        pincurl_diag diag;
        st = pincurl_policy_load_json((const char *)b.policy, b.policy_len, NULL, &p, &diag);
        if (st != PINCURL_OK) {
            err("%s: %s: %s", bundle_path, pincurl_strerror(PINCURL_UPDATE_POLICY_INVALID),
                diag.message);
            rc = U_REJECTED;
        }
        pincurl_policy_unref(p);
    }
    if (rc == U_OK) {
        print_header(&b, len);
        printf("signature: valid\n");
        printf("verified: OK\n");
    }
    free(data);
    return rc;
}

static int cmd_show(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return usage("show: %s", "exactly one BUNDLE");
    size_t len = 0;
    unsigned char *data = read_all(argv[1], PINCURL_UPDATE_MAX_BYTES, &len);
    if (data == NULL)
        return U_READ;
    pincurl_update_bundle b;
    pincurl_status st = pincurl_update_bundle_parse(data, len, &b);
    if (st != PINCURL_OK) {
        err("%s: %s", argv[1], pincurl_strerror(st));
        free(data);
        return U_REJECTED;
    }
    print_header(&b, len);
    printf("signature: not checked (pincurl policy verify checks it)\n");
    printf("policy:\n");
    fwrite(b.policy, 1, b.policy_len, stdout);
    if (b.policy[b.policy_len - 1] != '\n')
        putchar('\n');
    free(data);
    return U_OK;
}

int pincurl_cli_policy_update(const char *subcommand, int argc, char **argv)
{
    int rc;
    if (subcommand == NULL || argc < 1 || argv == NULL)
        return usage("policy: %s", "missing subcommand");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return U_OK;
        }
    if (strcmp(subcommand, "keygen") == 0)
        rc = cmd_keygen(argc, argv);
    else if (strcmp(subcommand, "sign") == 0)
        rc = cmd_sign(argc, argv);
    else if (strcmp(subcommand, "verify") == 0)
        rc = cmd_verify(argc, argv);
    else if (strcmp(subcommand, "show") == 0)
        rc = cmd_show(argc, argv);
    else
        return usage("policy: unknown subcommand '%s'", subcommand);
    fflush(stdout);
    return rc;
}
