/* Fuzz target: the sysfs text parsers (counter values, perf event
 * descriptions, CPU lists) and SMBIOS memory device entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sysfs_parse.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    uint64_t v;
    int cpus[64];

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    (void)wp_parse_u64(s, size, &v);
    (void)wp_perf_parse_config(s, &v);
    (void)wp_sysfs_parse_cpulist(s, cpus, 64);
    {
        double d;
        struct wp_dimm dimm;
        (void)wp_parse_double(s, &d);
        (void)wp_dmi_parse_memory_device(data, size, &dimm); /* SMBIOS raw entries */
    }
    free(s);
    return 0;
}
