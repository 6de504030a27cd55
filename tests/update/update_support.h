/* Helpers of the update tests: keys, signed bundles, policy documents from the test PKI,
 * an event recorder and the loopback bundle server (tests/update/bundle_server.py). */
#ifndef PINCURL_TEST_UPDATE_SUPPORT_H
#define PINCURL_TEST_UPDATE_SUPPORT_H

#include "pincurl/client.h"
#include "pincurl/update.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ut_key {
    char id[PINCURL_UPDATE_KEY_ID_MAX + 1];
    unsigned char priv[32];
    unsigned char pub[32];
} ut_key;

/* A fresh key pair with key id id (NULL: the default id). */
ut_key ut_key_new(const char *id);
/* The updater's view of k. */
pincurl_update_key ut_key_public(const ut_key *k);

/* A policy document pinning localhost (enforcing) to the two named PKI certificates. */
char *ut_policy_json(const char *pin1, const char *pin2);
/* A policy document for a host that no test contacts (valid, with two pins). */
char *ut_policy_json_other(void);

/* Signs json with k; fails the test on error. Caller frees with pincurl_update_buffer_free. */
unsigned char *ut_sign(const ut_key *k, const char *json, uint64_t seq, int64_t not_before,
                       int64_t expires, size_t *len);
/* Signs with a validity of an hour around now. */
unsigned char *ut_sign_now(const ut_key *k, const char *json, uint64_t seq, size_t *len);

/* Records events of a client (thread-safe). */
typedef struct ut_events {
    pthread_mutex_t lock;
    int count[16];
    pincurl_status last_status[16];
    char last_message[16][1024];
} ut_events;

void ut_events_init(ut_events *e);
void ut_on_event(const pincurl_event *ev, void *user);
int ut_events_count(ut_events *e, pincurl_event_kind kind);
pincurl_status ut_events_status(ut_events *e, pincurl_event_kind kind);

/* A client trusting the test root, with policy p and events into e (may be NULL). */
pincurl_client *ut_client(pincurl_policy *p, ut_events *e);

/* The bundle server. */
typedef struct ut_bundle_server {
    pid_t pid;
    int port;
    char dir[1024];
    char file[1100];
    char log[1100];
} ut_bundle_server;

void ut_bundle_server_start(ut_bundle_server *s, const char *chain, const char *key);
void ut_bundle_server_stop(ut_bundle_server *s);
/* Requests logged so far; with code (0: any) and, if inm is not NULL, whose If-None-Match
 * was (inm[0] == '\0': any value but none) that. */
int ut_bundle_server_requests(const ut_bundle_server *s, int code, const char *inm);
/* Monotonic time (seconds) of the n-th logged request (1-based), or -1. */
double ut_bundle_server_request_time(const ut_bundle_server *s, int n);

void ut_sleep_ms(long ms);

#endif
