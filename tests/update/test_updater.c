/* The updater without a network: every rejection (status, event, policy untouched), every
 * byte of a signed bundle flipped, key rotation, persistence across restarts, a damaged,
 * rolled back or expired stored bundle, what a local writer of the state directory can and
 * cannot do, the migration of the earlier layout, and expiry while running. */
#include "support.h"
#include "update_support.h"

#include "pincurl/policy.h"
#include "pincurl/update.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    ut_events events;
    pincurl_policy *base;
    pincurl_client *client;
    ut_key key;
    char state[1024];
} fixture;

static pincurl_policy *load(const char *json)
{
    pincurl_policy *p = NULL;
    pincurl_diag d;
    cr_assert_eq(pincurl_policy_load_json(json, strlen(json), NULL, &p, &d), PINCURL_OK, "%s",
                 d.message);
    return p;
}

static void setup(fixture *f, const char *tag)
{
    char *json = ut_policy_json("inter", "leaf-backup");
    ut_events_init(&f->events);
    f->base = load(json);
    free(json);
    f->client = ut_client(f->base, &f->events);
    f->key = ut_key_new("signing-1");
    snprintf(f->state, sizeof f->state, "%s/state", pt_tmpdir(tag));
}

static void teardown(fixture *f)
{
    pincurl_client_free(f->client);
    pincurl_policy_unref(f->base);
}

static pincurl_updater *updater(fixture *f)
{
    pincurl_update_key k = ut_key_public(&f->key);
    pincurl_updater *u = NULL;
    cr_assert_eq(pincurl_updater_new(f->client, &k, 1, f->state, &u), PINCURL_OK);
    return u;
}

/* The policy in force is exactly p (same object). */
static int in_force(fixture *f, const pincurl_policy *p)
{
    pincurl_policy *now = pincurl_client_policy(f->client);
    int same = now == p;
    pincurl_policy_unref(now);
    return same;
}

/* The number of domains of the policy in force, and whether it pins name. */
static int in_force_pins(fixture *f, const char *name)
{
    pincurl_policy *now = pincurl_client_policy(f->client);
    int found = pincurl_policy_lookup(now, name, strlen(name)) != NULL;
    pincurl_policy_unref(now);
    return found;
}

/* Applies data and asserts the refusal: status, event, generation and policy unchanged. */
static void assert_rejected(fixture *f, pincurl_updater *u, const void *data, size_t len,
                            pincurl_status expected)
{
    uint64_t gen = pincurl_client_generation(f->client);
    pincurl_policy *before = pincurl_client_policy(f->client);
    int rejected = ut_events_count(&f->events, PINCURL_EVENT_UPDATE_REJECTED);
    uint64_t seq = pincurl_updater_sequence(u);
    char msg[512];

    pincurl_status st = pincurl_updater_apply(u, data, len);
    cr_assert_eq(st, expected, "apply: %s, expected %s", pincurl_status_name(st),
                 pincurl_status_name(expected));
    cr_assert_eq(pincurl_client_generation(f->client), gen, "generation changed");
    cr_assert(in_force(f, before), "policy changed");
    cr_assert_eq(ut_events_count(&f->events, PINCURL_EVENT_UPDATE_REJECTED), rejected + 1);
    cr_assert_eq(ut_events_status(&f->events, PINCURL_EVENT_UPDATE_REJECTED), expected);
    cr_assert_eq(pincurl_updater_sequence(u), seq);
    cr_assert_eq(pincurl_updater_last_error(u, msg, sizeof msg), expected);
    cr_assert(strstr(msg, pincurl_status_name(expected)) != NULL, "%s", msg);
    pincurl_policy_unref(before);
}

static void apply_ok(fixture *f, pincurl_updater *u, const void *data, size_t len)
{
    uint64_t gen = pincurl_client_generation(f->client);
    int applied = ut_events_count(&f->events, PINCURL_EVENT_UPDATE_APPLIED);
    pincurl_status st = pincurl_updater_apply(u, data, len);
    char msg[512];
    pincurl_updater_last_error(u, msg, sizeof msg);
    cr_assert_eq(st, PINCURL_OK, "apply: %s: %s", pincurl_status_name(st), msg);
    cr_assert_eq(pincurl_client_generation(f->client), gen + 1);
    cr_assert_eq(ut_events_count(&f->events, PINCURL_EVENT_UPDATE_APPLIED), applied + 1);
    cr_assert_eq(pincurl_updater_using_base(u), 0);
}

