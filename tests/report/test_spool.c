/* The report spool and its sender, against a real collector on loopback. */
#define _GNU_SOURCE /* unshare, mount */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report_support.h"
#include "support.h"

static void usleep_(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static void init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

TestSuite(spool, .init = init, .timeout = 120);

static char dirs[4][1100];

/* base/spool and base/c<i> */
static const char *setup_dirs(const char *tag)
{
    const char *base = pt_tmpdir(tag);
    snprintf(dirs[0], sizeof dirs[0], "%s/spool", base);
    snprintf(dirs[1], sizeof dirs[1], "%s/c1", base);
    snprintf(dirs[2], sizeof dirs[2], "%s/c2", base);
    snprintf(dirs[3], sizeof dirs[3], "%s", base);
    return dirs[0];
}

static pc_spool *open_spool(const pc_spool_config *cfg)
{
    pc_spool *s = NULL;
    cr_assert_eq(pc_spool_open(cfg, &s), PINCURL_OK);
    cr_assert_not_null(s);
    return s;
}

/* Waits until cond() holds or ms passed. */
#define WAIT_FOR(cond, ms)                                                                 \
    do {                                                                                   \
        long deadline_ = rt_now_ms() + (ms);                                               \
        while (!(cond) && rt_now_ms() < deadline_)                                         \
            usleep_(10000);                                                                 \
    } while (0)

Test(spool, delivered_once_with_the_built_document)
{
    const char *dir = setup_dirs("spool-deliver");
    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);

    rt_input r;
    rt_input_make(&r, 8443, c.uri);
    int suppressed = -1;
    cr_assert_eq(pc_spool_submit(s, &r.in, &suppressed), PINCURL_OK);
    cr_assert_eq(suppressed, 0);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_QUEUED), 1);
    cr_assert_eq(rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED), PINCURL_OK);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(pc_spool_pending(s), 0);
    cr_assert_eq(rt_collector_received(&c), 1);
    WAIT_FOR(rt_count(&x, PINCURL_EVENT_REPORT_SENT) == 1, 2000);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_SENT), 1);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0);

    /* the body is exactly the document pc_report_build makes */
    char *want;
    size_t want_len, got_len;
    cr_assert_eq(pc_report_build(&r.in, &want, &want_len), PINCURL_OK);
    char *got = rt_collector_body(&c, 1, &got_len);
    cr_assert_eq(got_len, want_len);
    cr_assert_str_eq(got, want);
    free(got);
    free(want);
    /* POSTed as JSON to the URI's path */
    char log[1200];
    snprintf(log, sizeof log, "%s/requests.log", c.dir);
    size_t n;
    char *text = (char *)pt_read_file(log, &n);
    cr_assert(strstr(text, "accept /report ") == text);
    cr_assert_not_null(strstr(text, " application/json\n"));
    free(text);

    usleep_(300000);
    cr_assert_eq(rt_collector_received(&c), 1);
    pc_spool_close(s);
    cr_assert_eq(x.malformed, 0);
    for (size_t i = 0; i < x.n; i++) {
        cr_assert_str_eq(x.hosts[i], "127.0.0.1");
        cr_assert_eq(x.ports[i], 8443);
    }
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, no_uri_writes_nothing_and_bad_input_is_refused)
{
    const char *dir = setup_dirs("spool-nouri");
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 443, NULL);
    int suppressed = -1;
    cr_assert_eq(pc_spool_submit(s, &r.in, &suppressed), PINCURL_REPORT_NO_COLLECTOR);
    cr_assert_eq(suppressed, 0);
    cr_assert_eq(rt_dir_count(dir, ""), 0);
    cr_assert_eq(x.n, 0);
    cr_assert_eq(pc_spool_pending(s), 0);
    cr_assert_eq(atomic_load(&x.posts), 0);

    /* input no report can be made of: refused, and said so */
    r.uris[0] = "http://127.0.0.1:9/report";
    r.in.uri_count = 1;
    r.in.port = 0;
    cr_assert_eq(pc_spool_submit(s, &r.in, &suppressed), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_QUEUED), 1);
    cr_assert_eq(rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED), PINCURL_INVALID_ARGUMENT);
    r.in.port = 443;
    r.uris[0] = NULL;
    cr_assert_eq(pc_spool_submit(s, &r.in, &suppressed), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_QUEUED), 2);
    r.uris[0] = "http://127.0.0.1:9/report";
    r.in.uri_count = PINCURL_MAX_REPORT_URIS + 1;
    cr_assert_eq(pc_spool_submit(s, &r.in, &suppressed), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pc_spool_submit(s, NULL, &suppressed), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pc_spool_submit(NULL, &r.in, &suppressed), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0);
    pc_spool_close(s);
    rt_input_free(&r);
}

