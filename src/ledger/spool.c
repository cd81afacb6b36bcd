/* Runs that could not reach a PostgreSQL ledger, kept in a local SQLite
 * ledger (one per server: $XDG_DATA_HOME/wattprint/spool/HASH.db) and sent
 * by the next command that reaches the server. The server's primary key
 * makes the sending exactly once: a run sent twice (a crash between the
 * commit and the removal of the spool) is skipped the second time. A final
 * result replaces the checkpoint the server kept of the same run (the
 * connection was lost mid-run): WP_LEDGER_NEWER. */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The server's identity without the password, so that a changed password
 * keeps the same spool. */
static uint64_t key_of(const char *uri)
{
    const char *scheme = strstr(uri, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const char *c = uri; *c; c++) {
        if (colon && c == colon)
            c = at; /* skip ":password" */
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
    }
    return h;
}

int wp_spool_path(const char *uri, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char real[PATH_MAX];
    int n;

    /* a ledger file: the same spool whatever directory it was named from */
    if (!strstr(uri, "://") && realpath(uri, real))
        uri = real;

    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/wattprint/spool/%016llx.db", xdg,
                     (unsigned long long)key_of(uri));
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/share/wattprint/spool/%016llx.db", home,
                     (unsigned long long)key_of(uri));
    else
        return -ENOENT;
    return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

/* An exclusive lock on the spool (path.lock) while runs go in or out:
 * a run kept while another command sends must not go into a removed file. */
static int lock_spool(const char *path, bool create)
{
    char lock[4200];
    int fd;

    snprintf(lock, sizeof lock, "%s.lock", path);
    fd = open(lock, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int wp_spool_keep(const char *uri, const struct wp_run *run, char *where, size_t wcap, char *err,
                  size_t cap)
{
    struct wp_ledger *spool;
    int fd, rc;

    if (wp_spool_path(uri, where, wcap) != 0) {
        snprintf(err, cap, "no home directory for a spool");
        return -ENOENT;
    }
    wp_mkdir_parents(where, 0700); /* the spool's directory, private to the user */
    if ((fd = lock_spool(where, true)) < 0) {
        snprintf(err, cap, "cannot lock %s: %s", where, strerror(errno));
        return -EIO;
    }
    rc = wp_ledger_open(where, WP_LEDGER_WRITE, &spool, err, cap);
    if (rc == 0) {
        rc = wp_ledger_finish(spool, run, err, cap);
        wp_ledger_close(spool);
    }
    close(fd);
    return rc;
}

void wp_spool_send(struct wp_ledger *l, const char *uri)
{
    char path[4096], err[1024], side[4200];
    struct stat st;
    long added = 0, skipped = 0, replaced = 0;
    int fd;

    l->sent = l->replaced = 0;
    l->send_err[0] = '\0';
    if (wp_spool_path(uri, path, sizeof path) != 0 || stat(path, &st) != 0)
        return;
    if ((fd = lock_spool(path, false)) < 0) {
        snprintf(l->send_err, sizeof l->send_err, "cannot lock %s: %s", path, strerror(errno));
        return;
    }
    if (stat(path, &st) == 0)
        added = wp_ledger_copy_runs(l, path, &skipped, &replaced, err, sizeof err);
    if (added < 0)
        snprintf(l->send_err, sizeof l->send_err, "%s (the runs stay in %s)", err, path);
    if (added >= 0 && stat(path, &st) == 0) {
        l->sent = added + replaced;
        l->replaced = replaced;
        /* all in, in one transaction: the spool has done its work */
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    close(fd);
}