/* The state record of docs/updates.md, written here from the documentation, independently
 * of lib/update/state.c. Caller frees. */
static unsigned char *record(uint64_t seq, const unsigned char *bundle, size_t len,
                             size_t *out_len)
{
    char head[128];
    int n = snprintf(head, sizeof head, "pincurl-update-state 2\nsequence %llu\nbundle %zu\n",
                     (unsigned long long)seq, len);
    unsigned char *out = malloc((size_t)n + len + 1);
    cr_assert_not_null(out);
    memcpy(out, head, (size_t)n);
    if (len > 0)
        memcpy(out + n, bundle, len);
    *out_len = (size_t)n + len;
    return out;
}

/* state_dir/name holds exactly data. */
static int state_file_is(const char *state, const char *name, const void *data, size_t len)
{
    char path[1200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", state, name);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len)
        return 0;
    size_t n = 0;
    unsigned char *got = pt_read_file(path, &n);
    int same = n == len && memcmp(got, data, len) == 0;
    free(got);
    return same;
}

/* ---- applying ---------------------------------------------------------------------- */

Test(updater, valid_bundle_swaps_generation)
{
    fixture f;
    setup(&f, "apply");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f.key, other, 5, &len);

    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(pincurl_updater_sequence(u), 0);
    cr_assert(in_force_pins(&f, "localhost"));
    apply_ok(&f, u, b, len);
    cr_assert_eq(pincurl_updater_sequence(u), 5);
    cr_assert(in_force_pins(&f, "api.example.com"));
    cr_assert(!in_force_pins(&f, "localhost"));
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_POLICY_CHANGED), 1);
    cr_assert_eq(pincurl_updater_last_error(u, NULL, 0), PINCURL_OK);

    /* stored: two copies of the record, the sequence and the bundle's exact bytes */
    size_t rlen = 0;
    unsigned char *rec = record(5, b, len, &rlen);
    cr_assert(state_file_is(f.state, "state-a", rec, rlen));
    cr_assert(state_file_is(f.state, "state-b", rec, rlen));
    free(rec);
    char path[1200];
    snprintf(path, sizeof path, "%s/bundle", f.state);
    cr_assert_neq(access(path, F_OK), 0, "no file of the earlier layout");
    snprintf(path, sizeof path, "%s/sequence", f.state);
    cr_assert_neq(access(path, F_OK), 0);
    struct stat st;
    cr_assert_eq(stat(f.state, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);

    pincurl_update_buffer_free(b);
    free(other);
    pincurl_updater_free(u);
    teardown(&f);
}