Test(spool, collector_down_then_back)
{
    const char *dir = setup_dirs("spool-down");
    rt_collector down;
    rt_collector_start(&down, dirs[1], "down", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 443, down.uri);
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    cr_assert_eq(pc_spool_flush(s, 1500), PINCURL_TIMEOUT);
    cr_assert_eq(pc_spool_pending(s), 1);
    cr_assert_eq(rt_dir_count(dir, ".report"), 1);
    cr_assert_geq(atomic_load(&x.posts), 2, "no retry: %d", atomic_load(&x.posts));

    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", down.port);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(pc_spool_pending(s), 0);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0);
    usleep_(500000);
    cr_assert_eq(rt_collector_received(&c), 1);
    cr_assert_eq(rt_collector_requests(&c), 1);
    pc_spool_close(s);
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, sigkill_right_after_submit)
{
    const char *dir = setup_dirs("spool-kill");
    rt_collector down;
    rt_collector_start(&down, dirs[1], "down", 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        rt_ctx x;
        rt_ctx_init(&x);
        pc_spool_config cfg = rt_config(dir, &x);
        pc_spool *s = NULL;
        if (pc_spool_open(&cfg, &s) != PINCURL_OK)
            _exit(2);
        rt_input r;
        rt_input_make(&r, 9443, down.uri);
        if (pc_spool_submit(s, &r.in, NULL) != PINCURL_OK)
            _exit(3);
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    cr_assert_eq(rt_dir_count(dir, ".report"), 1);

    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", down.port);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 1);
    size_t len;
    char *body = rt_collector_body(&c, 1, &len);
    cJSON *doc = cJSON_Parse(body);
    cr_assert_not_null(doc);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(doc, "port")->valuedouble, 9443);
    cJSON_Delete(doc);
    free(body);
    pc_spool_close(s);
    rt_collector_stop(&c);
}

