/* The status list: every entry has a name and a message, numbers are unique and stable. */
#include <criterion/criterion.h>
#include <string.h>

#include "pincurl/pincurl.h"

static const struct {
    int number;
    const char *name;
} all[] = {
#define PINCURL_STATUS(name, number, message) {number, #name},
#include "pincurl/status_list.h"
#undef PINCURL_STATUS
};

Test(status, every_status_has_name_and_message)
{
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *name = pincurl_status_name((pincurl_status)all[i].number);
        cr_assert_not_null(name, "status %d has no name", all[i].number);
        cr_assert_str_eq(name, all[i].name);
        const char *msg = pincurl_strerror((pincurl_status)all[i].number);
        cr_assert_str_neq(msg, "unknown status", "status %s has no message", all[i].name);
        cr_assert(strlen(msg) > 5);
    }
}

Test(status, numbers_are_unique)
{
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(all[i].number, all[j].number, "%s and %s share a number", all[i].name,
                          all[j].name);
}

/* Released numbers never change: a few anchors a caller may have compiled in. */
Test(status, released_numbers_are_stable)
{
    cr_assert_eq(PINCURL_OK, 0);
    cr_assert_eq(PINCURL_OUT_OF_MEMORY, 2);
    cr_assert_eq(PINCURL_PIN_BAD_LENGTH, 22);
    cr_assert_eq(PINCURL_HOST_NOT_ASCII, 41);
    cr_assert_eq(PINCURL_POLICY_UNKNOWN_KEY, 61);
    cr_assert_eq(PINCURL_PIN_MISMATCH, 100);
    cr_assert_eq(PINCURL_CLEARTEXT_PINNED, 106);
}

Test(status, unknown_numbers)
{
    cr_assert_null(pincurl_status_name((pincurl_status)9999));
    cr_assert_str_eq(pincurl_strerror((pincurl_status)9999), "unknown status");
    cr_assert_str_eq(pincurl_version(), PINCURL_VERSION_STRING);
}
