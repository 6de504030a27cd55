/* Internal: constants of the bundle format and the state directory of the updater. */
#ifndef PINCURL_UPDATE_INTERNAL_H
#define PINCURL_UPDATE_INTERNAL_H

#include "pincurl/update.h"

#define PC_UPDATE_FORMAT_VERSION 1
#define PC_UPDATE_ALG_ED25519 1
/* Domain separation: the signed message is this string with its NUL, then the signed part. */
#define PC_UPDATE_CONTEXT "pincurl policy update v1"

/* File names inside the state directory (docs/updates.md). The state is kept twice, in two
 * copies of the same record, so that removing, truncating or replacing one file cannot
 * lower the recorded sequence. */
#define PC_UPDATE_COPY_A "state-a"
#define PC_UPDATE_COPY_B "state-b"
/* The layout of earlier versions, read once to migrate it. */
#define PC_UPDATE_LEGACY_BUNDLE "bundle"
#define PC_UPDATE_LEGACY_SEQUENCE "sequence"

/* The record in each copy:
 *   "pincurl-update-state 2\n" "sequence <decimal>\n" "bundle <decimal length>\n" <bundle>
 * The bundle (possibly empty) is the last one applied; when present its own signed sequence
 * equals the record's. */
#define PC_UPDATE_RECORD_HEADER "pincurl-update-state 2\n"
/* Largest record: the header lines and the largest bundle. */
#define PC_UPDATE_RECORD_MAX ((size_t)PINCURL_UPDATE_MAX_BYTES + 128u)

/* 1 if id (len bytes) is a valid key id: 1-64 of A-Z a-z 0-9 . _ - */
int pc_update_key_id_valid(const char *id, size_t len);

/* Creates dir (mode 0700) if missing, then opens it without following a symbolic link as
 * its last component and checks it is private: owned by the effective user, not writable
 * by group or others. *dirfd (caller closes) is what every later access goes through.
 * Statuses: OK, INVALID_ARGUMENT, IO, UPDATE_STATE_SYMLINK, UPDATE_STATE_NOT_PRIVATE. */
pincurl_status pc_update_state_open(const char *dir, int *dirfd);

/* Reads name in dirfd, a regular file of at most max bytes (a link is not followed, a FIFO
 * does not block), into *out (malloc; caller frees) of *len bytes.
 * Statuses: OK, IO (*missing is 1 when the name does not exist), UPDATE_TOO_LARGE,
 * OUT_OF_MEMORY. */
pincurl_status pc_update_read_at(int dirfd, const char *name, size_t max, unsigned char **out,
                                 size_t *len, int *missing);

/* Writes name in dirfd atomically: name.tmp (mode 0600), fsync, rename (which replaces a
 * link of that name, never its target), fsync of the directory. Statuses: OK, IO. */
pincurl_status pc_update_write_at(int dirfd, const char *name, const void *data, size_t len);

/* Removes name if it is a regular file (missing is fine; anything else is left alone and
 * IO) and fsyncs the directory. Statuses: OK, IO. */
pincurl_status pc_update_remove_at(int dirfd, const char *name);

/* Parses a record (exactly len bytes). *bundle points into data (NULL and 0 when none).
 * Statuses: OK, UPDATE_STATE_DAMAGED. */
pincurl_status pc_update_record_parse(const unsigned char *data, size_t len, uint64_t *sequence,
                                      const unsigned char **bundle, size_t *bundle_len);
/* Formats a record (malloc; caller frees), or NULL (no memory, bundle too large). */
unsigned char *pc_update_record_format(uint64_t sequence, const unsigned char *bundle,
                                       size_t bundle_len, size_t *out_len);

/* The legacy sequence file: "pincurl-update-sequence 1\n<decimal>\n". */
pincurl_status pc_update_sequence_parse(const unsigned char *data, size_t len, uint64_t *out);

#endif
