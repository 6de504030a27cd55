/*
 * A minimal device program on the firmware library: a compiled policy, one client, one
 * pinned GET of the URL given. Linked with --gc-sections and a map file so tools/firmware.sh
 * can tell how much of libpincurl_firmware.a such an image really carries
 * (docs/embedded.md). Not a test by itself: firmware.image runs it without arguments.
 */
#include <stdio.h>

#include "pincurl/client.h"
#include "pincurl/static_policy.h"

static const unsigned char pins[2][PINCURL_PIN_DIGEST_SIZE] = {{1}, {2}};
static const pincurl_static_domain domains[1] = {
    {"device.example", PINCURL_DOMAIN_ENFORCE, pins, 2, 0, PINCURL_ON_EXPIRY_REPORT_AND_ALLOW}};
static const pincurl_static_policy policy = {
    PINCURL_STATIC_POLICY_FORMAT, 0, PINCURL_ON_EXPIRY_BLOCK, NULL, 0, domains, 1};

int main(int argc, char **argv)
{
    pincurl_policy *p = NULL;
    pincurl_client *c = NULL;
    pincurl_request *r;
    pincurl_response *resp = NULL;
    pincurl_status st;

    if (pincurl_policy_from_static(&policy, NULL, &p) != PINCURL_OK ||
        pincurl_client_new(p, NULL, &c) != PINCURL_OK)
        return 1;
    pincurl_policy_unref(p);
    if (argc > 1) {
        r = pincurl_request_new("GET", argv[1]);
        st = pincurl_client_perform(c, r, &resp);
        printf("%s %ld\n", pincurl_status_name(st), pincurl_response_code(resp));
        pincurl_response_free(resp);
        pincurl_request_free(r);
    }
    pincurl_client_free(c);
    return 0;
}
