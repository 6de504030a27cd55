/*
 * Calls: one run of a request, blocking (pincurl_call_execute, on the calling thread) or on
 * a multi (multi.c), cancellable from any thread.
 *
 * A call is reference-counted: the caller's handle, a pincurl_call_execute in progress and
 * the multi it is on each hold one, so that pincurl_call_free never pulls a transfer's state
 * from under the thread running it. The call holds a reference to its client. Its transfer
 * state (pc_xfer: the pin state, what the libcurl callbacks record) lives inside it, on the
 * heap, for the whole transfer.
 *
 * Cancellation is a flag that every libcurl callback of the transfer reads (the progress
 * callback runs between the steps of a transfer, and just before the request check), plus
 * a wakeup of whoever drives the transfer: curl_multi_wakeup() on a blocking call's multi
 * handle, the wakeup descriptor of a multi.
 */
#include "http/call.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void call_ref(pincurl_call *call)
{
    atomic_fetch_add(&call->refs, 1);
}

void pc_call_unref(pincurl_call *call)
{
    if (call == NULL || atomic_fetch_sub(&call->refs, 1) != 1)
        return;
    pincurl_response_free(call->resp);
    pc_client_unref(call->client);
    free(call);
}

pincurl_status pincurl_call_new(pincurl_client *c, const pincurl_request *r, pincurl_call **out)
{
    pincurl_call *call;
    int closing;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || r == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    /* the transfer state (most of the call) is set up by each attempt: only the rest is
     * cleared here */
    call = malloc(sizeof(*call));
    if (call == NULL)
        return PINCURL_OUT_OF_MEMORY;
    memset(call, 0, offsetof(pincurl_call, x));
    memset(&call->x + 1, 0, sizeof(*call) - offsetof(pincurl_call, x) - sizeof(call->x));
    pthread_mutex_lock(&c->calls_lock);
    closing = c->closing;
    if (!closing)
        pc_client_ref(c);
    pthread_mutex_unlock(&c->calls_lock);
    if (closing) {
        free(call);
        return PINCURL_CANCELLED;
    }
    atomic_init(&call->refs, 1);
    atomic_init(&call->cancelled, 0);
    atomic_init(&call->state, PC_CALL_NEW);
    call->client = c;
    call->req = r;
    *out = call;
    return PINCURL_OK;
}

int pc_call_cancelled(const pincurl_call *call)
{
    return atomic_load(&call->cancelled) != 0 ||
           (call->req->cancel != NULL && atomic_load(call->req->cancel) != 0);
}

char *pc_call_cancel_detail(const pincurl_call *call)
{
    char scheme[16], host[PINCURL_HOST_MAX + 1];
    unsigned port = 0;

    if (call->host[0] != '\0')
        return pc_failure_line(call->host, call->port, PINCURL_CANCELLED,
                               "the call was cancelled");
    (void)pc_url_target(call->req->url, scheme, host, &port);
    return pc_failure_line(host, port, PINCURL_CANCELLED, "the call was cancelled");
}

pincurl_response *pc_call_result(pincurl_call *call, pincurl_status st, char *detail)
{
    pincurl_response *resp = call->resp;

    call->resp = NULL;
    if (resp != NULL) {
        resp->status = st;
        if (detail != NULL) {
            free(resp->detail);
            resp->detail = detail;
            detail = NULL;
        }
    }
    free(detail);
    return resp;
}

pincurl_status pincurl_call_execute(pincurl_call *call, pincurl_response **out)
{
    int expected = PC_CALL_NEW;
    pincurl_status st;
    pincurl_response *resp;
    char *detail = NULL;

    if (out != NULL)
        *out = NULL;
    if (call == NULL || !atomic_compare_exchange_strong(&call->state, &expected, PC_CALL_STARTED))
        return PINCURL_INVALID_ARGUMENT;
    call_ref(call); /* for the length of the run, whatever the caller's handle does */
    call->resp = pc_response_new();
    if (call->resp == NULL) {
        atomic_store(&call->state, PC_CALL_DONE);
        pc_call_unref(call);
        return PINCURL_OUT_OF_MEMORY;
    }
    st = pc_call_run_blocking(call, &detail);
    resp = pc_call_result(call, st, detail);
    atomic_store(&call->state, PC_CALL_DONE);
    pc_call_unref(call);
    if (out != NULL)
        *out = resp;
    else
        pincurl_response_free(resp);
    return st;
}

void pincurl_call_cancel(pincurl_call *call)
{
    pincurl_client *c;

    if (call == NULL || atomic_exchange(&call->cancelled, 1) != 0)
        return;
    c = call->client;
    pthread_mutex_lock(&c->calls_lock);
    if (call->wake != NULL)
        (void)curl_multi_wakeup(call->wake); /* thread-safe in libcurl */
    if (call->multi != NULL)
        pc_multi_note_cancel(call->multi);
    pthread_mutex_unlock(&c->calls_lock);
}

int pincurl_call_is_cancelled(const pincurl_call *call)
{
    return call != NULL && atomic_load(&call->cancelled) != 0;
}

void pincurl_call_free(pincurl_call *call)
{
    pc_call_unref(call);
}
