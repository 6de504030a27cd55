/* Helpers shared by the test programs: the test PKI, files, openssl as the reference. */
#ifndef PINCURL_TEST_SUPPORT_H
#define PINCURL_TEST_SUPPORT_H

#include <stddef.h>

#include "pincurl/core.h"

/* Directory of the test PKI (PINCURL_TEST_PKI); aborts the test if unset. */
const char *pt_pki_dir(void);
/* How much slower than natively the tests run: PINCURL_TEST_TIME_SCALE (valgrind, qemu-user),
 * at least 1, 1 when unset. Bounds on how long something may take are multiplied by it;
 * natively they stay as the property states them. */
double pt_time_scale(void);

/* Full path of a PKI file, in a static per-call-site-free ring of buffers (8 deep). */
const char *pt_pki(const char *name);

/* Reads a whole file; the caller frees. Fails the current test on error. */
unsigned char *pt_read_file(const char *path, size_t *len);

/* Writes a file (creating or truncating it); fails the current test on error. */
void pt_write_file(const char *path, const void *data, size_t len);

/* The pin openssl computes for a PEM certificate file, "sha256/...", into out (>= 64 bytes):
 * openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256
 * -binary | base64, run now. Fails the current test on error. */
void pt_openssl_cert_pin(const char *cert_path, char *out, size_t size);

/* The same for a public or private key file (PEM or DER). */
void pt_openssl_key_pin(const char *key_path, char *out, size_t size);

/* Runs a shell command and returns its exit status (or -1). */
int pt_system(const char *fmt, ...);

/* A fresh empty directory under the build tree for this test; static storage. */
const char *pt_tmpdir(const char *tag);

/* The pin of a PKI certificate as pins.txt (computed by openssl when the PKI was made), as
 * a parsed value. Fails the current test if the name is not there. */
void pt_pki_pin(const char *name, pincurl_pin *out);

/* A policy pinning host (an exact, enforcing entry) to the pins of the named PKI
 * certificates (pin2 may be NULL: then report-only, one pin). Caller unrefs. */
pincurl_policy *pt_policy_exact(const char *host, const char *pin1, const char *pin2);

/* For a test's own threads, just before they end: pincurl_thread_cleanup(). */
void pt_thread_end(void);

#endif