Test(spool, thousand_identical_submits)
{
    const char *dir = setup_dirs("spool-dedup");
    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 443, c.uri);
    int64_t t0 = r.in.now;
    int n_suppressed = 0;
    for (int i = 0; i < 1000; i++) {
        int sup = -1;
        r.in.now = t0 + i * 60; /* within 24 hours */
        cr_assert_eq(pc_spool_submit(s, &r.in, &sup), PINCURL_OK);
        n_suppressed += sup;
    }
    cr_assert_eq(n_suppressed, 999);
    cr_assert_eq(pc_spool_suppressed(s), 999);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_QUEUED), 1);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    usleep_(300000);
    cr_assert_eq(rt_collector_received(&c), 1);
    pc_spool_close(s);

    /* the window survives a restart */
    s = open_spool(&cfg);
    int sup = -1;
    r.in.now = t0 + 86399;
    cr_assert_eq(pc_spool_submit(s, &r.in, &sup), PINCURL_OK);
    cr_assert_eq(sup, 1);
    cr_assert_eq(pc_spool_suppressed(s), 1);
    /* and ends after 24 hours */
    r.in.now = t0 + 86400;
    cr_assert_eq(pc_spool_submit(s, &r.in, &sup), PINCURL_OK);
    cr_assert_eq(sup, 0);
    /* a different failure is not a duplicate */
    r.in.now = t0 + 86401;
    r.in.result = PINCURL_RESULT_INVALID_CHAIN;
    cr_assert_eq(pc_spool_submit(s, &r.in, &sup), PINCURL_OK);
    cr_assert_eq(sup, 0);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 3);
    pc_spool_close(s);
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, bounded_in_count_and_bytes)
{
    const char *dir = setup_dirs("spool-bounds");
    rt_collector down;
    rt_collector_start(&down, dirs[1], "down", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.max_reports = 5;
    cfg.first_retry_ms = 60000;
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 1000, down.uri);
    for (unsigned i = 0; i < 12; i++) {
        r.in.port = 1000 + i; /* distinct reports */
        cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
        cr_assert_leq(pc_spool_pending(s), 5);
        cr_assert_leq(rt_dir_count(dir, ".report"), 5);
    }
    cr_assert_eq(pc_spool_dropped(s), 7);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_DROPPED), 7);
    cr_assert_eq(rt_dir_count(dir, ".report"), 5);
    /* the oldest went first: the first dropped event is about port 1000 */
    for (size_t i = 0; i < x.n; i++)
        if (x.kinds[i] == PINCURL_EVENT_REPORT_DROPPED) {
            cr_assert_eq(x.ports[i], 1000);
            cr_assert_str_eq(x.hosts[i], "127.0.0.1");
            break;
        }
    pc_spool_close(s);

    /* bytes: room for three reports; reopening with it drops the oldest two */
    size_t one = rt_dir_bytes(dir, ".report") / 5;
    rt_ctx_init(&x);
    cfg.max_reports = 100;
    cfg.max_bytes = one * 3 + one / 2;
    s = open_spool(&cfg);
    cr_assert_eq(pc_spool_dropped(s), 2);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_DROPPED), 2);
    for (unsigned i = 0; i < 4; i++) {
        r.in.port = 2000 + i;
        cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
        cr_assert_leq(rt_dir_bytes(dir, ".report"), cfg.max_bytes);
    }
    cr_assert_eq(pc_spool_pending(s), 3);
    cr_assert_eq(pc_spool_dropped(s), 6);
    /* one report larger than the whole spool is refused, nothing else is touched */
    cfg.max_bytes = one / 2;
    pc_spool_close(s);
    rt_ctx_init(&x);
    s = open_spool(&cfg);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0); /* all three were over the new bound */
    r.in.port = 3000;
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_LIMIT_EXCEEDED);
    cr_assert_eq(rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED), PINCURL_LIMIT_EXCEEDED);
    pc_spool_close(s);

    /* what remains is the newest, delivered when a collector is back */
    cfg.max_bytes = 0;
    cfg.max_reports = 2;
    cfg.first_retry_ms = 100;
    rt_ctx_init(&x);
    s = open_spool(&cfg);
    for (unsigned i = 0; i < 3; i++) {
        r.in.port = 4000 + i;
        cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    }
    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", down.port);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 2);
    int seen = 0;
    for (size_t i = 1; i <= 2; i++) {
        size_t len;
        char *body = rt_collector_body(&c, i, &len);
        cJSON *doc = cJSON_Parse(body);
        int port = (int)cJSON_GetObjectItemCaseSensitive(doc, "port")->valuedouble;
        cr_assert(port == 4001 || port == 4002, "port %d", port);
        seen |= 1 << (port - 4001);
        cJSON_Delete(doc);
        free(body);
    }
    cr_assert_eq(seen, 3);
    pc_spool_close(s);
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, damaged_files_set_aside)
{
    const char *dir = setup_dirs("spool-corrupt");
    rt_collector down;
    rt_collector_start(&down, dirs[1], "down", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 1, down.uri);
    for (unsigned i = 0; i < 3; i++) {
        r.in.port = 5000 + i;
        cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    }
    pc_spool_close(s);
    cr_assert_eq(rt_dir_count(dir, ".report"), 3);

    /* garbage, a truncated copy of a real one, a valid JSON of the wrong shape */
    char path[1200];
    snprintf(path, sizeof path, "%s/00000000000000000001.report", dir);
    pt_write_file(path, "\x00\xff garbage", 10);
    cr_assert_eq(pt_system("cp \"$(ls '%s'/*.report | tail -1)\" '%s/00000000000000000002.report'"
                           " && truncate -s 100 '%s/00000000000000000002.report'",
                           dir, dir, dir), 0);
    snprintf(path, sizeof path, "%s/00000000000000000003.report", dir);
    pt_write_file(path, "{\"pincurl-spool\":1,\"uris\":[],\"report\":{}}", 41);
    snprintf(path, sizeof path, "%s/dedup.json", dir);
    pt_write_file(path, "[1,2", 4);

    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", down.port);
    rt_ctx_init(&x);
    s = open_spool(&cfg);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_SET_ASIDE), 4);
    cr_assert_eq(x.malformed, 0);
    cr_assert_not_null(strstr(x.messages[0], ".report"), "%s", x.messages[0]);
    cr_assert_eq(rt_last_status(&x, PINCURL_EVENT_REPORT_SET_ASIDE), PINCURL_SPOOL_DAMAGED);
    cr_assert_eq(rt_dir_count(dir, ".report.bad"), 3);
    cr_assert_eq(rt_dir_count(dir, "dedup.json.bad"), 1);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 3);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0);
    cr_assert_eq(rt_dir_count(dir, ".report.bad"), 3);
    /* the spool still works, and deduplicates again */
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    int sup = 0;
    cr_assert_eq(pc_spool_submit(s, &r.in, &sup), PINCURL_OK);
    cr_assert_eq(sup, 1);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 4);
    pc_spool_close(s);

    /* set-aside files are bounded too: 20 more damaged ones leave 16 */
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof path, "%s/%020d.report", dir, 100 + i);
        pt_write_file(path, "nope", 4);
    }
    rt_ctx_init(&x);
    s = open_spool(&cfg);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_SET_ASIDE), 20);
    cr_assert_eq(rt_dir_count(dir, ".bad"), PC_SPOOL_MAX_SET_ASIDE);
    /* the newest are kept */
    snprintf(path, sizeof path, "%s/%020d.report.bad", dir, 119);
    cr_assert_eq(access(path, F_OK), 0);
    pc_spool_close(s);
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, damaged_while_waiting)
{
    const char *dir = setup_dirs("spool-corrupt-live");
    rt_collector c;
    rt_collector_start(&c, dirs[1], "fail", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.first_retry_ms = 300;
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 6000, c.uri);
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    WAIT_FOR(rt_collector_requests(&c) >= 1, 5000);
    cr_assert_eq(pt_system("for f in '%s'/*.report; do printf 'xx' > \"$f\"; done", dir), 0);
    rt_collector_mode(&c, "accept");
    cr_assert_eq(pc_spool_flush(s, 5000), PINCURL_OK);
    WAIT_FOR(rt_count(&x, PINCURL_EVENT_REPORT_SET_ASIDE) == 1, 2000);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_SET_ASIDE), 1);
    cr_assert_eq(rt_dir_count(dir, ".report.bad"), 1);
    cr_assert_eq(rt_collector_received(&c), 0);
    pc_spool_close(s);
    rt_collector_stop(&c);
    rt_input_free(&r);
}

