/*
 * A program built against an installed pincurl only: one pinned GET.
 *
 *   consumer URL CA_FILE PIN [PIN...]
 *
 * The policy pins the URL's host with the given pins. Prints the status, the HTTP code and
 * the matched depth; exits 0 when the request succeeded, 1 when pincurl refused it or it
 * failed, 2 on bad usage.
 */
#include <pincurl/pincurl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s URL CA_FILE PIN [PIN...]\n", argv[0]);
        return 2;
    }
    char host[256];
    const char *start = strstr(argv[1], "://");
    start = start != NULL ? start + 3 : argv[1];
    size_t n = strcspn(start, ":/");
    if (n == 0 || n >= sizeof(host))
        return 2;
    memcpy(host, start, n);
    host[n] = '\0';

    pincurl_policy_builder *b = pincurl_policy_builder_new(NULL);
    size_t idx = 0;
    pincurl_status st = b != NULL ? pincurl_policy_builder_add_domain(
                                        b, host, PINCURL_DOMAIN_ENFORCE, &idx)
                                  : PINCURL_OUT_OF_MEMORY;
    for (int i = 3; i < argc && st == PINCURL_OK; i++) {
        pincurl_pin pin;
        st = pincurl_pin_parse(argv[i], strlen(argv[i]), &pin);
        if (st == PINCURL_OK)
            st = pincurl_policy_builder_add_pin(b, idx, &pin);
    }
    pincurl_policy *policy = NULL;
    if (st == PINCURL_OK)
        st = pincurl_policy_builder_finish(b, &policy, NULL);
    pincurl_policy_builder_free(b);
    if (st != PINCURL_OK) {
        fprintf(stderr, "policy: %s\n", pincurl_status_name(st));
        return 2;
    }

    pincurl_options *o = pincurl_options_new();
    pincurl_client *c = NULL;
    if (o == NULL || pincurl_options_set_ca_file(o, argv[2]) != PINCURL_OK ||
        (st = pincurl_client_new(policy, o, &c)) != PINCURL_OK) {
        fprintf(stderr, "client: %s\n", pincurl_status_name(st));
        pincurl_options_free(o);
        pincurl_policy_unref(policy);
        return 1;
    }
    pincurl_options_free(o);
    pincurl_policy_unref(policy);

    pincurl_request *req = pincurl_request_new("GET", argv[1]);
    pincurl_response *resp = NULL;
    st = req != NULL ? pincurl_client_perform(c, req, &resp) : PINCURL_OUT_OF_MEMORY;
    const pincurl_verdict *v = resp != NULL ? pincurl_response_verdict(resp) : NULL;
    printf("%s %ld depth %d (%s on %s)\n", pincurl_status_name(st),
           resp != NULL ? pincurl_response_code(resp) : 0L, v != NULL ? v->matched_depth : -1,
           pincurl_runtime()->backend, pincurl_runtime()->tls_library);
    if (st != PINCURL_OK && resp != NULL)
        fprintf(stderr, "%s\n", pincurl_response_detail(resp));
    pincurl_response_free(resp);
    pincurl_request_free(req);
    pincurl_client_free(c);
    return st == PINCURL_OK ? 0 : 1;
}
