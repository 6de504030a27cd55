/*
 * The one list of pincurl status codes. Included several times with different
 * definitions of PINCURL_STATUS(name, number, message) to generate the enum,
 * pincurl_strerror() and pincurl_status_name(), and read by the binding generators.
 *
 * A number never changes once released and is never reused. Append only.
 * Groups: 0 ok; 1-19 usage and resources; 20-39 pins, certificates and keys;
 * 40-49 hosts; 60-99 policy documents; 100-159 requests and connections.
 *
 * No include guard: this file is meant to be included more than once.
 */
PINCURL_STATUS(OK,                        0, "success")
PINCURL_STATUS(INVALID_ARGUMENT,          1, "invalid argument")
PINCURL_STATUS(OUT_OF_MEMORY,             2, "out of memory")
PINCURL_STATUS(BUFFER_TOO_SMALL,          3, "output buffer too small")
PINCURL_STATUS(INTERNAL,                  4, "internal error")
PINCURL_STATUS(IO,                        5, "file or device I/O failed")
PINCURL_STATUS(LIMIT_EXCEEDED,            6, "input exceeds a documented limit")
PINCURL_STATUS(UNSUPPORTED,               7, "operation not supported by this build")

PINCURL_STATUS(PIN_BAD_PREFIX,           20, "pin does not start with sha256/")
PINCURL_STATUS(PIN_BAD_BASE64,           21, "pin is not valid base64")
PINCURL_STATUS(PIN_BAD_LENGTH,           22, "pin digest is not 32 bytes after base64 decoding")
PINCURL_STATUS(DER_MALFORMED,            23, "DER structure is malformed")
PINCURL_STATUS(DER_TRUNCATED,            24, "DER structure is truncated")
PINCURL_STATUS(PEM_MALFORMED,            25, "PEM block is malformed")
PINCURL_STATUS(NO_CERTIFICATE,           26, "no certificate found in input")
PINCURL_STATUS(KEY_UNSUPPORTED,          27, "key format not supported")
PINCURL_STATUS(NO_KEY,                   28, "no public key found in input")

PINCURL_STATUS(HOST_INVALID,             40, "host name is not valid")
PINCURL_STATUS(HOST_NOT_ASCII,           41, "host name is not ASCII; use its A-label (punycode) form")

PINCURL_STATUS(POLICY_SYNTAX,            60, "policy document is not valid JSON")
PINCURL_STATUS(POLICY_UNKNOWN_KEY,       61, "policy document has an unknown key")
PINCURL_STATUS(POLICY_WRONG_TYPE,        62, "policy value has the wrong type")
PINCURL_STATUS(POLICY_MISSING_KEY,       63, "policy document lacks a required key")
PINCURL_STATUS(POLICY_BAD_VERSION,       64, "unsupported pincurl_policy version")
PINCURL_STATUS(POLICY_BAD_DATE,          65, "date is not YYYY-MM-DD or an RFC 3339 UTC time")
PINCURL_STATUS(POLICY_BAD_VALUE,         66, "policy value is not allowed")
PINCURL_STATUS(POLICY_TOO_FEW_PINS,      67, "enforcing domain needs at least two distinct pins, report-only one")
PINCURL_STATUS(POLICY_DUPLICATE_PIN,     68, "the same pin appears twice")
PINCURL_STATUS(POLICY_DUPLICATE_DOMAIN,  69, "the same domain appears twice")
PINCURL_STATUS(POLICY_PUBLIC_SUFFIX,     70, "include_subdomains on a public suffix")
PINCURL_STATUS(POLICY_TOO_LARGE,         71, "policy document exceeds a size or count limit")
PINCURL_STATUS(POLICY_BAD_URI,           72, "report URI is not an absolute https:// URL")
PINCURL_STATUS(POLICY_EXCLUDE_CONFLICT,  73, "an excluded domain cannot carry pins or other settings")
PINCURL_STATUS(POLICY_EXCLUDE_ORPHAN,    74, "excluded domain is not under an include_subdomains domain")
PINCURL_STATUS(POLICY_NO_DOMAINS,        75, "policy pins no domain")

