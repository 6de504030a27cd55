/* The updater: signed policy bundles applied to a client, persisted in a state directory,
 * re-verified at start, and a fetcher thread that polls an update URL through the client.
 * Bundle format and keys: lib/update/bundle.c; files: lib/update/state.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "pincurl/policy.h"
#include "pincurl/update.h"
#include "update/update_internal.h"

#define MAX_KEYS 16
#define ETAG_MAX 255
#define MESSAGE_MAX 768
#define MAX_INTERVAL_MS (7L * 24 * 3600 * 1000)

typedef struct stored_key {
    char key_id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE];
} stored_key;

struct pincurl_updater {
    pincurl_client *client;
    pincurl_policy *base;
    stored_key keys[MAX_KEYS];
    size_t key_count;
    char *state_dir;
    int dirfd; /* the state directory, opened once (lib/update/state.c) */

    /* Serialises applies, checks and restores (held across set_policy and events). */
    pthread_mutex_t apply_lock;
    /* Guards the fields below it; held only briefly, never across callbacks. */
    pthread_mutex_t lock;
    uint64_t sequence;        /* highest applied, persisted */
    int using_base;
    uint64_t active_sequence; /* of the bundle in force, 0 when the base is */
    int64_t active_expires;
    pincurl_status last_error;
    char last_message[MESSAGE_MAX];
    pincurl_update_fetch_stats stats;

    /* Serialises fetches; guards etag. */
    pthread_mutex_t fetch_lock;
    char etag[ETAG_MAX + 1];

    /* The fetcher thread. */
    pthread_mutex_t thread_lock;
    pthread_cond_t thread_cond;
    pthread_t thread;
    int thread_running;
    int thread_stop;
    char *url;
    long interval_ms, retry_ms, max_backoff_ms;
};

/* ---- events and reports -------------------------------------------------------------- */

static void emit(pincurl_updater *u, pincurl_event_kind kind, pincurl_status st,
                 const char *message)
{
    pincurl_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.status = st;
    ev.message = message != NULL ? message : "";
    ev.host = "";
    ev.generation = pincurl_client_generation(u->client);
    pc_client_emit(u->client, &ev);
}

/*
 * The report hook of the updater: called for every refused bundle (kind
 * UPDATE_REJECTED) and every restore of the base policy (UPDATE_BASE_RESTORED), after the
 * event, with the status and the sentence of the event. Failure reports of updates go to
 * the report URIs of the policy in force (docs/reports.md) once the report spool accepts
 * update reports; until then this records nothing beyond the event and last_error.
 */
static void update_report_hook(pincurl_updater *u, pincurl_event_kind kind, pincurl_status st,
                               const char *message)
{
    (void)u;
    (void)kind;
    (void)st;
    (void)message;
}

static void set_last_error(pincurl_updater *u, pincurl_status st, const char *message)
{
    pthread_mutex_lock(&u->lock);
    u->last_error = st;
    snprintf(u->last_message, sizeof u->last_message, "%s", message);
    pthread_mutex_unlock(&u->lock);
}

static void reject(pincurl_updater *u, pincurl_event_kind kind, pincurl_status st,
                   const char *what, const char *detail)
{
    char msg[MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s: %s (%s)%s%s", what, pincurl_strerror(st),
             pincurl_status_name(st) != NULL ? pincurl_status_name(st) : "?",
             detail != NULL && detail[0] != '\0' ? ": " : "", detail != NULL ? detail : "");
    set_last_error(u, st, msg);
    emit(u, kind, st, msg);
    update_report_hook(u, kind, st, msg);
}

/* ---- verification -------------------------------------------------------------------- */

typedef struct verified {
    pincurl_update_bundle bundle;
    pincurl_policy *policy;
} verified;

