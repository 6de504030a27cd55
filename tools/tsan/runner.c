/*
 * The test runner behind tools/tsan/criterion/criterion.h (see there why). Runs every
 * registered test (or those matching --filter=SUITE/NAME, '*' wildcards) in a forked
 * child with the suite's .init and .fini, a test's timeout enforced by alarm(), and exits
 * non-zero if any test failed, crashed or timed out. Other Criterion options are accepted
 * and ignored.
 */
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criterion/criterion.h"

#define MAX_TESTS 512
#define MAX_SUITES 64

static struct {
    const char *suite, *name;
    void (*fn)(void);
    const struct ptcr_opts *opts;
} tests[MAX_TESTS];
static int test_count;

static struct {
    const char *name;
    const struct ptcr_opts *opts;
} suites[MAX_SUITES];
static int suite_count;

static int expect_failed; /* in the child: a non-fatal check failed */
static const struct ptcr_opts *running_suite;

void ptcr_register_test(const char *suite, const char *name, void (*fn)(void),
                        const struct ptcr_opts *opts)
{
    if (test_count < MAX_TESTS) {
        tests[test_count].suite = suite;
        tests[test_count].name = name;
        tests[test_count].fn = fn;
        tests[test_count].opts = opts;
        test_count++;
    }
}

void ptcr_register_suite(const char *suite, const struct ptcr_opts *opts)
{
    if (suite_count < MAX_SUITES) {
        suites[suite_count].name = suite;
        suites[suite_count].opts = opts;
        suite_count++;
    }
}

static void vreport(const char *file, int line, const char *expr, const char *fmt, va_list ap)
{
    fprintf(stderr, "[----] %s:%d: Assertion Failed\n[----]   ", file, line);
    if (fmt != NULL && fmt[0] != '\0')
        vfprintf(stderr, fmt, ap);
    else
        fputs(expr, stderr);
    fputc('\n', stderr);
}

static void finish_child(int rc)
{
    if (running_suite != NULL && running_suite->fini != NULL)
        running_suite->fini();
    fflush(NULL);
    exit(rc);
}

void ptcr_fail(int fatal, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, expr, fmt, ap);
    va_end(ap);
    if (fatal)
        finish_child(1);
    expect_failed = 1;
}

void ptcr_abort(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, expr, fmt, ap);
    va_end(ap);
    finish_child(1);
}

int ptcr_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void ptcr_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("[SKIP] ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    finish_child(77);
}

void ptcr_log(const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const struct ptcr_opts *suite_opts(const char *name)
{
    for (int i = 0; i < suite_count; i++)
        if (strcmp(suites[i].name, name) == 0)
            return suites[i].opts;
    return NULL;
}

/* Weak, so that a program with its own main (CMake's compiler checks) still links. */
__attribute__((weak)) int main(int argc, char **argv)
{
    const char *filter = "*";
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--filter=", 9) == 0)
            filter = argv[i] + 9;

    int passed = 0, failed = 0, skipped = 0;
    fflush(NULL);
    for (int i = 0; i < test_count; i++) {
        char id[512];
        snprintf(id, sizeof id, "%s/%s", tests[i].suite, tests[i].name);
        if (fnmatch(filter, id, 0) != 0 || tests[i].opts->disabled)
            continue;
        const struct ptcr_opts *so = suite_opts(tests[i].suite);
        double timeout = tests[i].opts->timeout > 0 ? tests[i].opts->timeout
                         : (so != NULL && so->timeout > 0) ? so->timeout : 0;
        fprintf(stderr, "[RUN ] %s::%s\n", tests[i].suite, tests[i].name);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            if (timeout > 0)
                alarm((unsigned)(timeout + 0.999));
            running_suite = so;
            if (so != NULL && so->init != NULL)
                so->init();
            if (tests[i].opts->init != NULL)
                tests[i].opts->init();
            tests[i].fn();
            if (tests[i].opts->fini != NULL)
                tests[i].opts->fini();
            finish_child(expect_failed ? 1 : 0);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0)
            ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
            fprintf(stderr, "[PASS] %s::%s\n", tests[i].suite, tests[i].name);
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
            skipped++;
        } else {
            failed++;
            if (WIFSIGNALED(status))
                fprintf(stderr, "[FAIL] %s::%s: CRASH (signal %d%s)\n", tests[i].suite,
                        tests[i].name, WTERMSIG(status),
                        WTERMSIG(status) == SIGALRM ? ": timed out" : "");
            else
                fprintf(stderr, "[FAIL] %s::%s (exit %d)\n", tests[i].suite, tests[i].name,
                        WEXITSTATUS(status));
        }
    }
    fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Skipped: %d\n",
            passed + failed, passed, failed, skipped);
    return failed == 0 && passed > 0 ? 0 : 1;
}