Test(updater, rejections_each_leave_the_policy_untouched)
{
    fixture f;
    setup(&f, "reject");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    int64_t now = (int64_t)time(NULL);
    size_t len = 0;
    unsigned char *b;

    /* malformed */
    assert_rejected(&f, u, "not a bundle", 12, PINCURL_UPDATE_MALFORMED);
    assert_rejected(&f, u, "", 0, PINCURL_UPDATE_MALFORMED);

    /* a format version this build does not know */
    b = ut_sign_now(&f.key, other, 1, &len);
    b[8] = 2;
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_UNSUPPORTED);
    pincurl_update_buffer_free(b);

    /* unknown key id */
    ut_key stranger = ut_key_new("someone-else");
    b = ut_sign_now(&stranger, other, 1, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_UNKNOWN_KEY);
    pincurl_update_buffer_free(b);

    /* known key id, signed by another key */
    ut_key impostor = ut_key_new("signing-1");
    b = ut_sign_now(&impostor, other, 1, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_BAD_SIGNATURE);
    pincurl_update_buffer_free(b);

    /* not yet valid, expired */
    b = ut_sign(&f.key, other, 1, now + 600, now + 3600, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_YET_VALID);
    pincurl_update_buffer_free(b);
    b = ut_sign(&f.key, other, 1, now - 3600, now - 1, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_EXPIRED);
    pincurl_update_buffer_free(b);

    /* policy invalid: syntax, and a valid JSON that breaks a rule (one pin enforcing) */
    b = ut_sign_now(&f.key, "{\"pincurl_policy\": 1,", 1, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_POLICY_INVALID);
    pincurl_update_buffer_free(b);
    b = ut_sign_now(&f.key,
                    "{\"pincurl_policy\":1,\"domains\":{\"a.example\":{\"enforce\":true,"
                    "\"pins\":[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]}}}",
                    1, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_POLICY_INVALID);
    char msg[512];
    pincurl_updater_last_error(u, msg, sizeof msg);
    cr_assert(strstr(msg, "domains") != NULL, "the policy's diagnostic is kept: %s", msg);
    pincurl_update_buffer_free(b);

    /* too large */
    size_t big = PINCURL_UPDATE_MAX_BYTES + 1;
    unsigned char *huge = calloc(1, big);
    cr_assert_not_null(huge);
    assert_rejected(&f, u, huge, big, PINCURL_UPDATE_TOO_LARGE);
    free(huge);

    /* nothing was ever applied, nothing stored */
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    char path[1200];
    snprintf(path, sizeof path, "%s/state-a", f.state);
    cr_assert_neq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/state-b", f.state);
    cr_assert_neq(access(path, F_OK), 0);

    /* sequence not higher: apply 3, then 3 again and 2 */
    b = ut_sign_now(&f.key, other, 3, &len);
    apply_ok(&f, u, b, len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_update_buffer_free(b);
    b = ut_sign_now(&f.key, other, 2, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_update_buffer_free(b);
    cr_assert_eq(pincurl_updater_sequence(u), 3);

    free(other);
    pincurl_updater_free(u);
    teardown(&f);
}

Test(updater, every_flipped_byte_is_rejected)
{
    fixture f;
    setup(&f, "flip");
    pincurl_updater *u = updater(&f);
    const char *doc = "{\"pincurl_policy\":1,\"domains\":{\"a.example\":{\"enforce\":true,"
                      "\"pins\":[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
                      "\"sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\"]}}}";
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f.key, doc, 9, &len);
    unsigned char *copy = malloc(len);
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    cr_assert_not_null(copy);
    cr_assert_lt(len, 400, "a small bundle");

    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < len; i++) {
            memcpy(copy, b, len);
            copy[i] ^= masks[m];
            pincurl_status st = pincurl_updater_apply(u, copy, len);
            cr_assert_neq(st, PINCURL_OK, "byte %zu ^ 0x%02x accepted", i, masks[m]);
        }
    }
    cr_assert_eq(pincurl_client_generation(f.client), 1);
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_REJECTED),
                 (int)(len * sizeof masks));
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_APPLIED), 0);
    /* and the original is still good */
    apply_ok(&f, u, b, len);
    free(copy);
    pincurl_update_buffer_free(b);
    pincurl_updater_free(u);
    teardown(&f);
}

Test(updater, signing_key_rotates)
{
    fixture f;
    setup(&f, "rotate");
    ut_key next = ut_key_new("signing-2");
    pincurl_update_key keys[2] = {ut_key_public(&f.key), ut_key_public(&next)};
    pincurl_updater *u = NULL;
    char *other = ut_policy_json_other();
    size_t len = 0;
    unsigned char *b;

    cr_assert_eq(pincurl_updater_new(f.client, keys, 2, f.state, &u), PINCURL_OK);
    b = ut_sign_now(&f.key, other, 1, &len);
    apply_ok(&f, u, b, len);
    pincurl_update_buffer_free(b);
    b = ut_sign_now(&next, other, 2, &len);
    apply_ok(&f, u, b, len);
    pincurl_update_buffer_free(b);
    pincurl_updater_free(u);

    /* the old key retired: a new updater with only signing-2 keeps the stored bundle and
     * refuses bundles of signing-1 */
    cr_assert_eq(pincurl_updater_new(f.client, &keys[1], 1, f.state, &u), PINCURL_OK);
    cr_assert_eq(pincurl_updater_using_base(u), 0);
    b = ut_sign_now(&f.key, other, 3, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_UNKNOWN_KEY);
    pincurl_update_buffer_free(b);
    pincurl_updater_free(u);

    /* duplicate key ids and bad ids are refused */
    keys[1].key_id = "signing-1";
    cr_assert_eq(pincurl_updater_new(f.client, keys, 2, f.state, &u), PINCURL_INVALID_ARGUMENT);
    keys[1].key_id = "has space";
    cr_assert_eq(pincurl_updater_new(f.client, keys, 2, f.state, &u),
                 PINCURL_UPDATE_KEY_INVALID);
    cr_assert_eq(pincurl_updater_new(f.client, keys, 0, f.state, &u), PINCURL_INVALID_ARGUMENT);
    cr_assert_null(u);
    free(other);
    teardown(&f);
}

