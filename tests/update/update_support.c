#include "update_support.h"

#include "support.h"

#include "pincurl/policy.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void ut_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

ut_key ut_key_new(const char *id)
{
    ut_key k;
    memset(&k, 0, sizeof k);
    cr_assert_eq(pincurl_update_keygen(k.priv, k.pub), PINCURL_OK);
    if (id != NULL)
        snprintf(k.id, sizeof k.id, "%s", id);
    else
        cr_assert_eq(pincurl_update_key_id_default(k.pub, k.id, sizeof k.id), PINCURL_OK);
    return k;
}

pincurl_update_key ut_key_public(const ut_key *k)
{
    pincurl_update_key pk;
    pk.key_id = k->id;
    memcpy(pk.public_key, k->pub, sizeof pk.public_key);
    return pk;
}

/* The pin of a PKI certificate from pins.txt. */
static void pki_pin_text(const char *name, char *out, size_t size)
{
    size_t len = 0;
    unsigned char *text = pt_read_file(pt_pki("pins.txt"), &len);
    char *line = (char *)text;
    size_t nlen = strlen(name);
    int found = 0;
    while (line < (char *)text + len) {
        char *nl = memchr(line, '\n', (size_t)((char *)text + len - line));
        size_t l = nl != NULL ? (size_t)(nl - line) : (size_t)((char *)text + len - line);
        if (l > nlen + 1 && memcmp(line, name, nlen) == 0 && line[nlen] == ' ') {
            cr_assert_lt(l - nlen - 1, size);
            memcpy(out, line + nlen + 1, l - nlen - 1);
            out[l - nlen - 1] = '\0';
            found = 1;
            break;
        }
        line += l + 1;
    }
    free(text);
    cr_assert(found, "no pin for %s in pins.txt", name);
}

char *ut_policy_json(const char *pin1, const char *pin2)
{
    char a[128], b[128];
    char *out = malloc(1024);
    cr_assert_not_null(out);
    pki_pin_text(pin1, a, sizeof a);
    pki_pin_text(pin2, b, sizeof b);
    snprintf(out, 1024,
             "{\"pincurl_policy\": 1, \"domains\": {\"localhost\": {\"enforce\": true, "
             "\"pins\": [\"%s\", \"%s\"]}}}\n",
             a, b);
    return out;
}

char *ut_policy_json_other(void)
{
    const char *doc =
        "{\"pincurl_policy\":1,\"domains\":{\"api.example.com\":{\"enforce\":true,\"pins\":"
        "[\"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
        "\"sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\"]}}}";
    char *out = strdup(doc);
    cr_assert_not_null(out);
    return out;
}

unsigned char *ut_sign(const ut_key *k, const char *json, uint64_t seq, int64_t not_before,
                       int64_t expires, size_t *len)
{
    unsigned char *b = NULL;
    pincurl_status st = pincurl_update_bundle_sign(json, strlen(json), k->id, seq, not_before,
                                                   expires, k->priv, &b, len);
    cr_assert_eq(st, PINCURL_OK, "sign: %s", pincurl_strerror(st));
    return b;
}

unsigned char *ut_sign_now(const ut_key *k, const char *json, uint64_t seq, size_t *len)
{
    int64_t now = (int64_t)time(NULL);
    return ut_sign(k, json, seq, now - 3600, now + 3600, len);
}

void ut_events_init(ut_events *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
}

void ut_on_event(const pincurl_event *ev, void *user)
{
    ut_events *e = user;
    int k = (int)pincurl_event_get_kind(ev);
    if (k < 0 || k >= 16)
        return;
    pthread_mutex_lock(&e->lock);
    e->count[k]++;
    e->last_status[k] = pincurl_event_status(ev);
    snprintf(e->last_message[k], sizeof e->last_message[k], "%s", pincurl_event_message(ev));
    pthread_mutex_unlock(&e->lock);
}

int ut_events_count(ut_events *e, pincurl_event_kind kind)
{
    pthread_mutex_lock(&e->lock);
    int n = e->count[kind];
    pthread_mutex_unlock(&e->lock);
    return n;
}

pincurl_status ut_events_status(ut_events *e, pincurl_event_kind kind)
{
    pthread_mutex_lock(&e->lock);
    pincurl_status st = e->last_status[kind];
    pthread_mutex_unlock(&e->lock);
    return st;
}

pincurl_client *ut_client(pincurl_policy *p, ut_events *e)
{
    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_connect_timeout_ms(o, 5000), PINCURL_OK);
    cr_assert_eq(pincurl_options_set_timeout_ms(o, 10000), PINCURL_OK);
    if (e != NULL)
        cr_assert_eq(pincurl_options_set_event_callback(o, ut_on_event, e), PINCURL_OK);
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_OK);
    pincurl_options_free(o);
    return c;
}

/* ---- the bundle server ------------------------------------------------------------- */

void ut_bundle_server_start(ut_bundle_server *s, const char *chain, const char *key)
{
    char port_file[1100], out_file[1100], parent[32], script[1024], c[1024], k[1024];
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s", pt_tmpdir("bundle-server"));
    snprintf(s->file, sizeof s->file, "%s/bundle", s->dir);
    snprintf(s->log, sizeof s->log, "%s/requests.log", s->dir);
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(out_file, sizeof out_file, "%s/server.out", s->dir);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    snprintf(script, sizeof script, "%s/tests/update/bundle_server.py", PINCURL_SOURCE_DIR);
    snprintf(c, sizeof c, "%s", pt_pki(chain));
    snprintf(k, sizeof k, "%s", pt_pki(key));
    char *argv[] = {"python3", script, "--cert", c, "--key", k, "--file", s->file,
                    "--port-file", port_file, "--log", s->log, "--parent-pid", parent,
                    "--lifetime", "300", NULL};
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(out_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        for (int i = 3; i < 1024; i++)
            close(i);
        execvp(argv[0], argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int port = 0;
            int ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok && port > 0 && port < 65536) {
                s->port = port;
                return;
            }
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0;
            cr_assert_fail("bundle_server.py exited at start (see %s)", out_file);
        }
        ut_sleep_ms(10);
    }
    ut_bundle_server_stop(s);
    cr_assert_fail("bundle_server.py did not listen within 10 s");
}

void ut_bundle_server_stop(ut_bundle_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        ut_sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

int ut_bundle_server_requests(const ut_bundle_server *s, int code, const char *inm)
{
    FILE *f = fopen(s->log, "r");
    char line[1024];
    int n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        int c = 0;
        char *cp = strstr(line, " code=");
        char *ip = strstr(line, " inm=");
        if (cp == NULL || ip == NULL)
            continue;
        c = atoi(cp + 6);
        if (code != 0 && c != code)
            continue;
        if (inm != NULL) {
            char *v = ip + 5;
            size_t vlen = (size_t)(cp - v);
            if (inm[0] == '\0') {
                if (vlen == 1 && v[0] == '-')
                    continue;
            } else if (vlen != strlen(inm) || memcmp(v, inm, vlen) != 0) {
                continue;
            }
        }
        n++;
    }
    fclose(f);
    return n;
}

double ut_bundle_server_request_time(const ut_bundle_server *s, int n)
{
    FILE *f = fopen(s->log, "r");
    char line[1024];
    int i = 0;
    double t = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (++i == n) {
            char *tp = strstr(line, " t=");
            if (tp != NULL)
                t = atof(tp + 3);
            break;
        }
    }
    fclose(f);
    return t;
}
