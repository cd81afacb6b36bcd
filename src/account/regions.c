/* Grid carbon intensity by country and cloud region, from the bundled tables
 * (data/grid_intensity.csv, data/cloud_regions.csv, data/iso3166.csv). */
#include "account.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_grid_intensity[], wp_data_cloud_regions[], wp_data_iso3166[];
extern const size_t wp_data_grid_intensity_len, wp_data_cloud_regions_len, wp_data_iso3166_len;

static const char *const mix_cols[WP_MIX_COUNT] = {
    "coal_twh",  "gas_twh",  "oil_twh",   "nuclear_twh",
    "hydro_twh", "wind_twh", "solar_twh", "other_renewable_twh"};

/* Iterates a table: calls fn for each row with the header record for column
 * lookups. Stops when fn returns non-zero and returns that value. */
typedef int (*row_fn)(const struct wp_csv *hdr, const struct wp_csv *row, void *arg);

static int each_row(const char *data, size_t len, row_fn fn, void *arg)
{
    struct wp_csv hdr, row;
    int rc;

    wp_csv_init(&hdr, data, len);
    if (wp_csv_next(&hdr) != 1)
        return 0;
    wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
    while ((rc = wp_csv_next(&row)) != 0) {
        if (rc < 0)
            continue;
        if ((rc = fn(&hdr, &row, arg)) != 0)
            return rc;
    }
    return 0;
}

/* alpha-2 <-> alpha-3 <-> name */
struct iso_q {
    const char *key; /* alpha-2, alpha-3 or name */
    char alpha2[3], alpha3[4], name[96];
};

static int iso_row(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    struct iso_q *q = arg;
    const char *a2 = wp_csv_get(h, r, "alpha2"), *a3 = wp_csv_get(h, r, "alpha3"),
               *nm = wp_csv_get(h, r, "name");

    if (strcasecmp(q->key, a2) && strcasecmp(q->key, a3) && strcasecmp(q->key, nm))
        return 0;
    snprintf(q->alpha2, sizeof q->alpha2, "%s", a2);
    snprintf(q->alpha3, sizeof q->alpha3, "%s", a3);
    snprintf(q->name, sizeof q->name, "%s", nm);
    return 1;
}

static int iso_find(const char *key, struct iso_q *q)
{
    memset(q, 0, sizeof *q);
    q->key = key;
    return each_row(wp_data_iso3166, wp_data_iso3166_len, iso_row, q) ? 0 : -ENOENT;
}

/* Fills the country part of a region (intensity, mix) from the grid table. */
struct grid_q {
    const char *iso3;
    struct wp_region *out;
    bool intensity_too;
};

static int grid_row(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    struct grid_q *q = arg;
    struct wp_region *o = q->out;
    double v;

    if (strcasecmp(wp_csv_get(h, r, "iso3"), q->iso3) != 0)
        return 0;
    if (q->intensity_too) {
        if (wp_parse_double(wp_csv_get(h, r, "g_co2e_per_kwh"), &v) || v < 0)
            return -EINVAL;
        o->intensity_g_per_kwh = v;
        o->year = atoi(wp_csv_get(h, r, "year"));
        snprintf(o->name, sizeof o->name, "%s", wp_csv_get(h, r, "country"));
        snprintf(o->source, sizeof o->source, "%s", wp_csv_get(h, r, "source"));
    }
    o->mix_total_twh = 0;
    for (int i = 0; i < WP_MIX_COUNT; i++) {
        if (wp_parse_double(wp_csv_get(h, r, mix_cols[i]), &v) || v < 0)
            v = 0;
        o->mix_twh[i] = v;
        o->mix_total_twh += v;
    }
    o->has_mix = o->mix_total_twh > 0;
    snprintf(o->mix_year_country, sizeof o->mix_year_country, "%.40s %s",
             wp_csv_get(h, r, "country"), wp_csv_get(h, r, "year"));
    return 1;
}

static int country_region(const char *iso3, struct wp_region *out, bool intensity_too)
{
    struct grid_q q = {iso3, out, intensity_too};
    return each_row(wp_data_grid_intensity, wp_data_grid_intensity_len, grid_row, &q) == 1
               ? 0
               : -ENOENT;
}

struct cloud_q {
    const char *provider, *region;
    struct wp_region *out;
};

static int cloud_row(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    struct cloud_q *q = arg;
    struct wp_region *o = q->out;
    const char *country = wp_csv_get(h, r, "country_iso3_or_name");
    struct iso_q iso;
    double v;

    if (strcasecmp(wp_csv_get(h, r, "provider"), q->provider) ||
        strcasecmp(wp_csv_get(h, r, "region"), q->region))
        return 0;
    if (wp_parse_double(wp_csv_get(h, r, "g_co2e_per_kwh"), &v) || v < 0)
        return -EINVAL;
    o->intensity_g_per_kwh = v;
    snprintf(o->code, sizeof o->code, "%s:%s", wp_csv_get(h, r, "provider"),
             wp_csv_get(h, r, "region"));
    snprintf(o->source, sizeof o->source, "%s", wp_csv_get(h, r, "source"));
    if (iso_find(country, &iso) == 0)
        snprintf(o->country3, sizeof o->country3, "%s", iso.alpha3);
    snprintf(o->name, sizeof o->name, "%s %s (%.40s, %.40s)", wp_csv_get(h, r, "provider"),
             wp_csv_get(h, r, "region"), wp_csv_get(h, r, "city"),
             o->country3[0] ? o->country3 : country);
    return 1;
}

struct near_q {
    const char *code;
    char best[3][64];
    int dist[3];
};