PINCURL_STATUS(PIN_MISMATCH,            100, "no pin of the policy matches the validated certificate path")
PINCURL_STATUS(CERT_INVALID,            101, "server certificate is not valid (untrusted, expired or malformed)")
PINCURL_STATUS(HOST_MISMATCH,           102, "server certificate does not match the host name")
PINCURL_STATUS(TIMEOUT,                 103, "operation timed out")
PINCURL_STATUS(DNS,                     104, "could not resolve host")
PINCURL_STATUS(CONNECT,                 105, "could not connect to host")
PINCURL_STATUS(CLEARTEXT_PINNED,        106, "cleartext http:// to a pinned host is refused")
PINCURL_STATUS(TLS,                     107, "TLS handshake failed")
PINCURL_STATUS(POLICY_EXPIRED,          108, "policy expired and on_expiry is block")
PINCURL_STATUS(TOO_MANY_REDIRECTS,      109, "too many redirects")
PINCURL_STATUS(RESPONSE_TOO_LARGE,      110, "response body exceeds the size cap")
PINCURL_STATUS(TRANSFER,                111, "transfer failed")
PINCURL_STATUS(ABORTED_BY_CALLBACK,     112, "aborted by an application callback")
PINCURL_STATUS(BAD_URL,                 113, "URL is malformed or its scheme is not supported")
PINCURL_STATUS(BACKEND_UNSUPPORTED,     114, "the TLS backend in use cannot enforce this policy")
PINCURL_STATUS(PIN_CHECK_FAILED,        115, "pin decision could not be made; connection refused")
PINCURL_STATUS(PROXY,                   116, "proxy failed")

/* 160-179 signed policy updates */
PINCURL_STATUS(UPDATE_MALFORMED,        160, "update bundle is malformed")
PINCURL_STATUS(UPDATE_TOO_LARGE,        161, "update bundle exceeds the size limit")
PINCURL_STATUS(UPDATE_UNSUPPORTED,      162, "update bundle format version or algorithm is not supported")
PINCURL_STATUS(UPDATE_UNKNOWN_KEY,      163, "update bundle is signed with an unknown key id")
PINCURL_STATUS(UPDATE_BAD_SIGNATURE,    164, "update bundle signature does not verify")
PINCURL_STATUS(UPDATE_NOT_HIGHER,       165, "update bundle sequence is not higher than the last one applied")
PINCURL_STATUS(UPDATE_NOT_YET_VALID,    166, "update bundle is not valid yet (not-before is in the future)")
PINCURL_STATUS(UPDATE_EXPIRED,          167, "update bundle has expired")
PINCURL_STATUS(UPDATE_POLICY_INVALID,   168, "policy document in the update bundle fails validation")
PINCURL_STATUS(UPDATE_STATE_DAMAGED,    169, "stored update state is damaged")
PINCURL_STATUS(UPDATE_ROLLBACK,         170, "stored update bundle is older than the recorded sequence")
PINCURL_STATUS(UPDATE_KEY_INVALID,      171, "update signing or verification key is malformed")
PINCURL_STATUS(UPDATE_FETCH_FAILED,     172, "update server did not answer with a bundle")
PINCURL_STATUS(UPDATE_STATE_NOT_PRIVATE, 173, "update state directory is not private (another user owns it, or group or others can write)")
PINCURL_STATUS(UPDATE_STATE_SYMLINK,    174, "update state directory is a symbolic link; it is not followed")

/* 180-199 reports and spool */
PINCURL_STATUS(SPOOL_UNAVAILABLE,       180, "report spool directory cannot be created or opened")
PINCURL_STATUS(SPOOL_READ_ONLY,         181, "report spool directory is read-only or not writable")
PINCURL_STATUS(SPOOL_NO_SPACE,          182, "no space left for the report spool (disk full, quota or file size limit)")
PINCURL_STATUS(SPOOL_NOT_PRIVATE,       183, "report spool directory is not private (another user owns it, or group or others can write)")
PINCURL_STATUS(SPOOL_BUSY,              184, "report spool directory is in use by another spool")
PINCURL_STATUS(SPOOL_DAMAGED,           185, "a report spool file is damaged or unreadable; it was set aside")
PINCURL_STATUS(REPORT_NO_COLLECTOR,     186, "the policy names no report URI; no report is written or sent")
PINCURL_STATUS(SPOOL_SYMLINK,           187, "report spool directory is a symbolic link; it is not followed")
