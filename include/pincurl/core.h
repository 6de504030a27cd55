/*
 * pincurl core: pins, SubjectPublicKeyInfo location in DER, host names, the policy model
 * and the pin decision. No I/O, no global state; memory only through the allocator an
 * object was created with.
 *
 * Unless a declaration says otherwise:
 *  - functions taking only const objects are thread-safe on the same object;
 *  - a function that fails leaves its out-parameters in a defined "nothing" state
 *    (NULL pointers, zero counts) and, for verdicts, a BLOCK decision;
 *  - pincurl_*_free(NULL) and pincurl_policy_unref(NULL) are no-ops.
 */
#ifndef PINCURL_CORE_H
#define PINCURL_CORE_H

#include "pincurl/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Pins                                                                                  */

#define PINCURL_PIN_DIGEST_SIZE 32
/* "sha256/" + 44 base64 characters + NUL */
#define PINCURL_PIN_TEXT_SIZE 52

/* A SHA-256 digest of a DER SubjectPublicKeyInfo. Plain value; copy freely. */
typedef struct pincurl_pin {
    unsigned char sha256[PINCURL_PIN_DIGEST_SIZE];
} pincurl_pin;

/* Parses "sha256/BASE64" (also curl's "sha256//BASE64"). text need not be NUL-terminated;
 * exactly len bytes are read, no surrounding whitespace is accepted.
 * Statuses: PIN_BAD_PREFIX, PIN_BAD_BASE64, PIN_BAD_LENGTH, INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_pin_parse(const char *text, size_t len, pincurl_pin *out);

/* Writes "sha256/BASE64" and a NUL into buf (at least PINCURL_PIN_TEXT_SIZE bytes).
 * Statuses: BUFFER_TOO_SMALL, INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_pin_format(const pincurl_pin *pin, char *buf, size_t size);

/* 1 if equal, else 0. Runs in time independent of the contents. */
PINCURL_API int pincurl_pin_equal(const pincurl_pin *a, const pincurl_pin *b);

/* ------------------------------------------------------------------------------------ */
/* Certificates and keys (DER and PEM, from memory)                                      */

/* Locates the SubjectPublicKeyInfo inside a DER X.509 certificate. *spki points into der
 * (borrowed; valid as long as der). Any key algorithm: the bytes are located, not parsed.
 * Statuses: DER_MALFORMED, DER_TRUNCATED, INVALID_ARGUMENT. Never reads outside der. */
PINCURL_API pincurl_status pincurl_spki_locate(const unsigned char *der, size_t len,
                                               const unsigned char **spki, size_t *spki_len);

/* The pin of a DER certificate (SHA-256 of its SPKI bytes). Statuses as spki_locate. */
PINCURL_API pincurl_status pincurl_pin_from_cert_der(const unsigned char *der, size_t len,
                                                     pincurl_pin *out);

/* The pin of a DER SubjectPublicKeyInfo; checks it is one well-formed SEQUENCE. */
PINCURL_API pincurl_status pincurl_pin_from_spki_der(const unsigned char *spki, size_t len,
                                                     pincurl_pin *out);

/* The pin of a public key given as PEM ("PUBLIC KEY", "RSA PUBLIC KEY") or DER
 * (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey). A PKCS#1 key is wrapped in the SPKI that
 * `openssl pkey -pubin -outform der` would print before hashing.
 * Statuses: NO_KEY, KEY_UNSUPPORTED, PEM_MALFORMED, DER_MALFORMED, DER_TRUNCATED. */
PINCURL_API pincurl_status pincurl_pin_from_public_key(const unsigned char *data, size_t len,
                                                       pincurl_pin *out);

/* An owned list of DER certificates. Not thread-safe for free; const use is. */
typedef struct pincurl_cert_list pincurl_cert_list;

