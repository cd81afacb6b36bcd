/* Output files. The temporary file is made by mkstemp (O_EXCL, a random
 * name) in the target's directory, so a planted link cannot redirect it, and
 * rename replaces whatever name is there without following it. */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"

/* "WHAT: the errno's words" into err; returns -e. */
static int failed(char *err, size_t cap, int e, const char *what)
{
    snprintf(err, cap, "%s: %s", what, strerror(e));
    return -e;
}

/* The directory of path into dir. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(dir, cap, "%s", dirname(copy));
}

/* A link is followed only when this user or root made it (/dev/stdout):
 * never one another user could have planted. */
static int check_link(const char *path, const struct stat *lst, char *err, size_t cap)
{
    struct stat st;
    int r;

    if (lst->st_uid != geteuid() && lst->st_uid != 0) {
        snprintf(err, cap, "%s is another user's symbolic link; name the file itself", path);
        return -ELOOP;
    }
    r = stat(path, &st);
    if (r != 0 && errno != ENOENT)
        return failed(err, cap, errno, path);
    if (r != 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, cap, "%s is a symbolic link to %s; name a file", path,
                 r != 0 ? "nothing" : "a directory");
        return -EINVAL;
    }
    return access(path, W_OK) == 0 ? 0 : failed(err, cap, errno, path);
}

int wp_out_check(const char *path, char *err, size_t cap)
{
    char dir[4096];
    struct stat st;

    if (!*path || strlen(path) >= sizeof dir - 16)
        return failed(err, cap, ENAMETOOLONG, path);
    if (lstat(path, &st) == 0) {
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
            return access(path, W_OK) == 0 ? 0 : failed(err, cap, errno, path);
        if (S_ISDIR(st.st_mode))
            return failed(err, cap, EISDIR, path);
        if (S_ISLNK(st.st_mode))
            return check_link(path, &st, err, cap);
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, cap, "%s is not a regular file, a device or a FIFO", path);
            return -EINVAL;
        }
    } else if (errno != ENOENT) {
        return failed(err, cap, errno, path);
    }
    dir_of(path, dir, sizeof dir);
    {
        char what[4200];
        int e = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
        if (!e && access(dir, W_OK) != 0)
            e = errno;
        snprintf(what, sizeof what, "cannot write in %s", dir);
        if (e)
            return failed(err, cap, e, what);
    }
    return 0;
}

/* Writes everything; on a non-blocking descriptor (a FIFO) waits for room in
 * slices, giving up when the process is asked to end (ECANCELED) or when the
 * reader takes nothing for WP_OUT_WAIT_S (ETIMEDOUT). */
