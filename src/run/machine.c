/* The machine a run ran on. */
#include "machine.h"

#include "../sensors/procfs.h"
#include "../util/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

void wp_machine_probe(struct wp_machine *m)
{
    struct wp_cpuinfo info;
    struct wp_cpu_times t;
    struct utsname u;
    char text[16384];
    uint64_t bytes;

    memset(m, 0, sizeof *m);
    wp_procfs_read_cpuinfo(wp_procfs_root(), &info);
    snprintf(m->cpu_model, sizeof m->cpu_model, "%s", info.model);
    if (wp_read_text(wp_procfs_root(), "stat", text, sizeof text) > 0 &&
        wp_procfs_parse_stat(text, &t) == 0)
        m->cpu_count = t.n_cpus; /* online CPUs, as the CPU model counts them */
    if (wp_read_text(wp_procfs_root(), "meminfo", text, sizeof text) > 0 &&
        wp_procfs_parse_meminfo_total(text, &bytes) == 0)
        m->ram_gib = (double)bytes / (1024.0 * 1024.0 * 1024.0);
    if (uname(&u) == 0)
        snprintf(m->os, sizeof m->os, "%.40s-%.60s-%.30s", u.sysname, u.release, u.machine);
}