/* Loads a single DER certificate or any number of PEM certificate blocks: labelled
 * "CERTIFICATE", "X509 CERTIFICATE" (RFC 7468's obsolete label) or "TRUSTED CERTIFICATE"
 * (OpenSSL's: the certificate is loaded, the trust settings after it are not read). Other
 * PEM blocks are skipped. *out is owned by the caller: pincurl_cert_list_free().
 * Statuses: NO_CERTIFICATE, PEM_MALFORMED, DER_MALFORMED, DER_TRUNCATED, OUT_OF_MEMORY,
 * LIMIT_EXCEEDED (more than 4096 certificates). */
PINCURL_API pincurl_status pincurl_cert_list_load(const unsigned char *data, size_t len,
                                                  const pincurl_allocator *alloc,
                                                  pincurl_cert_list **out);

/* Flags of pincurl_cert_list_load_ex. */
#define PINCURL_CERT_LIST_SKIP_BAD 0x1u

/* As pincurl_cert_list_load (flags 0). With PINCURL_CERT_LIST_SKIP_BAD, for showing what a
 * file holds: a certificate is loaded whenever its SubjectPublicKeyInfo can be located (the
 * rest of it is not checked), and a certificate block that cannot be read (a PEM block not
 * well formed, base64 that does not decode, no key found) is skipped and recorded
 * (pincurl_cert_list_skipped) instead of failing the call, which then fails only with
 * NO_CERTIFICATE (no certificate block at all), OUT_OF_MEMORY or LIMIT_EXCEEDED; the
 * list may then hold no certificate. Never use SKIP_BAD for a trust store. Other flags:
 * INVALID_ARGUMENT. */
PINCURL_API pincurl_status pincurl_cert_list_load_ex(const unsigned char *data, size_t len,
                                                     unsigned flags,
                                                     const pincurl_allocator *alloc,
                                                     pincurl_cert_list **out);

/* Where certificate i of the list came from: *block is its 0-based position among the
 * input's certificate blocks (loaded or skipped), *line the 1-based line of its BEGIN line
 * (0 for a DER input). Either may be NULL. Statuses: OK, INVALID_ARGUMENT (NULL list or i
 * out of range: both set to 0). */
PINCURL_API pincurl_status pincurl_cert_list_origin(const pincurl_cert_list *list, size_t i,
                                                    size_t *block, size_t *line);

/* The certificate blocks PINCURL_CERT_LIST_SKIP_BAD skipped, in input order: their place as
 * in pincurl_cert_list_origin and *why, the status that reading them gave. Pointers may be
 * NULL. Statuses: OK, INVALID_ARGUMENT (NULL list or i out of range). */
PINCURL_API size_t pincurl_cert_list_skipped_count(const pincurl_cert_list *list);
PINCURL_API pincurl_status pincurl_cert_list_skipped(const pincurl_cert_list *list, size_t i,
                                                     size_t *block, size_t *line,
                                                     pincurl_status *why);
PINCURL_API size_t pincurl_cert_list_count(const pincurl_cert_list *list);
/* Borrowed pointer to certificate i's DER (valid until the list is freed), or NULL. */
PINCURL_API const unsigned char *pincurl_cert_list_der(const pincurl_cert_list *list, size_t i,
                                                       size_t *len);
PINCURL_API void pincurl_cert_list_free(pincurl_cert_list *list);

/* ------------------------------------------------------------------------------------ */
/* Host names                                                                            */

#define PINCURL_HOST_MAX 253

/* Normalises a host for matching: ASCII lower case, one trailing dot removed, IPv6
 * literals (with or without brackets) in RFC 5952 form without brackets, IPv4 literals as
 * four decimal octets. An IPv4-mapped IPv6 literal (::ffff:a.b.c.d in any spelling) is
 * written as the IPv4 address it maps ("a.b.c.d"), so both spellings are one host. Writes a NUL-terminated result into out (PINCURL_HOST_MAX + 1
 * bytes suffice). Statuses: HOST_NOT_ASCII (use the A-label form), HOST_INVALID,
 * BUFFER_TOO_SMALL. */
PINCURL_API pincurl_status pincurl_host_normalize(const char *host, size_t len, char *out,
                                                  size_t size);

