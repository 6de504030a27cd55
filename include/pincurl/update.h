/*
 * pincurl signed policy updates: a base policy ships with the application; a bundle signed
 * with Ed25519 (docs/updates.md specifies the format byte for byte) may replace it without
 * a release, and an updater keeps the last applied bundle across restarts.
 *
 * Three parts:
 *   - bundles and keys: parse, sign and verify bundles, make and read Ed25519 keys. Pure
 *     functions, reentrant, no shared state.
 *   - the updater: made from a client, whose policy at that moment is the base. It applies
 *     bundles from memory, persists the last one in a state directory and restores the base
 *     when the stored bundle is damaged or expires.
 *   - the fetcher: a thread of the updater that polls an https:// URL over the client
 *     (so over a connection pinned by the policy in force), with If-None-Match and backoff.
 *
 * Statuses of the group 160-179 (UPDATE_*) say why a bundle was refused.
 */
#ifndef PINCURL_UPDATE_H
#define PINCURL_UPDATE_H

#include "pincurl/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes of the format (docs/updates.md). */
#define PINCURL_UPDATE_HEADER_SIZE 40u          /* fixed part before the key id */
#define PINCURL_UPDATE_KEY_ID_MAX 64u           /* key id bytes, at least 1 */
#define PINCURL_UPDATE_PUBLIC_KEY_SIZE 32u      /* Ed25519 public key */
#define PINCURL_UPDATE_PRIVATE_KEY_SIZE 32u     /* Ed25519 private key (the seed) */
#define PINCURL_UPDATE_SIGNATURE_SIZE 64u       /* Ed25519 signature */
/* Largest bundle accepted: header, longest key id, largest policy document, signature. */
#define PINCURL_UPDATE_MAX_BYTES                                                   \
    ((size_t)PINCURL_UPDATE_HEADER_SIZE + PINCURL_UPDATE_KEY_ID_MAX +              \
     (size_t)(1024u * 1024u) + PINCURL_UPDATE_SIGNATURE_SIZE)
/* Size of a key's text form ("pincurl-ed25519-public ID BASE64\n") with its NUL. */
#define PINCURL_UPDATE_KEY_TEXT_SIZE 160u

/* ------------------------------------------------------------------------------------ */
/* Bundles                                                                               */

/* A parsed bundle: plain value, filled by pincurl_update_bundle_parse(). The pointers are
 * borrowed from the buffer that was parsed and valid as long as it is. */
typedef struct pincurl_update_bundle {
    char key_id[PINCURL_UPDATE_KEY_ID_MAX + 1]; /* NUL-terminated */
    uint64_t sequence;                          /* >= 1 */
    int64_t not_before;                         /* seconds since the epoch, UTC */
    int64_t expires;                            /* seconds since the epoch, UTC; > not_before */
    const unsigned char *policy;                /* the policy document's exact bytes */
    size_t policy_len;
    const unsigned char *signature;             /* PINCURL_UPDATE_SIGNATURE_SIZE bytes */
    const unsigned char *signed_part;           /* header, key id and policy */
    size_t signed_len;
} pincurl_update_bundle;

/* Parses len bytes strictly (every length checked, no trailing bytes, at most
 * PINCURL_UPDATE_MAX_BYTES); checks no signature, time or policy. *out is zeroed on failure.
 * Statuses: OK, INVALID_ARGUMENT, UPDATE_TOO_LARGE, UPDATE_MALFORMED, UPDATE_UNSUPPORTED.
 * Reentrant. */
PINCURL_API pincurl_status pincurl_update_bundle_parse(const void *data, size_t len,
                                                       pincurl_update_bundle *out);

/* Verifies the signature of a parsed bundle with an Ed25519 public key.
 * Statuses: OK, INVALID_ARGUMENT, UPDATE_BAD_SIGNATURE, UPDATE_KEY_INVALID. Reentrant. */
PINCURL_API pincurl_status pincurl_update_bundle_verify(
    const pincurl_update_bundle *bundle,
    const unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE]);

/* Builds and signs a bundle over policy (its bytes are kept exactly; the document is not
 * validated here: load it with pincurl_policy_load_json first). key_id: 1-64 characters
 * of A-Z a-z 0-9 . _ -. sequence >= 1, not_before < expires. On success *out is a new
 * buffer of *out_len bytes the caller frees with pincurl_update_buffer_free().
 * Statuses: OK, INVALID_ARGUMENT, UPDATE_TOO_LARGE, UPDATE_KEY_INVALID, OUT_OF_MEMORY.
 * Reentrant. */