/* ---- persistence ------------------------------------------------------------------- */

/* A second client with the same base, as a restarted application would make. */
static pincurl_client *restart_client(fixture *f)
{
    pincurl_client_free(f->client);
    f->client = ut_client(f->base, &f->events);
    return f->client;
}

Test(updater, restart_restores_the_stored_bundle)
{
    fixture f;
    setup(&f, "restart");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f.key, other, 11, &len);
    apply_ok(&f, u, b, len);
    pincurl_updater_free(u);

    restart_client(&f);
    cr_assert(in_force_pins(&f, "localhost"));
    int applied = ut_events_count(&f.events, PINCURL_EVENT_UPDATE_APPLIED);
    u = updater(&f);
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_APPLIED), applied + 1);
    cr_assert_eq(pincurl_updater_using_base(u), 0);
    cr_assert_eq(pincurl_updater_sequence(u), 11);
    cr_assert(in_force_pins(&f, "api.example.com"));
    cr_assert_eq(pincurl_client_generation(f.client), 2);
    /* anti-rollback survives the restart */
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_update_buffer_free(b);
    b = ut_sign_now(&f.key, other, 10, &len);
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_update_buffer_free(b);
    pincurl_updater_free(u);
    free(other);
    teardown(&f);
}

static void write_state_file(fixture *f, const char *name, const void *data, size_t len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", f->state, name);
    pt_write_file(path, data, len);
}

static void remove_state_file(fixture *f, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", f->state, name);
    cr_assert_eq(unlink(path), 0);
}

Test(updater, damaged_stored_bundle_restores_base)
{
    fixture f;
    setup(&f, "damaged");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t len = 0, rlen = 0;
    unsigned char *b = ut_sign_now(&f.key, other, 4, &len);
    apply_ok(&f, u, b, len);
    pincurl_updater_free(u);

    b[len - 1] ^= 1; /* signature damaged, in both copies */
    unsigned char *rec = record(4, b, len, &rlen);
    write_state_file(&f, "state-a", rec, rlen);
    write_state_file(&f, "state-b", rec, rlen);
    free(rec);
    restart_client(&f);
    int restored = ut_events_count(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED);
    u = updater(&f);
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED), restored + 1);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_BAD_SIGNATURE);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert(in_force_pins(&f, "localhost"));
    cr_assert_eq(pincurl_client_generation(f.client), 1);
    /* the recorded sequence still holds */
    cr_assert_eq(pincurl_updater_sequence(u), 4);
    b[len - 1] ^= 1;
    assert_rejected(&f, u, b, len, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_updater_free(u);

    /* both copies truncated: no sequence can be read, nothing is assumed */
    rec = record(4, b, len, &rlen);
    write_state_file(&f, "state-a", rec, rlen / 2);
    write_state_file(&f, "state-b", rec, rlen - 1);
    free(rec);
    restart_client(&f);
    pincurl_update_key k = ut_key_public(&f.key);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u),
                 PINCURL_UPDATE_STATE_DAMAGED);
    cr_assert_null(u);
    cr_assert(in_force_pins(&f, "localhost"));
    pincurl_update_buffer_free(b);
    free(other);
    teardown(&f);
}

/* A policy document pinning old.example.com: the older bundle's, told apart from the newer
 * one's (ut_policy_json_other pins api.example.com). */
static const char OLD_POLICY[] =
    "{\"pincurl_policy\":1,\"domains\":{\"old.example.com\":{\"enforce\":true,\"pins\":"
    "[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
    "\"sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\"]}}}";

/* After a restart: sequence 2 recorded, its policy (api.example.com) in force, never the
 * older one, the older bundle refused, and both copies hold the record of sequence 2. */