/* 1 if the normalised host is an IPv4 or IPv6 literal, else 0. */
PINCURL_API int pincurl_host_is_ip(const char *normalized_host);

/* ------------------------------------------------------------------------------------ */
/* The policy model                                                                      */

typedef struct pincurl_policy pincurl_policy;         /* immutable, reference-counted */
typedef struct pincurl_domain pincurl_domain;         /* borrowed from its policy */
typedef struct pincurl_policy_builder pincurl_policy_builder;

typedef enum pincurl_on_expiry {
    PINCURL_ON_EXPIRY_REPORT_AND_ALLOW = 0, /* stop enforcing, but report every mismatch */
    PINCURL_ON_EXPIRY_BLOCK = 1             /* refuse connections to pinned hosts */
} pincurl_on_expiry;

/* Domain flags. */
#define PINCURL_DOMAIN_INCLUDE_SUBDOMAINS 0x1u
#define PINCURL_DOMAIN_ENFORCE 0x2u
#define PINCURL_DOMAIN_EXCLUDE 0x4u

/* Limits enforced by the builder (and so by every loader). */
#define PINCURL_MAX_DOMAINS 4096
#define PINCURL_MAX_PINS_PER_DOMAIN 64
#define PINCURL_MAX_REPORT_URIS 8
#define PINCURL_MAX_URI_LENGTH 2048

/* Optional hook deciding whether a normalised host is a public suffix (e.g. "com",
 * "co.uk"); returns 1 if it is. The full build supplies libpsl's list through
 * pincurl_policy_builder_new(); a firmware build may pass its own or none. */
typedef int (*pincurl_public_suffix_fn)(const char *normalized_host, void *ctx);

/* A builder collects domains and pins and produces an immutable policy.
 * Owned by the caller: pincurl_policy_builder_free(). Not thread-safe.
 * pincurl_policy_builder_new() uses libpsl for the public-suffix check (full build);
 * pincurl_policy_builder_new_custom() takes the hook explicitly (NULL: no check except
 * that single-label names never take include_subdomains). */
PINCURL_API pincurl_policy_builder *pincurl_policy_builder_new(const pincurl_allocator *alloc);
PINCURL_API pincurl_policy_builder *pincurl_policy_builder_new_custom(
    const pincurl_allocator *alloc, pincurl_public_suffix_fn is_public_suffix, void *ctx);
PINCURL_API void pincurl_policy_builder_free(pincurl_policy_builder *b);

/* expires: seconds since the Unix epoch (UTC); 0 means the policy never expires. */
PINCURL_API pincurl_status pincurl_policy_builder_set_expiry(pincurl_policy_builder *b,
                                                             int64_t expires,
                                                             pincurl_on_expiry on_expiry);
/* Copies uri. Statuses: POLICY_BAD_URI, POLICY_TOO_LARGE, OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_policy_builder_add_report_uri(pincurl_policy_builder *b,
                                                                 const char *uri);
/* Adds a domain (normalised and copied) with PINCURL_DOMAIN_* flags; *index receives its
 * index for add_pin. Statuses: HOST_INVALID, HOST_NOT_ASCII, POLICY_DUPLICATE_DOMAIN,
 * POLICY_PUBLIC_SUFFIX, POLICY_BAD_VALUE (include_subdomains on an IP literal, EXCLUDE with
 * other flags), POLICY_TOO_LARGE, OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_policy_builder_add_domain(pincurl_policy_builder *b,
                                                             const char *host, unsigned flags,
                                                             size_t *index);
/* Statuses: INVALID_ARGUMENT (no such domain), POLICY_DUPLICATE_PIN,
 * POLICY_EXCLUDE_CONFLICT, POLICY_TOO_LARGE, OUT_OF_MEMORY. */
PINCURL_API pincurl_status pincurl_policy_builder_add_pin(pincurl_policy_builder *b,
                                                          size_t domain_index,
                                                          const pincurl_pin *pin);

