/*
 * Certificate-change and expiry monitoring for one client.
 *
 * After each validation that built a path, the leaf's pin is compared with the one this
 * client saw last for the same host and port (CERT_CHANGED), and the pins' and the leaf's
 * expiry are checked against their warning windows (POLICY_EXPIRING within 30 days,
 * LEAF_EXPIRING within 14), each warning at most once per host and port per day. The pins'
 * expiry is the verdict's effective one: the governing domain entry's own expires when it
 * comes first, else the policy's; the message says which. The table is bounded: the entry
 * used longest ago makes room for a new host.
 */
#include "http/http.h"

#include "core/alloc.h"
#include "core/der.h"

#include <stdlib.h>
#include <string.h>

#ifndef PINCURL_FIRMWARE
#define MON_ENTRIES 256
#else
#define MON_ENTRIES 8 /* firmware: hosts watched for certificate changes (docs/embedded.md) */
#endif
#define MON_DAY 86400
#define MON_POLICY_WINDOW (30 * MON_DAY)
#define MON_LEAF_WINDOW (14 * MON_DAY)

typedef struct mon_entry {
    char host[PINCURL_HOST_MAX + 1]; /* "" : free */
    unsigned port;
    pincurl_pin leaf;
    int64_t policy_warned; /* last POLICY_EXPIRING, 0 never */
    int64_t leaf_warned;   /* last LEAF_EXPIRING, 0 never */
    uint64_t used;         /* last use, for eviction */
} mon_entry;

struct pc_monitor {
    pincurl_allocator alloc;
    pthread_mutex_t lock;
    uint64_t clock;
    mon_entry entries[MON_ENTRIES];
};

pc_monitor *pc_monitor_new(const pincurl_allocator *alloc)
{
    pincurl_allocator a;
    pc_monitor *m;

    pc_allocator_init(&a, alloc);
    m = pc_calloc(&a, 1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->alloc = a;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        pc_free(&a, m);
        return NULL;
    }
    return m;
}

void pc_monitor_free(pc_monitor *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    pc_free(&m->alloc, m);
}

/* The entry for host:port, made (evicting the least recently used) when new; *fresh says
 * whether it was. Called with the lock held. */
static mon_entry *entry_for(pc_monitor *m, const char *host, unsigned port, int *fresh)
{
    mon_entry *victim = &m->entries[0];
    *fresh = 0;
    for (size_t i = 0; i < MON_ENTRIES; i++) {
        mon_entry *e = &m->entries[i];
        if (e->host[0] != '\0' && e->port == port && strcmp(e->host, host) == 0) {
            e->used = ++m->clock;
            return e;
        }
        if (victim->host[0] != '\0' && (e->host[0] == '\0' || e->used < victim->used))
            victim = e;
    }
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->host, sizeof(victim->host), "%s", host);
    victim->port = port;
    victim->used = ++m->clock;
    *fresh = 1;
    return victim;
}

void pc_monitor_observe(const pincurl_client *c, const pincurl_event *validation, int64_t now)
{
    pc_monitor *m = c->monitor;
    const pincurl_verdict *v = validation->verdict;
    pincurl_event ev;
    pincurl_pin old;
    int changed = 0, warn_policy = 0, warn_leaf = 0, fresh = 0;
    int64_t leaf_expires = 0;
    mon_entry *e;

    if (m == NULL || v == NULL || v->path_len == 0 || validation->path_len == 0 ||
        validation->host == NULL)
        return;
    if (pc_der_cert_not_after(validation->path[0].der, validation->path[0].len,
                              &leaf_expires) != PINCURL_OK)
        leaf_expires = 0;

    pthread_mutex_lock(&m->lock);
    e = entry_for(m, validation->host, validation->port, &fresh);
    if (!fresh && !pincurl_pin_equal(&e->leaf, &v->path_pins[0])) {
        old = e->leaf;
        changed = 1;
    }
    e->leaf = v->path_pins[0];
    if (v->effective_expires > 0 && v->effective_expires - now <= MON_POLICY_WINDOW &&
        (e->policy_warned == 0 || now - e->policy_warned >= MON_DAY)) {
        e->policy_warned = now;
        warn_policy = 1;
    }
    if (leaf_expires > 0 && leaf_expires - now <= MON_LEAF_WINDOW &&
        (e->leaf_warned == 0 || now - e->leaf_warned >= MON_DAY)) {
        e->leaf_warned = now;
        warn_leaf = 1;
    }
    pthread_mutex_unlock(&m->lock);

    ev = *validation;
    ev.duration_us = 0;
    if (changed) {
        ev.kind = PINCURL_EVENT_CERT_CHANGED;
        ev.old_pin = &old;
        ev.expires = 0;
        ev.message = "the server's leaf certificate changed since this client last saw it";
        pc_client_emit(c, &ev);
    }
    ev.old_pin = NULL;
    if (warn_policy) {
        /* The domain entry's own expiry when it is the one that applies. */
        int own = v->domain_expires != 0 && v->effective_expires == v->domain_expires &&
                  (v->expires == 0 || v->domain_expires < v->expires);
        ev.kind = PINCURL_EVENT_POLICY_EXPIRING;
        ev.expires = v->effective_expires;
        if (own)
            ev.message = v->effective_expires <= now
                             ? "the pins of this host's domain entry have expired"
                             : "the pins of this host's domain entry expire within 30 days";
        else
            ev.message = v->effective_expires <= now ? "the policy has expired"
                                                     : "the policy expires within 30 days";
        pc_client_emit(c, &ev);
    }
    if (warn_leaf) {
        ev.kind = PINCURL_EVENT_LEAF_EXPIRING;
        ev.expires = leaf_expires;
        ev.message = "the leaf certificate of the validated path expires within 14 days";
        pc_client_emit(c, &ev);
    }
}
