/*
 * An ordinary libcurl program that fetches one URL, with pinning added by pincurl.
 *
 *   sample_attach [--cacert FILE] POLICY.json URL
 *
 * Everything between the "pincurl" markers is what pinning adds; the rest is plain
 * libcurl. Exit status: 0 on success, 1 on a transfer failure, 2 on a usage error.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* --- pincurl --- */
#include <pincurl/client.h>
#include <pincurl/policy.h>
/* --- end pincurl --- */

static size_t print_body(char *data, size_t size, size_t nmemb, void *user)
{
    (void)user;
    return fwrite(data, size, nmemb, stdout) * size;
}

int main(int argc, char **argv)
{
    const char *cacert = NULL, *policy_file, *url;
    CURL *curl;
    CURLcode rc;
    int arg = 1;

    if (argc >= 3 && strcmp(argv[1], "--cacert") == 0) {
        cacert = argv[2];
        arg = 3;
    }
    if (argc - arg != 2) {
        fprintf(stderr, "usage: %s [--cacert FILE] POLICY.json URL\n", argv[0]);
        return 2;
    }
    policy_file = argv[arg];
    url = argv[arg + 1];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (curl == NULL)
        return 1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, print_body);
    if (cacert != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);

    /* --- pincurl: load the policy, make a client, attach it to the handle --- */
    pincurl_policy *policy = NULL;
    pincurl_client *client = NULL;
    pincurl_attachment *attachment = NULL;
    pincurl_diag diag;
    pincurl_status st = pincurl_policy_load_file(policy_file, NULL, &policy, &diag);
    if (st != PINCURL_OK) {
        fprintf(stderr, "policy: %s\n", diag.message);
        return 2;
    }
    st = pincurl_client_new(policy, NULL, &client);
    if (st == PINCURL_OK)
        st = pincurl_attach(client, curl, &attachment);
    if (st != PINCURL_OK) {
        fprintf(stderr, "pincurl: %s\n", pincurl_strerror(st));
        return 1;
    }
    /* --- end pincurl --- */

    rc = curl_easy_perform(curl);

    /* --- pincurl: what the failure means, then detach --- */
    st = pincurl_attachment_status(attachment, (int)rc);
    if (st != PINCURL_OK)
        fprintf(stderr, "%s (%s)\n%s\n", pincurl_status_name(st), curl_easy_strerror(rc),
                pincurl_attachment_detail(attachment));
    pincurl_detach(attachment);
    pincurl_client_free(client);
    pincurl_policy_unref(policy);
    /* --- end pincurl --- */

    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc == CURLE_OK ? 0 : 1;
}