Test(spool, each_uri_once)
{
    const char *dir = setup_dirs("spool-uris");
    rt_collector a, b;
    rt_collector_start(&a, dirs[1], "accept", 0);
    rt_collector_start(&b, dirs[2], "fail", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 7000, a.uri);
    r.uris[1] = b.uri;
    r.in.uri_count = 2;
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    cr_assert_eq(pc_spool_flush(s, 1500), PINCURL_TIMEOUT);
    cr_assert_eq(rt_collector_received(&a), 1);
    cr_assert_geq(rt_collector_requests(&b), 2); /* retried */
    cr_assert_eq(rt_collector_requests(&a), 1);  /* not resent to the one that answered */
    pc_spool_close(s);

    /* the acknowledgement is on disk */
    cr_assert_eq(pt_system("grep -q '\"acknowledged\":\\[true,false\\]' '%s'/*.report", dir), 0);
    rt_collector_mode(&b, "accept");
    rt_ctx_init(&x);
    s = open_spool(&cfg);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&b), 1);
    cr_assert_eq(rt_collector_received(&a), 1);
    cr_assert_eq(rt_collector_requests(&a), 1);
    cr_assert_eq(rt_dir_count(dir, ".report"), 0);
    /* the sender emits its events after the spool empties: closing joins it */
    pc_spool_close(s);
    cr_assert_eq(rt_count(&x, PINCURL_EVENT_REPORT_SENT), 1);
    rt_collector_stop(&a);
    rt_collector_stop(&b);
    rt_input_free(&r);
}

Test(spool, close_during_hanging_collector)
{
    const char *dir = setup_dirs("spool-hang");
    rt_collector c;
    rt_collector_start(&c, dirs[1], "hang", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.timeout_ms = 60000;
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 443, c.uri);
    long t0 = rt_now_ms();
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    cr_assert_lt(rt_now_ms() - t0, 1000); /* submit does not wait for delivery */
    WAIT_FOR(rt_collector_requests(&c) == 1, 5000);
    cr_assert_eq(rt_collector_requests(&c), 1);
    cr_assert_eq(pc_spool_flush(s, 200), PINCURL_TIMEOUT);
    t0 = rt_now_ms();
    pc_spool_close(s);
    long took = rt_now_ms() - t0;
    cr_assert_lt(took, 2000, "close took %ld ms", took);
    cr_assert_eq(rt_dir_count(dir, ".report"), 1); /* still there for the next open */

    /* mid-backoff too */
    rt_collector_stop(&c);
    rt_collector down;
    rt_collector_start(&down, dirs[2], "down", 0);
    cfg.first_retry_ms = 3600L * 1000;
    s = open_spool(&cfg);
    r.uris[0] = down.uri;
    r.in.port = 444;
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    WAIT_FOR(atomic_load(&x.posts) >= 3, 5000);
    usleep_(100000);
    t0 = rt_now_ms();
    pc_spool_close(s);
    took = rt_now_ms() - t0;
    cr_assert_lt(took, 2000, "close took %ld ms", took);
    cr_assert_eq(rt_dir_count(dir, ".report"), 2);
    rt_input_free(&r);
}

