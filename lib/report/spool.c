/* The durable report spool and its background sender (docs/reports.md). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"

#define SPOOL_FORMAT 1
#define DEDUP_FILE "dedup.json"
#define TMP_PREFIX ".tmp-"
#define REPORT_SUFFIX ".report"
#define BAD_SUFFIX ".bad"
#define NAME_MAX_LEN 64
/* A spool file larger than this is damaged whatever the configured bounds. */
#define FILE_HARD_CAP ((size_t)64 * 1024 * 1024)

typedef struct entry {
    char name[NAME_MAX_LEN];
    size_t size;
    char host[PINCURL_HOST_MAX + 1];
    unsigned port;
    size_t uri_count;
    unsigned acked;        /* bit i: URI i acknowledged (in this process or in the file) */
    unsigned attempts;     /* failed delivery rounds */
    int64_t next_ms;       /* monotonic time of the next attempt */
    int busy;              /* the sender is delivering it (lock released) */
    int done;              /* delivered, but the file could not be removed */
} entry;

typedef struct dedup_key {
    unsigned char key[32];
    int64_t t;
} dedup_key;

typedef struct event_rec {
    pincurl_event_kind kind;
    pincurl_status status;
    char host[PINCURL_HOST_MAX + 1];
    unsigned port;
    char message[512];
} event_rec;

typedef struct event_list {
    event_rec *v;
    size_t n, cap;
} event_list;

struct pc_spool {
    pc_spool_config cfg; /* cfg.dir points to dir */
    char *dir;
    int dirfd;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the sender waits on it */
    pthread_cond_t idle; /* flush waits on it */
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    entry *entries; /* oldest first (names sort by age) */
    size_t count, cap;
    size_t bytes;
    dedup_key *keys;
    size_t key_count;
    uint64_t last_ns;
    uint64_t rng;
    _Atomic uint64_t dropped, suppressed;
};

/* ---- small helpers ------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(int64_t at_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(at_ms / 1000);
    ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

static pincurl_status errno_status(int e)
{
    switch (e) {
    case EROFS:
    case EACCES:
    case EPERM:
        return PINCURL_SPOOL_READ_ONLY;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return PINCURL_SPOOL_NO_SPACE;
    case ENOMEM:
        return PINCURL_OUT_OF_MEMORY;
    default:
        return PINCURL_IO;
    }
}

/* ---- the names the spool makes ------------------------------------------------------
 * The spool writes only these names, and touches (reads, renames, removes) nothing else:
 *   report:     20 decimal digits + ".report"
 *   window:     "dedup.json"
 *   temporary:  ".tmp-" + a report or window name
 *   set aside:  a report or window name + ".bad"
 * and only regular files: a directory, link, FIFO or socket of such a name is not its own. */

#define REPORT_DIGITS 20

static int is_report_name(const char *n)
{
    size_t len = strlen(n);
    if (len != REPORT_DIGITS + strlen(REPORT_SUFFIX))
        return 0;
    for (size_t i = 0; i < REPORT_DIGITS; i++)
        if (n[i] < '0' || n[i] > '9')
            return 0;
    return strcmp(n + REPORT_DIGITS, REPORT_SUFFIX) == 0;
}

/* A report or window name, the first len bytes of n. */
static int is_own_name_n(const char *n, size_t len)
{
    char buf[NAME_MAX_LEN];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, n, len);
    buf[len] = '\0';
    return is_report_name(buf) || strcmp(buf, DEDUP_FILE) == 0;
}

static int is_tmp_name(const char *n)
{
    size_t p = strlen(TMP_PREFIX);
    return strncmp(n, TMP_PREFIX, p) == 0 && is_own_name_n(n + p, strlen(n + p));
}

static int is_bad_name(const char *n)
{
    size_t len = strlen(n), b = strlen(BAD_SUFFIX);
    return len > b && strcmp(n + len - b, BAD_SUFFIX) == 0 && is_own_name_n(n, len - b);
}

