/* A response's headers as pincurl keeps them from libcurl's header lines: names and values
 * trimmed of blanks, a status line starting a new set, obsolete line folding, lines that
 * are not headers, growth past the first buffers, lookup without regard to case. */
#include "http/http.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static void line(pincurl_response *r, const char *text)
{
    cr_assert_eq(pc_response_header_line(r, text, strlen(text)), 0, "%s", text);
}

Test(response_headers, names_and_values_are_trimmed)
{
    pincurl_response *r = pc_response_new();
    cr_assert_not_null(r);
    line(r, "HTTP/1.1 200 OK\r\n");
    line(r, "Content-Type: text/plain\r\n");
    line(r, "X-Spaces: \t  padded value \t \r\n");
    line(r, "X-Empty:\r\n");
    line(r, "X-Tight:v\n");
    line(r, "Name-With-Blank-Before-Colon \t: x\r\n");
    line(r, "\r\n");
    cr_assert_eq(pincurl_response_header_count(r), 5);
    cr_assert_str_eq(pincurl_response_header_name(r, 0), "Content-Type");
    cr_assert_str_eq(pincurl_response_header_value(r, 0), "text/plain");
    cr_assert_str_eq(pincurl_response_header(r, "x-spaces"), "padded value");
    cr_assert_str_eq(pincurl_response_header(r, "X-EMPTY"), "");
    cr_assert_str_eq(pincurl_response_header(r, "x-tight"), "v");
    cr_assert_str_eq(pincurl_response_header_name(r, 4), "Name-With-Blank-Before-Colon");
    cr_assert_str_eq(pincurl_response_header_value(r, 4), "x");
    cr_assert_null(pincurl_response_header(r, "absent"));
    pincurl_response_free(r);
}

Test(response_headers, a_status_line_starts_a_new_set_and_non_headers_are_ignored)
{
    pincurl_response *r = pc_response_new();
    cr_assert_not_null(r);
    line(r, "HTTP/1.1 302 Found\r\n");
    line(r, "Location: /next\r\n");
    line(r, "HTTP/1.1 200 OK\r\n"); /* the redirect's target */
    line(r, "no colon here\r\n");
    line(r, ": no name\r\n");
    line(r, "Server: test\r\n");
    cr_assert_eq(pincurl_response_header_count(r), 1);
    cr_assert_null(pincurl_response_header(r, "location"));
    cr_assert_str_eq(pincurl_response_header(r, "server"), "test");
    pincurl_response_free(r);
}

Test(response_headers, folded_lines_continue_the_previous_value)
{
    pincurl_response *r = pc_response_new();
    cr_assert_not_null(r);
    line(r, "X-Folded: first\r\n");
    line(r, "   second part  \r\n");
    line(r, "\tthird\r\n");
    line(r, "X-After: yes\r\n");
    cr_assert_eq(pincurl_response_header_count(r), 2);
    cr_assert_str_eq(pincurl_response_header(r, "x-folded"), "first second part third");
    cr_assert_str_eq(pincurl_response_header(r, "x-after"), "yes");
    pincurl_response_free(r);
}

Test(response_headers, many_and_long_headers_are_kept_whole)
{
    pincurl_response *r = pc_response_new();
    char text[3000], name[32], value[2100];
    cr_assert_not_null(r);
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i * 10) % 2000 + 1;
        memset(value, 'a' + i % 26, n);
        value[n] = '\0';
        snprintf(text, sizeof text, "X-H%d: %s\r\n", i, value);
        line(r, text);
    }
    cr_assert_eq(pincurl_response_header_count(r), 200);
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i * 10) % 2000 + 1;
        const char *v;
        snprintf(name, sizeof name, "x-h%d", i);
        v = pincurl_response_header(r, name);
        cr_assert_not_null(v, "%s", name);
        cr_assert_eq(strlen(v), n, "%s", name);
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(v[k], 'a' + i % 26);
    }
    pincurl_response_free(r);
}