/* Every check of a bundle but the sequence. On failure detail says more (may be ""). */
static pincurl_status verify_bundle(pincurl_updater *u, const unsigned char *data, size_t len,
                                    verified *out, char *detail, size_t detail_size)
{
    pincurl_diag diag;
    const stored_key *key = NULL;
    pincurl_status st;
    int64_t now = (int64_t)time(NULL);

    detail[0] = '\0';
    out->policy = NULL;
    if (len > PINCURL_UPDATE_MAX_BYTES) {
        snprintf(detail, detail_size, "%zu bytes, at most %zu", len,
                 (size_t)PINCURL_UPDATE_MAX_BYTES);
        return PINCURL_UPDATE_TOO_LARGE;
    }
    st = pincurl_update_bundle_parse(data, len, &out->bundle);
    if (st != PINCURL_OK)
        return st;
    for (size_t i = 0; i < u->key_count; i++)
        if (strcmp(u->keys[i].key_id, out->bundle.key_id) == 0)
            key = &u->keys[i];
    if (key == NULL) {
        snprintf(detail, detail_size, "key id \"%s\"", out->bundle.key_id);
        return PINCURL_UPDATE_UNKNOWN_KEY;
    }
    st = pincurl_update_bundle_verify(&out->bundle, key->public_key);
    if (st != PINCURL_OK) {
        snprintf(detail, detail_size, "key id \"%s\"", key->key_id);
        return st == PINCURL_OUT_OF_MEMORY || st == PINCURL_INTERNAL
                   ? st : PINCURL_UPDATE_BAD_SIGNATURE;
    }
    if (now < out->bundle.not_before) {
        snprintf(detail, detail_size, "sequence %llu, not before %lld, now %lld",
                 (unsigned long long)out->bundle.sequence, (long long)out->bundle.not_before,
                 (long long)now);
        return PINCURL_UPDATE_NOT_YET_VALID;
    }
    if (now >= out->bundle.expires) {
        snprintf(detail, detail_size, "sequence %llu, expired at %lld, now %lld",
                 (unsigned long long)out->bundle.sequence, (long long)out->bundle.expires,
                 (long long)now);
        return PINCURL_UPDATE_EXPIRED;
    }
    st = pincurl_policy_load_json((const char *)out->bundle.policy, out->bundle.policy_len,
                                  NULL, &out->policy, &diag);
    if (st != PINCURL_OK) {
        snprintf(detail, detail_size, "%s", diag.message);
        out->policy = NULL;
        return st == PINCURL_OUT_OF_MEMORY ? st : PINCURL_UPDATE_POLICY_INVALID;
    }
    return PINCURL_OK;
}

/* Writes the record (sequence, bundle) to both copies, one after the other, each
 * atomically (docs/updates.md). A failure leaves at least one copy as it was before. */
static pincurl_status persist(pincurl_updater *u, uint64_t seq, const unsigned char *bundle,
                              size_t len)
{
    size_t n = 0;
    unsigned char *rec = pc_update_record_format(seq, bundle, len, &n);
    if (rec == NULL)
        return PINCURL_OUT_OF_MEMORY;
    pincurl_status st = pc_update_write_at(u->dirfd, PC_UPDATE_COPY_A, rec, n);
    if (st == PINCURL_OK)
        st = pc_update_write_at(u->dirfd, PC_UPDATE_COPY_B, rec, n);
    free(rec);
    return st;
}

/* Puts a verified policy in force. apply_lock held. */
static pincurl_status put_in_force(pincurl_updater *u, verified *v)
{
    pincurl_status st = pincurl_client_set_policy(u->client, v->policy);
    if (st != PINCURL_OK)
        return st;
    pthread_mutex_lock(&u->lock);
    if (v->bundle.sequence > u->sequence)
        u->sequence = v->bundle.sequence;
    u->using_base = 0;
    u->active_sequence = v->bundle.sequence;
    u->active_expires = v->bundle.expires;
    pthread_mutex_unlock(&u->lock);
    return PINCURL_OK;
}

static void applied_event(pincurl_updater *u, const verified *v, const char *how)
{
    char msg[MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s: sequence %llu signed by \"%s\", valid until %lld", how,
             (unsigned long long)v->bundle.sequence, v->bundle.key_id,
             (long long)v->bundle.expires);
    emit(u, PINCURL_EVENT_UPDATE_APPLIED, PINCURL_OK, msg);
}