/* 1 if name is a regular file in the directory (a link is not followed). */
static int is_regular_at(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static void events_add(event_list *l, pincurl_event_kind kind, pincurl_status status,
                       const char *host, unsigned port, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void events_add(event_list *l, pincurl_event_kind kind, pincurl_status status,
                       const char *host, unsigned port, const char *fmt, ...)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        event_rec *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return; /* the counters still count; only the notification is lost */
        l->v = v;
        l->cap = cap;
    }
    event_rec *e = &l->v[l->n++];
    e->kind = kind;
    e->status = status;
    snprintf(e->host, sizeof e->host, "%s", host != NULL ? host : "");
    e->port = port;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Delivers and empties the list; called with no lock held. */
static void events_emit(pc_spool *s, event_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (s->cfg.event != NULL)
            s->cfg.event(s->cfg.ctx, l->v[i].kind, l->v[i].status, l->v[i].host, l->v[i].port,
                         l->v[i].message);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static uint64_t rng_next(pc_spool *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return x;
}

/* Backoff after `attempts` failed rounds: first * 2^(attempts-1), at most 1 h, then
 * "equal jitter": half of it fixed, half uniformly random. */
static int64_t backoff_ms(pc_spool *s, unsigned attempts)
{
    int64_t d = s->cfg.first_retry_ms;
    for (unsigned i = 1; i < attempts && d < PC_SPOOL_MAX_RETRY_MS; i++)
        d *= 2;
    if (d > PC_SPOOL_MAX_RETRY_MS)
        d = PC_SPOOL_MAX_RETRY_MS;
    int64_t half = d / 2;
    return d - half + (int64_t)(rng_next(s) % (uint64_t)(half + 1));
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_decode(const char *in, unsigned char *out, size_t n)
{
    if (strlen(in) != 2 * n)
        return 0;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = in[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return 0;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 1;
}

/* ---- files ----------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes name in the spool directory atomically and durably: a temporary file, fsync,
 * rename, fsync of the directory. On failure nothing is left behind and an existing
 * name is untouched. */
static pincurl_status write_atomic(pc_spool *s, const char *name, const char *data, size_t len)
{
    char tmp[NAME_MAX_LEN + 16];
    snprintf(tmp, sizeof tmp, TMP_PREFIX "%s", name);
    int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST && is_regular_at(s->dirfd, tmp)) {
        unlinkat(s->dirfd, tmp, 0); /* a crash's leftover of this very name */
        fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        return errno_status(errno);
    int e = 0;
    struct stat st;
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    /* Replaces only a file of its own: never a directory, link or device of that name. */
    if (e == 0 && fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
        e = EEXIST;
    if (e == 0 && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
        e = errno;
    if (e != 0) {
        unlinkat(s->dirfd, tmp, 0);
        return errno_status(e);
    }
    if (fsync(s->dirfd) != 0)
        return errno_status(errno);
    return PINCURL_OK;
}

/* Reads a whole spool file (at most cap bytes). Returns 0, or an errno (EFBIG when larger
 * than cap). */
static int read_at(int dirfd, const char *name, size_t cap, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO of this name must not block the open (it is refused below). */
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno ? errno : EINVAL;
        close(fd);
        return e;
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return EFBIG;
    }
    size_t want = (size_t)st.st_size;
    char *buf = malloc(want + 1);
    if (buf == NULL) {
        close(fd);
        return ENOMEM;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO; /* shrank while reading */
            free(buf);
            close(fd);
            return e;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

/* ---- spool file format --------------------------------------------------------------- */

/* Parses and checks a spool file. On success returns the tree (caller deletes) and fills
 * host, port, uri count and acknowledged bits; on failure NULL and *why. */
static cJSON *parse_spool_file(const char *data, size_t len, entry *e, const char **why)
{
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (root == NULL) {
        *why = "not JSON";
        return NULL;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "pincurl-spool");
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(root, "uris");
    const cJSON *acks = cJSON_GetObjectItemCaseSensitive(root, "acknowledged");
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(root, "report");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(rep, "hostname");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(rep, "port");
    *why = NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(fmt) || fmt->valuedouble != SPOOL_FORMAT)
        *why = "not a pincurl spool file of format 1";
    else if (!cJSON_IsArray(uris) || !cJSON_IsArray(acks) || !cJSON_IsObject(rep))
        *why = "uris, acknowledged or report missing";
    else if (!cJSON_IsString(host) || !cJSON_IsNumber(port) || port->valuedouble < 1 ||
             port->valuedouble > 65535)
        *why = "report lacks hostname or port";
    if (*why == NULL) {
        int n = cJSON_GetArraySize(uris);
        if (n < 1 || n > PINCURL_MAX_REPORT_URIS || cJSON_GetArraySize(acks) != n)
            *why = "uris and acknowledged do not match";
        e->uri_count = (size_t)(n > 0 ? n : 0);
        e->acked = 0;
        for (int i = 0; *why == NULL && i < n; i++) {
            const cJSON *u = cJSON_GetArrayItem(uris, i);
            const cJSON *a = cJSON_GetArrayItem(acks, i);
            if (!cJSON_IsString(u) || u->valuestring[0] == '\0' || !cJSON_IsBool(a))
                *why = "a URI or acknowledgement has the wrong type";
            else if (cJSON_IsTrue(a))
                e->acked |= 1u << i;
        }
    }
    if (*why != NULL) {
        cJSON_Delete(root);
        return NULL;
    }
    snprintf(e->host, sizeof e->host, "%s", host->valuestring);
    e->port = (unsigned)port->valuedouble;
    return root;
}

static unsigned all_acked(size_t n)
{
    return n >= 32 ? ~0u : (1u << n) - 1u;
}

/* ---- the index ----------------------------------------------------------------------- */

static size_t find_entry(const pc_spool *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->entries[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static void remove_entry(pc_spool *s, size_t i)
{
    s->bytes -= s->entries[i].size;
    memmove(&s->entries[i], &s->entries[i + 1], (s->count - i - 1) * sizeof *s->entries);
    s->count--;
}

static int append_entry(pc_spool *s, const entry *e)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        entry *v = realloc(s->entries, cap * sizeof *v);
        if (v == NULL)
            return 0;
        s->entries = v;
        s->cap = cap;
    }
    s->entries[s->count++] = *e;
    s->bytes += e->size;
    return 1;
}

static size_t pending_locked(const pc_spool *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += !s->entries[i].done;
    return n;
}

/* Keeps at most PC_SPOOL_MAX_SET_ASIDE files NAME.bad: removes the first by name (report
 * names sort oldest first). */
static void prune_set_aside(pc_spool *s)
{
    for (int round = 0; round < 64; round++) {
        int fd = dup(s->dirfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
            if (fd >= 0)
                close(fd);
            return;
        }
        rewinddir(d);
        size_t n = 0;
        char oldest[NAME_MAX_LEN + 8] = "";
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t len = strlen(de->d_name);
            if (!is_bad_name(de->d_name) || len >= sizeof oldest ||
                !is_regular_at(s->dirfd, de->d_name))
                continue;
            n++;
            if (oldest[0] == '\0' || strcmp(de->d_name, oldest) < 0)
                memcpy(oldest, de->d_name, len + 1);
        }
        closedir(d);
        if (n <= PC_SPOOL_MAX_SET_ASIDE || unlinkat(s->dirfd, oldest, 0) != 0)
            return;
    }
}

/* Renames a damaged file aside (NAME.bad) and records the event. */
static void set_aside(pc_spool *s, const char *name, const char *why, event_list *ev)
{
    char bad[NAME_MAX_LEN + 8];
    snprintf(bad, sizeof bad, "%s" BAD_SUFFIX, name);
    if (!is_regular_at(s->dirfd, name)) {
        /* Not a file the spool wrote (it writes regular files only): left alone. */
        events_add(ev, PINCURL_EVENT_REPORT_SET_ASIDE, PINCURL_SPOOL_DAMAGED, "", 0,
                   "spool entry %s is not a regular file (%s); it is ignored and left alone",
                   name, why);
        return;
    }
    if (renameat(s->dirfd, name, s->dirfd, bad) == 0) {
        prune_set_aside(s);
        fsync(s->dirfd);
        events_add(ev, PINCURL_EVENT_REPORT_SET_ASIDE, PINCURL_SPOOL_DAMAGED, "", 0,
                   "spool file %s is damaged (%s); renamed to %s", name, why, bad);
    } else {
        int e = errno;
        events_add(ev, PINCURL_EVENT_REPORT_SET_ASIDE, PINCURL_SPOOL_DAMAGED, "", 0,
                   "spool file %s is damaged (%s) and could not be renamed (%s); it is ignored",
                   name, why, strerror(e));
    }
}

/* Removes the oldest reports until count <= max_count and bytes <= max_bytes; `keep` (a
 * name, or NULL) is never removed. Called with the lock held. */
static void enforce_bounds(pc_spool *s, size_t max_count, size_t max_bytes, const char *keep,
                           event_list *ev)
{
    size_t i = 0;
    int removed = 0;
    while ((s->count > max_count || s->bytes > max_bytes) && i < s->count) {
        entry *e = &s->entries[i];
        if (keep != NULL && strcmp(e->name, keep) == 0) {
            i++;
            continue;
        }
        /* a name swapped for something else meanwhile is dropped from the index only */
        int rc = is_regular_at(s->dirfd, e->name) ? unlinkat(s->dirfd, e->name, 0) : 0;
        if (rc != 0 && errno != ENOENT) {
            i++; /* cannot remove it (read-only?): it stays, and counts */
            continue;
        }
        if (!e->done) {
            atomic_fetch_add(&s->dropped, 1);
            events_add(ev, PINCURL_EVENT_REPORT_DROPPED, PINCURL_LIMIT_EXCEEDED, e->host, e->port,
                       "spool full (%zu reports, %zu bytes at most): oldest report %s dropped",
                       s->cfg.max_reports, s->cfg.max_bytes, e->name);
        }
        remove_entry(s, i);
        removed = 1;
    }
    if (removed)
        fsync(s->dirfd);
}

/* ---- the deduplication window -------------------------------------------------------- */

static void dedup_prune(pc_spool *s, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < s->key_count; i++)
        if (s->keys[i].t <= now && now - s->keys[i].t < s->cfg.dedup_window_s)
            s->keys[j++] = s->keys[i];
    s->key_count = j;
}

static pincurl_status dedup_save(pc_spool *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "keys") : NULL;
    int ok = arr != NULL && cJSON_AddNumberToObject(root, "pincurl-dedup", 1) != NULL;
    for (size_t i = 0; ok && i < s->key_count; i++) {
        char hex[65];
        hex_encode(s->keys[i].key, 32, hex);
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            ok = 0;
            break;
        }
        ok = cJSON_AddStringToObject(o, "key", hex) != NULL &&
             cJSON_AddNumberToObject(o, "time", (double)s->keys[i].t) != NULL;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL)
        return PINCURL_OUT_OF_MEMORY;
    pincurl_status st = write_atomic(s, DEDUP_FILE, text, strlen(text));
    free(text);
    return st;
}

static void dedup_load(pc_spool *s, event_list *ev)
{
    char *data;
    size_t len;
    int e = read_at(s->dirfd, DEDUP_FILE, (size_t)PC_SPOOL_MAX_DEDUP_KEYS * 128 + 4096, &data,
                    &len);
    if (e == ENOENT)
        return;
    const char *why = NULL;
    cJSON *root = e == 0 ? cJSON_ParseWithLength(data, len) : NULL;
    free(data);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "pincurl-dedup");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (e != 0)
        why = strerror(e);
    else if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 1 || !cJSON_IsArray(arr) ||
             cJSON_GetArraySize(arr) > PC_SPOOL_MAX_DEDUP_KEYS)
        why = "not a pincurl deduplication file of format 1";
    if (why == NULL) {
        int n = cJSON_GetArraySize(arr);
        s->keys = calloc((size_t)n + 1, sizeof *s->keys);
        if (s->keys == NULL)
            why = "out of memory";
        for (int i = 0; why == NULL && i < n; i++) {
            const cJSON *o = cJSON_GetArrayItem(arr, i);
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
            if (!cJSON_IsString(k) || !cJSON_IsNumber(t) ||
                !hex_decode(k->valuestring, s->keys[i].key, 32))
                why = "an entry is malformed";
            else
                s->keys[i].t = (int64_t)t->valuedouble;
        }
        s->key_count = why == NULL ? (size_t)n : 0;
    }
    cJSON_Delete(root);
    if (why != NULL)
        set_aside(s, DEDUP_FILE, why, ev);
}

