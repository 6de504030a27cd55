/*
 * pincurl certificate facts: what a person needs to see about a certificate or key when
 * choosing pins (subject, issuer, validity, key type and size, pin), read from DER or PEM
 * in memory. No X509 objects, no I/O: every function reads only inside the buffer it is
 * given and writes only into caller-owned storage.
 *
 * Thread-safety: every function is reentrant and shares no state between calls.
 */
#ifndef PINCURL_CERT_H
#define PINCURL_CERT_H

#include "pincurl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a Name in RFC 2253 form; a longer name is cut and the call fails. */
#define PINCURL_CERT_NAME_MAX 1024
/* Room for a key type name ("RSA", "EC", "Ed25519", "Ed448", or a dotted OID). */
#define PINCURL_KEY_TYPE_MAX 64
/* A SubjectPublicKeyInfo buffer this large holds any key pincurl derives or locates
 * (RSA up to 16384 bits). */
#define PINCURL_SPKI_MAX 4096

/* Facts about one certificate. Plain caller-owned value. */
typedef struct pincurl_cert_info {
    char subject[PINCURL_CERT_NAME_MAX]; /* RFC 2253, most specific RDN first */
    char issuer[PINCURL_CERT_NAME_MAX];
    int64_t not_before;                  /* seconds since the Unix epoch, UTC */
    int64_t not_after;
    char key_type[PINCURL_KEY_TYPE_MAX]; /* as pincurl_spki_key_type */
    unsigned key_bits;                   /* as pincurl_spki_key_type; 0 if unknown */
    pincurl_pin pin;                     /* SHA-256 of the SubjectPublicKeyInfo */
} pincurl_cert_info;

/* Reads the facts of the DER certificate der[0..len) into *out (zeroed on failure).
 * Statuses: DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL (a name longer than
 * PINCURL_CERT_NAME_MAX), INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_cert_info_get(const unsigned char *der, size_t len,
                                                 pincurl_cert_info *out);

/* The key type of a DER SubjectPublicKeyInfo: "RSA" (bits: the modulus length), "EC"
 * (bits: the curve's field size: 256, 384, 521), "Ed25519" (256), "Ed448" (456),
 * "RSASSA-PSS" (modulus length), otherwise the algorithm's dotted OID and 0 bits.
 * type receives a NUL-terminated name (type_size >= PINCURL_KEY_TYPE_MAX always suffices);
 * bits may be NULL. Statuses: DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL,
 * INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_spki_key_type(const unsigned char *spki, size_t len,
                                                 char *type, size_t type_size,
                                                 unsigned *bits);

/* The DER SubjectPublicKeyInfo of a key, written into out[0..cap) with its length in
 * *out_len; the same bytes `openssl pkey -pubout -outform der` prints for it. Accepts PEM
 * or DER of: SubjectPublicKeyInfo ("PUBLIC KEY"), PKCS#1 RSAPublicKey ("RSA PUBLIC KEY"),
 * PKCS#8 private keys ("PRIVATE KEY": RSA, EC, Ed25519, Ed448), PKCS#1 RSAPrivateKey
 * ("RSA PRIVATE KEY") and SEC1 ECPrivateKey ("EC PRIVATE KEY"). The public key of an EC
 * private key is taken from its publicKey field (OpenSSL always writes it; a key without
 * one is KEY_UNSUPPORTED); Ed25519 and Ed448 public keys are computed. Encrypted private
 * keys are KEY_UNSUPPORTED. Statuses: NO_KEY, KEY_UNSUPPORTED, PEM_MALFORMED,
 * DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL, OUT_OF_MEMORY, INTERNAL,
 * INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_spki_from_key(const unsigned char *data, size_t len,
                                                 unsigned char *out, size_t cap,
                                                 size_t *out_len);

/* The DER SubjectPublicKeyInfo inside a PKCS#10 certificate signing request (PEM
 * "CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST", or DER), copied into out[0..cap).
 * The signature is not checked. Statuses: NO_KEY (no request found), PEM_MALFORMED,
 * DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL, OUT_OF_MEMORY, INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_spki_from_csr(const unsigned char *data, size_t len,
                                                 unsigned char *out, size_t cap,
                                                 size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_CERT_H */
