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

/* The fields of pincurl_cert_info, as bits of its unread mask. */
#define PINCURL_CERT_SUBJECT 0x01u
#define PINCURL_CERT_ISSUER 0x02u
#define PINCURL_CERT_NOT_BEFORE 0x04u
#define PINCURL_CERT_NOT_AFTER 0x08u
#define PINCURL_CERT_KEY_TYPE 0x10u

/* Bits of pincurl_spki_encoding_notes: the key's SubjectPublicKeyInfo is encoded in a way
 * that tools which decode and re-encode the key (`openssl pkey`, most libraries' "export
 * the public key") change, so the pin they print differs from the pin of the bytes the
 * certificate carries (docs/policy.md). */
#define PINCURL_SPKI_NOTE_RSA_PARAMETERS 0x01u /* rsaEncryption without its NULL parameter,
                                                  or with another one */
#define PINCURL_SPKI_NOTE_RSA_INTEGERS 0x02u   /* the modulus or exponent is not a minimal,
                                                  positive DER INTEGER */
#define PINCURL_SPKI_NOTE_PSS_PARAMETERS 0x04u /* RSASSA-PSS parameters not in the form
                                                  re-encoders write (a hash algorithm
                                                  without NULL, a default value spelled out) */

/* Facts about one certificate. Plain caller-owned value. */
typedef struct pincurl_cert_info {
    char subject[PINCURL_CERT_NAME_MAX]; /* RFC 2253, most specific RDN first */
    char issuer[PINCURL_CERT_NAME_MAX];
    int64_t not_before;                  /* seconds since the Unix epoch, UTC */
    int64_t not_after;
    char key_type[PINCURL_KEY_TYPE_MAX]; /* as pincurl_spki_key_type */
    unsigned key_bits;                   /* as pincurl_spki_key_type; 0 if unknown */
    pincurl_pin pin;                     /* SHA-256 of the SubjectPublicKeyInfo */
    /* Filled by pincurl_cert_info_read (pincurl_cert_info_get fails instead): */
    unsigned unread;                     /* PINCURL_CERT_* bits of the fields not read */
    pincurl_status subject_status;       /* why each field was not read (OK when it was) */
    pincurl_status issuer_status;
    pincurl_status not_before_status;
    pincurl_status not_after_status;
    pincurl_status key_type_status;
    unsigned key_notes;                  /* PINCURL_SPKI_NOTE_* of the key's encoding */
} pincurl_cert_info;

/* Reads the facts of the DER certificate der[0..len) into *out (zeroed on failure): all
 * of them or none. Every time form of pincurl_cert_info_read is read. Statuses:
 * DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL (a name longer than
 * PINCURL_CERT_NAME_MAX), INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_cert_info_get(const unsigned char *der, size_t len,
                                                 pincurl_cert_info *out);

/* Reads what can be read of the DER certificate der[0..len) (exactly one Certificate
 * element). Whenever its SubjectPublicKeyInfo can be located (the TBSCertificate read up to
 * it: optional version, serial, signature algorithm, issuer, validity, subject, then a
 * well-formed SubjectPublicKeyInfo), the pin is set, key_notes too, and the call returns
 * OK; each other field is read on its own, and one that cannot be read is left "" or 0,
 * its bit set in unread and its status set (DER_MALFORMED, DER_TRUNCATED, LIMIT_EXCEEDED;
 * BUFFER_TOO_SMALL for a name longer than PINCURL_CERT_NAME_MAX - 1, whose beginning is
 * then kept). Names: an empty RDN and any number of RDNs are read. Times: UTCTime
 * YYMMDDhhmm[ss] with Z or an offset +hhmm / -hhmm; GeneralizedTime YYYYMMDDhh[mm[ss]] with
 * a fraction (cut to the second) and Z or an offset; a GeneralizedTime in local time (no Z,
 * no offset) has no instant and is not read. Nothing after the key (extensions, signature)
 * is looked at. On failure (the key cannot be located) *out is zeroed and the status says
 * why: DER_MALFORMED, DER_TRUNCATED, INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_cert_info_read(const unsigned char *der, size_t len,
                                                  pincurl_cert_info *out);

/* The PINCURL_SPKI_NOTE_* bits of a DER SubjectPublicKeyInfo into *notes (0: none; keys
 * other than RSA and RSASSA-PSS have none). Statuses: OK for any well-formed
 * SubjectPublicKeyInfo; DER_MALFORMED, DER_TRUNCATED, INVALID_ARGUMENT (then *notes is 0). */
PINCURL_API pincurl_status pincurl_spki_encoding_notes(const unsigned char *spki, size_t len,
                                                       unsigned *notes);

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