/* Validates the whole and produces the policy (reference count 1, owned by the caller).
 * On failure, *bad_domain (if not NULL) receives the index of the offending domain or
 * SIZE_MAX. Statuses: POLICY_TOO_FEW_PINS, POLICY_EXCLUDE_ORPHAN, POLICY_NO_DOMAINS,
 * OUT_OF_MEMORY. The builder may be freed afterwards; it cannot be finished twice. */
PINCURL_API pincurl_status pincurl_policy_builder_finish(pincurl_policy_builder *b,
                                                         pincurl_policy **out,
                                                         size_t *bad_domain);

/* Reference counting; thread-safe (atomic). unref frees at zero. */
PINCURL_API pincurl_policy *pincurl_policy_ref(pincurl_policy *policy);
PINCURL_API void pincurl_policy_unref(pincurl_policy *policy);

/* Read access to an immutable policy. Thread-safe. Returned pointers are borrowed and
 * valid while the caller holds a reference to the policy. */
PINCURL_API int64_t pincurl_policy_expires(const pincurl_policy *policy); /* 0: never */
PINCURL_API pincurl_on_expiry pincurl_policy_on_expiry(const pincurl_policy *policy);
PINCURL_API size_t pincurl_policy_report_uri_count(const pincurl_policy *policy);
PINCURL_API const char *pincurl_policy_report_uri(const pincurl_policy *policy, size_t i);
PINCURL_API size_t pincurl_policy_domain_count(const pincurl_policy *policy);
PINCURL_API const pincurl_domain *pincurl_policy_domain(const pincurl_policy *policy, size_t i);
PINCURL_API const char *pincurl_domain_host(const pincurl_domain *d);
PINCURL_API unsigned pincurl_domain_flags(const pincurl_domain *d);
PINCURL_API size_t pincurl_domain_pin_count(const pincurl_domain *d);
PINCURL_API const pincurl_pin *pincurl_domain_pin(const pincurl_domain *d, size_t i);

/* The domain entry that governs host (any form pincurl_host_normalize accepts): the exact
 * entry first, else the most specific parent on a label boundary that is either an
 * include_subdomains entry or an EXCLUDE entry (an exclusion covers the names below it
 * too). An EXCLUDE entry is returned as such (its flags say so). NULL when none applies
 * or the host is not valid. */
PINCURL_API const pincurl_domain *pincurl_policy_lookup(const pincurl_policy *policy,
                                                        const char *host, size_t len);

/* ------------------------------------------------------------------------------------ */
/* Evaluation                                                                            */

/* Validation results; TrustKit's numbers where they overlap. Stable. */
typedef enum pincurl_result {
    PINCURL_RESULT_SUCCESS = 0,            /* a pin matched a key of the validated path */
    PINCURL_RESULT_PIN_MISMATCH = 1,       /* no pin matched */
    PINCURL_RESULT_INVALID_CHAIN = 2,      /* no validated path */
    PINCURL_RESULT_INVALID_PARAMETERS = 3, /* bad input to the evaluation */
    PINCURL_RESULT_SPKI_ERROR = 5,         /* a path certificate's SPKI could not be hashed */
    PINCURL_RESULT_NOT_PINNED = 6,         /* no policy entry applies (or it is excluded) */
    PINCURL_RESULT_POLICY_EXPIRED = 7      /* expired with on_expiry block */
} pincurl_result;

typedef enum pincurl_decision {
    PINCURL_DECISION_BLOCK = 0, /* zero, so a zeroed verdict refuses */
    PINCURL_DECISION_ALLOW = 1
} pincurl_decision;

typedef enum pincurl_expiry_state {
    PINCURL_EXPIRY_NONE = 0,    /* the policy has no expiry */
    PINCURL_EXPIRY_VALID = 1,   /* not yet expired */
    PINCURL_EXPIRY_EXPIRED = 2  /* expired at evaluation time */
} pincurl_expiry_state;

/* Longest validated path evaluate accepts; a longer path is refused. */
#define PINCURL_MAX_PATH 16

