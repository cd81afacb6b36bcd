/* Fuzz target: the /proc parsers (stat, meminfo, cpuinfo, [pid]/stat). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct wp_cpu_times t;
    struct wp_cpuinfo ci;
    uint64_t b;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    (void)wp_procfs_parse_stat(s, &t);
    (void)wp_procfs_parse_meminfo_total(s, &b);
    wp_procfs_parse_cpuinfo(s, &ci);
    {
        struct wp_proc_usage u;
        (void)wp_procfs_parse_pid_usage(s, &u);
        (void)wp_procfs_parse_meminfo(s, "MemAvailable:", &b);
    }
    free(s);
    return 0;
}