static void assert_newest_in_force(fixture *f, pincurl_updater *u, const unsigned char *old,
                                   size_t old_len, const unsigned char *good, size_t good_len,
                                   const char *what)
{
    cr_assert_eq(pincurl_updater_sequence(u), 2, "%s: sequence %llu", what,
                 (unsigned long long)pincurl_updater_sequence(u));
    cr_assert_eq(pincurl_updater_using_base(u), 0, "%s: base in force", what);
    cr_assert(in_force_pins(f, "api.example.com"), "%s", what);
    cr_assert(!in_force_pins(f, "old.example.com"), "%s: the older policy is in force", what);
    assert_rejected(f, u, old, old_len, PINCURL_UPDATE_NOT_HIGHER);
    cr_assert(state_file_is(f->state, "state-a", good, good_len), "%s: state-a", what);
    cr_assert(state_file_is(f->state, "state-b", good, good_len), "%s: state-b", what);
}

Test(updater, a_local_writer_cannot_roll_back_one_file)
{
    fixture f;
    setup(&f, "writer");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t l1 = 0, l2 = 0, r1 = 0, r2 = 0;
    unsigned char *old = ut_sign_now(&f.key, OLD_POLICY, 1, &l1);
    unsigned char *cur = ut_sign_now(&f.key, other, 2, &l2);
    apply_ok(&f, u, old, l1);
    apply_ok(&f, u, cur, l2);
    pincurl_updater_free(u);
    unsigned char *old_rec = record(1, old, l1, &r1);
    unsigned char *good = record(2, cur, l2, &r2);
    cr_assert(state_file_is(f.state, "state-a", good, r2));
    cr_assert(state_file_is(f.state, "state-b", good, r2));

    /* Outside the directory: a file holding the older record, the target of links. */
    char outside[1200], path[1200], what[128];
    snprintf(outside, sizeof outside, "%s/../older-record", f.state);
    pt_write_file(outside, old_rec, r1);

    static const char *const attacks[] = {
        "delete", "older record", "older bundle", "older bundle, older legacy files",
        "empty", "half", "one byte short", "one byte more", "link to the older record",
        "dangling link", "fifo", "garbage",
    };
    static const char *const copies[] = {"state-a", "state-b"};
    for (size_t c = 0; c < 2; c++) {
        for (size_t a = 0; a < sizeof attacks / sizeof attacks[0]; a++) {
            snprintf(what, sizeof what, "%s: %s", copies[c], attacks[a]);
            snprintf(path, sizeof path, "%s/%s", f.state, copies[c]);
            switch (a) {
            case 0: cr_assert_eq(unlink(path), 0); break;
            case 1: pt_write_file(path, old_rec, r1); break;
            case 2: pt_write_file(path, old, l1); break;
            case 3: /* the attack on the earlier layout, on top of the older bundle */
                pt_write_file(path, old, l1);
                write_state_file(&f, "bundle", old, l1);
                break;
            case 4: cr_assert_eq(truncate(path, 0), 0); break;
            case 5: cr_assert_eq(truncate(path, (off_t)r2 / 2), 0); break;
            case 6: cr_assert_eq(truncate(path, (off_t)r2 - 1), 0); break;
            case 7: {
                unsigned char *longer = malloc(r2 + 1);
                memcpy(longer, good, r2);
                longer[r2] = '\n';
                pt_write_file(path, longer, r2 + 1);
                free(longer);
                break;
            }
            case 8: cr_assert_eq(unlink(path), 0); cr_assert_eq(symlink(outside, path), 0); break;
            case 9: cr_assert_eq(unlink(path), 0); cr_assert_eq(symlink("/nonexistent", path), 0); break;
            case 10: cr_assert_eq(unlink(path), 0); cr_assert_eq(mkfifo(path, 0600), 0); break;
            default: {
                const char *g = "pincurl-update-state 2\nsequence 9\nbundle 0\n?";
                pt_write_file(path, g, strlen(g));
                break;
            }
            }
            restart_client(&f);
            int applied = ut_events_count(&f.events, PINCURL_EVENT_UPDATE_APPLIED);
            u = updater(&f);
            cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_APPLIED), applied + 1,
                         "%s", what);
            assert_newest_in_force(&f, u, old, l1, good, r2, what);
            pincurl_updater_free(u);
            snprintf(path, sizeof path, "%s/bundle", f.state);
            unlink(path);
        }
    }
    /* what the links pointed to was never written */
    cr_assert(state_file_is(f.state, "../older-record", old_rec, r1));

    /* a directory in place of a copy: the other copy holds the state; the directory cannot
     * be replaced, so it stays, and an apply (which must write both copies) is refused */
    for (size_t c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/%s", f.state, copies[c]);
        cr_assert_eq(unlink(path), 0);
        cr_assert_eq(mkdir(path, 0700), 0);
        restart_client(&f);
        u = updater(&f);
        cr_assert_eq(pincurl_updater_sequence(u), 2);
        cr_assert_eq(pincurl_updater_using_base(u), 0);
        cr_assert(in_force_pins(&f, "api.example.com"));
        cr_assert(!in_force_pins(&f, "old.example.com"));
        size_t l3 = 0, r3 = 0;
        unsigned char *next = ut_sign_now(&f.key, other, 3, &l3);
        assert_rejected(&f, u, next, l3, PINCURL_IO);
        pincurl_updater_free(u);
        /* state-a is written first: with state-b a directory, state-a already holds the
         * refused bundle, which the next start applies (as after a crash between the two
         * writes); with state-a a directory nothing was written */
        unsigned char *rec3 = record(3, next, l3, &r3);
        if (c == 0)
            cr_assert(state_file_is(f.state, "state-b", good, r2));
        else
            cr_assert(state_file_is(f.state, "state-a", rec3, r3));
        free(rec3);
        pincurl_update_buffer_free(next);
        cr_assert_eq(rmdir(path), 0);
        pt_write_file(path, good, r2);
        write_state_file(&f, copies[1 - c], good, r2);
    }

    free(old_rec);
    free(good);
    pincurl_update_buffer_free(old);
    pincurl_update_buffer_free(cur);
    free(other);
    teardown(&f);
}