/* A borrowed DER certificate. */
typedef struct pincurl_cert_ref {
    const unsigned char *der;
    size_t len;
} pincurl_cert_ref;

/* ------------------------------------------------------------------------------------ */
/* The validated path                                                                    */

/* Most trust anchors with one subject name a path builder considers. */
#define PINCURL_MAX_ANCHORS_PER_NAME 8
/* Most signature verifications one path build makes. */
#define PINCURL_MAX_PATH_SIGNATURES 64
/* Longest served chain a path build accepts. */
#define PINCURL_MAX_SERVED 32

/*
 * What a path builder needs from the trust store in use and from a crypto library. Plain
 * value owned by the caller; the callbacks are called on the caller's thread only, during
 * pincurl_path_build().
 *
 * anchors_by_subject: the trust anchors whose subject Name is byte for byte name_der[0..
 *   name_len): writes at most max borrowed DER references into out (valid until the build
 *   returns) and returns how many there are in all (more than max: the build refuses), or
 *   (size_t)-1 on an error (the build refuses).
 * verify_signature: 1 if the public key spki_der (a DER SubjectPublicKeyInfo) verifies the
 *   signature of the certificate cert_der, 0 if it does not, negative on an error (the
 *   build refuses). It must check the signature over the TBSCertificate bytes with the
 *   algorithm the certificate names, and nothing else.
 */
typedef struct pincurl_trust {
    size_t (*anchors_by_subject)(void *ctx, const unsigned char *name_der, size_t name_len,
                                 pincurl_cert_ref *out, size_t max);
    int (*verify_signature)(void *ctx, const unsigned char *cert_der, size_t cert_len,
                            const unsigned char *spki_der, size_t spki_len);
    void *ctx;
} pincurl_trust;

/*
 * Builds the validated path of a served chain: the certificates pins are matched against.
 *  served: the chain the server sent, leaf first (served[0] is the leaf), at most
 *          PINCURL_MAX_SERVED certificates, each DER;
 *  trust:  the trust store and signature verification (above);
 *  now:    seconds since the Unix epoch (UTC);
 *  path:   receives at most max borrowed references, leaf first, ending at a trust anchor
 *          (pointing into served[] or into what anchors_by_subject returned); *path_len
 *          receives their number.
 *
 * Every link of the path is (child's issuer Name == parent's subject Name, byte for byte)
 * and (the parent's key verifies the child's signature) and (the parent may sign
 * certificates: basicConstraints cA, keyUsage with keyCertSign when keyUsage is present,
 * pathLenConstraint respected; an X.509 v1 trust anchor without extensions may sign too).
 * Every certificate of the path that is not the anchor is within its validity at now. The
 * path ends at a trust anchor identified by name and key: a certificate anchors_by_subject
 * returned for the child's issuer name whose key verifies the child, and the path's last
 * element is that store certificate (never a served one, never "self-signed" alone). The
 * leaf is itself an anchor only when it is byte-identical to one.
 *
 * Which path: where several certificates could be the issuer (anchors, and served
 * certificates with the issuer's subject), each is tried, anchors first (in the order the
 * trust store returned them), then served certificates in the order sent. The result is the
 * shortest path to an anchor; among equally short paths, the first in that order. With
 * cross-signed roots (a served cross certificate under root A for root B, both trusted) the
 * path therefore ends at B, the anchor the intermediate names directly, and the keys on it
 * (not A's) are what pins can match.
 *
 * Bounds: PINCURL_MAX_PATH_SIGNATURES signature verifications (results are remembered, so
 * no pair is verified twice), paths of at most min(max, PINCURL_MAX_PATH) certificates,
 * PINCURL_MAX_ANCHORS_PER_NAME anchors per name.
 *
 * Statuses: OK (a path), CERT_INVALID (no path), LIMIT_EXCEEDED (a bound was hit),
 * DER_MALFORMED / DER_TRUNCATED (a served certificate or a returned anchor does not parse),
 * INTERNAL (a callback reported an error), INVALID_ARGUMENT. On any failure *path_len is 0:
 * refuse. Allocates nothing; thread-safe as far as the callbacks are.
 */
