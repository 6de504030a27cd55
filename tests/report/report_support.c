#include "report_support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

long rt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the collector ------------------------------------------------------------------ */

void rt_collector_start(rt_collector *c, const char *dir, const char *mode, int port)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    cr_assert(pt_system("mkdir -p '%s'", dir) == 0);
    char port_file[1100], port_arg[16], script[1024];
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(port_arg, sizeof port_arg, "%d", port);
    snprintf(script, sizeof script, "%s/tests/report/collector.py", PINCURL_SOURCE_DIR);
    unlink(port_file);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("python3", "python3", script, "--dir", dir, "--port-file", port_file, "--port",
               port_arg, "--mode", mode, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &c->port) == 1;
            fclose(f);
            if (ok && c->port > 0)
                break;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pid = 0;
            cr_assert(strcmp(mode, "down") == 0, "collector exited early");
        }
        sleep_ms(10);
    }
    cr_assert(c->port > 0, "collector did not start");
    if (strcmp(mode, "down") == 0) {
        if (pid > 0)
            waitpid(pid, NULL, 0);
        pid = 0;
    }
    c->pid = pid;
    snprintf(c->uri, sizeof c->uri, "http://127.0.0.1:%d/report", c->port);
}

void rt_collector_stop(rt_collector *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = 0;
}

void rt_collector_mode(rt_collector *c, const char *mode)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/mode", c->dir);
    pt_write_file(path, mode, strlen(mode));
}

size_t rt_collector_received(const rt_collector *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/received", c->dir);
    return rt_dir_count(path, ".json");
}

char *rt_collector_body(const rt_collector *c, size_t i, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/received/%06zu.json", c->dir, i);
    return (char *)pt_read_file(path, len);
}

