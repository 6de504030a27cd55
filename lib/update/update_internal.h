/* Internal: constants of the bundle format and the state directory of the updater. */
#ifndef PINCURL_UPDATE_INTERNAL_H
#define PINCURL_UPDATE_INTERNAL_H

#include "pincurl/update.h"

#define PC_UPDATE_FORMAT_VERSION 1
#define PC_UPDATE_ALG_ED25519 1
/* Domain separation: the signed message is this string with its NUL, then the signed part. */
#define PC_UPDATE_CONTEXT "pincurl policy update v1"

/* File names inside the state directory. */
#define PC_UPDATE_BUNDLE_FILE "bundle"
#define PC_UPDATE_SEQUENCE_FILE "sequence"

/* 1 if id (len bytes) is a valid key id: 1-64 of A-Z a-z 0-9 . _ - */
int pc_update_key_id_valid(const char *id, size_t len);

/* Creates dir (mode 0700) if missing; OK if it exists and is a directory. Statuses: OK, IO. */
pincurl_status pc_update_state_dir(const char *dir);

/* Reads dir/name, at most max bytes, into *out (malloc; caller frees) of *len bytes.
 * Statuses: OK, IO (including ENOENT: *missing is then 1), UPDATE_TOO_LARGE. */
pincurl_status pc_update_read(const char *dir, const char *name, size_t max,
                              unsigned char **out, size_t *len, int *missing);

/* Writes dir/name atomically: dir/name.tmp (mode 0600), fsync, rename, fsync of dir.
 * Statuses: OK, IO. */
pincurl_status pc_update_write(const char *dir, const char *name, const void *data,
                               size_t len);

/* Removes dir/name (missing is fine) and fsyncs dir. Statuses: OK, IO. */
pincurl_status pc_update_remove(const char *dir, const char *name);

/* The sequence file: "pincurl-update-sequence 1\n<decimal>\n". */
pincurl_status pc_update_sequence_parse(const unsigned char *data, size_t len, uint64_t *out);
/* Formats into out (>= 64 bytes); returns the length. */
size_t pc_update_sequence_format(uint64_t seq, char *out, size_t size);

#endif
