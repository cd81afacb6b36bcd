/* Parsers for the text that sysfs publishes about the perf power PMU. */
#include "sysfs_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_uint(const char **p, int base, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    int any = 0;

    if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (;; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && isxdigit((unsigned char)*s))
            d = tolower((unsigned char)*s) - 'a' + 10;
        else
            break;
        if (v > (max - (uint64_t)d) / (uint64_t)base)
            return -EINVAL;
        v = v * (uint64_t)base + (uint64_t)d;
        any = 1;
    }
    if (!any)
        return -EINVAL;
    *p = s;
    *out = v;
    return 0;
}

int wp_perf_parse_config(const char *text, uint64_t *config)
{
    const char *p = text;
    uint64_t cfg = 0;
    int have_event = 0;

    while (*p && *p != '\n') {
        uint64_t v;
        int shift;
        if (strncmp(p, "event=", 6) == 0) {
            p += 6;
            shift = 0;
            have_event = 1;
        } else if (strncmp(p, "umask=", 6) == 0) {
            p += 6;
            shift = 8;
        } else {
            return -EINVAL;
        }
        if (parse_uint(&p, 16, 0xff, &v))
            return -EINVAL;
        cfg |= v << shift;
        if (*p == ',')
            p++;
        else if (*p && *p != '\n')
            return -EINVAL;
    }
    if (!have_event)
        return -EINVAL;
    *config = cfg;
    return 0;
}

int wp_sysfs_parse_cpulist(const char *text, int *cpus, int max)
{
    const char *p = text;
    int n = 0;

    while (*p && *p != '\n') {
        uint64_t lo, hi;
        if (parse_uint(&p, 10, 1u << 20, &lo))
            return -EINVAL;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_uint(&p, 10, 1u << 20, &hi) || hi < lo)
                return -EINVAL;
        }
        for (uint64_t c = lo; c <= hi; c++) {
            if (n >= max)
                return -EINVAL;
            cpus[n++] = (int)c;
        }
        if (*p == ',')
            p++;
        else if (*p && *p != '\n')
            return -EINVAL;
    }
    return n > 0 ? n : -EINVAL;
}

/* SMBIOS 3.x, 7.18: type at 0, length at 1, size (WORD) at 0x0C, memory
 * type at 0x12, extended size (DWORD, MB) at 0x1C when size is 0x7FFF. */
int wp_dmi_parse_memory_device(const unsigned char *raw, size_t n, struct wp_dimm *out)
{
    static const struct {
        unsigned char code;
        const char *name;
    } types[] = {{0x18, "DDR3"},   {0x1A, "DDR4"},   {0x1B, "LPDDR"}, {0x1C, "LPDDR2"},
                 {0x1D, "LPDDR3"}, {0x1E, "LPDDR4"}, {0x22, "DDR5"},  {0x23, "LPDDR5"}};
    unsigned size;

    memset(out, 0, sizeof *out);
    if (n < 0x15 || raw[0] != 17 || raw[1] < 0x15 || raw[1] > n)
        return -EINVAL;
    size = (unsigned)raw[0x0C] | (unsigned)raw[0x0D] << 8;
    if (size == 0xFFFF)
        return -EINVAL;
    if (size == 0x7FFF) {
        if (raw[1] < 0x20)
            return -EINVAL;
        out->size_mb = ((uint64_t)raw[0x1C] | (uint64_t)raw[0x1D] << 8 | (uint64_t)raw[0x1E] << 16 |
                        (uint64_t)(raw[0x1F] & 0x7F) << 24);
    } else {
        out->size_mb = size & 0x8000 ? (size & 0x7FFF) / 1024 : size;
    }
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (raw[0x12] == types[i].code)
            snprintf(out->type, sizeof out->type, "%s", types[i].name);
    return 0;
}