pincurl_status pincurl_updater_apply(pincurl_updater *u, const void *data, size_t len)
{
    verified v;
    char detail[600];
    pincurl_status st;

    if (u == NULL || (data == NULL && len > 0))
        return PINCURL_INVALID_ARGUMENT;
    if (data == NULL)
        data = "";
    pthread_mutex_lock(&u->apply_lock);
    st = verify_bundle(u, data, len, &v, detail, sizeof detail);
    if (st == PINCURL_OK) {
        pthread_mutex_lock(&u->lock);
        uint64_t last = u->sequence;
        pthread_mutex_unlock(&u->lock);
        if (v.bundle.sequence <= last) {
            snprintf(detail, sizeof detail, "sequence %llu, last applied %llu",
                     (unsigned long long)v.bundle.sequence, (unsigned long long)last);
            st = PINCURL_UPDATE_NOT_HIGHER;
        }
    }
    /* Durable before in force: both copies of the state (docs/updates.md). */
    if (st == PINCURL_OK) {
        st = persist(u, v.bundle.sequence, data, len);
        if (st != PINCURL_OK)
            snprintf(detail, sizeof detail, "could not store the bundle in %s", u->state_dir);
    }
    if (st == PINCURL_OK)
        st = put_in_force(u, &v);
    if (st == PINCURL_OK) {
        applied_event(u, &v, "update applied");
    } else {
        reject(u, PINCURL_EVENT_UPDATE_REJECTED, st, "update rejected", detail);
    }
    pincurl_policy_unref(v.policy);
    pthread_mutex_unlock(&u->apply_lock);
    return st;
}

/* What one copy of the state holds. */
typedef struct stored_copy {
    const char *name;
    int present;       /* the name exists */
    int ok;            /* and holds a well-formed record */
    uint64_t sequence;
    const unsigned char *bundle; /* into data; NULL when the record has none */
    size_t bundle_len;
    unsigned char *data;
    size_t len;
} stored_copy;

static void read_copy(int dirfd, const char *name, stored_copy *c)
{
    int missing = 0;
    memset(c, 0, sizeof *c);
    c->name = name;
    pincurl_status st =
        pc_update_read_at(dirfd, name, PC_UPDATE_RECORD_MAX, &c->data, &c->len, &missing);
    c->present = !missing;
    if (st == PINCURL_OK)
        c->ok = pc_update_record_parse(c->data, c->len, &c->sequence, &c->bundle,
                                       &c->bundle_len) == PINCURL_OK;
}

/* What the directory holds at start: the recorded sequence and the stored bundle. */
typedef struct stored_state {
    stored_copy copy[2];
    unsigned char *legacy;   /* the legacy bundle file's bytes */
    uint64_t recorded;
    const unsigned char *bundle; /* the bundle of the record with the recorded sequence */
    size_t bundle_len;
    int migrate;             /* read from the legacy layout: rewrite as two copies */
    int repair;              /* a copy is missing, damaged or behind the other */
    int legacy_no_sequence;  /* legacy layout without a sequence file */
} stored_state;

static void stored_free(stored_state *s)
{
    free(s->copy[0].data);
    free(s->copy[1].data);
    free(s->legacy);
}

/* The legacy layout (a "bundle" and a "sequence" file), read once to migrate it.
 * Statuses: OK, UPDATE_STATE_DAMAGED (a sequence file that cannot be read), OUT_OF_MEMORY. */
static pincurl_status read_legacy(int dirfd, stored_state *s)
{
    unsigned char *seq = NULL;
    size_t seq_len = 0, len = 0;
    int seq_missing = 0, bundle_missing = 0;
    pincurl_status st = pc_update_read_at(dirfd, PC_UPDATE_LEGACY_SEQUENCE, 64, &seq, &seq_len,
                                          &seq_missing);
    if (st == PINCURL_OK) {
        st = pc_update_sequence_parse(seq, seq_len, &s->recorded);
        free(seq);
        if (st != PINCURL_OK)
            return PINCURL_UPDATE_STATE_DAMAGED;
    } else if (!seq_missing) {
        return st == PINCURL_OUT_OF_MEMORY ? st : PINCURL_UPDATE_STATE_DAMAGED;
    }
    st = pc_update_read_at(dirfd, PC_UPDATE_LEGACY_BUNDLE, PINCURL_UPDATE_MAX_BYTES, &s->legacy,
                           &len, &bundle_missing);
    if (st == PINCURL_OUT_OF_MEMORY)
        return st;
    if (seq_missing && bundle_missing)
        return PINCURL_OK; /* nothing stored: a fresh directory */
    s->migrate = 1;
    s->legacy_no_sequence = seq_missing;
    if (st == PINCURL_OK && len > 0) {
        s->bundle = s->legacy;
        s->bundle_len = len;
    }
    return PINCURL_OK;
}

