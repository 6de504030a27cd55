/*
 * Multis: many calls of one client in flight on the thread that drives them, on libcurl's
 * multi interface.
 *
 * Lanes. A multi runs its transfers on libcurl multi handles ("lanes"), one per policy
 * generation: a libcurl multi handle keeps the connections (HTTP/2 ones shared by many
 * streams) and TLS sessions of its transfers, and a new generation must never reuse or
 * resume what an older one verified. A call starts on the lane of the generation in force;
 * after pincurl_client_set_policy a new lane is made, the old one takes no new call and is
 * freed (its connections closed) once its last call ended. A lane on which a connection or
 * session was refused in the request check is retired the same way, so the next calls start
 * on connections with full handshakes.
 *
 * Events. Every lane reports its sockets and its timer through CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION into one table; pincurl_multi_poll() polls that table itself, and
 * with socket callbacks the table is handed to the application's event loop, which calls
 * pincurl_multi_socket_action() (curl_multi_socket_action on the lane owning the socket).
 * One more descriptor, the wakeup descriptor, becomes readable when another thread added or
 * cancelled a call.
 *
 * Threads. Everything below runs on the driving thread, except what is marked otherwise:
 * the incoming queue, the cancellation flags and the driving marks are shared under the
 * client's calls_lock (pincurl_client_free reads them). Calls are started, moved on and
 * completed between libcurl calls, never inside a libcurl callback, so that a completion
 * callback may add and cancel calls.
 */
#include "http/call.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

/* Idle easy handles a multi keeps for its next calls. */
#ifndef PINCURL_FIRMWARE
#define PC_MULTI_IDLE_MAX 64
#else
#define PC_MULTI_IDLE_MAX 4
#endif
/* Idle connections a lane keeps (CURLMOPT_MAXCONNECTS; libcurl's default, four per
 * transfer running at the moment, closes most of them when a batch of HTTP/1.1 transfers
 * ends at once). */
#ifndef PINCURL_FIRMWARE
#define PC_MULTI_MAXCONNECTS 64L
#else
#define PC_MULTI_MAXCONNECTS 8L
#endif
/* Rounds of starting, moving on and completing per drive before returning to the wait. */
#define PC_MULTI_ROUNDS 8

typedef struct pc_lane {
    CURLM *multi;
    struct pincurl_multi *owner;
    uint64_t generation;
    size_t calls;       /* calls on it now */
    int64_t deadline;   /* libcurl's timer on the monotonic clock in ms, -1 for none */
    int retired;        /* takes no new call; freed once calls is 0 */
    int dying;          /* being freed: its socket reports are ignored */
    struct pc_lane *next;
} pc_lane;

typedef struct pc_sock {
    int fd;
    unsigned what; /* PINCURL_POLL_IN | PINCURL_POLL_OUT */
    pc_lane *lane; /* NULL for the wakeup descriptor */
} pc_sock;

struct pincurl_multi {
    pincurl_client *client; /* a reference */
    /* Shared, under client->calls_lock. */
    pincurl_call *in_head, *in_tail; /* added, not started yet */
    size_t queued;
    int closing;                    /* pincurl_multi_free began */
    int driving;                    /* a drive is in progress ... */
    pthread_t driver;               /* ... on this thread */
    struct pincurl_multi *cl_prev, *cl_next; /* the client's multis */
    /* Shared, atomic. */
    atomic_int signalled;    /* the wakeup descriptor holds a wakeup not yet read */
    atomic_int cancel_seen;  /* a call on it was cancelled */
    atomic_int cancel_all;   /* the client is being freed */
    int wake_rd, wake_wr;    /* the wakeup descriptor (one eventfd, or a pipe) */
    /* The driving thread only. */
    int in_drive;
    pc_lane *lanes;
    pincurl_call *active; /* started, not completed (call->next / call->prev) */
    size_t active_count;
    pc_sock *socks;
    size_t sock_count, sock_cap;
    struct pollfd *pfds;
    size_t pfd_cap;
    pincurl_socket_cb socket_cb;
    pincurl_timer_cb timer_cb;
    void *cb_user;
    int64_t told_deadline; /* the timer last given to timer_cb (-1 none, -2 never told) */
    CURL *idle[PC_MULTI_IDLE_MAX];
    unsigned idle_configured[PC_MULTI_IDLE_MAX]; /* what each holds (pc_xfer_park) */
    size_t idle_count;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------ */
/* The wakeup descriptor (any thread)                                                    */

static int wake_open(pincurl_multi *m)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return -1;
    m->wake_rd = m->wake_wr = fd;
    return 0;
#else
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    m->wake_rd = fds[0];
    m->wake_wr = fds[1];
    return 0;
#endif
}