/* ---- open ------------------------------------------------------------------------------ */

static pincurl_status mkdir_p(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (p == NULL)
        return PINCURL_OUT_OF_MEMORY;
    memcpy(p, dir, n + 1);
    pincurl_status st = PINCURL_OK;
    for (size_t i = 1; i <= n && st == PINCURL_OK; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            st = e == EACCES || e == EROFS || e == EPERM ? PINCURL_SPOOL_READ_ONLY
                 : e == ENOSPC || e == EDQUOT           ? PINCURL_SPOOL_NO_SPACE
                                                        : PINCURL_SPOOL_UNAVAILABLE;
        }
        p[i] = c;
    }
    free(p);
    return st;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Indexes one report file found at open. */
static void load_report(pc_spool *s, const char *name, event_list *ev)
{
    entry e;
    memset(&e, 0, sizeof e);
    if (strlen(name) >= sizeof e.name) {
        set_aside(s, name, "name too long", ev);
        return;
    }
    snprintf(e.name, sizeof e.name, "%s", name);
    char *data;
    size_t len;
    int err = read_at(s->dirfd, name, FILE_HARD_CAP, &data, &len);
    if (err == ENOMEM)
        return; /* not the file's fault: leave it for a later open */
    if (err != 0) {
        set_aside(s, name, strerror(err), ev);
        return;
    }
    const char *why;
    cJSON *root = parse_spool_file(data, len, &e, &why);
    free(data);
    if (root == NULL) {
        set_aside(s, name, why, ev);
        return;
    }
    cJSON_Delete(root);
    e.size = len;
    if ((e.acked & all_acked(e.uri_count)) == all_acked(e.uri_count)) {
        /* every URI had answered; the process stopped before removing it */
        unlinkat(s->dirfd, name, 0);
        return;
    }
    uint64_t ns = strtoull(name, NULL, 10);
    if (ns > s->last_ns)
        s->last_ns = ns;
    append_entry(s, &e);
}

