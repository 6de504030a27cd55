/* The updater without a network: every rejection (status, event, policy untouched), every
 * byte of a signed bundle flipped, key rotation, persistence across restarts, a damaged,
 * rolled back or expired stored bundle, and expiry while running. */
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

    /* stored: the bundle's exact bytes and the sequence file */
    char path[1200];
    size_t slen = 0;
    snprintf(path, sizeof path, "%s/bundle", f.state);
    unsigned char *stored = pt_read_file(path, &slen);
    cr_assert_eq(slen, len);
    cr_assert(memcmp(stored, b, len) == 0);
    free(stored);
    snprintf(path, sizeof path, "%s/sequence", f.state);
    stored = pt_read_file(path, &slen);
    cr_assert_eq(slen, strlen("pincurl-update-sequence 1\n5\n"));
    cr_assert(memcmp(stored, "pincurl-update-sequence 1\n5\n", slen) == 0);
    free(stored);
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
    snprintf(path, sizeof path, "%s/bundle", f.state);
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
    size_t len = 0;
    unsigned char *b = ut_sign_now(&f.key, other, 4, &len);
    apply_ok(&f, u, b, len);
    pincurl_updater_free(u);

    b[len - 1] ^= 1; /* signature damaged */
    write_state_file(&f, "bundle", b, len);
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

    /* truncated file */
    write_state_file(&f, "bundle", b, len / 2);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_MALFORMED);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    pincurl_updater_free(u);
    pincurl_update_buffer_free(b);
    free(other);
    teardown(&f);
}

Test(updater, deleting_the_bundle_cannot_roll_back)
{
    fixture f;
    setup(&f, "deleted");
    pincurl_updater *u = updater(&f);
    char *other = ut_policy_json_other();
    size_t l1 = 0, l2 = 0;
    unsigned char *old = ut_sign_now(&f.key, other, 1, &l1);
    unsigned char *cur = ut_sign_now(&f.key, other, 2, &l2);
    apply_ok(&f, u, old, l1);
    apply_ok(&f, u, cur, l2);
    pincurl_updater_free(u);

    remove_state_file(&f, "bundle");
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_STATE_DAMAGED);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    assert_rejected(&f, u, old, l1, PINCURL_UPDATE_NOT_HIGHER);
    pincurl_updater_free(u);

    /* an older bundle put in place of the stored one is a rollback */
    write_state_file(&f, "bundle", old, l1);
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_using_base(u), 1);
    cr_assert_eq(ut_events_status(&f.events, PINCURL_EVENT_UPDATE_BASE_RESTORED),
                 PINCURL_UPDATE_ROLLBACK);
    pincurl_updater_free(u);

    /* the bundle without the sequence file: the bundle's sequence is recorded again */
    write_state_file(&f, "bundle", cur, l2);
    remove_state_file(&f, "sequence");
    restart_client(&f);
    u = updater(&f);
    cr_assert_eq(pincurl_updater_using_base(u), 0);
    cr_assert_eq(pincurl_updater_sequence(u), 2);
    pincurl_updater_free(u);
    size_t slen = 0;
    char path[1200];
    snprintf(path, sizeof path, "%s/sequence", f.state);
    unsigned char *s = pt_read_file(path, &slen);
    cr_assert(slen > 0 && memcmp(s, "pincurl-update-sequence 1\n2\n", slen) == 0);
    free(s);

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
