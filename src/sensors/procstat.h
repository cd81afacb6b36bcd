/* One /proc/stat for the estimating models of a session. The kernel formats
 * the whole file (a line per CPU, a count per interrupt) at every read, the
 * larger part of an idle run's cost; the CPU and memory models read at the
 * same instant, so the first read of an instant serves both. */
#ifndef WP_PROCSTAT_H
#define WP_PROCSTAT_H

#include "procfs.h"

struct wp_procstat;

/* Opens procfs_root's stat. Returns NULL when it cannot be opened (or memory
 * is short). The caller holds one reference. */
struct wp_procstat *wp_procstat_open(const char *procfs_root);

/* Another reference to p (NULL stays NULL). */
struct wp_procstat *wp_procstat_ref(struct wp_procstat *p);

/* Drops a reference; the last closes the file. NULL is ignored. */
void wp_procstat_put(struct wp_procstat *p);

/* The CPU times at reading instant now_s: read and parsed at the first call
 * for now_s, the same figures for later calls with the same now_s. Callers
 * of one wp_procstat serialise (a meter's readings hold its lock). Returns 0,
 * or a negative errno (-EINVAL: no valid "cpu" line). */
int wp_procstat_read(struct wp_procstat *p, double now_s, struct wp_cpu_times *out);

#endif