PINCURL_API pincurl_status pincurl_path_build(const pincurl_cert_ref *served, size_t served_len,
                                              const pincurl_trust *trust, int64_t now,
                                              pincurl_cert_ref *path, size_t max,
                                              size_t *path_len);

/*
 * Whether a DER certificate is valid for a host (RFC 6125 as browsers apply it), with no
 * fallback to the subject's common name:
 *  - normalized_host is an IP literal (pincurl_host_is_ip): an iPAddress subjectAltName with
 *    the same address bytes (4 for IPv4, 16 for IPv6; an IPv4-mapped host was normalised to
 *    its IPv4 form and matches a 4-byte entry); dNSName entries never match an address;
 *  - a name: a dNSName subjectAltName equal to it ignoring ASCII case and one trailing dot,
 *    or a wildcard "*.rest" whose "*" is the whole left-most label and stands for exactly
 *    one non-empty label of the host, where rest has at least two labels ("*.com" and
 *    "*" match nothing). No partial-label wildcards ("f*.example.com", "*oo.example.com"),
 *    no wildcard below the left-most label. A-labels ("xn--...") are compared as the ASCII
 *    they are: "*" may stand for an A-label of the host, and a pattern's A-label matches
 *    only the same A-label. dNSName entries that are not printable ASCII host text are
 *    ignored.
 * normalized_host must be what pincurl_host_normalize() writes.
 * Statuses: OK (valid for the host), HOST_MISMATCH (not), DER_MALFORMED / DER_TRUNCATED /
 * LIMIT_EXCEEDED (the certificate does not parse as pc_der_x509 rules require),
 * INVALID_ARGUMENT. Allocates nothing; thread-safe.
 */
PINCURL_API pincurl_status pincurl_cert_matches_host(const unsigned char *der, size_t len,
                                                     const char *normalized_host);

/* The outcome of one evaluation. Plain value owned by the caller; `domain` and
 * `noted_host` are borrowed from the policy evaluated. */
typedef struct pincurl_verdict {
    pincurl_result result;
    pincurl_decision decision;
    pincurl_expiry_state expiry;
    int64_t expires;               /* the policy's expiry (0: none) */
    int pinned;                    /* 1 if an enforcing or report-only entry applied */
    int enforce;                   /* the entry's enforce flag */
    int include_subdomains;        /* the entry's include_subdomains flag */
    int served_differs;            /* 1 if the served chain is not the validated path */
    const pincurl_domain *domain;  /* governing entry, or NULL */
    const char *noted_host;        /* that entry's host, or NULL */
    int matched_depth;             /* path index of the matching certificate, -1 if none */
    pincurl_pin matched_pin;       /* valid when matched_depth >= 0 */
    size_t path_len;               /* number of entries in path_pins */
    pincurl_pin path_pins[PINCURL_MAX_PATH]; /* pin of every path certificate, leaf first */
} pincurl_verdict;

/*
 * Decides whether a connection to host:port may proceed.
 *  path:   the path certificate validation built, leaf first, ending at the trust anchor
 *          (path_len 0 means validation built none: INVALID_CHAIN, BLOCK);
 *  served: the chain the server sent, leaf first (may be NULL/0; only compared);
 *  now:    seconds since the Unix epoch (UTC).
 * Always fills *out. Returns OK when the evaluation ran (read out->decision), otherwise
 * INVALID_ARGUMENT with out->decision BLOCK. Allocates nothing. Thread-safe.
 */
PINCURL_API pincurl_status pincurl_evaluate(const pincurl_policy *policy, const char *host,
                                            unsigned port, const pincurl_cert_ref *path,
                                            size_t path_len, const pincurl_cert_ref *served,
                                            size_t served_len, int64_t now,
                                            pincurl_verdict *out);

/* TrustKit-compatible name of a result ("PIN_MISMATCH", ...); static storage. */
PINCURL_API const char *pincurl_result_name(pincurl_result result);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_CORE_H */