static int write_all(int fd, const char *data, size_t len)
{
    int stalled_ms = 0;

    while (len > 0) {
        ssize_t k = write(fd, data, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (wp_cancelled())
                return ECANCELED;
            if (stalled_ms >= WP_OUT_WAIT_S * 1000)
                return ETIMEDOUT;
            poll(&p, 1, WP_CANCEL_POLL_MS);
            stalled_ms += WP_CANCEL_POLL_MS;
            continue;
        }
        if (k <= 0)
            return k < 0 ? errno : EIO;
        stalled_ms = 0;
        data += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Opens a device or FIFO for writing without hanging: a FIFO with no
 * reader (ENXIO) is tried again every WP_CANCEL_POLL_MS, for WP_OUT_WAIT_S
 * at most and never after the process was asked to end. Returns the
 * descriptor (non-blocking) or a negative errno. */
static int open_in_place(const char *path)
{
    const struct timespec slice = {0, WP_CANCEL_POLL_MS * 1000000L};

    for (int waited_ms = 0;; waited_ms += WP_CANCEL_POLL_MS) {
        int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_TRUNC | O_NONBLOCK);
        if (fd >= 0 || errno != ENXIO)
            return fd >= 0 ? fd : -errno;
        if (wp_cancelled())
            return -ECANCELED;
        if (waited_ms >= WP_OUT_WAIT_S * 1000)
            return -ETIMEDOUT;
        nanosleep(&slice, NULL);
    }
}

/* The umask, read without setting it (umask(2) would change it for every
 * thread while it is read). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned m = 022;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &m) == 1)
            break;
    if (f)
        fclose(f);
    return (mode_t)m;
}

/* A FIFO or device has been opened; an error of it worded into err. */
static int in_place_failed(const char *path, int e, char *err, size_t cap)
{
    if (e == ECANCELED || e == ETIMEDOUT) {
        snprintf(err, cap, "%s: %s", path,
                 e == ECANCELED ? "its reader had not taken all of it when wattprint was asked "
                                  "to end"
                                : "its reader took nothing for " WP_OUT_WAIT_TEXT);
        return -e;
    }
    return failed(err, cap, e, path);
}

int wp_out_open(struct wp_out *o, const char *path, char *err, size_t cap)
{
    char dir[4096], name[4096];
    struct stat st;
    int rc;

    memset(o, 0, offsetof(struct wp_out, buf));
    o->fd = -1;
    if (!path) {
        o->fd = STDOUT_FILENO;
        o->in_place = true;
        snprintf(o->path, sizeof o->path, "standard output");
        return 0;
    }
    if ((rc = wp_out_check(path, err, cap)) != 0)
        return rc;
    snprintf(o->path, sizeof o->path, "%s", path);
    if (lstat(path, &st) == 0 &&
        (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISLNK(st.st_mode))) {
        int fd = open_in_place(path);
        if (fd == -ETIMEDOUT || fd == -ECANCELED) {
            snprintf(err, cap, "%s: %s", path,
                     fd == -ECANCELED ? "no reader had opened it when wattprint was asked to end"
                                      : "no reader opened it within " WP_OUT_WAIT_TEXT);
            return fd;
        }
        if (fd < 0)
            return failed(err, cap, -fd, path);
        o->fd = fd;
        o->in_place = true;
        return 0;
    }
    /* an existing file keeps its mode; a new one gets what umask allows */
    o->mode = lstat(path, &st) == 0 ? (st.st_mode & 07777) : (0666 & ~current_umask());
    dir_of(path, dir, sizeof dir);
    snprintf(name, sizeof name, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", dir, basename(name));
    if ((o->fd = mkostemp(o->tmp, O_CLOEXEC)) < 0) {
        snprintf(name, sizeof name, "cannot create a file in %s", dir);
        return failed(err, cap, errno, name);
    }
    return 0;
}

static void flush(struct wp_out *o)
{
    if (!o->err && o->len > 0) {
        o->err = write_all(o->fd, o->buf, o->len);
        o->started = true;
    }
    o->len = 0;
}

void wp_out_put(struct wp_out *o, const char *data, size_t len)
{
    if (o->err)
        return;
    if (o->len + len > sizeof o->buf)
        flush(o);
    if (len >= sizeof o->buf) { /* larger than the buffer: straight through */
        if (!o->err)
            o->err = write_all(o->fd, data, len);
        o->started = true;
        return;
    }
    memcpy(o->buf + o->len, data, len);
    o->len += len;
}

static ssize_t stream_put(void *cookie, const char *data, size_t len)
{
    struct wp_out *o = cookie;

    wp_out_put(o, data, len);
    return o->err ? -1 : (ssize_t)len;
}

FILE *wp_out_stream(struct wp_out *o)
{
    static const cookie_io_functions_t io = {.write = stream_put};

    return fopencookie(o, "w", io);
}

void wp_out_abort(struct wp_out *o)
{
    /* in place (a terminal, a pipe) where part has been written already: the
     * rest of what was made goes too, so that the reader gets whole records,
     * not a cut; where nothing was, nothing is */
    if (o->in_place && o->started && o->fd >= 0 && !o->err)
        flush(o);
    if (o->fd >= 0 && o->fd != STDOUT_FILENO)
        close(o->fd);
    if (!o->in_place && o->tmp[0])
        unlink(o->tmp);
    o->fd = -1;
}

int wp_out_close(struct wp_out *o, char *err, size_t cap)
{
    int e;

    flush(o);
    e = o->err;
    if (o->in_place) {
        if (o->fd != STDOUT_FILENO && close(o->fd) != 0 && !e && errno != EINTR)
            e = errno;
        o->fd = -1;
        return e ? in_place_failed(o->path, e, err, cap) : 0;
    }
    if (!e && fchmod(o->fd, o->mode) != 0)
        e = errno;
    if (!e && fsync(o->fd) != 0)
        e = errno;
    if (close(o->fd) != 0 && !e)
        e = errno;
    o->fd = -1;
    if (!e && rename(o->tmp, o->path) != 0)
        e = errno;
    if (e) {
        unlink(o->tmp);
        return failed(err, cap, e, o->path);
    }
    return 0;
}

int wp_out_write(const char *path, const char *data, size_t len, char *err, size_t cap)
{
    static _Thread_local struct wp_out o; /* 64 KiB: not on a thread's stack */
    int rc;

    if ((rc = wp_out_open(&o, path, err, cap)) != 0)
        return rc;
    wp_out_put(&o, data, len);
    return wp_out_close(&o, err, cap);
}
