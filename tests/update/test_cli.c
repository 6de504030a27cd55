/* `pincurl policy keygen|sign|verify|show`: in-process through the CLI's own function
 * (tools/cli/cli_update.c is compiled into this test), and through the built `pincurl`
 * binary when the tool is part of the build (PINCURL_CLI). A bundle the CLI signs is
 * applied by the updater. */
#include "support.h"
#include "update_support.h"

#include "cli_update.h"
#include "pincurl/policy.h"
#include "pincurl/update.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { IN_PROCESS, BINARY } mode;

typedef struct run {
    int code;
    char out[8192];
    char err[4096];
} run;

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    buf[0] = '\0';
    if (f == NULL)
        return;
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static const char *cli_binary(void)
{
    const char *p = getenv("PINCURL_CLI");
    return p != NULL && p[0] != '\0' ? p : NULL;
}

/* Runs `pincurl policy SUB ARGS...` (NULL-terminated), capturing stdout and stderr. */
static run cli(mode m, const char *dir, const char *sub, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    run r;
    char outp[1200], errp[1200];

    memset(&r, 0, sizeof r);
    snprintf(outp, sizeof outp, "%s/cli.out", dir);
    snprintf(errp, sizeof errp, "%s/cli.err", dir);
    argv[argc++] = (char *)sub;
    va_start(ap, sub);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        cr_assert_lt(argc, 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;

    if (m == IN_PROCESS) {
        fflush(stdout);
        fflush(stderr);
        int so = dup(1), se = dup(2);
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        cr_assert(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
        dup2(fo, 1);
        dup2(fe, 2);
        r.code = pincurl_cli_policy_update(sub, argc, argv);
        fflush(stdout);
        fflush(stderr);
        dup2(so, 1);
        dup2(se, 2);
        close(so);
        close(se);
        close(fo);
        close(fe);
    } else {
        char cmd[8192];
        const char *bin = cli_binary();
        cr_assert_not_null(bin);
        size_t o = (size_t)snprintf(cmd, sizeof cmd, "'%s' policy", bin);
        for (int i = 0; i < argc; i++)
            o += (size_t)snprintf(cmd + o, sizeof cmd - o, " '%s'", argv[i]);
        snprintf(cmd + o, sizeof cmd - o, " >'%s' 2>'%s'", outp, errp);
        int st = pt_system("%s", cmd);
        r.code = st;
    }
    slurp(outp, r.out, sizeof r.out);
    slurp(errp, r.err, sizeof r.err);
    return r;
}

static void need(mode m)
{
    if (m == BINARY && cli_binary() == NULL)
        cr_skip_test("the pincurl binary (target pincurl_cli) is not part of this build: "
                     "the in-process cases cover the same code");
    if (m == BINARY && access(cli_binary(), X_OK) != 0)
        cr_assert_fail("the pincurl binary %s is part of the build but not built: build all "
                       "targets first", cli_binary());
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
    pt_write_file(path, text, strlen(text));
}

static void keygen_case(mode m)
{
    need(m);
    const char *dir = pt_tmpdir(m == BINARY ? "cli-bin-keygen" : "cli-keygen");
    char prefix[1200], key[1300], pub[1300];
    path_in(prefix, sizeof prefix, dir, "signing");
    snprintf(key, sizeof key, "%s.key", prefix);
    snprintf(pub, sizeof pub, "%s.pub", prefix);

    run r = cli(m, dir, "keygen", "--out", prefix, NULL);
    cr_assert_eq(r.code, 0, "keygen: %d %s", r.code, r.err);
    struct stat st;
    cr_assert_eq(stat(key, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "private key mode %o", st.st_mode & 0777);

    /* printed id and public key agree with the files and with the private key */
    size_t len = 0;
    unsigned char *text = pt_read_file(pub, &len);
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1], id2[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char pubkey[32], privkey[32], derived[32];
    int is_private = -1;
    cr_assert_eq(pincurl_update_key_parse((char *)text, len, &is_private, id, pubkey),
                 PINCURL_OK);
    cr_assert_eq(is_private, 0);
    char line[400];
    snprintf(line, sizeof line, "key id: %s\n", id);
    cr_assert(strstr(r.out, line) != NULL, "%s", r.out);
    text[len - 1] = '\0';
    cr_assert(strstr(r.out, (char *)text) != NULL, "public key printed: %s", r.out);
    free(text);
    text = pt_read_file(key, &len);
    cr_assert_eq(pincurl_update_key_parse((char *)text, len, &is_private, id2, privkey),
                 PINCURL_OK);
    free(text);
    cr_assert_eq(is_private, 1);
    cr_assert_str_eq(id, id2);
    cr_assert_eq(pincurl_update_public_key(privkey, derived), PINCURL_OK);
    cr_assert(memcmp(derived, pubkey, 32) == 0);
    char expect_id[17];
    cr_assert_eq(pincurl_update_key_id_default(pubkey, expect_id, sizeof expect_id), PINCURL_OK);
    cr_assert_str_eq(id, expect_id);

    /* never over an existing key without --force */
    r = cli(m, dir, "keygen", "--out", prefix, NULL);
    cr_assert_eq(r.code, 23, "%d %s", r.code, r.err);
    r = cli(m, dir, "keygen", "--out", prefix, "--force", "--key-id", "ops-2028", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "key id: ops-2028\n") != NULL, "%s", r.out);
    r = cli(m, dir, "keygen", "--out", prefix, "--force", "--key-id", "bad id", NULL);
    cr_assert_eq(r.code, 2);
    r = cli(m, dir, "keygen", NULL);
    cr_assert_eq(r.code, 2);
}

static void sign_verify_case(mode m)
{
    need(m);
    const char *dir = pt_tmpdir(m == BINARY ? "cli-bin-sign" : "cli-sign");
    char a[1200], b[1200], akey[1300], apub[1300], bpub[1300], policy[1200], bundle[1200],
        badpolicy[1200];
    path_in(a, sizeof a, dir, "a");
    path_in(b, sizeof b, dir, "b");
    snprintf(akey, sizeof akey, "%s.key", a);
    snprintf(apub, sizeof apub, "%s.pub", a);
    snprintf(bpub, sizeof bpub, "%s.pub", b);
    path_in(policy, sizeof policy, dir, "policy.json");
    path_in(bundle, sizeof bundle, dir, "pins.bundle");
    path_in(badpolicy, sizeof badpolicy, dir, "bad.json");
    char *json = ut_policy_json("inter", "leaf-backup");
    write_text(policy, json);
    write_text(badpolicy, "{\"pincurl_policy\": 1, \"domains\": {\"x.example\": {\"pins\": 3}}}");

    cr_assert_eq(cli(m, dir, "keygen", "--out", a, "--key-id", "release-a", NULL).code, 0);
    cr_assert_eq(cli(m, dir, "keygen", "--out", b, "--key-id", "release-b", NULL).code, 0);

    run r = cli(m, dir, "sign", "--key", akey, "--sequence", "42", "--valid-for", "30d",
                "--out", bundle, policy, NULL);
    cr_assert_eq(r.code, 0, "sign: %s", r.err);
    cr_assert(strstr(r.out, "sequence 42") != NULL, "%s", r.out);

    /* the library reads what the CLI wrote, byte for byte */
    size_t len = 0;
    unsigned char *data = pt_read_file(bundle, &len);
    pincurl_update_bundle v;
    cr_assert_eq(pincurl_update_bundle_parse(data, len, &v), PINCURL_OK);
    cr_assert_eq(v.sequence, 42);
    cr_assert_str_eq(v.key_id, "release-a");
    cr_assert_eq(v.expires - v.not_before, 30 * 86400);
    cr_assert_eq(v.policy_len, strlen(json));
    cr_assert(memcmp(v.policy, json, v.policy_len) == 0);

    r = cli(m, dir, "verify", "--pub", apub, bundle, NULL);
    cr_assert_eq(r.code, 0, "verify: %s", r.err);
    cr_assert(strstr(r.out, "verified: OK") != NULL);
    r = cli(m, dir, "verify", "--pub", bpub, "--pub", apub, bundle, NULL);
    cr_assert_eq(r.code, 0, "two keys: %s", r.err);
    r = cli(m, dir, "verify", "--pub", bpub, bundle, NULL);
    cr_assert_eq(r.code, 120, "unknown key id: %d %s", r.code, r.err);
    cr_assert(strstr(r.err, "release-a") != NULL, "%s", r.err);

    r = cli(m, dir, "show", bundle, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "key id: release-a\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "sequence: 42\n") != NULL);
    cr_assert(strstr(r.out, "not before: ") != NULL && strstr(r.out, "expires: ") != NULL);
    cr_assert(strstr(r.out, json) != NULL, "policy printed: %s", r.out);

    /* the updater applies the CLI's bundle */
    ut_events ev;
    ut_events_init(&ev);
    char *other = ut_policy_json_other();
    pincurl_policy *base = NULL;
    cr_assert_eq(pincurl_policy_load_json(other, strlen(other), NULL, &base, NULL), PINCURL_OK);
    pincurl_client *c = ut_client(base, &ev);
    size_t tlen = 0;
    unsigned char *text = pt_read_file(apub, &tlen);
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    pincurl_update_key k;
    int is_private;
    cr_assert_eq(pincurl_update_key_parse((char *)text, tlen, &is_private, id, k.public_key),
                 PINCURL_OK);
    free(text);
    k.key_id = id;
    pincurl_updater *u = NULL;
    char state[1300];
    snprintf(state, sizeof state, "%s/state", dir);
    cr_assert_eq(pincurl_updater_new(c, &k, 1, state, &u), PINCURL_OK);
    cr_assert_eq(pincurl_updater_apply(u, data, len), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(u), 42);
    pincurl_updater_free(u);
    pincurl_client_free(c);
    pincurl_policy_unref(base);
    free(other);

    /* a flipped policy byte: verify refuses, show still parses */
    data[PINCURL_UPDATE_HEADER_SIZE + strlen("release-a") + 3] ^= 0x20;
    pt_write_file(bundle, data, len);
    free(data);
    r = cli(m, dir, "verify", "--pub", apub, bundle, NULL);
    cr_assert_eq(r.code, 120, "tampered: %d", r.code);
    cr_assert(strstr(r.err, "signature") != NULL, "%s", r.err);
    cr_assert_eq(cli(m, dir, "show", bundle, NULL).code, 0);
    write_text(bundle, "garbage");
    cr_assert_eq(cli(m, dir, "show", bundle, NULL).code, 120);
    cr_assert_eq(cli(m, dir, "verify", "--pub", apub, bundle, NULL).code, 120);

    /* an expired window, then one not valid yet: signed fine, refused by verify */
    r = cli(m, dir, "sign", "--key", akey, "--sequence", "43", "--not-before", "2020-01-01",
            "--expires", "2020-02-01T00:00:00Z", "--out", bundle, "--force", policy, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    r = cli(m, dir, "verify", "--pub", apub, bundle, NULL);
    cr_assert_eq(r.code, 120);
    cr_assert(strstr(r.err, "expired") != NULL, "%s", r.err);
    r = cli(m, dir, "sign", "--key", akey, "--sequence", "44", "--not-before", "2099-01-01",
            "--valid-for", "1d", "--out", bundle, "--force", policy, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    r = cli(m, dir, "verify", "--pub", apub, bundle, NULL);
    cr_assert_eq(r.code, 120);
    cr_assert(strstr(r.err, "not valid yet") != NULL, "%s", r.err);

    /* refusals of sign */
    r = cli(m, dir, "sign", "--key", akey, "--sequence", "1", "--valid-for", "1d", "--out",
            bundle, "--force", badpolicy, NULL);
    cr_assert_eq(r.code, 110, "invalid policy: %d %s", r.code, r.err);
    cr_assert(strstr(r.err, "domains") != NULL, "%s", r.err);
    r = cli(m, dir, "sign", "--key", apub, "--sequence", "1", "--valid-for", "1d", "--out",
            bundle, "--force", policy, NULL);
    cr_assert_eq(r.code, 121, "public key to sign: %d", r.code);
    cr_assert_eq(cli(m, dir, "sign", "--key", akey, "--sequence", "0", "--valid-for", "1d",
                     "--out", bundle, "--force", policy, NULL).code, 2);
    cr_assert_eq(cli(m, dir, "sign", "--key", akey, "--sequence", "-1", "--valid-for", "1d",
                     "--out", bundle, "--force", policy, NULL).code, 2);
    cr_assert_eq(cli(m, dir, "sign", "--key", akey, "--sequence", "1", "--out", bundle,
                     "--force", policy, NULL).code, 2);
    cr_assert_eq(cli(m, dir, "sign", "--key", akey, "--sequence", "1", "--valid-for", "1y",
                     "--out", bundle, "--force", policy, NULL).code, 2);
    cr_assert_eq(cli(m, dir, "verify", bundle, NULL).code, 2);
    cr_assert_eq(cli(m, dir, "verify", "--pub", "/nonexistent.pub", bundle, NULL).code, 26);
    free(json);
}

Test(cli, keygen_in_process) { keygen_case(IN_PROCESS); }
Test(cli, sign_verify_show_in_process) { sign_verify_case(IN_PROCESS); }
Test(cli, keygen_binary) { keygen_case(BINARY); }
Test(cli, sign_verify_show_binary) { sign_verify_case(BINARY); }
