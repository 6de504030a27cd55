/*
 * Internal: a small bounds-checked DER reader and the X.509 fields pincurl needs (the
 * SubjectPublicKeyInfo for pins; issuer, subject and notAfter for failure messages).
 *
 * Every function reads only inside the buffer it is given, never allocates, and returns
 * DER_TRUNCATED when an element claims more bytes than remain, DER_MALFORMED for anything
 * else that is not DER (indefinite or non-minimal lengths, high tag numbers, wrong tags,
 * trailing bytes). Pointers returned point into the caller's buffer. All are thread-safe.
 */
#ifndef PINCURL_CORE_DER_H
#define PINCURL_CORE_DER_H

#include "pincurl/common.h"

#define PC_DER_BOOLEAN 0x01u
#define PC_DER_INTEGER 0x02u
#define PC_DER_BIT_STRING 0x03u
#define PC_DER_OCTET_STRING 0x04u
#define PC_DER_NULL 0x05u
#define PC_DER_OID 0x06u
#define PC_DER_UTF8_STRING 0x0cu
#define PC_DER_PRINTABLE_STRING 0x13u
#define PC_DER_T61_STRING 0x14u
#define PC_DER_IA5_STRING 0x16u
#define PC_DER_UTC_TIME 0x17u
#define PC_DER_GENERALIZED_TIME 0x18u
#define PC_DER_UNIVERSAL_STRING 0x1cu
#define PC_DER_BMP_STRING 0x1eu
#define PC_DER_SEQUENCE 0x30u
#define PC_DER_SET 0x31u
#define PC_DER_CONTEXT_0 0xa0u /* [0] constructed */
#define PC_DER_CONTEXT_3 0xa3u /* [3] constructed */

/* One element: identifier octet, the whole TLV and its content. */
typedef struct pc_der_tlv {
    unsigned tag;                 /* identifier octet (low tag numbers only) */
    const unsigned char *tlv;     /* first byte of the element */
    size_t tlv_len;               /* header + content */
    const unsigned char *content; /* first content byte */
    size_t content_len;
} pc_der_tlv;

/* A position in a run of consecutive elements (the content of a constructed element). */
typedef struct pc_der_cursor {
    const unsigned char *p;
    size_t left;
} pc_der_cursor;

/* Reads the element at the start of buf (it may be followed by more bytes). */
pincurl_status pc_der_read(const unsigned char *buf, size_t len, pc_der_tlv *out);

/* Starts a cursor over buf[0..len) (typically a content). */
void pc_der_cursor_init(pc_der_cursor *c, const unsigned char *buf, size_t len);
/* 1 when the cursor has consumed everything. */
int pc_der_cursor_done(const pc_der_cursor *c);
/* Reads the next element and advances past it. DER_MALFORMED at the end (a missing
 * element), DER_TRUNCATED when the element claims more bytes than remain. */
pincurl_status pc_der_next(pc_der_cursor *c, pc_der_tlv *out);
/* As pc_der_next, and the element must carry tag (else DER_MALFORMED, cursor unchanged). */
pincurl_status pc_der_expect(pc_der_cursor *c, unsigned tag, pc_der_tlv *out);
/* The tag of the next element without consuming it, or -1 at the end. */
int pc_der_peek_tag(const pc_der_cursor *c);

/* The parts of an X.509 certificate that pincurl looks at. The structure of Certificate,
 * TBSCertificate (up to subjectPublicKeyInfo, then any further well-formed elements) and
 * SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE algorithm, BIT STRING } is checked; the
 * algorithm and the key are not interpreted. */
typedef struct pc_der_cert {
    pc_der_tlv tbs;
    pc_der_tlv serial;
    pc_der_tlv issuer;   /* Name */
    pc_der_tlv validity; /* SEQUENCE { notBefore, notAfter } */
    pc_der_tlv subject;  /* Name */
    pc_der_tlv spki;     /* the bytes a pin hashes (tlv, tlv_len) */
} pc_der_cert;

/* Parses the certificate der[0..len) (exactly one element, no trailing bytes). */
pincurl_status pc_der_cert_parse(const unsigned char *der, size_t len, pc_der_cert *out);

/* Most extensions one certificate may carry (more: LIMIT_EXCEEDED). */
#define PC_DER_MAX_EXTENSIONS 64

/* KeyUsage bits as numbered in RFC 5280 (bit 0 is digitalSignature). */
#define PC_DER_KU_KEY_CERT_SIGN (1u << 5)

/* An X.509 certificate with the fields a path builder and a host check need. Every pointer
 * is borrowed from the parsed buffer; absent optional fields are zeroed TLVs. */