static void wake_close(pincurl_multi *m)
{
    if (m->wake_rd >= 0)
        close(m->wake_rd);
    if (m->wake_wr >= 0 && m->wake_wr != m->wake_rd)
        close(m->wake_wr);
    m->wake_rd = m->wake_wr = -1;
}

void pc_multi_wake(pincurl_multi *m)
{
    if (atomic_exchange(&m->signalled, 1) == 0) {
#ifdef __linux__
        uint64_t one = 1;
        ssize_t n;
        do {
            n = write(m->wake_wr, &one, sizeof(one));
        } while (n < 0 && errno == EINTR);
#else
        char one = 1;
        ssize_t n;
        do {
            n = write(m->wake_wr, &one, 1);
        } while (n < 0 && errno == EINTR);
#endif
        (void)n; /* a full pipe or counter is readable already */
    }
}

/* Reads every wakeup written so far (the driving thread). */
static void wake_drain(pincurl_multi *m)
{
    char buf[64];
    atomic_store(&m->signalled, 0);
    while (read(m->wake_rd, buf, sizeof(buf)) > 0) {
    }
}

void pincurl_multi_wakeup(pincurl_multi *m)
{
    if (m != NULL)
        pc_multi_wake(m);
}

void pc_multi_note_cancel(pincurl_multi *m)
{
    atomic_store(&m->cancel_seen, 1);
    pc_multi_wake(m);
}

/* Under the client's calls_lock. */
void pc_multis_cancel_all(pincurl_client *c)
{
    for (pincurl_multi *m = c->multis; m != NULL; m = m->cl_next) {
        atomic_store(&m->cancel_all, 1);
        pc_multi_wake(m);
    }
}

/* Under the client's calls_lock. */
void pc_multis_wait_idle(pincurl_client *c)
{
    pthread_t self = pthread_self();
    for (;;) {
        pincurl_multi *busy = NULL;
        for (pincurl_multi *m = c->multis; m != NULL && busy == NULL; m = m->cl_next)
            if (m->driving && !pthread_equal(m->driver, self))
                busy = m;
        if (busy == NULL)
            return;
        pthread_cond_wait(&c->calls_cond, &c->calls_lock);
    }
}

/* ------------------------------------------------------------------------------------ */
/* The socket table and the timer                                                        */

static pc_sock *sock_find(pincurl_multi *m, int fd)
{
    for (size_t i = 0; i < m->sock_count; i++)
        if (m->socks[i].fd == fd)
            return &m->socks[i];
    return NULL;
}

/* Records what lane wants of fd (0: nothing, the descriptor is gone) and tells the
 * application's event loop. 0 on success, -1 on OOM. */
