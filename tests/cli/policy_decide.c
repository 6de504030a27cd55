/* What a policy decides for each host, through the public API only: loads a policy
 * document and evaluates every host named on the command line with a validated path of one
 * certificate whose key no pin names (a mismatch), at the time given. Prints one JSON
 * object per line:
 *   {"host": H, "state": S, "noted": N, "pins": [...], "decision": "ALLOW"|"BLOCK"}
 * S is "pinned" (enforced), "report-only", "expired" (an expiry passed, report_and_allow),
 * "expired-block" (an expiry passed, block), "excluded" (an exclude entry governs it) or
 * "not-pinned" (no entry governs it). N is the governing entry's host or null; pins are
 * that entry's.
 *   policy_decide POLICY.json NOW CERT.pem HOST...
 * Exit 0, or 2 on a usage or input error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pincurl/pincurl.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap == 0 ? 4096 : cap * 2;
            unsigned char *b = realloc(buf, cap);
            if (b == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: policy_decide POLICY.json NOW CERT.pem HOST...\n");
        return 2;
    }
    pincurl_policy *policy = NULL;
    pincurl_diag diag;
    if (pincurl_policy_load_file(argv[1], NULL, &policy, &diag) != PINCURL_OK) {
        fprintf(stderr, "policy_decide: %s: %s\n", argv[1], diag.message);
        return 2;
    }
    char *end;
    long long now = strtoll(argv[2], &end, 10);
    size_t len = 0;
    unsigned char *pem = slurp(argv[3], &len);
    pincurl_cert_list *certs = NULL;
    if (*end != '\0' || pem == NULL ||
        pincurl_cert_list_load(pem, len, NULL, &certs) != PINCURL_OK ||
        pincurl_cert_list_count(certs) == 0) {
        fprintf(stderr, "policy_decide: bad NOW or CERT\n");
        free(pem);
        pincurl_policy_unref(policy);
        return 2;
    }
    pincurl_cert_ref path[1];
    path[0].der = pincurl_cert_list_der(certs, 0, &path[0].len);
    for (int i = 4; i < argc; i++) {
        pincurl_verdict v;
        const char *state;
        pincurl_status st =
            pincurl_evaluate(policy, argv[i], 443, path, 1, NULL, 0, (int64_t)now, &v);
        if (st != PINCURL_OK) {
            printf("{\"host\": \"%s\", \"state\": \"invalid\"}\n", argv[i]);
            continue;
        }
        if (v.result == PINCURL_RESULT_NOT_PINNED)
            state = v.domain != NULL &&
                            (pincurl_domain_flags(v.domain) & PINCURL_DOMAIN_EXCLUDE) != 0
                        ? "excluded"
                        : "not-pinned";
        else if (v.effective_expiry == PINCURL_EXPIRY_EXPIRED)
            state = v.result == PINCURL_RESULT_POLICY_EXPIRED ? "expired-block" : "expired";
        else
            state = v.enforce ? "pinned" : "report-only";
        printf("{\"host\": \"%s\", \"state\": \"%s\", \"noted\": ", argv[i], state);
        if (v.noted_host != NULL)
            printf("\"%s\"", v.noted_host);
        else
            printf("null");
        printf(", \"pins\": [");
        for (size_t k = 0; v.domain != NULL && k < pincurl_domain_pin_count(v.domain); k++) {
            char text[PINCURL_PIN_TEXT_SIZE];
            pincurl_pin_format(pincurl_domain_pin(v.domain, k), text, sizeof text);
            printf("%s\"%s\"", k > 0 ? ", " : "", text);
        }
        printf("], \"decision\": \"%s\"}\n",
               v.decision == PINCURL_DECISION_ALLOW ? "ALLOW" : "BLOCK");
    }
    pincurl_cert_list_free(certs);
    free(pem);
    pincurl_policy_unref(policy);
    return 0;
}
