/* Writing a file a user named: checked before anything runs, written so that
 * no other file is ever replaced. A regular file (or nothing) is replaced
 * whole through a new file made with O_EXCL beside it, fsync'd, then renamed;
 * a character device or a FIFO (/dev/null, a pipe) is written in place; a
 * symbolic link made by this user or by root (/dev/stdout) is followed and
 * written in place; a directory, or another user's link, is refused. */
#ifndef WP_OUTFILE_H
#define WP_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Whether path can be written: its directory exists and is writable, and
 * path is absent, a regular file, a character device or a FIFO. Returns 0,
 * or a negative errno with the reason in err. */
int wp_out_check(const char *path, char *err, size_t cap);

/* How long a FIFO may go without a reader, or a reader without reading,
 * before the write gives up (a signal to the process ends the wait at once:
 * cancel.h). */
#define WP_OUT_WAIT_S    60
#define WP_OUT_WAIT_TEXT "60 s"

/* Writes len bytes of data to path as described above. Returns 0, or a
 * negative errno with the reason in err (a full disk included; -ETIMEDOUT or
 * -ECANCELED for a FIFO nobody read). */
int wp_out_write(const char *path, const char *data, size_t len, char *err, size_t cap);

/* The same, written as it is made (an export of a million runs never held in
 * memory): wp_out_open, then wp_out_put as often as needed (buffered; the
 * first failure is kept and later puts do nothing), then wp_out_close, which
 * renames the finished file over path, or wp_out_abort, which leaves path as
 * it was (written in place and begun, it gives the rest of what was put,
 * which the caller made of whole records; not begun, nothing). A NULL path
 * is standard output. */
struct wp_out {
    int fd;
    bool in_place; /* a device, FIFO, link or stdout: written where it is */
    int err;       /* the first write's errno, 0 while all is well */
    bool started;  /* something has been written to fd */
    char path[4096], tmp[4200];
    mode_t mode;
    size_t len;
    char buf[65536];
};

int wp_out_open(struct wp_out *o, const char *path, char *err, size_t cap);
void wp_out_put(struct wp_out *o, const char *data, size_t len);

/* Flushes and, for a regular file, syncs and renames. Returns 0, or a
 * negative errno with the reason in err (the temporary file removed). */
int wp_out_close(struct wp_out *o, char *err, size_t cap);
void wp_out_abort(struct wp_out *o);

/* A stdio stream that puts into o (fclose it before wp_out_close or
 * wp_out_abort), or NULL when memory is short. */
FILE *wp_out_stream(struct wp_out *o);

#endif
