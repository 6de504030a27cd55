/* Host normalisation: case, trailing dots, IDNs, label rules, IPv4 and IPv6 literals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pincurl/pincurl.h"

static char out[PINCURL_HOST_MAX + 1];

static pincurl_status norm(const char *host)
{
    memset(out, 'X', sizeof out);
    return pincurl_host_normalize(host, strlen(host), out, sizeof out);
}

#define ASSERT_NORM(in, expected)                                                        \
    do {                                                                                 \
        pincurl_status st_ = norm(in);                                                   \
        cr_assert_eq(st_, PINCURL_OK, "%s: status %s", in, pincurl_status_name(st_));    \
        cr_assert_str_eq(out, expected, "%s", in);                                       \
    } while (0)

#define ASSERT_STATUS(in, status)                                                        \
    do {                                                                                 \
        pincurl_status st_ = norm(in);                                                   \
        cr_assert_eq(st_, status, "%s: got %s, want %s", in, pincurl_status_name(st_),   \
                     pincurl_status_name(status));                                       \
        cr_assert_str_eq(out, "", "%s: output not cleared", in);                         \
    } while (0)

Test(host, case_folding)
{
    ASSERT_NORM("Api.Example.COM", "api.example.com");
    ASSERT_NORM("api.example.com", "api.example.com");
}

Test(host, trailing_dot)
{
    ASSERT_NORM("example.com.", "example.com");
    ASSERT_NORM("LOCALHOST.", "localhost");
    ASSERT_STATUS("example.com..", PINCURL_HOST_INVALID);
    ASSERT_STATUS(".", PINCURL_HOST_INVALID);
    ASSERT_STATUS("..", PINCURL_HOST_INVALID);
}

Test(host, non_ascii_needs_a_label)
{
    ASSERT_STATUS("b\xc3\xbc"
                  "cher.example",
                  PINCURL_HOST_NOT_ASCII);
    ASSERT_NORM("xn--bcher-kva.example", "xn--bcher-kva.example");
    ASSERT_NORM("XN--BCHER-KVA.example", "xn--bcher-kva.example");
}

Test(host, label_rules)
{
    ASSERT_STATUS("", PINCURL_HOST_INVALID);
    ASSERT_STATUS("a..example.com", PINCURL_HOST_INVALID);
    ASSERT_STATUS(".example.com", PINCURL_HOST_INVALID);
    ASSERT_STATUS("exa mple.com", PINCURL_HOST_INVALID);
    ASSERT_STATUS("*.example.com", PINCURL_HOST_INVALID);
    ASSERT_STATUS("example.com/", PINCURL_HOST_INVALID);
    ASSERT_NORM("under_score.example.com", "under_score.example.com");
    ASSERT_NORM("a-b.example.com", "a-b.example.com");

    char label63[64], label64[65], name[400];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';
    snprintf(name, sizeof name, "%s.example.com", label63);
    ASSERT_NORM(name, name);
    snprintf(name, sizeof name, "%s.example.com", label64);
    ASSERT_STATUS(name, PINCURL_HOST_INVALID);
}

Test(host, total_length)
{
    /* 63+1+63+1+63+1+61 = 253 characters */
    char name[300];
    snprintf(name, sizeof name, "%0*d.%0*d.%0*d.%0*d", 63, 0, 63, 0, 63, 0, 61, 0);
    memset(name, 'a', 1);
    size_t n = strlen(name);
    cr_assert_eq(n, 253);
    for (size_t i = 0; i < n; i++)
        if (name[i] == '0')
            name[i] = 'b';
    ASSERT_NORM(name, name);
    char dotted[310]; /* room for any name[] plus the dot: no truncation possible */
    snprintf(dotted, sizeof dotted, "%s.", name);
    ASSERT_NORM(dotted, name); /* 254 with the trailing dot is still 253 */
    char longer[310];
    snprintf(longer, sizeof longer, "c%s", name); /* 254 characters */
    ASSERT_STATUS(longer, PINCURL_HOST_INVALID);
}

Test(host, ipv4_valid)
{
    ASSERT_NORM("127.0.0.1", "127.0.0.1");
    ASSERT_NORM("0.0.0.0", "0.0.0.0");
    ASSERT_NORM("255.255.255.255", "255.255.255.255");
    ASSERT_NORM("192.0.2.1.", "192.0.2.1");
    cr_assert_eq(pincurl_host_is_ip("127.0.0.1"), 1);
}

