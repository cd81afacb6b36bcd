/* Off-site water: what a country's power plants consume (evaporate) per kWh
 * they supply, from data/electricity_water.csv (see
 * tools/import_electricity_water.py for its source). */
#include "account.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_electricity_water[];
extern const size_t wp_data_electricity_water_len;

int wp_region_offsite_wue(const struct wp_region *region, double *l_per_kwh, char *source,
                          size_t cap)
{
    /* a cloud region answers for its country; a custom intensity has none */
    const char *key = region->country3[0] ? region->country3 : region->code;
    struct wp_csv hdr, row;
    int rc;

    wp_csv_init(&hdr, wp_data_electricity_water, wp_data_electricity_water_len);
    if (wp_csv_next(&hdr) != 1)
        return -ENOENT;
    wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
    while ((rc = wp_csv_next(&row)) != 0) {
        if (rc < 0 || strcasecmp(wp_csv_get(&hdr, &row, "iso3"), key) != 0)
            continue;
        if (wp_parse_double(wp_csv_get(&hdr, &row, "water_l_per_kwh"), l_per_kwh) ||
            !(*l_per_kwh >= 0))
            return -ENOENT;
        snprintf(source, cap, "%s: %s", strcmp(key, "world") == 0 ? "world average" : key,
                 wp_csv_get(&hdr, &row, "source"));
        return 0;
    }
    return -ENOENT;
}