static pincurl_status scan_dir(pc_spool *s, event_list *ev)
{
    int fd = dup(s->dirfd);
    if (fd < 0)
        return PINCURL_SPOOL_UNAVAILABLE;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return PINCURL_SPOOL_UNAVAILABLE;
    }
    rewinddir(d);
    char **names = NULL;
    size_t n = 0, cap = 0;
    pincurl_status st = PINCURL_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (is_tmp_name(nm)) {
            /* never renamed into place: its write never completed */
            if (is_regular_at(s->dirfd, nm))
                unlinkat(s->dirfd, nm, 0);
            continue;
        }
        if (!is_report_name(nm) || !is_regular_at(s->dirfd, nm))
            continue; /* not the spool's: never read, renamed or removed */
        if (n == cap) {
            size_t c = cap ? cap * 2 : 32;
            char **v = realloc(names, c * sizeof *v);
            if (v == NULL) {
                st = PINCURL_OUT_OF_MEMORY;
                break;
            }
            names = v;
            cap = c;
        }
        if ((names[n] = strdup(nm)) == NULL) {
            st = PINCURL_OUT_OF_MEMORY;
            break;
        }
        n++;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        if (st == PINCURL_OK)
            load_report(s, names[i], ev);
        free(names[i]);
    }
    free(names);
    if (st == PINCURL_OK && s->count > 1)
        qsort(s->entries, s->count, sizeof *s->entries, cmp_entry);
    return st;
}