Test(updater, a_writer_of_the_whole_directory)
{
    /* What docs/updates.md says a writer of every file can do: remove everything (the base
     * policy, sequence 0), or put back a complete earlier state. */
    fixture f;
    setup(&f, "wholedir");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t l1 = 0, l2 = 0, r1 = 0;
    unsigned char *old = ut_sign_now(&f.key, OLD_POLICY, 1, &l1);
    unsigned char *cur = ut_sign_now(&f.key, other, 2, &l2);
    apply_ok(&f, u, old, l1);
    apply_ok(&f, u, cur, l2);
    pincurl_updater_free(u);

    remove_state_file(&f, "state-a");
    remove_state_file(&f, "state-b");
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_sequence(u), 0);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    pincurl_updater_free(u);

    unsigned char *old_rec = record(1, old, l1, &r1);
    write_state_file(&f, "state-a", old_rec, r1);
    write_state_file(&f, "state-b", old_rec, r1);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_sequence(u), 1);
    cr_assert(in_force_pins(&f, "old.example.com"));
    /* still only bundles signed by a trusted key, inside their window: a record naming a
     * higher sequence with a bundle that does not verify is not used */
    unsigned char *forged = malloc(l2);
    memcpy(forged, cur, l2);
    forged[l2 - 1] ^= 1;
    size_t rf = 0;
    unsigned char *forged_rec = record(2, forged, l2, &rf);
    pincurl_updater_free(u);
    write_state_file(&f, "state-a", forged_rec, rf);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_BAD_SIGNATURE);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    pincurl_updater_free(u);
    free(forged);
    free(forged_rec);
    free(old_rec);
    pincurl_update_buffer_free(old);
    pincurl_update_buffer_free(cur);
    free(other);
    teardown(&f);
}

