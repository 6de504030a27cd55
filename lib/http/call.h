/* Internal: calls (one request's run, blocking or on a multi) and what the client keeps of
 * them. */
#ifndef PINCURL_HTTP_CALL_H
#define PINCURL_HTTP_CALL_H

#include "http/http.h"

#include <stdatomic.h>

struct pc_lane;

/* One attempt of a transfer: the pin state the hooks use and what the libcurl callbacks
 * record. Lives inside its call, on the heap, for the whole transfer: the hooks, the TLS
 * library's verify callback and libcurl's callbacks hold pointers into it. */
typedef struct pc_xfer {
    pc_pin_state pin;
    const pincurl_request *req;
    pincurl_response *resp;
    const atomic_int *cancelled; /* the call's flag */
    size_t max_body;
    FILE *file;
    int too_large;       /* the body cap was exceeded */
    int app_aborted;     /* a read or write callback of the application aborted */
    int io_failed;       /* the output file could not be written */
    int oom;             /* memory ran out while storing the response */
    int cancel_seen;     /* a libcurl callback saw the cancellation and stopped the transfer */
    CURLcode setup_code; /* libcurl refused part of the request before it was sent */
    curl_mime *mime;     /* the form (libcurl links it: freed after the handle is reset) */
    struct curl_slist *headers, *resolve, *connect_to;
    unsigned configured; /* what the handle holds for the next call (pc_xfer_park) */
    char errbuf[CURL_ERROR_SIZE];
} pc_xfer;

/* The states of a call. */
enum { PC_CALL_NEW = 0, PC_CALL_STARTED = 1, PC_CALL_DONE = 2 };

struct pincurl_call {
    _Atomic unsigned long refs;
    pincurl_client *client;       /* a reference */
    const pincurl_request *req;   /* borrowed from the caller */
    atomic_int cancelled;
    atomic_int state;             /* PC_CALL_* */
    /* Under the client's calls_lock. */
    CURLM *wake;                  /* a blocking call: the multi its thread polls */
    struct pincurl_multi *multi;  /* a call on a multi, until it completed */
    struct pincurl_call *exec_prev, *exec_next; /* the client's running blocking calls */
    /* A call on a multi: the multi's driving thread only (next also under its lock). */
    struct pincurl_call *next;    /* incoming queue / active list */
    struct pincurl_call *prev;
    struct pc_lane *lane;
    pincurl_call_done_cb done;
    void *done_user;
    /* The transfer, one attempt at a time. */
    pc_xfer x;
    CURL *easy;
    pincurl_response *resp;
    int attempt;
    char scheme[16];
    char host[PINCURL_HOST_MAX + 1];
    unsigned port;
};

/* Prepares attempt call->attempt of the call on easy: the URL check, the pin state and every
 * option. held: what pc_xfer_park returned when easy was last parked (0 for a new handle):
 * a handle kept configured for the same kind of plain request gets only the call's own
 * options, any other is reset and configured whole. multiplex: wait for a connection being
 * set up to the same host that may multiplex (HTTP/2), instead of opening another. OK: add
 * easy to a multi. Otherwise the call is over with that status; its detail is in *detail
 * (malloc'd, may be NULL). Either way park the handle before pc_xfer_release. */
pincurl_status pc_xfer_begin(pincurl_call *call, CURL *easy, unsigned held, int multiplex,
                             char **detail);
/* Takes every pointer into the call out of its handle (out of any multi): the handle keeps
 * the client's options when the call was a plain request, else it is reset. Returns what
 * the handle now holds, for pc_xfer_begin. */
unsigned pc_xfer_park(pincurl_call *call, CURL *easy);
/* After libcurl finished the attempt with code (the handle is out of its multi): the
 * status, with the response filled. *retry 1: the attempt was refused before a byte of the
 * request was sent for want of a known path (a resumed session); run the call once more on
 * a new connection with a full handshake (attempt + 1, no session). *retire 1: do not keep
 * the handle's connections and sessions. */
pincurl_status pc_xfer_end(pincurl_call *call, CURLcode code, int *retry, int *retire,
                           char **detail);
/* Runs a call on the calling thread (client.c): the status, with call->resp filled, and
 * the detail (malloc'd, may be NULL). */
pincurl_status pc_call_run_blocking(pincurl_call *call, char **detail);
/* Frees what the attempt holds besides the handle (reset the handle first). */
void pc_xfer_release(pincurl_call *call);
/* The response's status and detail (taken); the response is the caller's afterwards. */
pincurl_response *pc_call_result(pincurl_call *call, pincurl_status st, char *detail);
/* Drops a reference to the call (the last frees it). NULL is a no-op. */
void pc_call_unref(pincurl_call *call);
/* 1 once the call is cancelled, by pincurl_call_cancel or an internal stop flag. */
int pc_call_cancelled(const pincurl_call *call);
/* A detail line for a cancelled call (malloc'd, may be NULL). */
char *pc_call_cancel_detail(const pincurl_call *call);

/* Client lifetime: the application's handle, calls and multis each hold a reference. */
void pc_client_ref(pincurl_client *c);
void pc_client_unref(pincurl_client *c);

/* Multis (multi.c). close: cancels every call of every multi of c and waits until no
 * multi of c is being driven on another thread (under calls_lock held by the caller). */
void pc_multis_cancel_all(pincurl_client *c);
void pc_multis_wait_idle(pincurl_client *c);
/* Wakes a multi's driver (thread-safe). */
void pc_multi_wake(struct pincurl_multi *m);
/* The call on a multi was cancelled: its multi looks for it at the next drive. */
void pc_multi_note_cancel(struct pincurl_multi *m);

#endif