static void *sender_main(void *arg);

static void spool_free(pc_spool *s)
{
    if (s == NULL)
        return;
    if (s->dirfd >= 0)
        close(s->dirfd); /* releases the lock */
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    free(s->entries);
    free(s->keys);
    free(s->dir);
    free(s);
}

pincurl_status pc_spool_open(const pc_spool_config *cfg, pc_spool **out)
{
    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL || cfg->dir == NULL || cfg->dir[0] == '\0' ||
        cfg->post == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pc_spool *s = calloc(1, sizeof *s);
    if (s == NULL)
        return PINCURL_OUT_OF_MEMORY;
    s->dirfd = -1;
    s->cfg = *cfg;
    if (s->cfg.max_reports == 0)
        s->cfg.max_reports = PC_SPOOL_DEFAULT_MAX_REPORTS;
    if (s->cfg.max_bytes == 0)
        s->cfg.max_bytes = PC_SPOOL_DEFAULT_MAX_BYTES;
    if (s->cfg.connect_timeout_ms <= 0)
        s->cfg.connect_timeout_ms = PC_SPOOL_DEFAULT_CONNECT_TIMEOUT_MS;
    if (s->cfg.timeout_ms <= 0)
        s->cfg.timeout_ms = PC_SPOOL_DEFAULT_TIMEOUT_MS;
    if (s->cfg.first_retry_ms <= 0)
        s->cfg.first_retry_ms = PC_SPOOL_DEFAULT_FIRST_RETRY_MS;
    if (s->cfg.first_retry_ms > PC_SPOOL_MAX_RETRY_MS)
        s->cfg.first_retry_ms = PC_SPOOL_MAX_RETRY_MS;
    if (s->cfg.dedup_window_s == 0)
        s->cfg.dedup_window_s = PC_SPOOL_DEFAULT_DEDUP_WINDOW_S;
    atomic_init(&s->stop, 0);
    atomic_init(&s->dropped, 0);
    atomic_init(&s->suppressed, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->rng = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ (uint64_t)(uintptr_t)s ^
             ((uint64_t)getpid() << 40);
    if (s->rng == 0)
        s->rng = 0x9e3779b97f4a7c15ULL;

    pthread_condattr_t ca;
    int sync_ok = pthread_mutex_init(&s->mu, NULL) == 0;
    if (sync_ok && pthread_condattr_init(&ca) == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        sync_ok = pthread_cond_init(&s->wake, &ca) == 0 && pthread_cond_init(&s->idle, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    s->dir = strdup(cfg->dir);
    if (!sync_ok || s->dir == NULL) {
        spool_free(s);
        return sync_ok ? PINCURL_OUT_OF_MEMORY : PINCURL_INTERNAL;
    }
    s->cfg.dir = s->dir;

    pincurl_status st = mkdir_p(s->dir);
    if (st != PINCURL_OK) {
        spool_free(s);
        return st;
    }
    /* The last component is not followed: every later step works relative to this
     * descriptor, so swapping the path afterwards redirects nothing. */
    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (s->dirfd < 0) {
        int e = errno;
        int link = e == ELOOP || (e == ENOTDIR && lstat(s->dir, &sb) == 0 && S_ISLNK(sb.st_mode));
        spool_free(s);
        return link ? PINCURL_SPOOL_SYMLINK : PINCURL_SPOOL_UNAVAILABLE;
    }
    if (fstat(s->dirfd, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        spool_free(s);
        return PINCURL_SPOOL_UNAVAILABLE;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) || sb.st_uid != geteuid()) {
        spool_free(s);
        return PINCURL_SPOOL_NOT_PRIVATE;
    }
    if (flock(s->dirfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        spool_free(s);
        return e == EWOULDBLOCK ? PINCURL_SPOOL_BUSY : PINCURL_SPOOL_UNAVAILABLE;
    }

    event_list ev = {NULL, 0, 0};
    st = scan_dir(s, &ev);
    if (st == PINCURL_OK) {
        if (s->cfg.dedup_window_s > 0)
            dedup_load(s, &ev);
        enforce_bounds(s, s->cfg.max_reports, s->cfg.max_bytes, NULL, &ev);
    }
    if (st == PINCURL_OK) {
        if (pthread_create(&s->thread, NULL, sender_main, s) == 0)
            s->thread_started = 1;
        else
            st = PINCURL_INTERNAL;
    }
    events_emit(s, &ev);
    if (st != PINCURL_OK) {
        spool_free(s);
        return st;
    }
    *out = s;
    return PINCURL_OK;
}

/* ---- submit ---------------------------------------------------------------------------- */

/* The spool file: {"pincurl-spool":1,"uris":[...],"acknowledged":[...],"report":{...}}. */
static pincurl_status make_file(const pc_report_input *in, char **text)
{
    *text = NULL;
    char *doc;
    pincurl_status st = pc_report_build(in, &doc, NULL);
    if (st != PINCURL_OK)
        return st;
    cJSON *report = cJSON_Parse(doc);
    free(doc);
    cJSON *root = cJSON_CreateObject();
    cJSON *uris = root ? cJSON_AddArrayToObject(root, "uris") : NULL;
    cJSON *acks = root ? cJSON_AddArrayToObject(root, "acknowledged") : NULL;
    int ok = report != NULL && uris != NULL && acks != NULL &&
             cJSON_AddNumberToObject(root, "pincurl-spool", SPOOL_FORMAT) != NULL;
    for (size_t i = 0; ok && i < in->uri_count; i++) {
        cJSON *u = cJSON_CreateString(in->uris[i]);
        cJSON *a = cJSON_CreateFalse();
        ok = u != NULL && a != NULL && cJSON_AddItemToArray(uris, u);
        if (!ok)
            cJSON_Delete(u);
        ok = ok && cJSON_AddItemToArray(acks, a);
        if (!ok)
            cJSON_Delete(a);
    }
    if (ok && cJSON_AddItemToObject(root, "report", report))
        report = NULL;
    else
        ok = 0;
    *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(report);
    cJSON_Delete(root);
    return *text != NULL ? PINCURL_OK : PINCURL_OUT_OF_MEMORY;
}

/* A submit that wrote nothing still tells the application (REPORT_QUEUED with why). */
static pincurl_status submit_failed(pc_spool *s, const pc_report_input *in, pincurl_status st)
{
    event_list ev = {NULL, 0, 0};
    events_add(&ev, PINCURL_EVENT_REPORT_QUEUED, st, in->host != NULL ? in->host : "",
               in->port <= 65535 ? in->port : 0, "report not written: %s", pincurl_strerror(st));
    events_emit(s, &ev);
    return st;
}

pincurl_status pc_spool_submit(pc_spool *s, const pc_report_input *in, int *suppressed)
{
    if (suppressed != NULL)
        *suppressed = 0;
    if (s == NULL || in == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (in->uri_count == 0)
        return PINCURL_REPORT_NO_COLLECTOR;
    unsigned char key[32];
    pincurl_status st = PINCURL_OK;
    if (in->uris == NULL || in->uri_count > PINCURL_MAX_REPORT_URIS)
        st = PINCURL_INVALID_ARGUMENT;
    for (size_t i = 0; st == PINCURL_OK && i < in->uri_count; i++)
        if (in->uris[i] == NULL || in->uris[i][0] == '\0')
            st = PINCURL_INVALID_ARGUMENT;
    if (st == PINCURL_OK)
        st = pc_report_key(in, key);
    if (st != PINCURL_OK)
        return submit_failed(s, in, st);

    /* Suppressed duplicates are the common case under a sustained failure: answer them
     * before building anything. */
    int dedup = s->cfg.dedup_window_s > 0;
    if (dedup) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->key_count; i++) {
            int64_t age = in->now - s->keys[i].t;
            if (memcmp(s->keys[i].key, key, 32) == 0 && age >= 0 &&
                age < s->cfg.dedup_window_s) {
                pthread_mutex_unlock(&s->mu);
                atomic_fetch_add(&s->suppressed, 1);
                if (suppressed != NULL)
                    *suppressed = 1;
                return PINCURL_OK;
            }
        }
        pthread_mutex_unlock(&s->mu);
    }

    char *text;
    st = make_file(in, &text);
    if (st != PINCURL_OK)
        return submit_failed(s, in, st);
    size_t len = strlen(text);
    event_list ev = {NULL, 0, 0};
    if (len > s->cfg.max_bytes) {
        free(text);
        events_add(&ev, PINCURL_EVENT_REPORT_QUEUED, PINCURL_LIMIT_EXCEEDED, in->host, in->port,
                   "report of %zu bytes exceeds the spool's %zu bytes; not written", len,
                   s->cfg.max_bytes);
        events_emit(s, &ev);
        return PINCURL_LIMIT_EXCEEDED;
    }

    pthread_mutex_lock(&s->mu);
    /* Checked again: another thread may have spooled the same report meanwhile. */
    if (dedup) {
        for (size_t i = 0; i < s->key_count; i++) {
            int64_t age = in->now - s->keys[i].t;
            if (memcmp(s->keys[i].key, key, 32) == 0 && age >= 0 &&
                age < s->cfg.dedup_window_s) {
                pthread_mutex_unlock(&s->mu);
                free(text);
                atomic_fetch_add(&s->suppressed, 1);
                if (suppressed != NULL)
                    *suppressed = 1;
                return PINCURL_OK;
            }
        }
    }
    entry e;
    memset(&e, 0, sizeof e);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    if (ns <= s->last_ns)
        ns = s->last_ns + 1;
    snprintf(e.name, sizeof e.name, "%020llu" REPORT_SUFFIX, (unsigned long long)ns);
    snprintf(e.host, sizeof e.host, "%s", in->host);
    e.port = in->port;
    e.size = len;
    e.uri_count = in->uri_count;
    st = write_atomic(s, e.name, text, len);
    free(text);
    if (st == PINCURL_OK) {
        s->last_ns = ns;
        if (!append_entry(s, &e)) {
            /* durable on disk; the next open indexes it */
            st = PINCURL_OK;
        }
        enforce_bounds(s, s->cfg.max_reports, s->cfg.max_bytes, e.name, &ev);
        if (dedup) {
            dedup_prune(s, in->now);
            size_t i;
            for (i = 0; i < s->key_count; i++)
                if (memcmp(s->keys[i].key, key, 32) == 0)
                    break;
            if (i == s->key_count) {
                if (s->key_count >= PC_SPOOL_MAX_DEDUP_KEYS) {
                    memmove(s->keys, s->keys + 1, (s->key_count - 1) * sizeof *s->keys);
                    s->key_count--;
                    i = s->key_count;
                }
                dedup_key *v = realloc(s->keys, (s->key_count + 1) * sizeof *v);
                if (v != NULL) {
                    s->keys = v;
                    memcpy(v[i].key, key, 32);
                    s->key_count++;
                }
            }
            if (i < s->key_count) {
                s->keys[i].t = in->now;
                /* A failure here only weakens deduplication; the report itself is safe. */
                (void)dedup_save(s);
            }
        }
        events_add(&ev, PINCURL_EVENT_REPORT_QUEUED, PINCURL_OK, in->host, in->port,
                   "report %s spooled for %zu collector URI(s)", e.name, in->uri_count);
        pthread_cond_broadcast(&s->wake);
    } else {
        events_add(&ev, PINCURL_EVENT_REPORT_QUEUED, st, in->host, in->port,
                   "report could not be written to the spool %s: %s", s->dir,
                   pincurl_strerror(st));
    }
    pthread_mutex_unlock(&s->mu);
    events_emit(s, &ev);
    return st;
}

/* ---- the sender ------------------------------------------------------------------------ */

/* Rewrites a report's file with its acknowledged URIs. Lock held. */
static void save_acks(pc_spool *s, cJSON *root, const entry *e)
{
    cJSON *acks = cJSON_CreateArray();
    int ok = acks != NULL;
    for (size_t i = 0; ok && i < e->uri_count; i++) {
        cJSON *b = cJSON_CreateBool((e->acked >> i) & 1u);
        ok = b != NULL && cJSON_AddItemToArray(acks, b);
        if (!ok)
            cJSON_Delete(b);
    }
    if (!ok || !cJSON_ReplaceItemInObjectCaseSensitive(root, "acknowledged", acks)) {
        cJSON_Delete(acks);
        return;
    }
    char *text = cJSON_PrintUnformatted(root);
    if (text == NULL)
        return;
    /* On failure the old file stays; the acknowledgements are kept in memory, so this
     * process does not send to those URIs again (a restart might, once). */
    if (write_atomic(s, e->name, text, strlen(text)) == PINCURL_OK) {
        size_t i = find_entry(s, e->name);
        if (i != SIZE_MAX) {
            s->bytes = s->bytes - s->entries[i].size + strlen(text);
            s->entries[i].size = strlen(text);
        }
    }
    free(text);
}

/* One delivery round of the report named `name` (marked busy). Lock NOT held. */
static void deliver(pc_spool *s, const char *name, event_list *ev)
{
    char *data;
    size_t len;
    int err = read_at(s->dirfd, name, FILE_HARD_CAP, &data, &len);
    entry fe;
    memset(&fe, 0, sizeof fe);
    const char *why = NULL;
    cJSON *root = NULL;
    if (err == 0) {
        root = parse_spool_file(data, len, &fe, &why);
        free(data);
    }
    pthread_mutex_lock(&s->mu);
    size_t i = find_entry(s, name);
    if (i == SIZE_MAX) { /* dropped meanwhile */
        pthread_mutex_unlock(&s->mu);
        cJSON_Delete(root);
        return;
    }
    if (root != NULL && fe.uri_count != s->entries[i].uri_count) {
        /* rewritten behind our back */
        cJSON_Delete(root);
        root = NULL;
        why = "its URIs changed while it was spooled";
    }
    if (root == NULL) {
        if (err == ENOENT || err == ENOMEM) { /* removed behind our back, or no memory */
            if (err == ENOENT)
                remove_entry(s, i);
            else {
                s->entries[i].busy = 0;
                s->entries[i].next_ms = mono_ms() + 1000;
            }
        } else {
            set_aside(s, name, why != NULL ? why : strerror(err), ev);
            remove_entry(s, i);
        }
        pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    entry e = s->entries[i];
    e.acked |= fe.acked;
    pthread_mutex_unlock(&s->mu);

    const cJSON *report = cJSON_GetObjectItemCaseSensitive(root, "report");
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(root, "uris");
    char *body = cJSON_PrintUnformatted(report);
    unsigned newly = 0;
    int failed = body == NULL;
    for (size_t u = 0; body != NULL && u < e.uri_count && !atomic_load(&s->stop); u++) {
        if ((e.acked >> u) & 1u)
            continue;
        long code = 0;
        const char *uri = cJSON_GetArrayItem(uris, (int)u)->valuestring;
        int rc = s->cfg.post(s->cfg.ctx, uri, body, strlen(body), s->cfg.connect_timeout_ms,
                             s->cfg.timeout_ms, &s->stop, &code);
        if (rc == 0 && code >= 200 && code < 300)
            newly |= 1u << u;
        else
            failed = 1;
    }
    free(body);

    pthread_mutex_lock(&s->mu);
    i = find_entry(s, name);
    if (i != SIZE_MAX) {
        entry *live = &s->entries[i];
        live->acked |= e.acked | newly;
        live->busy = 0;
        if ((live->acked & all_acked(live->uri_count)) == all_acked(live->uri_count)) {
            errno = 0;
            int rc = is_regular_at(s->dirfd, name) ? unlinkat(s->dirfd, name, 0) : 0;
            int uerr = errno;
            if (rc == 0 || uerr == ENOENT) {
                fsync(s->dirfd);
                events_add(ev, PINCURL_EVENT_REPORT_SENT, PINCURL_OK, live->host, live->port,
                           "report %s acknowledged by %zu collector URI(s) and removed", name,
                           live->uri_count);
                remove_entry(s, i);
            } else {
                live->done = 1;
                events_add(ev, PINCURL_EVENT_REPORT_SENT, errno_status(uerr), live->host,
                           live->port, "report %s acknowledged, but its file could not be removed: %s",
                           name, strerror(uerr));
            }
        } else {
            if (newly != 0)
                save_acks(s, root, live);
            i = find_entry(s, name);
            if (i != SIZE_MAX && (failed || atomic_load(&s->stop))) {
                s->entries[i].attempts++;
                s->entries[i].next_ms = mono_ms() + backoff_ms(s, s->entries[i].attempts);
            }
        }
    }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(root);
}

static void *sender_main(void *arg)
{
    pc_spool *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop)) {
        int64_t now = mono_ms(), next = INT64_MAX;
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < s->count; i++) {
            const entry *e = &s->entries[i];
            if (e->busy || e->done)
                continue;
            if (e->next_ms <= now) {
                pick = i;
                break;
            }
            if (e->next_ms < next)
                next = e->next_ms;
        }
        if (pick == SIZE_MAX) {
            if (next == INT64_MAX) {
                pthread_cond_wait(&s->wake, &s->mu);
            } else {
                struct timespec ts;
                deadline_ts(next, &ts);
                pthread_cond_timedwait(&s->wake, &s->mu, &ts);
            }
            continue;
        }
        char name[NAME_MAX_LEN];
        snprintf(name, sizeof name, "%s", s->entries[pick].name);
        s->entries[pick].busy = 1;
        pthread_mutex_unlock(&s->mu);
        event_list ev = {NULL, 0, 0};
        deliver(s, name, &ev);
        events_emit(s, &ev);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (s->cfg.thread_exit != NULL)
        s->cfg.thread_exit(s->cfg.ctx);
    return NULL;
}

/* ---- counters, flush, close ------------------------------------------------------------ */

uint64_t pc_spool_dropped(const pc_spool *s)
{
    return s != NULL ? atomic_load(&((pc_spool *)s)->dropped) : 0;
}

uint64_t pc_spool_suppressed(const pc_spool *s)
{
    return s != NULL ? atomic_load(&((pc_spool *)s)->suppressed) : 0;
}

size_t pc_spool_pending(pc_spool *s)
{
    if (s == NULL)
        return 0;
    pthread_mutex_lock(&s->mu);
    size_t n = pending_locked(s);
    pthread_mutex_unlock(&s->mu);
    return n;
}

pincurl_status pc_spool_flush(pc_spool *s, long timeout_ms)
{
    if (s == NULL || timeout_ms < 0)
        return PINCURL_INVALID_ARGUMENT;
    int64_t deadline = mono_ms() + timeout_ms;
    struct timespec ts;
    deadline_ts(deadline, &ts);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->count; i++)
        s->entries[i].next_ms = 0;
    pthread_cond_broadcast(&s->wake);
    while (pending_locked(s) > 0 && mono_ms() < deadline)
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    pincurl_status st = pending_locked(s) == 0 ? PINCURL_OK : PINCURL_TIMEOUT;
    pthread_mutex_unlock(&s->mu);
    return st;
}

void pc_spool_close(pc_spool *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    spool_free(s);
}
