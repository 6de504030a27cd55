/*
 * A stand-in for <criterion/criterion.h>, for tools/tsan.sh and for builds where Criterion is
 * not packaged (cross builds under qemu-user: -DPINCURL_CRITERION_LITE=ON).
 *
 * Criterion 2.4 cannot start under ThreadSanitizer: its BoxFort runner maps an
 * inheritable arena at random addresses between 0x200000000000 and 0x7f0000000000, where
 * TSan keeps its shadow memory, and aborts ("Could not initialize inheritable arena";
 * Criterion issue #274). This header declares the subset of the Criterion API the
 * concurrency suites use (Test, TestSuite with .init/.fini/.timeout, cr_assert*,
 * cr_expect*, cr_skip_test, cr_log_*) on top of runner.c, which runs every test in a
 * forked child, as Criterion does, and reports in Criterion's words.
 */
#ifndef PINCURL_TSAN_CRITERION_H
#define PINCURL_TSAN_CRITERION_H

#include <stddef.h>
#include <string.h>

struct ptcr_opts {
    int dummy_; /* first designator, so that no option list is empty */
    void (*init)(void);
    void (*fini)(void);
    double timeout;
    int disabled;
    const char *description;
};

void ptcr_register_test(const char *suite, const char *name, void (*fn)(void),
                        const struct ptcr_opts *opts);
void ptcr_register_suite(const char *suite, const struct ptcr_opts *opts);
/* Reports a failed check; fatal ones end the test. fmt may be "" (then expr is shown). */
void ptcr_fail(int fatal, const char *file, int line, const char *expr, const char *fmt, ...);
/* A failed assertion: the test ends here (so the compiler knows what follows is not run). */
__attribute__((noreturn)) void ptcr_abort(const char *file, int line, const char *expr,
                                          const char *fmt, ...);
void ptcr_skip(const char *fmt, ...);
/* 1 if both strings exist and are equal (out of line: a NULL operand is a failed check). */
int ptcr_streq(const char *a, const char *b);
void ptcr_log(const char *level, const char *fmt, ...);

#define PTCR_CAT_(a, b) a##b
#define PTCR_CAT(a, b) PTCR_CAT_(a, b)

