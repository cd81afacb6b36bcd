/* Parsers for the text that sysfs publishes about the perf power PMU. */
#ifndef WP_SYSFS_PARSE_H
#define WP_SYSFS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a perf event description such as "event=0x02" or
 * "event=0x01,umask=0x10" into the attr.config value (event in bits 0-7,
 * umask in bits 8-15). Returns 0, or -EINVAL. */
int wp_perf_parse_config(const char *text, uint64_t *config);

/* Parses a CPU list such as "0,28" or "0-3,8\n" into cpus[0..max). Returns
 * the count, or -EINVAL (also when more than max CPUs are listed). */
int wp_sysfs_parse_cpulist(const char *text, int *cpus, int max);

/* One SMBIOS type 17 (Memory Device) structure, as
 * /sys/firmware/dmi/entries/17-N/raw holds it. */
struct wp_dimm {
    uint64_t size_mb; /* 0: the slot is empty */
    char type[8];     /* "DDR4", "DDR5", ... or "" */
};

/* Parses raw[0..n). Returns 0 (an empty slot has size 0), or -EINVAL when it
 * is not a type 17 structure or its size is unknown. */
int wp_dmi_parse_memory_device(const unsigned char *raw, size_t n, struct wp_dimm *out);

#endif