Test(spool, one_spool_per_directory_and_private)
{
    const char *dir = setup_dirs("spool-lock");
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = open_spool(&cfg), *t = (pc_spool *)&x;
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_BUSY);
    cr_assert_null(t);
    pc_spool_close(s);
    s = open_spool(&cfg);
    pc_spool_close(s);

    cr_assert_eq(chmod(dir, 0777), 0);
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_NOT_PRIVATE);
    cr_assert_eq(chmod(dir, 0720), 0);
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_NOT_PRIVATE);
    cr_assert_eq(chmod(dir, 0700), 0);
    if (geteuid() == 0) { /* owned by another user */
        cr_assert_eq(chown(dir, 65534, 65534), 0);
        cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_NOT_PRIVATE);
        cr_assert_null(t);
        cr_assert_eq(chown(dir, 0, 0), 0);
    }

    char file[1200];
    snprintf(file, sizeof file, "%s/plain-file", dirs[3]);
    pt_write_file(file, "x", 1);
    cfg.dir = file;
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_UNAVAILABLE);
    snprintf(file, sizeof file, "%s/plain-file/sub", dirs[3]);
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_SPOOL_UNAVAILABLE);
    cfg.dir = NULL;
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_INVALID_ARGUMENT);
    cfg.dir = dir;
    cfg.post = NULL;
    cr_assert_eq(pc_spool_open(&cfg, &t), PINCURL_INVALID_ARGUMENT);
    pc_spool_close(NULL);
    cr_assert_eq(pc_spool_pending(NULL), 0);
}

/* Runs fn in a child as an unprivileged user when we are root (so that directory
 * permissions apply), returning its exit status. */
static int run_unprivileged(int (*fn)(const char *), const char *dir)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(100);
        _exit(fn(dir));
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "child died: %d", st);
    return WEXITSTATUS(st);
}

static int read_only_child(const char *dir)
{
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    pc_spool *s = NULL;
    if (pc_spool_open(&cfg, &s) != PINCURL_OK)
        return 10;
    rt_input r;
    rt_input_make(&r, 8000, "http://127.0.0.1:9/report");
    if (pc_spool_submit(s, &r.in, NULL) != PINCURL_SPOOL_READ_ONLY)
        return 11;
    if (rt_count(&x, PINCURL_EVENT_REPORT_QUEUED) != 1 ||
        rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED) != PINCURL_SPOOL_READ_ONLY)
        return 12;
    pc_spool_close(s);
    /* a spool that cannot be created under it */
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    cfg.dir = sub;
    if (pc_spool_open(&cfg, &s) != PINCURL_SPOOL_READ_ONLY || s != NULL)
        return 13;
    rt_input_free(&r);
    return 0;
}

Test(spool, read_only_directory)
{
    char tmpl[] = "/tmp/pincurl-spool-ro-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(tmpl, &x);
    cfg.first_retry_ms = 3600L * 1000;
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 8001, "http://127.0.0.1:9/report");
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    pc_spool_close(s);
    cr_assert_eq(pt_system("cat '%s'/*.report > '%s.before'", tmpl, tmpl), 0);

    cr_assert_eq(pt_system("chmod 0644 '%s'/*.report && chmod 0555 '%s'", tmpl, tmpl), 0);
    if (geteuid() == 0) /* the spool must belong to the user running it */
        cr_assert_eq(chown(tmpl, 65534, 65534), 0);
    int rc = run_unprivileged(read_only_child, tmpl);
    cr_assert_eq(rc, 0, "read-only child failed at step %d", rc);
    cr_assert_eq(chmod(tmpl, 0700), 0);
    /* what was written is intact, nothing was added */
    cr_assert_eq(rt_dir_count(tmpl, ".report"), 1);
    cr_assert_eq(rt_dir_count(tmpl, ".bad"), 0);
    cr_assert_eq(pt_system("cat '%s'/*.report | cmp -s - '%s.before'", tmpl, tmpl), 0);
    cr_assert_eq(pt_system("test -z \"$(ls -A '%s' | grep '^\\.tmp')\"", tmpl), 0);
    pt_system("rm -rf '%s' '%s.before'", tmpl, tmpl);
    rt_input_free(&r);
}

static int full_disk_child(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.first_retry_ms = 3600L * 1000;
    pc_spool *s = NULL;
    if (pc_spool_open(&cfg, &s) != PINCURL_OK)
        return 20;
    rt_input r;
    rt_input_make(&r, 8100, "http://127.0.0.1:9/report");
    struct rlimit rl = {512, 512};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 21;
    pincurl_status st = pc_spool_submit(s, &r.in, NULL);
    if (st != PINCURL_SPOOL_NO_SPACE)
        return 22;
    if (rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED) != PINCURL_SPOOL_NO_SPACE)
        return 23;
    if (pc_spool_pending(s) != 1)
        return 24;
    pc_spool_close(s);
    rt_input_free(&r);
    return 0;
}