static void consider(struct near_q *q, const char *cand)
{
    int d = wp_edit_distance(q->code, cand);
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(q->best[i], cand) == 0)
            return;
        if (d < q->dist[i]) {
            for (int k = 2; k > i; k--) {
                q->dist[k] = q->dist[k - 1];
                memcpy(q->best[k], q->best[k - 1], sizeof q->best[k]);
            }
            q->dist[i] = d;
            snprintf(q->best[i], sizeof q->best[i], "%s", cand);
            return;
        }
    }
}

static int near_grid(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    consider(arg, wp_csv_get(h, r, "iso3"));
    return 0;
}

static int near_cloud(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    char c[64];
    snprintf(c, sizeof c, "%.20s:%.40s", wp_csv_get(h, r, "provider"), wp_csv_get(h, r, "region"));
    consider(arg, c);
    return 0;
}

int wp_country_alpha2(const char *alpha3, char out[3])
{
    struct iso_q q;
    if (iso_find(alpha3, &q) != 0)
        return -ENOENT;
    memcpy(out, q.alpha2, 3);
    return 0;
}

static void suggest_codes(const char *code, char *out, size_t cap)
{
    struct near_q q = {.code = code, .dist = {99, 99, 99}};
    bool cloud = strchr(code, ':') != NULL;

    if (cloud)
        each_row(wp_data_cloud_regions, wp_data_cloud_regions_len, near_cloud, &q);
    else
        each_row(wp_data_grid_intensity, wp_data_grid_intensity_len, near_grid, &q);
    snprintf(out, cap, "%s%s%s%s%s", q.best[0], q.best[1][0] ? ", " : "", q.best[1],
             q.best[2][0] ? ", " : "", q.best[2]);
}

int wp_region_find(const char *code, struct wp_region *out, char *suggest, size_t cap)
{
    char provider[32], region[64];
    const char *colon = strchr(code, ':');
    struct iso_q iso;

    memset(out, 0, sizeof *out);
    if (suggest && cap)
        suggest[0] = '\0';
    if (colon) {
        size_t pl = (size_t)(colon - code);
        struct cloud_q q = {provider, region, out};
        if (pl == 0 || pl >= sizeof provider || strlen(colon + 1) >= sizeof region)
            goto unknown;
        memcpy(provider, code, pl);
        provider[pl] = '\0';
        snprintf(region, sizeof region, "%s", colon + 1);
        if (each_row(wp_data_cloud_regions, wp_data_cloud_regions_len, cloud_row, &q) != 1)
            goto unknown;
        if (out->country3[0]) {
            struct wp_region country = {0};
            if (country_region(out->country3, &country, true) == 0) {
                out->has_mix = country.has_mix;
                memcpy(out->mix_twh, country.mix_twh, sizeof out->mix_twh);
                out->mix_total_twh = country.mix_total_twh;
                snprintf(out->mix_year_country, sizeof out->mix_year_country, "%s",
                         country.mix_year_country);
            }
        }
        return 0;
    }
    if ((strlen(code) == 2 || strlen(code) == 3) && iso_find(code, &iso) == 0 &&
        country_region(iso.alpha3, out, true) == 0) {
        snprintf(out->code, sizeof out->code, "%s", iso.alpha3);
        snprintf(out->country3, sizeof out->country3, "%s", iso.alpha3);
        return 0;
    }
    if (strlen(code) == 3 && country_region(code, out, true) == 0) {
        /* in the grid table under a code ISO does not list */
        snprintf(out->code, sizeof out->code, "%s", code);
        for (char *p = out->code; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        return 0;
    }
unknown:
    memset(out, 0, sizeof *out);
    if (suggest && cap)
        suggest_codes(code, suggest, cap);
    return -ENOENT;
}

void wp_region_world(struct wp_region *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->code, sizeof out->code, "world");
    snprintf(out->name, sizeof out->name, "world average");
    out->intensity_g_per_kwh = WP_WORLD_INTENSITY_G_PER_KWH;
    out->year = 2019;
    snprintf(out->source, sizeof out->source, "IEA 2019 world average");
    out->assumed = true;
}

static int print_grid(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    fprintf(arg, "%-24s %8s  %-4s %s\n", wp_csv_get(h, r, "iso3"),
            wp_csv_get(h, r, "g_co2e_per_kwh"), wp_csv_get(h, r, "year"),
            wp_csv_get(h, r, "country"));
    return 0;
}

static int print_cloud(const struct wp_csv *h, const struct wp_csv *r, void *arg)
{
    char c[80];
    snprintf(c, sizeof c, "%s:%s", wp_csv_get(h, r, "provider"), wp_csv_get(h, r, "region"));
    fprintf(arg, "%-24s %8s  %-4s %s, %s\n", c, wp_csv_get(h, r, "g_co2e_per_kwh"), "",
            wp_csv_get(h, r, "city"), wp_csv_get(h, r, "country_iso3_or_name"));
    return 0;
}

void wp_regions_print(FILE *f)
{
    fprintf(f, "%-24s %8s  %-4s %s\n", "code", "gCO2e/kWh", "year", "name");
    each_row(wp_data_grid_intensity, wp_data_grid_intensity_len, print_grid, f);
    each_row(wp_data_cloud_regions, wp_data_cloud_regions_len, print_cloud, f);
    fprintf(f, "\nCountries also answer to their ISO 3166 alpha-2 code (FR for FRA).\n"
               "Sources: countries, Our World in Data (Ember, Energy Institute), mostly 2023;\n"
               "gcp, Google's region data (2024); aws, azure and others, figures from about\n"
               "2019 (ML CO2 Impact data): use those with care.\n");
}
