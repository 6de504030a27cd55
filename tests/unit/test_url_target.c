/* pc_url_target: libcurl's parse of a URL's scheme, host and port, remembered per thread. */
#include "http/http.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void expect(const char *url, const char *scheme, const char *host, unsigned port)
{
    char s[16], h[PINCURL_HOST_MAX + 1];
    unsigned p = 0;
    cr_assert_eq(pc_url_target(url, s, h, &p), PINCURL_OK, "%s", url);
    cr_assert_str_eq(s, scheme, "%s", url);
    cr_assert_str_eq(h, host, "%s", url);
    cr_assert_eq(p, port, "%s", url);
}

Test(url_target, the_same_string_gives_the_same_parse_and_another_its_own)
{
    expect("https://Example.COM:8443/x", "https", "example.com", 8443);
    expect("https://Example.COM:8443/x", "https", "example.com", 8443);
    expect("http://a.test/", "http", "a.test", 80);
    expect("https://Example.COM:8443/x", "https", "example.com", 8443);
    expect("https://Example.COM:8444/x", "https", "example.com", 8444);
    expect("https://[::1]:99/", "https", "::1", 99);
}

Test(url_target, a_refused_url_after_a_parsed_one_is_refused)
{
    char s[16], h[PINCURL_HOST_MAX + 1];
    unsigned p = 0;
    expect("https://a.test/", "https", "a.test", 443);
    cr_assert_neq(pc_url_target("https://a.test:99999/", s, h, &p), PINCURL_OK);
    cr_assert_neq(pc_url_target("not a url", s, h, &p), PINCURL_OK);
    cr_assert_neq(pc_url_target(NULL, s, h, &p), PINCURL_OK);
    expect("https://a.test/", "https", "a.test", 443);
}

Test(url_target, a_long_url_is_parsed_every_time)
{
    char url[2048];
    memset(url, 0, sizeof(url));
    strcpy(url, "https://long.test:444/");
    memset(url + strlen(url), 'a', 1500);
    expect(url, "https", "long.test", 444);
    expect(url, "https", "long.test", 444);
    url[8] = 'x'; /* "https://xong.test..." */
    expect(url, "https", "xong.test", 444);
}

static void *other_thread(void *arg)
{
    (void)arg;
    expect("https://b.test:7/", "https", "b.test", 7);
    return NULL;
}

Test(url_target, each_thread_remembers_its_own)
{
    pthread_t t;
    expect("https://a.test:5/", "https", "a.test", 5);
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    expect("https://a.test:5/", "https", "a.test", 5);
}