Test(spool, full_disk)
{
    const char *dir = setup_dirs("spool-full");
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.first_retry_ms = 3600L * 1000;
    pc_spool *s = open_spool(&cfg);
    rt_input r;
    rt_input_make(&r, 8101, "http://127.0.0.1:9/report");
    cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    pc_spool_close(s);
    cr_assert_eq(pt_system("cat '%s'/*.report > '%s/../before'", dir, dir), 0);

    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        _exit(full_disk_child(dir));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "child died: %d", st);
    cr_assert_eq(WEXITSTATUS(st), 0, "full-disk child failed at step %d", WEXITSTATUS(st));
    cr_assert_eq(rt_dir_count(dir, ".report"), 1);
    cr_assert_eq(pt_system("cat '%s'/*.report | cmp -s - '%s/../before'", dir, dir), 0);
    cr_assert_eq(pt_system("test -z \"$(ls -A '%s' | grep '^\\.tmp')\"", dir), 0);
    rt_input_free(&r);
}

/* A really full file system: a 64 KiB tmpfs in a private mount namespace (skipped where
 * mounting is not permitted). Reports are written until the disk is full; every report
 * written before stays intact and is delivered. */
static int tmpfs_child(const char *dir, rt_collector *c, size_t *written)
{
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") != 0)
        return 77;
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.max_bytes = 16u << 20;
    cfg.first_retry_ms = 3600L * 1000;
    pc_spool *s = NULL;
    if (pc_spool_open(&cfg, &s) != PINCURL_OK)
        return 30;
    rt_input r;
    rt_input_make(&r, 1, c->uri);
    pincurl_status st = PINCURL_OK;
    unsigned i;
    for (i = 0; i < 200 && st == PINCURL_OK; i++) {
        r.in.port = 10000 + i;
        st = pc_spool_submit(s, &r.in, NULL);
    }
    *written = i - 1;
    if (st != PINCURL_SPOOL_NO_SPACE || *written < 3)
        return 31;
    if (rt_last_status(&x, PINCURL_EVENT_REPORT_QUEUED) != PINCURL_SPOOL_NO_SPACE)
        return 32;
    if (rt_dir_count(dir, ".report") != *written || pc_spool_pending(s) != *written)
        return 33;
    pc_spool_close(s);
    /* what is on the full disk is intact: a fresh open indexes every file, sets none aside */
    rt_ctx_init(&x);
    if (pc_spool_open(&cfg, &s) != PINCURL_OK || rt_count(&x, PINCURL_EVENT_REPORT_SET_ASIDE) != 0)
        return 34;
    if (pc_spool_pending(s) != *written)
        return 35;
    rt_collector_mode(c, "accept");
    if (pc_spool_flush(s, 20000) != PINCURL_OK)
        return 36;
    pc_spool_close(s);
    rt_input_free(&r);
    return 0;
}

Test(spool, full_tmpfs)
{
    const char *dir = setup_dirs("spool-tmpfs");
    cr_assert_eq(pt_system("mkdir -p '%s'", dir), 0);
    rt_collector c;
    rt_collector_start(&c, dirs[1], "fail", 0); /* accepts once the disk is full */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        size_t written = 0;
        int rc = tmpfs_child(dir, &c, &written);
        if (write(fds[1], &written, sizeof written) != (ssize_t)sizeof written)
            rc = 99;
        _exit(rc);
    }
    close(fds[1]);
    size_t written = 0;
    ssize_t n = read(fds[0], &written, sizeof written);
    close(fds[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "child died: %d", st);
    if (WEXITSTATUS(st) == 77) {
        rt_collector_stop(&c);
        cr_skip_test("cannot mount a tmpfs here");
    }
    cr_assert_eq(WEXITSTATUS(st), 0, "tmpfs child failed at step %d", WEXITSTATUS(st));
    cr_assert_eq(n, (ssize_t)sizeof written);
    /* the collector's files, seen from this process: allow it a moment to settle */
    for (int i = 0; i < 60 && rt_collector_received(&c) != written; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(rt_collector_received(&c), written, "received %zu, written %zu",
                 rt_collector_received(&c), written);
    rt_collector_stop(&c);
}

/* ---- what the spool touches ----------------------------------------------------------- */

/* One directory entry as lstat and readlink / the content describe it. */
typedef struct entry_snapshot {
    char name[256];
    mode_t type;
    char data[256]; /* file content (first bytes) or link target */
} entry_snapshot;

static size_t snapshot(const char *dir, entry_snapshot *out, size_t cap)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cr_assert_lt(n, cap);
        entry_snapshot *e = &out[n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", de->d_name);
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        cr_assert_eq(lstat(path, &st), 0);
        e->type = st.st_mode & S_IFMT;
        if (S_ISLNK(st.st_mode)) {
            cr_assert(readlink(path, e->data, sizeof e->data - 1) > 0);
        } else if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            cr_assert_not_null(f);
            size_t got = fread(e->data, 1, sizeof e->data - 1, f);
            (void)got;
            fclose(f);
        }
    }
    closedir(d);
    return n;
}