size_t rt_collector_requests(const rt_collector *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/requests.log", c->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* ---- delivery and events -------------------------------------------------------------- */

void rt_ctx_init(rt_ctx *x)
{
    memset(x, 0, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
    atomic_init(&x->posts, 0);
}

int rt_count(rt_ctx *x, pincurl_event_kind kind)
{
    pthread_mutex_lock(&x->mu);
    int n = x->counts[kind];
    pthread_mutex_unlock(&x->mu);
    return n;
}

int rt_last_status(rt_ctx *x, pincurl_event_kind kind)
{
    int st = -1;
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->n; i++)
        if (x->kinds[i] == kind)
            st = (int)x->statuses[i];
    pthread_mutex_unlock(&x->mu);
    return st;
}

void rt_event(void *ctx, pincurl_event_kind kind, pincurl_status status, const char *host,
              unsigned port, const char *message)
{
    rt_ctx *x = ctx;
    /* no cr_assert here: this runs on the sender thread too */
    pthread_mutex_lock(&x->mu);
    if (host == NULL || message == NULL || message[0] == '\0' || (unsigned)kind >= 16) {
        x->malformed++;
        pthread_mutex_unlock(&x->mu);
        return;
    }
    x->counts[kind]++;
    if (x->n < RT_MAX_EVENTS) {
        x->kinds[x->n] = kind;
        x->statuses[x->n] = status;
        snprintf(x->hosts[x->n], sizeof x->hosts[0], "%s", host);
        x->ports[x->n] = port;
        snprintf(x->messages[x->n], sizeof x->messages[0], "%s", message);
        x->n++;
    }
    pthread_mutex_unlock(&x->mu);
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

int rt_post(void *ctx, const char *uri, const char *body, size_t len, long connect_timeout_ms,
            long timeout_ms, const atomic_int *cancel, long *http_code)
{
    rt_ctx *x = ctx;
    atomic_fetch_add(&x->posts, 1);
    *http_code = 0;
    CURL *h = curl_easy_init();
    CURLM *m = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (h == NULL || m == NULL || hdr == NULL) {
        curl_slist_free_all(hdr);
        curl_multi_cleanup(m);
        curl_easy_cleanup(h);
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, uri);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_multi_add_handle(m, h);
    int running = 1, rc = -1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (!running)
            break;
        if (atomic_load(cancel))
            break;
        curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    if (!running) {
        int left;
        CURLMsg *msg = curl_multi_info_read(m, &left);
        if (msg != NULL && msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_code);
            rc = 0;
        }
    }
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return rc;
}

pc_spool_config rt_config(const char *dir, rt_ctx *x)
{
    pc_spool_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dir = dir;
    cfg.connect_timeout_ms = 2000;
    cfg.timeout_ms = 5000;
    cfg.first_retry_ms = 100;
    cfg.post = rt_post;
    cfg.event = rt_event;
    cfg.ctx = x;
    return cfg;
}

/* ---- sample inputs ----------------------------------------------------------------------- */

static pincurl_cert_list *load_list(const char *name)
{
    size_t len;
    unsigned char *data = pt_read_file(pt_pki(name), &len);
    pincurl_cert_list *l = NULL;
    cr_assert_eq(pincurl_cert_list_load(data, len, NULL, &l), PINCURL_OK);
    free(data);
    return l;
}

static void cert_pin(const char *name, pincurl_pin *out)
{
    pincurl_cert_list *l = load_list(name);
    size_t len;
    const unsigned char *der = pincurl_cert_list_der(l, 0, &len);
    cr_assert_eq(pincurl_pin_from_cert_der(der, len, out), PINCURL_OK);
    pincurl_cert_list_free(l);
}

void rt_input_make(rt_input *r, unsigned port, const char *uri)
{
    memset(r, 0, sizeof *r);
    r->path_list = load_list("leaf-ec-fullchain.pem");
    r->served_list = load_list("leaf-ec-chain.pem");
    size_t np = pincurl_cert_list_count(r->path_list);
    size_t ns = pincurl_cert_list_count(r->served_list);
    cr_assert(np == 3 && ns == 2);
    for (size_t i = 0; i < np; i++)
        r->path[i].der = pincurl_cert_list_der(r->path_list, i, &r->path[i].len);
    for (size_t i = 0; i < ns; i++)
        r->served[i].der = pincurl_cert_list_der(r->served_list, i, &r->served[i].len);
    cert_pin("leaf-backup.pem", &r->pins[0]);
    cert_pin("rogue-root.pem", &r->pins[1]);
    r->app.bundle_id = "com.example.app";
    r->app.version = "2.4.1";
    r->app.vendor_id = "7F0A1C2E-0000-4000-8000-000000000001";
    r->app.platform = "linux";
    r->app.platform_version = "6.1";
    r->uris[0] = uri;
    pc_report_input *in = &r->in;
    in->app = &r->app;
    in->host = "127.0.0.1";
    in->port = port;
    in->noted_host = "127.0.0.1";
    in->include_subdomains = 0;
    in->enforce = 1;
    in->served = r->served;
    in->served_len = ns;
    in->path = r->path;
    in->path_len = np;
    in->known_pins = r->pins;
    in->known_pin_count = 2;
    in->result = PINCURL_RESULT_PIN_MISMATCH;
    in->expires = 1814356800;  /* 2027-06-30T12:00:00Z */
    in->now = 1796119200;      /* 2026-12-01T10:00:00Z */
    in->uris = r->uris;
    in->uri_count = uri != NULL ? 1 : 0;
}

void rt_input_free(rt_input *r)
{
    pincurl_cert_list_free(r->path_list);
    pincurl_cert_list_free(r->served_list);
    r->path_list = r->served_list = NULL;
}

/* ---- the spool directory ---------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

size_t rt_dir_count(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && ends_with(de->d_name, suffix))
            n++;
    closedir(d);
    return n;
}

size_t rt_dir_bytes(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, suffix))
            continue;
        char path[2048];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0)
            n += (size_t)st.st_size;
    }
    closedir(d);
    return n;
}