Test(updater, earlier_layout_is_migrated_once)
{
    fixture f;
    setup(&f, "migrate");
    char *other = ut_policy_json_other();
    size_t l1 = 0, l2 = 0, rlen = 0;
    unsigned char *old = ut_sign_now(&f.key, OLD_POLICY, 1, &l1);
    unsigned char *cur = ut_sign_now(&f.key, other, 2, &l2);
    const char *seq2 = "pincurl-update-sequence 1\n2\n";
    cr_assert_eq(mkdir(f.state, 0700), 0);

    /* bundle and sequence of an earlier version: read once, then two copies */
    write_state_file(&f, "bundle", cur, l2);
    write_state_file(&f, "sequence", seq2, strlen(seq2));
    pincurl_updater *u = updater(&f);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    cr_assert(in_force_pins(&f, "api.example.com"));
    pincurl_updater_free(u);
    unsigned char *rec = record(2, cur, l2, &rlen);
    cr_assert(state_file_is(f.state, "state-a", rec, rlen));
    cr_assert(state_file_is(f.state, "state-b", rec, rlen));
    free(rec);
    char path[1200];
    snprintf(path, sizeof path, "%s/bundle", f.state);
    cr_assert_neq(access(path, F_OK), 0, "the earlier files are removed");
    snprintf(path, sizeof path, "%s/sequence", f.state);
    cr_assert_neq(access(path, F_OK), 0);
    /* once migrated, files of the earlier layout are not read again */
    write_state_file(&f, "bundle", old, l1);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    cr_assert(in_force_pins(&f, "api.example.com"));
    pincurl_updater_free(u);
    remove_state_file(&f, "bundle");

    /* an earlier layout that was rolled back is refused, and its sequence kept */
    remove_state_file(&f, "state-a");
    remove_state_file(&f, "state-b");
    write_state_file(&f, "bundle", old, l1);
    write_state_file(&f, "sequence", seq2, strlen(seq2));
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_ROLLBACK);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    pincurl_updater_free(u);
    rec = record(2, NULL, 0, &rlen);
    cr_assert(state_file_is(f.state, "state-a", rec, rlen), "sequence kept, no bundle");
    cr_assert(state_file_is(f.state, "state-b", rec, rlen));
    free(rec);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_STATE_DAMAGED);
    assert_rejected(&f, u, old, l1, PINCURL_UPDATE_NOT_HIGHER);
    assert_rejected(&f, u, cur, l2, PINCURL_UPDATE_NOT_HIGHER); /* 2 is recorded */
    pincurl_updater_free(u);

    pincurl_update_buffer_free(old);
    pincurl_update_buffer_free(cur);
    free(other);
    teardown(&f);
}

Test(updater, damaged_sequence_file_refuses_to_guess)
{
    fixture f;
    setup(&f, "seqdamaged");
    pincurl_update_key k = ut_key_public(&f.key);
    pincurl_updater *u = NULL;
    const char *bad[] = {"", "7\n", "pincurl-update-sequence 1\n", "pincurl-update-sequence 1\n7",
                         "pincurl-update-sequence 1\n-7\n", "pincurl-update-sequence 1\n07\n",
                         "pincurl-update-sequence 1\n18446744073709551616\n",
                         "pincurl-update-sequence 2\n7\n", "pincurl-update-sequence 1\n7 \n"};
    mkdir(f.state, 0700);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_state_file(&f, "sequence", bad[i], strlen(bad[i]));
        cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u),
                     PINCURL_UPDATE_STATE_DAMAGED, "accepted \"%s\"", bad[i]);
        cr_assert_null(u);
    }
    const char *good = "pincurl-update-sequence 1\n18446744073709551615\n";
    write_state_file(&f, "sequence", good, strlen(good));
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u), PINCURL_OK);
    cr_assert_eq(pincurl_updater_sequence(u), UINT64_MAX);
    pincurl_updater_free(u);
    teardown(&f);
}

Test(updater, expiry_restores_the_base)
{
    fixture f;
    setup(&f, "expiry");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    int64_t now = (int64_t)time(NULL);
    size_t len = 0;
    unsigned char *b = ut_sign(&f.key, other, 1, now - 10, now + 2, &len);
    apply_ok(&f, u, b, len);
    cr_assert_eq(pincurl_updater_check(u), PINCURL_OK);
    cr_assert_eq(pincurl_updater_using_base(u), 0);
    while ((int64_t)time(NULL) < now + 2)
        ut_sleep_ms(100);
    cr_assert_eq(pincurl_updater_check(u), PINCURL_UPDATE_EXPIRED);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert(in_force(&f, f.base));
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_EXPIRED);
    cr_assert_eq(pincurl_updater_check(u), PINCURL_OK); /* once */
    pincurl_updater_free(u);

    /* at the next start the expired stored bundle is not used */
    restart_client(&f);
    int restored = ut_events_count(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED);
    u = updater(&f);
    cr_assert_eq(ut_events_count(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED), restored + 1);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_EXPIRED);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(pincurl_updater_sequence(u), 1);
    pincurl_updater_free(u);
    pincurl_update_buffer_free(b);
    free(other);
    teardown(&f);
}

