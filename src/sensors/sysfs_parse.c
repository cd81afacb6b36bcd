/* Parsers for the text that sysfs publishes about the perf power PMU. */
#include "sysfs_parse.h"

#include <ctype.h>
#include <errno.h>
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
