#include "support.h"

#include "pincurl/client.h"

#include "pincurl/core.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *pt_pki_dir(void)
{
    const char *dir = getenv("PINCURL_TEST_PKI");
    cr_assert(dir != NULL && dir[0] != '\0', "PINCURL_TEST_PKI is not set (run through ctest)");
    return dir;
}

double pt_time_scale(void)
{
    const char *v = getenv("PINCURL_TEST_TIME_SCALE");
    double s = v != NULL ? strtod(v, NULL) : 1.0;
    return s >= 1.0 ? s : 1.0;
}

const char *pt_pki(const char *name)
{
    static char ring[8][1024];
    static unsigned next;
    char *buf = ring[next++ % 8];
    int n = snprintf(buf, sizeof ring[0], "%s/%s", pt_pki_dir(), name);
    cr_assert(n > 0 && (size_t)n < sizeof ring[0]);
    return buf;
}

unsigned char *pt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s: %s", path, strerror(errno));
    cr_assert(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    cr_assert(size >= 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)size + 1);
    cr_assert(buf != NULL);
    cr_assert(fread(buf, 1, (size_t)size, f) == (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

void pt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "cannot create %s: %s", path, strerror(errno));
    cr_assert(fwrite(data, 1, len, f) == len);
    cr_assert(fclose(f) == 0);
}

static void run_capture(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL, "popen failed: %s", cmd);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    cr_assert(rc == 0, "command failed (%d): %s", rc, cmd);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    cr_assert(n > 0, "no output from: %s", cmd);
}

void pt_openssl_cert_pin(const char *cert_path, char *out, size_t size)
{
    char cmd[2048];
    char b64[128];
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform der"
             " | openssl dgst -sha256 -binary | base64",
             cert_path);
    run_capture(cmd, b64, sizeof b64);
    cr_assert(size > strlen(b64) + 7);
    snprintf(out, size, "sha256/%s", b64);
}

void pt_openssl_key_pin(const char *key_path, char *out, size_t size)
{
    char cmd[2048];
    char b64[128];
    /* Private keys: derive the public key; public keys: read as such. */
    snprintf(cmd, sizeof cmd,
             "(openssl pkey -in '%s' -pubout -outform der 2>/dev/null"
             " || openssl pkey -pubin -in '%s' -outform der 2>/dev/null"
             " || openssl pkey -pubin -inform der -in '%s' -outform der)"
             " | openssl dgst -sha256 -binary | base64",
             key_path, key_path, key_path);
    run_capture(cmd, b64, sizeof b64);
    cr_assert(size > strlen(b64) + 7);
    snprintf(out, size, "sha256/%s", b64);
}

int pt_system(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc == -1)
        return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const char *pt_tmpdir(const char *tag)
{
    static char dir[1024];
    const char *base = getenv("PINCURL_BINARY_DIR");
    if (base == NULL)
        base = "/tmp";
    snprintf(dir, sizeof dir, "%s/test-tmp/%s-%ld", base, tag, (long)getpid());
    pt_system("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    return dir;
}

void pt_pki_pin(const char *name, pincurl_pin *out)
{
    size_t len = 0;
    unsigned char *text = pt_read_file(pt_pki("pins.txt"), &len);
    char *line = (char *)text;
    char *end = (char *)text + len;
    size_t nlen = strlen(name);
    int found = 0;

    memset(out, 0, sizeof(*out));
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t l = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
        if (l > nlen + 1 && memcmp(line, name, nlen) == 0 && line[nlen] == ' ') {
            cr_assert_eq(pincurl_pin_parse(line + nlen + 1, l - nlen - 1, out), PINCURL_OK);
            found = 1;
            break;
        }
        line += l + 1;
    }
    free(text);
    cr_assert(found, "no pin for %s in pins.txt", name);
}

pincurl_policy *pt_policy_exact(const char *host, const char *pin1, const char *pin2)
{
    pincurl_policy_builder *b = pincurl_policy_builder_new_custom(NULL, NULL, NULL);
    pincurl_policy *p = NULL;
    size_t idx = 0;
    pincurl_pin a, c;

    cr_assert_not_null(b);
    cr_assert_eq(pincurl_policy_builder_add_domain(b, host,
                                                   pin2 != NULL ? PINCURL_DOMAIN_ENFORCE : 0,
                                                   &idx),
                 PINCURL_OK);
    pt_pki_pin(pin1, &a);
    cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &a), PINCURL_OK);
    if (pin2 != NULL) {
        pt_pki_pin(pin2, &c);
        cr_assert_eq(pincurl_policy_builder_add_pin(b, idx, &c), PINCURL_OK);
    }
    cr_assert_eq(pincurl_policy_builder_finish(b, &p, NULL), PINCURL_OK);
    pincurl_policy_builder_free(b);
    return p;
}

void pt_thread_end(void)
{
    pincurl_thread_cleanup();
}