static int sock_set(pincurl_multi *m, pc_lane *lane, int fd, unsigned what)
{
    pc_sock *s = sock_find(m, fd);

    if (what == 0) {
        if (s == NULL)
            return 0;
        *s = m->socks[--m->sock_count];
        if (m->socket_cb != NULL)
            m->socket_cb(fd, PINCURL_POLL_REMOVE, m->cb_user);
        return 0;
    }
    if (s == NULL) {
        if (m->sock_count == m->sock_cap) {
            size_t cap = m->sock_cap ? m->sock_cap * 2 : 16;
            pc_sock *grown = realloc(m->socks, cap * sizeof(*grown));
            if (grown == NULL)
                return -1;
            m->socks = grown;
            m->sock_cap = cap;
        }
        s = &m->socks[m->sock_count++];
        s->fd = fd;
        s->what = 0;
    }
    s->lane = lane;
    if (s->what != what) {
        s->what = what;
        if (m->socket_cb != NULL)
            m->socket_cb(fd, what, m->cb_user);
    }
    return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    pc_lane *lane = userp;
    unsigned w = 0;

    (void)easy;
    (void)socketp;
    if (lane->dying)
        return 0;
    if (what != CURL_POLL_REMOVE) {
        if (what & CURL_POLL_IN)
            w |= PINCURL_POLL_IN;
        if (what & CURL_POLL_OUT)
            w |= PINCURL_POLL_OUT;
    }
    return sock_set(lane->owner, lane, (int)fd, w) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    pc_lane *lane = userp;
    (void)multi;
    lane->deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

/* The earliest lane deadline, -1 for none. */
static int64_t next_deadline(const pincurl_multi *m)
{
    int64_t d = -1;
    for (const pc_lane *l = m->lanes; l != NULL; l = l->next)
        if (l->deadline >= 0 && (d < 0 || l->deadline < d))
            d = l->deadline;
    return d;
}

/* Gives the application's event loop the timer, when it changed. */
static void tell_timer(pincurl_multi *m)
{
    int64_t d;
    if (m->timer_cb == NULL)
        return;
    d = next_deadline(m);
    if (d == m->told_deadline)
        return;
    m->told_deadline = d;
    if (d < 0) {
        m->timer_cb(-1, m->cb_user);
    } else {
        int64_t left = d - now_ms();
        m->timer_cb(left < 0 ? 0 : (long)left, m->cb_user);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Lanes                                                                                 */

static pc_lane *lane_new(pincurl_multi *m, uint64_t generation)
{
    pc_lane *lane = calloc(1, sizeof(*lane));
    if (lane == NULL)
        return NULL;
    lane->multi = curl_multi_init();
    if (lane->multi == NULL ||
        curl_multi_setopt(lane->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(lane->multi, CURLMOPT_SOCKETDATA, lane) != CURLM_OK ||
        curl_multi_setopt(lane->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_multi_setopt(lane->multi, CURLMOPT_TIMERDATA, lane) != CURLM_OK ||
        curl_multi_setopt(lane->multi, CURLMOPT_MAXCONNECTS, PC_MULTI_MAXCONNECTS) !=
            CURLM_OK) {
        if (lane->multi != NULL)
            curl_multi_cleanup(lane->multi);
        free(lane);
        return NULL;
    }
    lane->owner = m;
    lane->generation = generation;
    lane->deadline = -1;
    lane->next = m->lanes;
    m->lanes = lane;
    return lane;
}

/* Closes a lane's connections and frees it (it has no call left). */
static void lane_free(pincurl_multi *m, pc_lane *lane)
{
    pc_lane **p = &m->lanes;
    while (*p != NULL && *p != lane)
        p = &(*p)->next;
    if (*p == lane)
        *p = lane->next;
    /* its sockets leave the table (and the application's loop) before they are closed */
    for (size_t i = 0; i < m->sock_count;) {
        if (m->socks[i].lane == lane)
            (void)sock_set(m, lane, m->socks[i].fd, 0);
        else
            i++;
    }
    lane->dying = 1;
    curl_multi_cleanup(lane->multi);
    free(lane);
}

/* The lane for a call starting under generation: the current one, or a new one (earlier
 * generations' lanes are retired). NULL on OOM. */
static pc_lane *lane_for(pincurl_multi *m, uint64_t generation)
{
    pc_lane *found = NULL;
    for (pc_lane *l = m->lanes; l != NULL; l = l->next) {
        if (l->retired)
            continue;
        if (l->generation != generation)
            l->retired = 1; /* an older generation's connections are never reused */
        else if (found == NULL)
            found = l;
    }
    return found != NULL ? found : lane_new(m, generation);
}

static void lanes_sweep(pincurl_multi *m)
{
    pc_lane *l = m->lanes;
    while (l != NULL) {
        pc_lane *next = l->next;
        if (l->retired && l->calls == 0)
            lane_free(m, l);
        l = next;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Easy handles                                                                          */

/* An idle handle and what it is configured for (pc_xfer_park), or a new one. */
static CURL *idle_take(pincurl_multi *m, unsigned *configured)
{
    *configured = 0;
    if (m->idle_count > 0) {
        m->idle_count--;
        *configured = m->idle_configured[m->idle_count];
        return m->idle[m->idle_count];
    }
    return curl_easy_init();
}

/* Keeps call's handle for a later call, parked (no pointer into the call survives in it). */
static void idle_put(pincurl_multi *m, pincurl_call *call, CURL *e)
{
    unsigned configured;
    if (e == NULL)
        return;
    configured = pc_xfer_park(call, e);
    if (m->idle_count < PC_MULTI_IDLE_MAX) {
        m->idle_configured[m->idle_count] = configured;
        m->idle[m->idle_count++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Calls                                                                                 */

static void active_link(pincurl_multi *m, pincurl_call *call)
{
    call->prev = NULL;
    call->next = m->active;
    if (m->active != NULL)
        m->active->prev = call;
    m->active = call;
    m->active_count++;
}

static void active_unlink(pincurl_multi *m, pincurl_call *call)
{
    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        m->active = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    call->next = call->prev = NULL;
    m->active_count--;
}

/* The call ended: its callback, then the multi's reference goes. */
static void complete(pincurl_multi *m, pincurl_call *call, pincurl_status st, char *detail)
{
    pincurl_client *c = m->client;
    pincurl_response *resp = pc_call_result(call, st, detail);

    atomic_store(&call->state, PC_CALL_DONE);
    pthread_mutex_lock(&c->calls_lock);
    call->multi = NULL;
    pthread_mutex_unlock(&c->calls_lock);
    call->done(call, st, resp, call->done_user);
    pc_call_unref(call);
}

static void start(pincurl_multi *m, pincurl_call *call);

/* A started call's transfer is over with code (its handle still on its lane). */
static void finish(pincurl_multi *m, pincurl_call *call, CURLcode code)
{
    pc_lane *lane = call->lane;
    pincurl_status st;
    char *detail = NULL;
    int retry = 0, retire = 0;

    (void)curl_multi_remove_handle(lane->multi, call->easy);
    active_unlink(m, call);
    lane->calls--;
    call->lane = NULL;
    st = pc_xfer_end(call, code, &retry, &retire, &detail);
    /* A connection or session refused in the request check stays in the lane's caches:
     * later calls start on a new lane (full handshakes). */
    if (call->x.pin.retire || retry)
        lane->retired = 1;
    idle_put(m, call, call->easy); /* parked before what it points into is freed */
    pc_xfer_release(call);
    if (retry) {
        call->attempt++;
        start(m, call);
        return;
    }
    complete(m, call, st, detail);
}

static void start(pincurl_multi *m, pincurl_call *call)
{
    pc_lane *lane;
    CURL *e;
    unsigned held = 0;
    pincurl_status st;
    char *detail = NULL;

    if (call->resp == NULL)
        call->resp = pc_response_new(); /* NULL: completes with OUT_OF_MEMORY below */
    if (pc_call_cancelled(call) || atomic_load(&m->cancel_all)) {
        atomic_store(&call->cancelled, 1);
        complete(m, call, PINCURL_CANCELLED, pc_call_cancel_detail(call));
        return;
    }
    lane = lane_for(m, pincurl_client_generation(m->client));
    e = lane != NULL && call->resp != NULL ? idle_take(m, &held) : NULL;
    if (e == NULL) {
        complete(m, call, PINCURL_OUT_OF_MEMORY, NULL);
        return;
    }
    st = pc_xfer_begin(call, e, held, 1, &detail);
    if (st == PINCURL_OK && curl_multi_add_handle(lane->multi, e) != CURLM_OK)
        st = PINCURL_INTERNAL;
    if (st != PINCURL_OK) {
        if (call->x.pin.retire)
            lane->retired = 1;
        idle_put(m, call, e);
        pc_xfer_release(call);
        complete(m, call, st, detail);
        return;
    }
    call->lane = lane;
    lane->calls++;
    active_link(m, call);
}

/* Starts what was added since the last drive. */
static void take_incoming(pincurl_multi *m)
{
    pincurl_client *c = m->client;
    pincurl_call *list;

    pthread_mutex_lock(&c->calls_lock);
    list = m->in_head;
    m->in_head = m->in_tail = NULL;
    m->queued = 0;
    pthread_mutex_unlock(&c->calls_lock);
    while (list != NULL) {
        pincurl_call *call = list;
        list = call->next;
        call->next = NULL;
        start(m, call);
    }
}

/* Ends the cancelled calls (all of them when the client is being freed). */
static void take_cancels(pincurl_multi *m)
{
    int all = atomic_load(&m->cancel_all);

    if (!all && atomic_exchange(&m->cancel_seen, 0) == 0)
        return;
    for (pincurl_call *call = m->active; call != NULL;) {
        pincurl_call *next = call->next;
        if (all)
            atomic_store(&call->cancelled, 1);
        if (pc_call_cancelled(call)) {
            /* out of libcurl at once: an HTTP/2 stream is reset, an HTTP/1 connection
             * in use is closed */
            call->x.cancel_seen = 1;
            finish(m, call, CURLE_ABORTED_BY_CALLBACK);
        }
        call = next;
    }
    if (all)
        take_incoming(m); /* each completes with CANCELLED */
}

/* Reads what libcurl finished on every lane. */
static void take_done(pincurl_multi *m)
{
    for (pc_lane *l = m->lanes; l != NULL; l = l->next) {
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
            pincurl_call *call = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call) !=
                    CURLE_OK ||
                call == NULL)
                continue;
            /* finish() may retire and even free lanes only through lanes_sweep, later */
            finish(m, call, msg->data.result);
        }
    }
}

/* Runs libcurl's due timers. 1 if one was due. */
static int run_timers(pincurl_multi *m)
{
    int64_t now = now_ms();
    int ran = 0;
    for (pc_lane *l = m->lanes; l != NULL; l = l->next) {
        if (l->deadline >= 0 && l->deadline <= now) {
            int running = 0;
            l->deadline = -1;
            (void)curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            ran = 1;
        }
    }
    return ran;
}

static int incoming_waiting(pincurl_multi *m)
{
    int waiting;
    pthread_mutex_lock(&m->client->calls_lock);
    waiting = m->in_head != NULL;
    pthread_mutex_unlock(&m->client->calls_lock);
    return waiting;
}

/* Starts, moves on and completes what is due, a few rounds. */
static void process(pincurl_multi *m)
{
    for (int round = 0; round < PC_MULTI_ROUNDS; round++) {
        take_cancels(m);
        take_incoming(m);
        (void)run_timers(m);
        take_done(m);
        if (atomic_load(&m->cancel_seen) == 0 && !atomic_load(&m->cancel_all) &&
            !incoming_waiting(m)) {
            int64_t d = next_deadline(m);
            if (d < 0 || d > now_ms())
                break;
        }
    }
    lanes_sweep(m);
}

/* Acts on one ready descriptor. */
static void act(pincurl_multi *m, int fd, int ev_bitmask)
{
    pc_sock *s;
    int running = 0;

    if (fd == m->wake_rd) {
        wake_drain(m);
        return;
    }
    s = sock_find(m, fd);
    if (s == NULL || s->lane == NULL)
        return; /* no longer watched */
    (void)curl_multi_socket_action(s->lane->multi, (curl_socket_t)fd, ev_bitmask, &running);
}

static size_t running_calls(pincurl_multi *m)
{
    size_t queued;
    pthread_mutex_lock(&m->client->calls_lock);
    queued = m->queued;
    pthread_mutex_unlock(&m->client->calls_lock);
    return queued + m->active_count;
}

static void drive_begin(pincurl_multi *m)
{
    pincurl_client *c = m->client;
    m->in_drive = 1;
    pthread_mutex_lock(&c->calls_lock);
    m->driving = 1;
    m->driver = pthread_self();
    pthread_mutex_unlock(&c->calls_lock);
    /* what was cancelled goes before libcurl runs again */
    take_cancels(m);
}

static void drive_end(pincurl_multi *m, size_t *running)
{
    pincurl_client *c = m->client;
    tell_timer(m);
    if (running != NULL)
        *running = running_calls(m);
    pthread_mutex_lock(&c->calls_lock);
    m->driving = 0;
    pthread_cond_broadcast(&c->calls_cond);
    pthread_mutex_unlock(&c->calls_lock);
    m->in_drive = 0;
}

/* ------------------------------------------------------------------------------------ */
/* The API                                                                               */

pincurl_status pincurl_multi_new(pincurl_client *c, pincurl_multi **out)
{
    pincurl_multi *m;
    int closing;

    if (out != NULL)
        *out = NULL;
    if (c == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return PINCURL_OUT_OF_MEMORY;
    m->wake_rd = m->wake_wr = -1;
    if (wake_open(m) != 0) {
        free(m);
        return PINCURL_IO;
    }
    atomic_init(&m->signalled, 0);
    atomic_init(&m->cancel_seen, 0);
    atomic_init(&m->cancel_all, 0);
    m->told_deadline = -2;
    m->client = c;
    pthread_mutex_lock(&c->calls_lock);
    closing = c->closing;
    if (!closing) {
        pc_client_ref(c);
        m->cl_next = c->multis;
        if (c->multis != NULL)
            c->multis->cl_prev = m;
        c->multis = m;
    }
    pthread_mutex_unlock(&c->calls_lock);
    if (closing) {
        wake_close(m);
        free(m);
        return PINCURL_CANCELLED;
    }
    *out = m;
    return PINCURL_OK;
}

void pincurl_multi_free(pincurl_multi *m)
{
    pincurl_client *c;

    if (m == NULL || m->in_drive)
        return;
    c = m->client;
    m->in_drive = 1;
    pthread_mutex_lock(&c->calls_lock);
    m->closing = 1; /* no call is added any more */
    if (m->cl_prev != NULL)
        m->cl_prev->cl_next = m->cl_next;
    else
        c->multis = m->cl_next;
    if (m->cl_next != NULL)
        m->cl_next->cl_prev = m->cl_prev;
    pthread_mutex_unlock(&c->calls_lock);
    /* every call still on it ends here, cancelled */
    atomic_store(&m->cancel_all, 1);
    take_cancels(m);
    while (m->lanes != NULL)
        lane_free(m, m->lanes);
    if (m->socket_cb != NULL) {
        m->socket_cb(m->wake_rd, PINCURL_POLL_REMOVE, m->cb_user);
        if (m->told_deadline != -1)
            m->timer_cb(-1, m->cb_user);
    }
    for (size_t i = 0; i < m->idle_count; i++)
        curl_easy_cleanup(m->idle[i]);
    wake_close(m);
    free(m->socks);
    free(m->pfds);
    free(m);
    pc_client_unref(c);
}

pincurl_status pincurl_multi_add(pincurl_multi *m, pincurl_call *call, pincurl_call_done_cb done,
                                 void *user)
{
    pincurl_client *c;
    int expected = PC_CALL_NEW;
    pincurl_status st = PINCURL_OK;

    if (m == NULL || call == NULL || done == NULL || call->client != m->client)
        return PINCURL_INVALID_ARGUMENT;
    if (!atomic_compare_exchange_strong(&call->state, &expected, PC_CALL_STARTED))
        return PINCURL_INVALID_ARGUMENT;
    c = m->client;
    call->done = done;
    call->done_user = user;
    pthread_mutex_lock(&c->calls_lock);
    if (c->closing || m->closing) {
        st = PINCURL_CANCELLED;
    } else {
        atomic_fetch_add(&call->refs, 1); /* the multi's, until the callback returned */
        call->multi = m;
        call->next = NULL;
        if (m->in_tail != NULL)
            m->in_tail->next = call;
        else
            m->in_head = call;
        m->in_tail = call;
        m->queued++;
    }
    pthread_mutex_unlock(&c->calls_lock);
    if (st != PINCURL_OK) {
        atomic_store(&call->state, PC_CALL_NEW);
        return st;
    }
    pc_multi_wake(m);
    return PINCURL_OK;
}

pincurl_status pincurl_multi_poll(pincurl_multi *m, long timeout_ms, size_t *running)
{
    size_t n = 0;
    int ready;
    int wait_ms;

    if (running != NULL)
        *running = 0;
    if (m == NULL || timeout_ms < -1 || m->socket_cb != NULL || m->in_drive)
        return PINCURL_INVALID_ARGUMENT;
    drive_begin(m);
    process(m);
    /* the descriptors to wait on: the wakeup descriptor and the lanes' sockets */
    if (m->pfd_cap < m->sock_count + 1) {
        size_t cap = m->sock_count + 16;
        struct pollfd *grown = realloc(m->pfds, cap * sizeof(*grown));
        if (grown == NULL) {
            drive_end(m, running);
            return PINCURL_OUT_OF_MEMORY;
        }
        m->pfds = grown;
        m->pfd_cap = cap;
    }
    m->pfds[n].fd = m->wake_rd;
    m->pfds[n].events = POLLIN;
    m->pfds[n++].revents = 0;
    for (size_t i = 0; i < m->sock_count; i++, n++) {
        m->pfds[n].fd = m->socks[i].fd;
        m->pfds[n].events = (short)(((m->socks[i].what & PINCURL_POLL_IN) ? POLLIN : 0) |
                                    ((m->socks[i].what & PINCURL_POLL_OUT) ? POLLOUT : 0));
        m->pfds[n].revents = 0;
    }
    {
        int64_t d = next_deadline(m);
        int64_t w = timeout_ms;
        if (d >= 0) {
            int64_t left = d - now_ms();
            if (left < 0)
                left = 0;
            if (w < 0 || left < w)
                w = left;
        }
        if (atomic_load(&m->cancel_seen) || atomic_load(&m->cancel_all))
            w = 0;
        wait_ms = w > 3600000 ? 3600000 : (int)w;
    }
    ready = poll(m->pfds, (nfds_t)n, wait_ms);
    if (ready > 0) {
        take_cancels(m);
        for (size_t i = 0; i < n; i++) {
            short re = m->pfds[i].revents;
            int ev = 0;
            if (re == 0)
                continue;
            if (re & (POLLIN | POLLHUP))
                ev |= CURL_CSELECT_IN;
            if (re & POLLOUT)
                ev |= CURL_CSELECT_OUT;
            if (re & (POLLERR | POLLNVAL))
                ev |= CURL_CSELECT_ERR;
            act(m, m->pfds[i].fd, ev);
        }
    }
    process(m);
    drive_end(m, running);
    return PINCURL_OK;
}

pincurl_status pincurl_multi_set_socket_callbacks(pincurl_multi *m, pincurl_socket_cb socket_cb,
                                                  pincurl_timer_cb timer_cb, void *user)
{
    if (m == NULL || (socket_cb == NULL) != (timer_cb == NULL) || m->in_drive)
        return PINCURL_INVALID_ARGUMENT;
    if (m->socket_cb != NULL && socket_cb == NULL) {
        /* back to pincurl_multi_poll: the event loop stops watching */
        for (size_t i = 0; i < m->sock_count; i++)
            m->socket_cb(m->socks[i].fd, PINCURL_POLL_REMOVE, m->cb_user);
        m->socket_cb(m->wake_rd, PINCURL_POLL_REMOVE, m->cb_user);
        m->timer_cb(-1, m->cb_user);
    }
    m->socket_cb = socket_cb;
    m->timer_cb = timer_cb;
    m->cb_user = user;
    m->told_deadline = -2;
    if (socket_cb != NULL) {
        m->in_drive = 1;
        socket_cb(m->wake_rd, PINCURL_POLL_IN, user);
        for (size_t i = 0; i < m->sock_count; i++)
            socket_cb(m->socks[i].fd, m->socks[i].what, user);
        /* added calls (if any) are started from the event loop, at once */
        if (incoming_waiting(m) || atomic_load(&m->signalled))
            timer_cb(0, user);
        else
            tell_timer(m);
        m->in_drive = 0;
    }
    return PINCURL_OK;
}

pincurl_status pincurl_multi_socket_action(pincurl_multi *m, int fd, unsigned events,
                                           size_t *running)
{
    if (running != NULL)
        *running = 0;
    if (m == NULL || m->socket_cb == NULL || m->in_drive)
        return PINCURL_INVALID_ARGUMENT;
    drive_begin(m);
    if (fd == PINCURL_SOCKET_TIMEOUT) {
        m->told_deadline = -2; /* the timer fired: whatever is due next is told again */
    } else {
        int ev = 0;
        if (events & PINCURL_POLL_IN)
            ev |= CURL_CSELECT_IN;
        if (events & PINCURL_POLL_OUT)
            ev |= CURL_CSELECT_OUT;
        act(m, fd, ev);
    }
    process(m);
    drive_end(m, running);
    return PINCURL_OK;
}