/* Reads the state. Statuses: OK, UPDATE_STATE_DAMAGED (something is stored but no copy can
 * be read: nothing is assumed), OUT_OF_MEMORY. */
static pincurl_status read_state(int dirfd, stored_state *s)
{
    memset(s, 0, sizeof *s);
    read_copy(dirfd, PC_UPDATE_COPY_A, &s->copy[0]);
    read_copy(dirfd, PC_UPDATE_COPY_B, &s->copy[1]);
    stored_copy *a = &s->copy[0], *b = &s->copy[1];
    if (!a->present && !b->present)
        return read_legacy(dirfd, s);
    if (!a->ok && !b->ok)
        return PINCURL_UPDATE_STATE_DAMAGED;
    /* The higher sequence of the readable copies; its bundle. */
    const stored_copy *best = !b->ok || (a->ok && a->sequence >= b->sequence) ? a : b;
    if (a->ok && b->ok && a->sequence == b->sequence && best->bundle == NULL)
        best = a->bundle != NULL ? a : b;
    s->recorded = best->sequence;
    s->bundle = best->bundle;
    s->bundle_len = best->bundle_len;
    s->repair = !a->ok || !b->ok || a->len != b->len || memcmp(a->data, b->data, a->len) != 0;
    return PINCURL_OK;
}

/* At start: the stored bundle, verified again. apply_lock held. */
static void load_stored(pincurl_updater *u, stored_state *s)
{
    verified v;
    char detail[600], note[200] = "";
    pincurl_status st;
    uint64_t recorded = s->recorded;
    const unsigned char *keep = s->bundle; /* what the rewritten copies hold */
    size_t keep_len = s->bundle_len;

    if (s->repair) {
        /* the copies that are not the record in force: missing, damaged, or behind */
        const stored_copy *a = &s->copy[0], *b = &s->copy[1];
        int stale_a = !a->ok || (b->ok && a->sequence < b->sequence);
        int stale_b = !b->ok || (a->ok && b->sequence < a->sequence);
        if (!stale_a && !stale_b)
            stale_b = 1; /* same sequence, different bytes: the second follows the first */
        snprintf(note, sizeof note, " (%s%s%s was %s and is rewritten from the other copy)",
                 stale_a ? a->name : "", stale_a && stale_b ? " and " : "",
                 stale_b ? b->name : "",
                 (stale_a && !a->present) || (stale_b && !b->present) ? "missing"
                 : (stale_a && !a->ok) || (stale_b && !b->ok)        ? "damaged"
                                                                      : "older");
    } else if (s->migrate) {
        snprintf(note, sizeof note, " (the earlier bundle/sequence layout was migrated)");
    }

    v.policy = NULL;
    if (s->bundle == NULL) {
        st = recorded == 0 ? PINCURL_OK : PINCURL_UPDATE_STATE_DAMAGED;
        snprintf(detail, sizeof detail, "no bundle is stored for sequence %llu",
                 (unsigned long long)recorded);
    } else {
        st = verify_bundle(u, s->bundle, s->bundle_len, &v, detail, sizeof detail);
        if (st == PINCURL_OK && v.bundle.sequence < recorded) {
            snprintf(detail, sizeof detail, "stored sequence %llu, recorded %llu",
                     (unsigned long long)v.bundle.sequence, (unsigned long long)recorded);
            st = PINCURL_UPDATE_ROLLBACK;
            keep = NULL; /* never used again */
            keep_len = 0;
        }
        /* The legacy layout only: a bundle newer than its sequence file (a crash between
         * the two writes of that layout), or no sequence file at all. */
        if (st == PINCURL_OK && v.bundle.sequence > recorded)
            recorded = v.bundle.sequence;
        if (s->migrate && keep != NULL && st != PINCURL_OK && st != PINCURL_UPDATE_ROLLBACK) {
            /* a stored bundle that does not verify now keeps its place only if it is the
             * one of the recorded sequence (it may verify again under another key set) */
            pincurl_update_bundle parsed;
            if (pincurl_update_bundle_parse(keep, keep_len, &parsed) != PINCURL_OK ||
                parsed.sequence != recorded) {
                keep = NULL;
                keep_len = 0;
            }
        }
    }
    /* Both copies hold the record again. If that fails, what was read stays the state:
     * the recorded sequence is kept in memory, and an apply must write both copies. */
    if (s->migrate || s->repair) {
        pincurl_status wst = recorded > 0 || keep != NULL ? persist(u, recorded, keep, keep_len)
                                                          : PINCURL_OK;
        if (wst == PINCURL_OK && s->migrate) {
            pc_update_remove_at(u->dirfd, PC_UPDATE_LEGACY_SEQUENCE);
            pc_update_remove_at(u->dirfd, PC_UPDATE_LEGACY_BUNDLE);
        }
        if (wst != PINCURL_OK)
            snprintf(note, sizeof note, " (the state could not be rewritten in %s: %s)",
                     u->state_dir, pincurl_strerror(wst));
    }
    pthread_mutex_lock(&u->lock);
    if (recorded > u->sequence)
        u->sequence = recorded;
    pthread_mutex_unlock(&u->lock);
    if (s->bundle == NULL && st == PINCURL_OK) {
        /* nothing was ever applied: the base, quietly */
    } else if (st == PINCURL_OK && (st = put_in_force(u, &v)) == PINCURL_OK) {
        char how[256];
        snprintf(how, sizeof how, "stored update applied%s", note);
        applied_event(u, &v, how);
    } else {
        char why[sizeof detail + sizeof note];
        snprintf(why, sizeof why, "%s%s", detail, note);
        reject(u, PINCURL_EVENT_UPDATE_BASE_RESTORED, st,
               "stored update not used, base policy in force", why);
    }
    pincurl_policy_unref(v.policy);
}