Test(updater, arguments)
{
    fixture f;
    setup(&f, "args");
    pincurl_update_key k = ut_key_public(&f.key);
    pincurl_updater *u = NULL;
    cr_assert_eq(pincurl_updater_new(NULL, &k, 1, f.state, &u), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_updater_new(f.client, NULL, 1, f.state, &u), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, "", &u), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, "/proc/no/such/dir", &u), PINCURL_IO);
    cr_assert_eq(pincurl_updater_apply(NULL, "x", 1), PINCURL_INVALID_ARGUMENT);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_fetch(u, "http://localhost/bundle"), PINCURL_BAD_URL);
    cr_assert_eq(pincurl_updater_start(u, "http://localhost/bundle", 10, 10, 10),
                 PINCURL_BAD_URL);
    cr_assert_eq(pincurl_updater_start(u, "https://localhost/bundle", 0, 10, 10),
                 PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_updater_start(u, "https://localhost/bundle", 10, 20, 10),
                 PINCURL_INVALID_ARGUMENT);
    pincurl_updater_stop(u); /* none running */
    pincurl_updater_free(u);
    pincurl_updater_free(NULL);
    teardown(&f);
}

Test(updater, state_directory_private_and_never_followed)
{
    fixture f;
    setup(&f, "statedir");
    pincurl_update_key k = ut_key_public(&f.key);
    pincurl_updater *u = (pincurl_updater *)&f;
    char *other = ut_policy_json_other();
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f.key, other, 3, &len);
    char target[1200], link_path[1200], path[1300];

    /* a link as the state directory: refused, nothing written behind it */
    char base[1024];
    snprintf(base, sizeof base, "%s", f.state);
    *strrchr(base, '/') = '\0';
    snprintf(target, sizeof target, "%s/elsewhere", base);
    snprintf(link_path, sizeof link_path, "%s/state-link", base);
    cr_assert_eq(mkdir(target, 0700), 0);
    cr_assert_eq(symlink(target, link_path), 0);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, link_path, &u),
                 PINCURL_UPDATE_STATE_SYMLINK);
    cr_assert_null(u);
    cr_assert_eq(pt_system("test -z \"$(ls -A '%s')\"", target), 0, "the target stays empty");
    cr_assert_str_eq(pincurl_status_name(PINCURL_UPDATE_STATE_SYMLINK), "UPDATE_STATE_SYMLINK");

    /* group or others can write, or another user owns it: refused */
    cr_assert_eq(mkdir(f.state, 0700), 0);
    cr_assert_eq(chmod(f.state, 0770), 0);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u),
                 PINCURL_UPDATE_STATE_NOT_PRIVATE);
    cr_assert_eq(chmod(f.state, 0702), 0);
    cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u),
                 PINCURL_UPDATE_STATE_NOT_PRIVATE);
    cr_assert_eq(chmod(f.state, 0755), 0); /* readable by others is fine */
    u = updater(&f);
    pincurl_updater_free(u);
    cr_assert_eq(chmod(f.state, 0700), 0);
    if (geteuid() == 0) {
        cr_assert_eq(chown(f.state, 65534, 65534), 0);
        cr_assert_eq(pincurl_updater_new(f.client, &k, 1, f.state, &u),
                     PINCURL_UPDATE_STATE_NOT_PRIVATE);
        cr_assert_null(u);
        cr_assert_eq(chown(f.state, 0, 0), 0);
    }

    /* the path swapped for a link while the updater runs: writes still go to the directory
     * it opened */
    u = updater(&f);
    snprintf(path, sizeof path, "%s.moved", f.state);
    cr_assert_eq(rename(f.state, path), 0);
    cr_assert_eq(symlink(target, f.state), 0);
    apply_ok(&f, u, b, len);
    pincurl_updater_free(u);
    cr_assert_eq(pt_system("test -z \"$(ls -A '%s')\"", target), 0, "nothing behind the link");
    snprintf(path, sizeof path, "%s.moved/state-a", f.state);
    cr_assert_eq(access(path, F_OK), 0, "written where the directory went");

    pincurl_update_buffer_free(b);
    free(other);
    teardown(&f);
}