static const entry_snapshot *find_snapshot(const entry_snapshot *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Every entry of before is in after, of the same type and content. */
static void assert_unchanged(const entry_snapshot *before, size_t nb, const entry_snapshot *after,
                             size_t na, const char *when)
{
    for (size_t i = 0; i < nb; i++) {
        const entry_snapshot *a = find_snapshot(after, na, before[i].name);
        cr_assert_not_null(a, "%s: %s is gone", when, before[i].name);
        cr_assert_eq(a->type, before[i].type, "%s: %s changed type", when, before[i].name);
        cr_assert_str_eq(a->data, before[i].data, "%s: %s changed", when, before[i].name);
    }
}

/* A directory that looks like a used spool: a crash's temporary file, a damaged report,
 * damaged files set aside beyond the bound, a damaged deduplication window. */
static void fill_spool_lookalike(const char *dir)
{
    char path[1400];
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/.tmp-00000000000000000001.report", dir);
    pt_write_file(path, "half written", 12);
    snprintf(path, sizeof path, "%s/00000000000000000002.report", dir);
    pt_write_file(path, "not json", 8);
    for (int i = 0; i < PC_SPOOL_MAX_SET_ASIDE + 4; i++) {
        snprintf(path, sizeof path, "%s/%020d.report.bad", dir, 10 + i);
        pt_write_file(path, "kept", 4);
    }
    snprintf(path, sizeof path, "%s/dedup.json", dir);
    pt_write_file(path, "[1,2", 4);
}

Test(spool, symlinked_directory_is_refused)
{
    setup_dirs("spool-symlink");
    char target[1200], link_path[1200], dangling[1200];
    snprintf(target, sizeof target, "%s/elsewhere", dirs[3]);
    snprintf(link_path, sizeof link_path, "%s/spool-link", dirs[3]);
    snprintf(dangling, sizeof dangling, "%s/dangling", dirs[3]);
    fill_spool_lookalike(target);
    cr_assert_eq(symlink(target, link_path), 0);
    static entry_snapshot before[64], after[64];
    size_t nb = snapshot(target, before, 64);

    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(link_path, &x);
    pc_spool *s = (pc_spool *)&x;
    cr_assert_eq(pc_spool_open(&cfg, &s), PINCURL_SPOOL_SYMLINK);
    cr_assert_null(s);
    cr_assert_eq(x.n, 0, "no event: nothing was looked at");
    size_t na = snapshot(target, after, 64);
    cr_assert_eq(na, nb, "entries added or removed in the target");
    assert_unchanged(before, nb, after, na, "after open through the link");

    /* a link to nowhere: refused, and nothing is created at its target */
    snprintf(target, sizeof target, "%s/not-there", dirs[3]);
    cr_assert_eq(symlink(target, dangling), 0);
    cfg.dir = dangling;
    cr_assert_eq(pc_spool_open(&cfg, &s), PINCURL_SPOOL_SYMLINK);
    cr_assert_neq(access(target, F_OK), 0);

    /* the client reports the same status */
    pincurl_options *o = pincurl_options_new();
    cr_assert_not_null(o);
    cr_assert_eq(pincurl_options_set_spool_dir(o, link_path), PINCURL_OK);
    /* a CA file: a leaf-only TLS backend checks the pins against it first */
    cr_assert_eq(pincurl_options_set_ca_file(o, pt_pki("root.pem")), PINCURL_OK);
    pincurl_policy *p = pt_policy_exact("localhost", "leaf-ec", "leaf-backup");
    pincurl_client *c = NULL;
    cr_assert_eq(pincurl_client_new(p, o, &c), PINCURL_SPOOL_SYMLINK);
    cr_assert_null(c);
    cr_assert_str_eq(pincurl_status_name(PINCURL_SPOOL_SYMLINK), "SPOOL_SYMLINK");
    na = snapshot(dirs[3], after, 64);
    pincurl_policy_unref(p);
    pincurl_options_free(o);
    snprintf(target, sizeof target, "%s/elsewhere", dirs[3]);
    na = snapshot(target, after, 64);
    cr_assert_eq(na, nb);
    assert_unchanged(before, nb, after, na, "after the client");
}

Test(spool, lookalike_names_are_never_touched)
{
    const char *dir = setup_dirs("spool-lookalike");
    rt_collector down;
    rt_collector_start(&down, dirs[1], "down", 0);
    rt_ctx x;
    rt_ctx_init(&x);
    pc_spool_config cfg = rt_config(dir, &x);
    cfg.max_reports = 3;
    cfg.first_retry_ms = 60000;
    pc_spool *s = open_spool(&cfg);
    pc_spool_close(s);

    /* Files pincurl never writes, named like the ones it does. */
    static const char *const foreign_files[] = {
        "foo.report", "1.report", "0000000000000000001.report", "000000000000000000001.report",
        "0000000000000000000a.report", "+0000000000000000001.report",
        "00000000000000000005.report.bak", "00000000000000000005.REPORT", "00000000000000000005.",
        ".tmp-", ".tmp-foo", ".tmp-00000000000000000005.report.x", ".tmp-dedup.json.old",
        ".tmp-.tmp-00000000000000000005.report", "notes.bad", ".bad", "00000000000000000005.bad",
        "00000000000000000005.report.bad.bad", "x.report.bad", "dedup.json.bak", "dedup.json.tmp",
        "dedup.json.bad.bad", "DEDUP.json", "report", ".report", "bad",
    };
    char path[1400], outside[1400];
    for (size_t i = 0; i < sizeof foreign_files / sizeof foreign_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, foreign_files[i]);
        pt_write_file(path, foreign_files[i], strlen(foreign_files[i]));
    }
    /* Names of the spool's grammar that are not regular files: pincurl writes only regular
     * files, so these are not its own either. The lowest numbers, so that they would be the
     * first dropped or pruned. */
    snprintf(outside, sizeof outside, "%s/outside.txt", dirs[3]);
    pt_write_file(outside, "outside", 7);
    snprintf(path, sizeof path, "%s/00000000000000000000.report", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/00000000000000000001.report", dir);
    cr_assert_eq(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/00000000000000000002.report", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/.tmp-00000000000000000003.report", dir);
    cr_assert_eq(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/00000000000000000004.report.bad", dir);
    cr_assert_eq(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/00000000000000000005.report.bad", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/.tmp-dedup.json", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    static entry_snapshot before[128], after[128];
    size_t nb = snapshot(dir, before, 128);

    /* Genuine damaged files of the spool's own names, more than the set-aside bound, so
     * that every sweep runs: set aside, prune, temporary files, bounds, delivery. */
    for (int i = 0; i < PC_SPOOL_MAX_SET_ASIDE + 4; i++) {
        snprintf(path, sizeof path, "%s/%020d.report", dir, 100 + i);
        pt_write_file(path, "nope", 4);
    }
    snprintf(path, sizeof path, "%s/.tmp-00000000000000000200.report", dir);
    pt_write_file(path, "crash", 5);

    s = open_spool(&cfg);
    size_t na = snapshot(dir, after, 128);
    assert_unchanged(before, nb, after, na, "open");
    snprintf(path, sizeof path, "%s/.tmp-00000000000000000200.report", dir);
    cr_assert_neq(access(path, F_OK), 0, "the spool's own temporary file is removed");
    snprintf(path, sizeof path, "%s/%020d.report.bad", dir, 100 + PC_SPOOL_MAX_SET_ASIDE + 3);
    cr_assert_eq(access(path, F_OK), 0, "the spool's own damaged file is set aside");

    rt_input r;
    rt_input_make(&r, 7000, down.uri);
    for (unsigned i = 0; i < 6; i++) { /* beyond max_reports: the oldest are dropped */
        r.in.port = 7000 + i;
        cr_assert_eq(pc_spool_submit(s, &r.in, NULL), PINCURL_OK);
    }
    cr_assert_eq(pc_spool_dropped(s), 3);
    na = snapshot(dir, after, 128);
    assert_unchanged(before, nb, after, na, "submits beyond the bounds");
    pc_spool_close(s);

    rt_collector c;
    rt_collector_start(&c, dirs[1], "accept", down.port);
    s = open_spool(&cfg);
    cr_assert_eq(pc_spool_flush(s, 10000), PINCURL_OK);
    cr_assert_eq(rt_collector_received(&c), 3);
    pc_spool_close(s);
    na = snapshot(dir, after, 128);
    assert_unchanged(before, nb, after, na, "delivery");
    s = open_spool(&cfg);
    pc_spool_close(s);
    na = snapshot(dir, after, 128);
    assert_unchanged(before, nb, after, na, "reopen");
    size_t olen;
    unsigned char *o = pt_read_file(outside, &olen);
    cr_assert(olen == 7 && memcmp(o, "outside", 7) == 0);
    free(o);
    rt_collector_stop(&c);
    rt_input_free(&r);
}