pincurl_status pincurl_updater_new(pincurl_client *client, const pincurl_update_key *keys,
                                   size_t key_count, const char *state_dir,
                                   pincurl_updater **out)
{
    pincurl_updater *u;
    pincurl_status st;
    stored_state stored;
    int dirfd = -1;

    if (out != NULL)
        *out = NULL;
    if (client == NULL || keys == NULL || key_count == 0 || key_count > MAX_KEYS ||
        state_dir == NULL || state_dir[0] == '\0' || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    for (size_t i = 0; i < key_count; i++) {
        if (keys[i].key_id == NULL ||
            !pc_update_key_id_valid(keys[i].key_id, strlen(keys[i].key_id)))
            return PINCURL_UPDATE_KEY_INVALID;
        for (size_t j = 0; j < i; j++)
            if (strcmp(keys[i].key_id, keys[j].key_id) == 0)
                return PINCURL_INVALID_ARGUMENT;
    }
    st = pc_update_state_open(state_dir, &dirfd);
    if (st != PINCURL_OK)
        return st;
    st = read_state(dirfd, &stored);
    if (st != PINCURL_OK) {
        stored_free(&stored);
        close(dirfd);
        return st;
    }

    u = calloc(1, sizeof *u);
    if (u == NULL) {
        stored_free(&stored);
        close(dirfd);
        return PINCURL_OUT_OF_MEMORY;
    }
    u->dirfd = dirfd;
    u->state_dir = strdup(state_dir);
    if (u->state_dir == NULL) {
        stored_free(&stored);
        close(dirfd);
        free(u);
        return PINCURL_OUT_OF_MEMORY;
    }
    pthread_condattr_t ca;
    int cond_ok = pthread_condattr_init(&ca) == 0;
    if (cond_ok) {
        cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&u->thread_cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!cond_ok) {
        stored_free(&stored);
        close(dirfd);
        free(u->state_dir);
        free(u);
        return PINCURL_INTERNAL;
    }
    pthread_mutex_init(&u->apply_lock, NULL);
    pthread_mutex_init(&u->lock, NULL);
    pthread_mutex_init(&u->fetch_lock, NULL);
    pthread_mutex_init(&u->thread_lock, NULL);
    u->client = client;
    u->base = pincurl_client_policy(client);
    for (size_t i = 0; i < key_count; i++) {
        snprintf(u->keys[i].key_id, sizeof u->keys[i].key_id, "%s", keys[i].key_id);
        memcpy(u->keys[i].public_key, keys[i].public_key, PINCURL_UPDATE_PUBLIC_KEY_SIZE);
    }
    u->key_count = key_count;
    u->sequence = stored.recorded;
    u->using_base = 1;
    u->last_error = PINCURL_OK;
    u->stats.last_status = PINCURL_OK;

    pthread_mutex_lock(&u->apply_lock);
    load_stored(u, &stored);
    pthread_mutex_unlock(&u->apply_lock);
    stored_free(&stored);
    *out = u;
    return PINCURL_OK;
}

void pincurl_updater_free(pincurl_updater *u)
{
    if (u == NULL)
        return;
    pincurl_updater_stop(u);
    pincurl_policy_unref(u->base);
    pthread_mutex_destroy(&u->apply_lock);
    pthread_mutex_destroy(&u->lock);
    pthread_mutex_destroy(&u->fetch_lock);
    pthread_mutex_destroy(&u->thread_lock);
    pthread_cond_destroy(&u->thread_cond);
    free(u->url);
    free(u->state_dir);
    if (u->dirfd >= 0)
        close(u->dirfd);
    memset(u->keys, 0, sizeof u->keys);
    free(u);
}

pincurl_status pincurl_updater_check(pincurl_updater *u)
{
    pincurl_status st = PINCURL_OK;
    int64_t now = (int64_t)time(NULL);

    if (u == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pthread_mutex_lock(&u->apply_lock);
    pthread_mutex_lock(&u->lock);
    int expired = !u->using_base && now >= u->active_expires;
    uint64_t seq = u->active_sequence;
    int64_t exp = u->active_expires;
    pthread_mutex_unlock(&u->lock);
    if (expired) {
        pincurl_status sp = pincurl_client_set_policy(u->client, u->base);
        if (sp == PINCURL_OK) {
            char detail[128];
            pthread_mutex_lock(&u->lock);
            u->using_base = 1;
            u->active_sequence = 0;
            u->active_expires = 0;
            pthread_mutex_unlock(&u->lock);
            snprintf(detail, sizeof detail, "sequence %llu expired at %lld",
                     (unsigned long long)seq, (long long)exp);
            reject(u, PINCURL_EVENT_UPDATE_BASE_RESTORED, PINCURL_UPDATE_EXPIRED,
                   "update no longer in force, base policy restored", detail);
            st = PINCURL_UPDATE_EXPIRED;
        } else {
            st = sp;
        }
    }
    pthread_mutex_unlock(&u->apply_lock);
    return st;
}

uint64_t pincurl_updater_sequence(const pincurl_updater *u)
{
    pincurl_updater *m = (pincurl_updater *)(uintptr_t)u;
    uint64_t s;
    if (u == NULL)
        return 0;
    pthread_mutex_lock(&m->lock);
    s = m->sequence;
    pthread_mutex_unlock(&m->lock);
    return s;
}

int pincurl_updater_using_base(const pincurl_updater *u)
{
    pincurl_updater *m = (pincurl_updater *)(uintptr_t)u;
    int b;
    if (u == NULL)
        return 0;
    pthread_mutex_lock(&m->lock);
    b = m->using_base;
    pthread_mutex_unlock(&m->lock);
    return b;
}

pincurl_status pincurl_updater_last_error(const pincurl_updater *u, char *msg, size_t size)
{
    pincurl_updater *m = (pincurl_updater *)(uintptr_t)u;
    pincurl_status st;
    if (msg != NULL && size > 0)
        msg[0] = '\0';
    if (u == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    st = m->last_error;
    if (msg != NULL && size > 0)
        snprintf(msg, size, "%s", m->last_message);
    pthread_mutex_unlock(&m->lock);
    return st;
}

/* ---- fetching ------------------------------------------------------------------------ */

typedef struct body_buf {
    unsigned char *data;
    size_t len, cap;
    int too_large;
} body_buf;

static size_t collect(const void *data, size_t len, void *user)
{
    body_buf *b = user;
    if (len > PINCURL_UPDATE_MAX_BYTES - b->len) {
        b->too_large = 1;
        return 0;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        if (cap > PINCURL_UPDATE_MAX_BYTES)
            cap = PINCURL_UPDATE_MAX_BYTES;
        unsigned char *p = realloc(b->data, cap);
        if (p == NULL)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return len;
}

static int etag_ok(const char *etag)
{
    size_t n = strlen(etag);
    if (n == 0 || n > ETAG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)etag[i] < 0x20 || (unsigned char)etag[i] > 0x7e)
            return 0;
    return 1;
}

static int url_is_https(const char *url)
{
    return url != NULL && strncmp(url, "https://", 8) == 0 && url[8] != '\0';
}

static void count_fetch(pincurl_updater *u, pincurl_status st, int not_modified, int applied)
{
    pthread_mutex_lock(&u->lock);
    u->stats.polls++;
    u->stats.last_status = st;
    if (not_modified)
        u->stats.not_modified++;
    if (applied)
        u->stats.applied++;
    if (st != PINCURL_OK) {
        u->stats.failures++;
        u->stats.consecutive_failures++;
    } else {
        u->stats.consecutive_failures = 0;
    }
    pthread_mutex_unlock(&u->lock);
}

pincurl_status pincurl_updater_fetch(pincurl_updater *u, const char *url)
{
    pincurl_request *req;
    pincurl_response *resp = NULL;
    body_buf body = {NULL, 0, 0, 0};
    pincurl_status st;
    int not_modified = 0, applied = 0;
    char header[ETAG_MAX + 32];

    if (u == NULL || url == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (!url_is_https(url))
        return PINCURL_BAD_URL;
    pthread_mutex_lock(&u->fetch_lock);
    req = pincurl_request_new("GET", url);
    if (req == NULL) {
        pthread_mutex_unlock(&u->fetch_lock);
        return PINCURL_OUT_OF_MEMORY;
    }
    req->https_only = 1; /* every hop, redirects included (docs/updates.md) */
    st = pincurl_request_add_header(req, "Accept: application/vnd.pincurl.update");
    if (st == PINCURL_OK && u->etag[0] != '\0') {
        snprintf(header, sizeof header, "If-None-Match: %s", u->etag);
        st = pincurl_request_add_header(req, header);
    }
    if (st == PINCURL_OK)
        st = pincurl_request_set_write_callback(req, collect, &body);
    if (st == PINCURL_OK)
        st = pincurl_client_perform(u->client, req, &resp);
    if (body.too_large)
        st = PINCURL_UPDATE_TOO_LARGE;
    if (st == PINCURL_OK) {
        long code = pincurl_response_code(resp);
        if (code == 304) {
            not_modified = 1;
        } else if (code == 200) {
            const char *etag = pincurl_response_header(resp, "ETag");
            uint64_t before = pincurl_updater_sequence(u);
            pincurl_update_bundle parsed;
            st = pincurl_updater_apply(u, body.data != NULL ? body.data : (const void *)"",
                                       body.len);
            applied = st == PINCURL_OK;
            /* The bundle already in force, served again: nothing new. */
            if (st == PINCURL_UPDATE_NOT_HIGHER &&
                pincurl_update_bundle_parse(body.data, body.len, &parsed) == PINCURL_OK) {
                pthread_mutex_lock(&u->lock);
                int same = !u->using_base && parsed.sequence == u->active_sequence &&
                           parsed.sequence == before;
                pthread_mutex_unlock(&u->lock);
                if (same)
                    st = PINCURL_OK;
            }
            if (st == PINCURL_OK && etag != NULL && etag_ok(etag))
                snprintf(u->etag, sizeof u->etag, "%s", etag);
            else if (st != PINCURL_OK)
                u->etag[0] = '\0';
        } else {
            char detail[160];
            snprintf(detail, sizeof detail, "GET %s answered HTTP %ld", url, code);
            st = PINCURL_UPDATE_FETCH_FAILED;
            set_last_error(u, st, detail);
        }
    } else {
        char detail[MESSAGE_MAX];
        snprintf(detail, sizeof detail, "GET %s failed: %s", url,
                 resp != NULL && pincurl_response_detail(resp)[0] != '\0'
                     ? pincurl_response_detail(resp)
                     : pincurl_strerror(st));
        set_last_error(u, st, detail);
    }
    pincurl_response_free(resp);
    pincurl_request_free(req);
    free(body.data);
    count_fetch(u, st, not_modified, applied);
    pthread_mutex_unlock(&u->fetch_lock);
    return st;
}

pincurl_status pincurl_updater_fetch_stats(const pincurl_updater *u,
                                           pincurl_update_fetch_stats *out)
{
    pincurl_updater *m = (pincurl_updater *)(uintptr_t)u;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (u == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pthread_mutex_lock(&m->lock);
    *out = m->stats;
    pthread_mutex_unlock(&m->lock);
    return PINCURL_OK;
}

static long next_delay(const pincurl_updater *u, pincurl_status st, uint64_t failures)
{
    if (st == PINCURL_OK)
        return u->interval_ms;
    long d = u->retry_ms;
    for (uint64_t i = 1; i < failures && d < u->max_backoff_ms; i++)
        d = d > u->max_backoff_ms / 2 ? u->max_backoff_ms : d * 2;
    return d < u->max_backoff_ms ? d : u->max_backoff_ms;
}

static void deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *fetch_thread(void *arg)
{
    pincurl_updater *u = arg;
    struct timespec deadline;

    deadline_after(&deadline, 0);
    for (;;) {
        pthread_mutex_lock(&u->thread_lock);
        while (!u->thread_stop) {
            int rc = pthread_cond_timedwait(&u->thread_cond, &u->thread_lock, &deadline);
            if (rc == ETIMEDOUT)
                break;
        }
        int stop = u->thread_stop;
        pthread_mutex_unlock(&u->thread_lock);
        if (stop)
            break;
        pincurl_updater_check(u);
        pincurl_status st = pincurl_updater_fetch(u, u->url);
        pthread_mutex_lock(&u->lock);
        long d = next_delay(u, st, u->stats.consecutive_failures);
        u->stats.next_delay_ms = d;
        pthread_mutex_unlock(&u->lock);
        deadline_after(&deadline, d);
    }
    pincurl_thread_cleanup(); /* what wolfCrypt keeps for this thread */
    return NULL;
}

pincurl_status pincurl_updater_start(pincurl_updater *u, const char *url, long interval_ms,
                                     long retry_ms, long max_backoff_ms)
{
    if (u == NULL || url == NULL || interval_ms < 1 || interval_ms > MAX_INTERVAL_MS ||
        retry_ms < 1 || retry_ms > MAX_INTERVAL_MS || max_backoff_ms < retry_ms ||
        max_backoff_ms > MAX_INTERVAL_MS)
        return PINCURL_INVALID_ARGUMENT;
    if (!url_is_https(url))
        return PINCURL_BAD_URL;
    pthread_mutex_lock(&u->thread_lock);
    if (u->thread_running) {
        pthread_mutex_unlock(&u->thread_lock);
        return PINCURL_INVALID_ARGUMENT;
    }
    char *copy = strdup(url);
    if (copy == NULL) {
        pthread_mutex_unlock(&u->thread_lock);
        return PINCURL_OUT_OF_MEMORY;
    }
    free(u->url);
    u->url = copy;
    u->interval_ms = interval_ms;
    u->retry_ms = retry_ms;
    u->max_backoff_ms = max_backoff_ms;
    u->thread_stop = 0;
    if (pthread_create(&u->thread, NULL, fetch_thread, u) != 0) {
        pthread_mutex_unlock(&u->thread_lock);
        return PINCURL_INTERNAL;
    }
    u->thread_running = 1;
    pthread_mutex_unlock(&u->thread_lock);
    return PINCURL_OK;
}

void pincurl_updater_stop(pincurl_updater *u)
{
    pthread_t t;
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->thread_lock);
    if (!u->thread_running) {
        pthread_mutex_unlock(&u->thread_lock);
        return;
    }
    u->thread_stop = 1;
    pthread_cond_broadcast(&u->thread_cond);
    t = u->thread;
    u->thread_running = 0;
    pthread_mutex_unlock(&u->thread_lock);
    pthread_join(t, NULL);
}