PINCURL_API pincurl_status pincurl_update_bundle_sign(
    const void *policy, size_t policy_len, const char *key_id, uint64_t sequence,
    int64_t not_before, int64_t expires,
    const unsigned char private_key[PINCURL_UPDATE_PRIVATE_KEY_SIZE],
    unsigned char **out, size_t *out_len);

/* Frees a buffer returned by this header's functions. NULL is a no-op. */
PINCURL_API void pincurl_update_buffer_free(void *buffer);

/* ------------------------------------------------------------------------------------ */
/* Keys                                                                                  */

/* A new Ed25519 key pair from wolfCrypt's RNG. The caller owns both buffers and should
 * wipe the private key after use. Statuses: OK, INVALID_ARGUMENT, INTERNAL. Reentrant. */
PINCURL_API pincurl_status pincurl_update_keygen(
    unsigned char private_key[PINCURL_UPDATE_PRIVATE_KEY_SIZE],
    unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE]);

/* The public key of a private key. Statuses: OK, INVALID_ARGUMENT, UPDATE_KEY_INVALID. */
PINCURL_API pincurl_status pincurl_update_public_key(
    const unsigned char private_key[PINCURL_UPDATE_PRIVATE_KEY_SIZE],
    unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE]);

/* The default key id of a public key: 16 lowercase hex digits, the first 8 bytes of its
 * SHA-256. out has at least 17 bytes. Statuses: OK, INVALID_ARGUMENT, INTERNAL. */
PINCURL_API pincurl_status pincurl_update_key_id_default(
    const unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE], char *out, size_t size);

/* A key's one-line text form, the content of the CLI's key files:
 *   "pincurl-ed25519-public KEYID BASE64\n" or "pincurl-ed25519-private KEYID BASE64\n".
 * is_private selects the form. out has at least PINCURL_UPDATE_KEY_TEXT_SIZE bytes.
 * Statuses: OK, INVALID_ARGUMENT, UPDATE_KEY_INVALID (bad key id), BUFFER_TOO_SMALL. */
PINCURL_API pincurl_status pincurl_update_key_format(
    int is_private, const char *key_id, const unsigned char key[32], char *out, size_t size);

/* Parses that text form (one line; a final "\n" or "\r\n" allowed, nothing else around it).
 * *is_private receives which form it was; key_id has PINCURL_UPDATE_KEY_ID_MAX + 1 bytes.
 * Statuses: OK, INVALID_ARGUMENT, UPDATE_KEY_INVALID. Reentrant. */
PINCURL_API pincurl_status pincurl_update_key_parse(const char *text, size_t len,
                                                    int *is_private, char *key_id,
                                                    unsigned char key[32]);

/* ------------------------------------------------------------------------------------ */
/* The updater                                                                           */

/* A verification key the application trusts: copied by pincurl_updater_new. */
typedef struct pincurl_update_key {
    const char *key_id;                                     /* as in the bundles it signs */
    unsigned char public_key[PINCURL_UPDATE_PUBLIC_KEY_SIZE];
} pincurl_update_key;

typedef struct pincurl_updater pincurl_updater;

/* Makes an updater for client. The client's policy now is the base (the updater keeps a
 * reference). keys: 1-16 verification keys with distinct key ids (copied). state_dir is
 * created (mode 0700) if missing; it must be private (owned by the effective user, not
 * writable by group or others) and its last component must not be a symbolic link; it is
 * opened once and used only through that open directory. One updater at a time per state
 * directory. The state is kept in two copies (docs/updates.md): the recorded sequence is
 * the higher of the two, and a missing, damaged or older copy is rewritten from the other.
 * At start the stored bundle (if any) is verified again as pincurl_updater_apply does,
 * except that its own sequence is accepted: valid, it is put in force (UPDATE_APPLIED
 * event); damaged, expired, under an unknown key, or older than the recorded sequence, it
 * is not, the base stays in force and an UPDATE_BASE_RESTORED event carries the reason.
 * The recorded sequence never goes backwards when one file of the directory is removed or
 * replaced. *out is owned by the caller: pincurl_updater_free(). The client must outlive it.
 * Statuses: OK, INVALID_ARGUMENT, OUT_OF_MEMORY, IO (state directory unusable),
 * UPDATE_STATE_NOT_PRIVATE, UPDATE_STATE_SYMLINK, UPDATE_KEY_INVALID,
 * UPDATE_STATE_DAMAGED (something is stored but no copy of the state can be read: nothing
 * is assumed; an operator must look at the directory). */
PINCURL_API pincurl_status pincurl_updater_new(pincurl_client *client,
                                               const pincurl_update_key *keys,
                                               size_t key_count, const char *state_dir,
                                               pincurl_updater **out);

/* Stops the fetcher (if running) and frees the updater. The client keeps the policy in
 * force. NULL is a no-op. Not concurrently with other calls on the same updater. */
