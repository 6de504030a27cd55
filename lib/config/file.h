/* Internal: reading a whole file into memory, for the layers that load what is on disk
 * (policy documents, stored updates, trust stores). */
#ifndef PINCURL_CONFIG_FILE_H
#define PINCURL_CONFIG_FILE_H

#include "pincurl/common.h"

/* Refuse a symbolic link as the last component, and anything but a regular file. */
#define PC_FILE_STRICT 0x1u

/* Reads at most max bytes of path into a buffer from alloc (NULL: the C library's), which
 * the caller frees through the same allocator. *more is 1 when the file holds more than
 * max bytes (then *out is NULL). On IO, *err is errno and *what the step that failed
 * ("open" or "read"; a directory reads as EISDIR). Statuses: OK, IO, OUT_OF_MEMORY.
 * Reentrant. */
pincurl_status pc_file_read(const char *path, size_t max, unsigned flags,
                            const pincurl_allocator *alloc, unsigned char **out, size_t *len,
                            int *more, int *err, const char **what);

#endif
