/* One /proc/stat read per reading instant, shared by the models. */
#define _GNU_SOURCE
#include "procstat.h"

#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct wp_procstat {
    atomic_int refs;
    int fd;
    bool have; /* at_s and times hold a reading */
    int rc;    /* that reading's result */
    double at_s;
    struct wp_cpu_times times;
};

struct wp_procstat *wp_procstat_open(const char *procfs_root)
{
    char path[4096];
    struct wp_procstat *p;

    if (wp_path(path, sizeof path, procfs_root, "stat") || !(p = calloc(1, sizeof *p)))
        return NULL;
    if ((p->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        free(p);
        return NULL;
    }
    atomic_init(&p->refs, 1);
    return p;
}

struct wp_procstat *wp_procstat_ref(struct wp_procstat *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void wp_procstat_put(struct wp_procstat *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    close(p->fd);
    free(p);
}

int wp_procstat_read(struct wp_procstat *p, double now_s, struct wp_cpu_times *out)
{
    /* 16 KiB holds the "cpu" lines of a few hundred CPUs; the interrupt
     * counts after them may be cut, and are not read */
    char text[16384];
    long n;

    if (!p->have || p->at_s != now_s) {
        n = wp_pread_text(p->fd, text, sizeof text);
        p->rc = n < 0 ? (int)n : n == 0 ? -EINVAL : wp_procfs_parse_stat(text, &p->times);
        p->at_s = now_s;
        p->have = true;
    }
    if (p->rc == 0)
        *out = p->times;
    return p->rc;
}