#define TestSuite(suite, ...)                                                              \
    static const struct ptcr_opts PTCR_CAT(ptcr_suite_opts_, suite) = {.dummy_ = 0,        \
                                                                       __VA_ARGS__};       \
    __attribute__((constructor)) static void PTCR_CAT(ptcr_suite_reg_, suite)(void)        \
    {                                                                                      \
        ptcr_register_suite(#suite, &PTCR_CAT(ptcr_suite_opts_, suite));                   \
    }                                                                                      \
    struct ptcr_semicolon_

#define Test(suite, name, ...)                                                             \
    static void suite##_##name##_ptcr_impl(void);                                          \
    static const struct ptcr_opts suite##_##name##_ptcr_opts = {.dummy_ = 0, __VA_ARGS__}; \
    __attribute__((constructor)) static void suite##_##name##_ptcr_reg(void)               \
    {                                                                                      \
        ptcr_register_test(#suite, #name, suite##_##name##_ptcr_impl,                      \
                           &suite##_##name##_ptcr_opts);                                   \
    }                                                                                      \
    static void suite##_##name##_ptcr_impl(void)

/* Every check takes an optional printf-style message after its operands. The trailing ""
 * makes an omitted message an empty format (extra arguments of vfprintf are ignored). */
#define PTCR_CHECK_(fatal, cond, expr, ...)                                                \
    do {                                                                                   \
        if (!(cond))                                                                       \
            PTCR_FAIL_##fatal(__FILE__, __LINE__, expr, __VA_ARGS__);                      \
    } while (0)

#define PTCR_FAIL_1(...) ptcr_abort(__VA_ARGS__)
#define PTCR_FAIL_0(...) ptcr_fail(0, __VA_ARGS__)
#define PTCR_1_(fatal, a, ...) PTCR_CHECK_(fatal, (a), #a, __VA_ARGS__)
#define PTCR_2_(fatal, op, a, b, ...) PTCR_CHECK_(fatal, (a)op(b), #a " " #op " " #b, __VA_ARGS__)

#define cr_assert(...) PTCR_1_(1, __VA_ARGS__, "")
#define cr_assert_not(...) PTCR_NOT_(1, __VA_ARGS__, "")
#define cr_expect_not(...) PTCR_NOT_(0, __VA_ARGS__, "")
#define PTCR_NOT_(fatal, a, ...) PTCR_CHECK_(fatal, !(a), "!(" #a ")", __VA_ARGS__)
#define cr_expect_neq(...) PTCR_2_(0, !=, __VA_ARGS__, "")
#define cr_expect_lt(...) PTCR_2_(0, <, __VA_ARGS__, "")
#define cr_expect_leq(...) PTCR_2_(0, <=, __VA_ARGS__, "")
#define cr_expect_gt(...) PTCR_2_(0, >, __VA_ARGS__, "")
#define cr_expect_geq(...) PTCR_2_(0, >=, __VA_ARGS__, "")
#define cr_expect_not_null(...) PTCR_NULL_(0, 0, __VA_ARGS__, "")
#define cr_expect_fail(...) ptcr_fail(0, __FILE__, __LINE__, "cr_expect_fail", "" __VA_ARGS__)
#define cr_expect(...) PTCR_1_(0, __VA_ARGS__, "")
#define cr_assert_fail(...) ptcr_abort(__FILE__, __LINE__, "cr_assert_fail", "" __VA_ARGS__)
#define cr_assert_eq(...) PTCR_2_(1, ==, __VA_ARGS__, "")
#define cr_expect_eq(...) PTCR_2_(0, ==, __VA_ARGS__, "")
#define cr_assert_neq(...) PTCR_2_(1, !=, __VA_ARGS__, "")
#define cr_assert_lt(...) PTCR_2_(1, <, __VA_ARGS__, "")
#define cr_assert_leq(...) PTCR_2_(1, <=, __VA_ARGS__, "")
#define cr_assert_gt(...) PTCR_2_(1, >, __VA_ARGS__, "")
#define cr_assert_geq(...) PTCR_2_(1, >=, __VA_ARGS__, "")

#define PTCR_NULL_(fatal, want, p, ...)                                                    \
    PTCR_CHECK_(fatal, ((p) == NULL) == (want), want ? #p " == NULL" : #p " != NULL",      \
                __VA_ARGS__)
#define cr_assert_null(...) PTCR_NULL_(1, 1, __VA_ARGS__, "")
#define cr_expect_null(...) PTCR_NULL_(0, 1, __VA_ARGS__, "")
#define cr_assert_not_null(...) PTCR_NULL_(1, 0, __VA_ARGS__, "")

#define PTCR_STREQ_(fatal, a, b, ...)                                                      \
    PTCR_CHECK_(fatal, ptcr_streq((a), (b)), #a " equals " #b, __VA_ARGS__)
#define cr_assert_str_eq(...) PTCR_STREQ_(1, __VA_ARGS__, "")
#define cr_expect_str_eq(...) PTCR_STREQ_(0, __VA_ARGS__, "")
#define PTCR_STREMPTY_(a, ...) PTCR_CHECK_(1, (a)[0] == '\0', #a " is empty", __VA_ARGS__)
#define cr_assert_str_empty(...) PTCR_STREMPTY_(__VA_ARGS__, "")
#define PTCR_STRNEQ_(fatal, a, b, ...)                                                     \
    PTCR_CHECK_(fatal, !ptcr_streq((a), (b)), #a " differs from " #b, __VA_ARGS__)
#define cr_assert_str_neq(...) PTCR_STRNEQ_(1, __VA_ARGS__, "")
#define cr_expect_str_neq(...) PTCR_STRNEQ_(0, __VA_ARGS__, "")
#define PTCR_STRNONEMPTY_(a, ...) PTCR_CHECK_(1, (a)[0] != '\0', #a " is not empty", __VA_ARGS__)
#define cr_assert_str_not_empty(...) PTCR_STRNONEMPTY_(__VA_ARGS__, "")
#define PTCR_ARRNEQ_(a, b, n, ...)                                                         \
    PTCR_CHECK_(1, memcmp((a), (b), (n)) != 0, #a " differs from " #b, __VA_ARGS__)
#define cr_assert_arr_neq(...) PTCR_ARRNEQ_(__VA_ARGS__, "")
#define PTCR_ARREQ_(a, b, n, ...)                                                          \
    PTCR_CHECK_(1, memcmp((a), (b), (n)) == 0, #a " equals " #b, __VA_ARGS__)
#define cr_assert_arr_eq(...) PTCR_ARREQ_(__VA_ARGS__, "")

#define cr_skip_test(...) ptcr_skip("" __VA_ARGS__)
#define cr_log_info(...) ptcr_log("----", __VA_ARGS__)
#define cr_log_warn(...) ptcr_log("WARN", __VA_ARGS__)
#define cr_log_error(...) ptcr_log("ERR ", __VA_ARGS__)

#endif