Test(host, ipv4_ambiguous_forms_refused)
{
    ASSERT_STATUS("127.1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("0x7f.0.0.1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("01.2.3.4", PINCURL_HOST_INVALID);
    ASSERT_STATUS("256.1.1.1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1.2.3.4.5", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1.2.3.0x10", PINCURL_HOST_INVALID);
    ASSERT_STATUS("2130706433", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1.2.3.1000", PINCURL_HOST_INVALID);
    /* a numeric label that is not the last one is an ordinary name */
    ASSERT_NORM("1.2.3.example", "1.2.3.example");
    cr_assert_eq(pincurl_host_is_ip("1.2.3.example"), 0);
    cr_assert_eq(pincurl_host_is_ip("example.com"), 0);
    cr_assert_eq(pincurl_host_is_ip(NULL), 0);
}

Test(host, ipv6_forms)
{
    ASSERT_NORM("::1", "::1");
    ASSERT_NORM("[::1]", "::1");
    ASSERT_NORM("0:0:0:0:0:0:0:1", "::1");
    ASSERT_NORM("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    ASSERT_NORM("2001:db8:0:0:0:0:2:1", "2001:db8::2:1");
    ASSERT_NORM("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* one zero group: kept */
    ASSERT_NORM("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329");
    ASSERT_NORM("::", "::");
    ASSERT_NORM("1::", "1::");
    ASSERT_NORM("[FE80::ABCD]", "fe80::abcd");
    /* IPv4-mapped, in every spelling, is the IPv4 address */
    ASSERT_NORM("::ffff:192.0.2.1", "192.0.2.1");
    ASSERT_NORM("::FFFF:c000:0201", "192.0.2.1");
    ASSERT_NORM("[::ffff:192.0.2.1]", "192.0.2.1");
    ASSERT_NORM("0:0:0:0:0:ffff:192.0.2.1", "192.0.2.1");
    ASSERT_NORM("0:0:0:0:0:FFFF:C000:201", "192.0.2.1");
    ASSERT_NORM("[::ffff:0:0]", "0.0.0.0");
    ASSERT_NORM("::ffff:1:0:0", "::ffff:1:0:0"); /* not the ::ffff:0:0/96 prefix */
    ASSERT_NORM("::127.0.0.1", "::7f00:1");      /* IPv4-compatible: an IPv6 address */
    ASSERT_NORM("64:ff9b::192.0.2.33", "64:ff9b::c000:221");
    ASSERT_NORM("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0");
    cr_assert_eq(pincurl_host_is_ip("::1"), 1);
    cr_assert_eq(pincurl_host_is_ip("::ffff:192.0.2.1"), 1);
    cr_assert_eq(pincurl_host_is_ip("192.0.2.1"), 1);
}

Test(host, ipv6_invalid)
{
    ASSERT_STATUS("fe80::1%eth0", PINCURL_HOST_INVALID);
    ASSERT_STATUS("[fe80::1%25eth0]", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1:2:3:4:5:6:7:8:9", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1:2:3:4:5:6:7", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1:2:3:4:5:6:7::8", PINCURL_HOST_INVALID);
    ASSERT_STATUS(":::", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1::2::3", PINCURL_HOST_INVALID);
    ASSERT_STATUS(":1::", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1::2:", PINCURL_HOST_INVALID);
    ASSERT_STATUS("12345::1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("::g", PINCURL_HOST_INVALID);
    ASSERT_STATUS("[::1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("::1]", PINCURL_HOST_INVALID);
    ASSERT_STATUS("[]", PINCURL_HOST_INVALID);
    ASSERT_STATUS("[example.com]", PINCURL_HOST_INVALID);
    ASSERT_STATUS("::ffff:192.0.2.256", PINCURL_HOST_INVALID);
    ASSERT_STATUS("::ffff:192.0.2", PINCURL_HOST_INVALID);
    ASSERT_STATUS("1:2:3:4:5:6:7:192.0.2.1", PINCURL_HOST_INVALID);
    ASSERT_STATUS("example.com:443", PINCURL_HOST_INVALID);
}

Test(host, buffer_too_small)
{
    char small[8];
    cr_assert_eq(pincurl_host_normalize("example.com", 11, small, sizeof small),
                 PINCURL_BUFFER_TOO_SMALL);
    cr_assert_str_eq(small, "");
    char exact[12];
    cr_assert_eq(pincurl_host_normalize("example.com", 11, exact, sizeof exact), PINCURL_OK);
    cr_assert_str_eq(exact, "example.com");
    cr_assert_eq(pincurl_host_normalize("2001:db8::1", 11, small, sizeof small),
                 PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(pincurl_host_normalize("example.com", 11, NULL, 0), PINCURL_INVALID_ARGUMENT);
}

Test(host, length_is_honoured)
{
    /* Only len bytes are read: "example.com" out of a longer buffer. */
    const char text[] = "example.comXYZ";
    cr_assert_eq(pincurl_host_normalize(text, 11, out, sizeof out), PINCURL_OK);
    cr_assert_str_eq(out, "example.com");
    /* An embedded NUL is not a host character. */
    cr_assert_eq(pincurl_host_normalize("a\0b.com", 7, out, sizeof out), PINCURL_HOST_INVALID);
}
