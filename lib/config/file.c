/* Reading a whole file (file.h). */
#include "config/file.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static pincurl_status io_error(int fd, int err, const char *step, int *errp, const char **what)
{
    if (fd >= 0)
        close(fd);
    *errp = err;
    *what = step;
    return PINCURL_IO;
}

pincurl_status pc_file_read(const char *path, size_t max, unsigned flags,
                            const pincurl_allocator *alloc, unsigned char **out, size_t *len,
                            int *more, int *err, const char **what)
{
    pincurl_allocator a;
    struct stat sb;
    unsigned char *buf;
    size_t cap, got = 0;
    int fd;

    *out = NULL;
    *len = 0;
    *more = 0;
    *err = 0;
    *what = "open";
    if (path == NULL || max == SIZE_MAX)
        return io_error(-1, EINVAL, "open", err, what);
    pc_allocator_init(&a, alloc);
    fd = open(path, O_RDONLY | O_CLOEXEC | ((flags & PC_FILE_STRICT) ? O_NOFOLLOW : 0));
    if (fd < 0)
        return io_error(-1, errno, "open", err, what);
    if (fstat(fd, &sb) != 0)
        return io_error(fd, errno, "read", err, what);
    if (S_ISDIR(sb.st_mode))
        return io_error(fd, EISDIR, "read", err, what);
    if ((flags & PC_FILE_STRICT) && !S_ISREG(sb.st_mode))
        return io_error(fd, EINVAL, "read", err, what);

    /* Room for one byte more than max, so a larger file is seen without reading it all;
     * sized from the file when it says, grown otherwise (pipes, /proc). */
    cap = 4096;
    if (sb.st_size > 0 && (uintmax_t)sb.st_size < (uintmax_t)max + 1)
        cap = (size_t)sb.st_size + 1;
    else if (sb.st_size > 0 || cap > max + 1)
        cap = max + 1;
    buf = pc_malloc(&a, cap);
    if (buf == NULL) {
        close(fd);
        return PINCURL_OUT_OF_MEMORY;
    }
    for (;;) {
        ssize_t n;
        if (got == cap) {
            size_t ncap;
            unsigned char *nbuf;
            if (cap == max + 1)
                break;
            ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
            nbuf = pc_realloc(&a, buf, ncap);
            if (nbuf == NULL) {
                pc_free(&a, buf);
                close(fd);
                return PINCURL_OUT_OF_MEMORY;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            pc_free(&a, buf);
            return io_error(fd, e, "read", err, what);
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got > max) {
        pc_free(&a, buf);
        *more = 1;
        return PINCURL_OK;
    }
    *out = buf;
    *len = got;
    return PINCURL_OK;
}
