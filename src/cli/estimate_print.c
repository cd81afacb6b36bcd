/* wattprint estimate: the printing shared by its sections. */
#define _GNU_SOURCE
#include "estimate_out.h"

#include "../account/account.h"
#include "../util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wp_est_assume(json_t *arr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(buf));
}

int wp_est_write_json(json_t *o, const char *path)
{
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
        fprintf(stderr, "wattprint estimate: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

void wp_est_fmt_energy_range(double j, double lo, double hi, char *out, size_t cap)
{
    char e[32], l[32], h[32];
    wp_fmt_energy(j, e, sizeof e);
    wp_fmt_energy(lo, l, sizeof l);
    wp_fmt_energy(hi, h, sizeof h);
    if (strcmp(l, h) == 0)
        snprintf(out, cap, "%s", e);
    else
        snprintf(out, cap, "%s (%s to %s)", e, l, h);
}

void wp_est_print_carbon(const struct wp_assumptions *a, double it_j, json_t *out,
                         const char *label, const char *key)
{
    struct wp_carbon c;
    struct wp_equivalents q;
    char e[32], f[32], m[32], k[96];

    wp_account(it_j, a, &c);
    wp_fmt_energy(c.it_energy_j, e, sizeof e);
    wp_fmt_energy(c.facility_energy_j, f, sizeof f);
    wp_fmt_mass(c.emissions_g, m, sizeof m);
    if (label) {
        printf("  %-13s %s IT, %s at PUE %.3g, %s CO2e at %.4g g/kWh\n", label, e, f, a->pue, m,
               a->region.intensity_g_per_kwh);
        if (wp_equivalents(c.emissions_g, c.facility_energy_j, &q) == 0 && c.emissions_g > 1000)
            printf("  %-13s %.3g km by car, %.3g NY-SF flights, %.2g of a car's lifetime\n", "",
                   q.car_km_eu, q.flights_ny_sf, q.car_lifetime_share);
    }
    snprintf(k, sizeof k, "%sit_energy_j", key);
    json_object_set_new(out, k, json_real(c.it_energy_j));
    snprintf(k, sizeof k, "%sfacility_energy_j", key);
    json_object_set_new(out, k, json_real(c.facility_energy_j));
    snprintf(k, sizeof k, "%semissions_g", key);
    json_object_set_new(out, k, json_real(c.emissions_g));
}
