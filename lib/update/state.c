/* The updater's state directory: opened once without following a link and checked like the
 * report spool, then used only through that descriptor; atomic writes (temporary file,
 * fsync, rename, directory fsync), bounded reads, the state record and the legacy
 * sequence file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "update/update_internal.h"

#define NAME_CAP 64

pincurl_status pc_update_state_open(const char *dir, int *dirfd)
{
    struct stat st;
    if (dirfd != NULL)
        *dirfd = -1;
    if (dir == NULL || dir[0] == '\0' || dirfd == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return PINCURL_IO;
    /* The last component is not followed; everything afterwards is relative to fd, so a
     * path swapped later redirects nothing. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP || (e == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
            return PINCURL_UPDATE_STATE_SYMLINK;
        return PINCURL_IO;
    }
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        close(fd);
        return PINCURL_IO;
    }
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        close(fd);
        return PINCURL_UPDATE_STATE_NOT_PRIVATE;
    }
    *dirfd = fd;
    return PINCURL_OK;
}

pincurl_status pc_update_read_at(int dirfd, const char *name, size_t max, unsigned char **out,
                                 size_t *len, int *missing)
{
    struct stat st;
    *out = NULL;
    *len = 0;
    *missing = 0;
    /* No link followed; O_NONBLOCK so that a FIFO of this name cannot block (it is not a
     * regular file and is refused below). */
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return PINCURL_IO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return PINCURL_IO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return PINCURL_UPDATE_TOO_LARGE;
    }
    size_t want = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(want + 1); /* one byte more: a file that grew meanwhile */
    if (buf == NULL) {
        close(fd);
        return PINCURL_OUT_OF_MEMORY;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, want + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return PINCURL_IO;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > want) {
            free(buf);
            close(fd);
            return PINCURL_IO; /* changed while being read */
        }
    }
    close(fd);
    if (got != want) {
        free(buf);
        return PINCURL_IO;
    }
    *out = buf;
    *len = got;
    return PINCURL_OK;
}

/* 1 if name in dirfd exists and is not a regular file (a link, a directory, a FIFO). */
static int exists_not_regular(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode);
}

pincurl_status pc_update_write_at(int dirfd, const char *name, const void *data, size_t len)
{
    char tmp[NAME_CAP + 8];
    const unsigned char *p = data;
    size_t done = 0;

    if (snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp)
        return PINCURL_INTERNAL;
    if (!exists_not_regular(dirfd, tmp))
        unlinkat(dirfd, tmp, 0); /* a crash's leftover */
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return PINCURL_IO;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlinkat(dirfd, tmp, 0);
            return PINCURL_IO;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        close(fd);
        unlinkat(dirfd, tmp, 0);
        return PINCURL_IO;
    }
    /* rename replaces a link or file of that name itself, never what a link points to;
     * a directory of that name makes it fail */
    if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
        unlinkat(dirfd, tmp, 0);
        return PINCURL_IO;
    }
    return fsync(dirfd) == 0 ? PINCURL_OK : PINCURL_IO;
}

pincurl_status pc_update_remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? PINCURL_OK : PINCURL_IO;
    if (!S_ISREG(st.st_mode))
        return PINCURL_IO; /* not a file pincurl wrote: left alone */
    if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
        return PINCURL_IO;
    return fsync(dirfd) == 0 ? PINCURL_OK : PINCURL_IO;
}

/* Reads "<word> <decimal>\n" at data[*pos]: digits only, no sign, no leading zero (except
 * "0"), at most 20 digits, no overflow. */
static int read_field(const unsigned char *data, size_t len, size_t *pos, const char *word,
                      uint64_t *out)
{
    size_t w = strlen(word), i = *pos, start;
    uint64_t v = 0;
    if (len - i < w + 1 || memcmp(data + i, word, w) != 0 || data[i + w] != ' ')
        return 0;
    i += w + 1;
    start = i;
    while (i < len && data[i] >= '0' && data[i] <= '9') {
        unsigned d = (unsigned)(data[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        i++;
    }
    if (i == start || i - start > 20 || (data[start] == '0' && i - start != 1))
        return 0;
    if (i >= len || data[i] != '\n')
        return 0;
    *pos = i + 1;
    *out = v;
    return 1;
}

pincurl_status pc_update_record_parse(const unsigned char *data, size_t len, uint64_t *sequence,
                                      const unsigned char **bundle, size_t *bundle_len)
{
    size_t hlen = sizeof PC_UPDATE_RECORD_HEADER - 1, pos = hlen;
    uint64_t seq = 0, blen = 0;
    pincurl_update_bundle parsed;

    *sequence = 0;
    *bundle = NULL;
    *bundle_len = 0;
    if (data == NULL || len < hlen || memcmp(data, PC_UPDATE_RECORD_HEADER, hlen) != 0)
        return PINCURL_UPDATE_STATE_DAMAGED;
    if (!read_field(data, len, &pos, "sequence", &seq) ||
        !read_field(data, len, &pos, "bundle", &blen))
        return PINCURL_UPDATE_STATE_DAMAGED;
    if (blen != (uint64_t)(len - pos))
        return PINCURL_UPDATE_STATE_DAMAGED; /* truncated or extended */
    if (blen > 0) {
        /* The stored bundle is the one applied with this very sequence: its own (signed)
         * sequence says so. The signature is checked by the updater. */
        if (pincurl_update_bundle_parse(data + pos, (size_t)blen, &parsed) != PINCURL_OK ||
            parsed.sequence != seq)
            return PINCURL_UPDATE_STATE_DAMAGED;
        *bundle = data + pos;
        *bundle_len = (size_t)blen;
    }
    *sequence = seq;
    return PINCURL_OK;
}

unsigned char *pc_update_record_format(uint64_t sequence, const unsigned char *bundle,
                                       size_t bundle_len, size_t *out_len)
{
    char head[sizeof PC_UPDATE_RECORD_HEADER + 80];
    int n = snprintf(head, sizeof head, PC_UPDATE_RECORD_HEADER "sequence %llu\nbundle %zu\n",
                     (unsigned long long)sequence, bundle_len);
    *out_len = 0;
    if (n <= 0 || (size_t)n >= sizeof head || bundle_len > PINCURL_UPDATE_MAX_BYTES)
        return NULL;
    unsigned char *out = malloc((size_t)n + bundle_len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, head, (size_t)n);
    if (bundle_len > 0)
        memcpy(out + n, bundle, bundle_len);
    *out_len = (size_t)n + bundle_len;
    return out;
}

#define SEQ_HEADER "pincurl-update-sequence 1\n"

pincurl_status pc_update_sequence_parse(const unsigned char *data, size_t len, uint64_t *out)
{
    size_t hlen = sizeof SEQ_HEADER - 1;
    uint64_t v = 0;
    size_t i;

    *out = 0;
    if (len < hlen + 2 || memcmp(data, SEQ_HEADER, hlen) != 0 || data[len - 1] != '\n')
        return PINCURL_UPDATE_STATE_DAMAGED;
    /* digits only, no sign, no leading zero (except "0"), at most 20 of them */
    if (len - 1 - hlen > 20 || (data[hlen] == '0' && len - 1 - hlen != 1))
        return PINCURL_UPDATE_STATE_DAMAGED;
    for (i = hlen; i < len - 1; i++) {
        unsigned d;
        if (data[i] < '0' || data[i] > '9')
            return PINCURL_UPDATE_STATE_DAMAGED;
        d = (unsigned)(data[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return PINCURL_UPDATE_STATE_DAMAGED;
        v = v * 10 + d;
    }
    *out = v;
    return PINCURL_OK;
}
