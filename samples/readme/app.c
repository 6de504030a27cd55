/* A pinned GET: pincurl's first program (README.md).
 *
 *   app URL [CA_FILE]
 *
 * Loads policy.json from the current directory, makes the request and prints the status
 * and the body. CA_FILE is a PEM file of trusted roots, for a server with a private root
 * (the local test server); without it the system's roots are used. Exit status 0 when a
 * response arrived, 1 when the request failed (the reason on stderr). */
#include <stdio.h>

#include <pincurl/pincurl.h>

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "https://localhost:8443/";
    const char *ca_file = argc > 2 ? argv[2] : NULL;
    pincurl_policy *policy = NULL;
    pincurl_options *opts = NULL;
    pincurl_client *client = NULL;
    pincurl_request *req = NULL;
    pincurl_response *resp = NULL;
    pincurl_diag diag;
    pincurl_status st;
    const unsigned char *body;
    size_t len = 0;
    int status = 1;

    st = pincurl_policy_load_file("policy.json", NULL, &policy, &diag);
    if (st != PINCURL_OK) {
        fprintf(stderr, "policy.json: %s\n", diag.message); /* the JSON path and the rule */
        return 1;
    }
    opts = pincurl_options_new();
    if (opts == NULL) {
        st = PINCURL_OUT_OF_MEMORY;
    } else {
        st = ca_file != NULL ? pincurl_options_set_ca_file(opts, ca_file) : PINCURL_OK;
        if (st == PINCURL_OK)
            st = pincurl_client_new(policy, opts, &client); /* takes its own reference */
    }
    if (st != PINCURL_OK) {
        fprintf(stderr, "client: %s\n", pincurl_strerror(st));
        goto done;
    }
    req = pincurl_request_new("GET", url);
    if (req == NULL) {
        fprintf(stderr, "%s: not a URL pincurl can request\n", url);
        goto done;
    }
    st = pincurl_client_perform(client, req, &resp);
    if (st != PINCURL_OK) {
        /* for a pin failure: the validated path with its pins, and the pins expected */
        fprintf(stderr, "%s: %s\n%s\n", url, pincurl_strerror(st), pincurl_response_detail(resp));
        goto done;
    }
    body = pincurl_response_body(resp, &len);
    printf("HTTP %ld, %zu bytes: %.*s\n", pincurl_response_code(resp), len, (int)len,
           body != NULL ? (const char *)body : "");
    status = 0;

done:
    pincurl_response_free(resp);
    pincurl_request_free(req);
    pincurl_client_free(client);
    pincurl_options_free(opts);
    pincurl_policy_unref(policy);
    return status;
}