PINCURL_API void pincurl_updater_free(pincurl_updater *u);

/* Applies a bundle of len bytes (copied as needed). It is applied only if it parses, its
 * key id is known and its signature verifies, its sequence is higher than the recorded one,
 * now is inside [not_before, expires) and its policy passes pincurl_policy_load_json.
 * Then it is stored (both copies of the state, each made durable), put in force as
 * a new generation of the client, and an UPDATE_APPLIED event is raised. On any refusal
 * the policy in force is untouched and an UPDATE_REJECTED event carries the status.
 * Events run on the calling thread; not from an event callback. Thread-safe: applies are
 * serialised; requests may run meanwhile.
 * Statuses: OK, INVALID_ARGUMENT, the UPDATE_* refusals above, IO (could not be stored:
 * not applied), OUT_OF_MEMORY, BACKEND_UNSUPPORTED. */
PINCURL_API pincurl_status pincurl_updater_apply(pincurl_updater *u, const void *data,
                                                 size_t len);

/* Checks the bundle in force against the clock: once it has expired, the base policy is
 * put back in force (UPDATE_BASE_RESTORED event, status UPDATE_EXPIRED). The fetcher calls
 * this at every poll. Returns OK, or UPDATE_EXPIRED when the base was just restored.
 * Thread-safe. */
PINCURL_API pincurl_status pincurl_updater_check(pincurl_updater *u);

/* The highest sequence applied so far (persisted; 0 if none). Thread-safe. */
PINCURL_API uint64_t pincurl_updater_sequence(const pincurl_updater *u);

/* 1 if the base policy is in force (no bundle, or it was refused or expired), else 0.
 * Thread-safe. */
PINCURL_API int pincurl_updater_using_base(const pincurl_updater *u);

/* Status of the last refusal (OK if none yet) and a sentence about it, copied into msg
 * (size bytes, NUL-terminated; may be NULL with size 0). Thread-safe. */
PINCURL_API pincurl_status pincurl_updater_last_error(const pincurl_updater *u, char *msg,
                                                      size_t size);

/* ------------------------------------------------------------------------------------ */
/* The fetcher                                                                           */

/* Fetches url once, now, on the calling thread: GET through the client (so pinned by the
 * policy in force) with If-None-Match when an ETag is known; 200 -> pincurl_updater_apply,
 * 304 -> nothing to do. url must be https://. The ETag is kept when a bundle was applied or
 * was the one already in force. Thread-safe, serialised with the fetcher thread.
 * Statuses: OK (applied, or nothing new: 304 or the same sequence), BAD_URL, a request
 * status (PIN_MISMATCH, CONNECT, ...), UPDATE_FETCH_FAILED (another HTTP code),
 * UPDATE_TOO_LARGE, the refusals of pincurl_updater_apply. */
PINCURL_API pincurl_status pincurl_updater_fetch(pincurl_updater *u, const char *url);

/* Starts a thread that fetches url (copied) at once and then every interval_ms; after a
 * failure it waits retry_ms, doubled per consecutive failure up to max_backoff_ms (never
 * less than retry_ms), then back to interval_ms after a success. Every poll also runs
 * pincurl_updater_check. Events of the polls run on that thread. Intervals: 1 ms to
 * 7 days; retry_ms <= max_backoff_ms.
 * Statuses: OK, INVALID_ARGUMENT (one already runs, or bad intervals), BAD_URL, INTERNAL.
 * Thread-safe. */
PINCURL_API pincurl_status pincurl_updater_start(pincurl_updater *u, const char *url,
                                                 long interval_ms, long retry_ms,
                                                 long max_backoff_ms);

/* Stops the fetcher thread and waits for it: at once when it is waiting, otherwise after
 * the request it is performing (bounded by the client's timeouts). No-op if none runs.
 * Thread-safe; not from an event callback. */
PINCURL_API void pincurl_updater_stop(pincurl_updater *u);

/* What the fetcher did so far: a plain value copied out. Thread-safe. */
typedef struct pincurl_update_fetch_stats {
    uint64_t polls;          /* fetches attempted (by the thread or pincurl_updater_fetch) */
    uint64_t applied;        /* bundles applied through a fetch */
    uint64_t not_modified;   /* 304 answers */
    uint64_t failures;       /* fetches that failed (transport, HTTP code, refusal) */
    uint64_t consecutive_failures;
    long next_delay_ms;      /* the wait the thread chose after its last poll */
    pincurl_status last_status; /* of the last fetch */
} pincurl_update_fetch_stats;

PINCURL_API pincurl_status pincurl_updater_fetch_stats(const pincurl_updater *u,
                                                       pincurl_update_fetch_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* PINCURL_UPDATE_H */