typedef struct pc_der_x509 {
    pc_der_cert c;              /* tbs, serial, issuer, validity, subject, spki */
    pc_der_tlv tbs_sig_alg;     /* TBSCertificate.signature */
    pc_der_tlv sig_alg;         /* Certificate.signatureAlgorithm */
    pc_der_tlv sig_value;       /* Certificate.signatureValue (BIT STRING) */
    unsigned version;           /* 1, 2 or 3 */
    int64_t not_before;         /* seconds since the epoch, UTC */
    int64_t not_after;
    size_t ext_count;           /* extensions present (0: none, or a v1/v2 certificate) */
    int has_basic_constraints;
    int is_ca;                  /* basicConstraints cA */
    long path_len;              /* basicConstraints pathLenConstraint, -1 when absent */
    int has_key_usage;
    unsigned key_usage;         /* PC_DER_KU_* bits */
    pc_der_tlv skid;            /* subjectKeyIdentifier: the OCTET STRING's content */
    pc_der_tlv akid;            /* authorityKeyIdentifier keyIdentifier [0] (content) */
    pc_der_tlv san;             /* subjectAltName GeneralNames SEQUENCE; tag 0 if absent */
} pc_der_x509;

/* Parses der[0..len) as a certificate and reads the fields above. Fails closed on anything
 * a path builder must not guess about: a version other than 1..3, validity times that do
 * not convert, unique IDs or extensions in a certificate whose version forbids them, an
 * empty or over-long extension list (LIMIT_EXCEEDED beyond PC_DER_MAX_EXTENSIONS), the
 * same extension twice, a critical flag that is not DER, a malformed basicConstraints,
 * keyUsage, subjectKeyIdentifier, authorityKeyIdentifier or subjectAltName (critical or
 * not), and a critical extension pincurl does not know. No allocation; thread-safe. */
pincurl_status pc_der_x509_parse(const unsigned char *der, size_t len, pc_der_x509 *out);

/* The parts of a SubjectPublicKeyInfo: the algorithm OID's content, the parameters element
 * after it (zeroed TLV when absent) and the key's BIT STRING content without the
 * unused-bits octet (which must be 0). */
pincurl_status pc_der_spki_parts(const unsigned char *spki, size_t len, pc_der_tlv *alg_oid,
                                 pc_der_tlv *params, const unsigned char **key,
                                 size_t *key_len);

/* Checks that spki[0..len) is exactly one SubjectPublicKeyInfo SEQUENCE. */
pincurl_status pc_der_spki_check(const unsigned char *spki, size_t len);

/* The issuer / subject Name of a DER certificate as a full TLV (borrowed from der). */
pincurl_status pc_der_cert_issuer(const unsigned char *der, size_t len,
                                  const unsigned char **name, size_t *name_len);
pincurl_status pc_der_cert_subject(const unsigned char *der, size_t len,
                                   const unsigned char **name, size_t *name_len);

/* notBefore / notAfter of a DER certificate in seconds since the Unix epoch (UTC).
 * Accepts UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY) and GeneralizedTime YYYYMMDDHHMMSSZ. */
pincurl_status pc_der_cert_not_before(const unsigned char *der, size_t len, int64_t *unix_time);
pincurl_status pc_der_cert_not_after(const unsigned char *der, size_t len, int64_t *unix_time);

/* Converts one UTCTime or GeneralizedTime element (as read by pc_der_read). */
pincurl_status pc_der_time(const pc_der_tlv *t, int64_t *unix_time);

/* Prints a Name TLV in RFC 4514 style, most specific RDN first ("CN=host,O=org"): CN, O,
 * OU, C, L, ST, STREET, DC, serialNumber, emailAddress by name, other types as dotted OIDs;
 * string values with RFC 4514 specials and non-printable bytes escaped (\\XX), other value
 * types as '#' and hex of their encoding. Always NUL-terminates when cap > 0; on
 * BUFFER_TOO_SMALL out holds the beginning, on other failures "". */
pincurl_status pc_der_name_to_string(const unsigned char *name, size_t len, char *out,
                                     size_t cap);

/* Writes the dotted form of an OID content ("1.2.840.113549.1.1.1") into out.
 * Statuses: DER_MALFORMED, BUFFER_TOO_SMALL. */
pincurl_status pc_der_oid_to_string(const unsigned char *oid, size_t len, char *out, size_t cap);

/* As pc_der_time, for the forms X.680 allows beyond RFC 5280's profile, for showing to a
 * person (never for validation): UTCTime YYMMDDhhmm[ss] with Z or +hhmm / -hhmm;
 * GeneralizedTime YYYYMMDDhh[mm[ss]] with a decimal fraction of its last unit ('.' or ',';
 * below a second it is cut) and Z or +hh[mm] / -hh[mm]; a leap second 60. A
 * GeneralizedTime without Z or offset is local time: DER_MALFORMED (no instant). */
pincurl_status pc_der_time_x680(const pc_der_tlv *t, int64_t *unix_time);

/* As pc_der_name_to_string, but an empty RDN (SET {}) is printed as nothing between its
 * commas, and any number of RDNs is printed (until out is full). */
pincurl_status pc_der_name_to_string_any(const unsigned char *name, size_t len, char *out,
                                         size_t cap);

/* As pc_der_cert_parse, but only as far as the SubjectPublicKeyInfo: the Certificate is one
 * element filling der[0..len) whose TBSCertificate is read up to a well-formed SPKI (the
 * version's content, anything after the SPKI and after the TBSCertificate are not looked
 * at; the serial may be any INTEGER). For showing a certificate's pin to a person even
 * when other parts are malformed; never for validation. */
pincurl_status pc_der_cert_locate(const unsigned char *der, size_t len, pc_der_cert *out);

#endif
