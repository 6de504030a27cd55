/* The updater's state directory: atomic writes (temporary file, fsync, rename, directory
 * fsync), bounded reads and the sequence file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "update/update_internal.h"

#include "config/file.h"

#define PATH_CAP 4096

static int join(char *out, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, PATH_CAP, "%s/%s%s", dir, name, suffix);
    return n > 0 && n < PATH_CAP;
}

pincurl_status pc_update_state_dir(const char *dir)
{
    struct stat st;
    if (dir == NULL || dir[0] == '\0')
        return PINCURL_INVALID_ARGUMENT;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return PINCURL_IO;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return PINCURL_IO;
    return PINCURL_OK;
}

pincurl_status pc_update_read(const char *dir, const char *name, size_t max,
                              unsigned char **out, size_t *len, int *missing)
{
    char path[PATH_CAP];
    int more = 0, err = 0;
    const char *what = "";
    pincurl_status st;

    *out = NULL;
    *len = 0;
    *missing = 0;
    if (!join(path, dir, name, ""))
        return PINCURL_IO;
    /* no symbolic link, nothing but a regular file; one byte more than allowed is read to
     * see a file that grew meanwhile */
    st = pc_file_read(path, max, PC_FILE_STRICT, NULL, out, len, &more, &err, &what);
    if (st == PINCURL_IO)
        *missing = err == ENOENT && what[0] == 'o';
    if (st == PINCURL_OK && more)
        return PINCURL_UPDATE_TOO_LARGE;
    return st;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

pincurl_status pc_update_write(const char *dir, const char *name, const void *data,
                               size_t len)
{
    char path[PATH_CAP], tmp[PATH_CAP];
    const unsigned char *p = data;
    size_t done = 0;

    if (!join(path, dir, name, "") || !join(tmp, dir, name, ".tmp"))
        return PINCURL_IO;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return PINCURL_IO;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return PINCURL_IO;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return PINCURL_IO;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return PINCURL_IO;
    }
    return fsync_dir(dir) == 0 ? PINCURL_OK : PINCURL_IO;
}

pincurl_status pc_update_remove(const char *dir, const char *name)
{
    char path[PATH_CAP];
    if (!join(path, dir, name, ""))
        return PINCURL_IO;
    if (unlink(path) != 0 && errno != ENOENT)
        return PINCURL_IO;
    return fsync_dir(dir) == 0 ? PINCURL_OK : PINCURL_IO;
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

size_t pc_update_sequence_format(uint64_t seq, char *out, size_t size)
{
    int n = snprintf(out, size, SEQ_HEADER "%llu\n", (unsigned long long)seq);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
