/* Carbon accounting arithmetic, provider PUEs and equivalents. */
#include "account.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_providers[], wp_data_equivalents[];
extern const size_t wp_data_providers_len, wp_data_equivalents_len;

double wp_emissions_g(double energy_j, double intensity_g_per_kwh)
{
    return energy_j / WP_J_PER_KWH * intensity_g_per_kwh;
}

void wp_account(double it_energy_j, const struct wp_assumptions *a, struct wp_carbon *out)
{
    out->it_energy_j = it_energy_j;
    out->facility_energy_j = it_energy_j * a->pue;
    out->emissions_g = wp_emissions_g(out->facility_energy_j, a->region.intensity_g_per_kwh);
    out->water_l = a->has_wue ? it_energy_j / WP_J_PER_KWH * a->wue_l_per_kwh : 0;
    out->water_offsite_l =
        a->has_offsite_wue ? out->facility_energy_j / WP_J_PER_KWH * a->offsite_wue_l_per_kwh : 0;
}

double wp_sci_g(double energy_j, double intensity_g_per_kwh, double embodied_g, double units)
{
    if (!(units > 0))
        return 0;
    return (wp_emissions_g(energy_j, intensity_g_per_kwh) + embodied_g) / units;
}

int wp_provider_pue(const char *name, double *pue, char *source, size_t source_cap, char *suggest,
                    size_t cap)
{
    struct wp_csv c;
    size_t o = 0;
    int ncol, pcol, scol;

    wp_csv_init(&c, wp_data_providers, wp_data_providers_len);
    if (wp_csv_next(&c) != 1)
        return -ENOENT;
    ncol = wp_csv_column(&c, "provider");
    pcol = wp_csv_column(&c, "pue");
    scol = wp_csv_column(&c, "source");
    if (suggest && cap)
        suggest[0] = '\0';
    for (int rc; (rc = wp_csv_next(&c)) != 0;) {
        if (rc < 0 || c.nfields <= ncol || c.nfields <= pcol || c.nfields <= scol)
            continue;
        if (strcasecmp(c.field[ncol], name) == 0 && wp_parse_double(c.field[pcol], pue) == 0) {
            snprintf(source, source_cap, "%s", c.field[scol]);
            return 0;
        }
        if (suggest && o < cap) {
            int k = snprintf(suggest + o, cap - o, "%s%s", o ? ", " : "", c.field[ncol]);
            if (k > 0)
                o += (size_t)k;
        }
    }
    return -ENOENT;
}

int wp_provider_wue(const char *name, double *wue, char *source, size_t source_cap)
{
    struct wp_csv c;
    int ncol, wcol, scol;

    wp_csv_init(&c, wp_data_providers, wp_data_providers_len);
    if (wp_csv_next(&c) != 1)
        return -ENOENT;
    ncol = wp_csv_column(&c, "provider");
    wcol = wp_csv_column(&c, "wue_l_per_kwh");
    scol = wp_csv_column(&c, "wue_source");
    if (ncol < 0 || wcol < 0 || scol < 0)
        return -ENOENT;
    for (int rc; (rc = wp_csv_next(&c)) != 0;) {
        if (rc < 0 || c.nfields <= ncol || c.nfields <= wcol || c.nfields <= scol)
            continue;
        if (strcasecmp(c.field[ncol], name) == 0 && *c.field[wcol] &&
            wp_parse_double(c.field[wcol], wue) == 0) {
            snprintf(source, source_cap, "%s", c.field[scol]);
            return 0;
        }
    }
    return -ENOENT;
}

/* Value of an equivalents row converted to grams (or to its own unit). */
static int equivalent(const char *item, double *value)
{
    struct wp_csv c;
    int icol, vcol, ucol;

    wp_csv_init(&c, wp_data_equivalents, wp_data_equivalents_len);
    if (wp_csv_next(&c) != 1)
        return -ENOENT;
    icol = wp_csv_column(&c, "item");
    vcol = wp_csv_column(&c, "value");
    ucol = wp_csv_column(&c, "unit");
    for (int rc; (rc = wp_csv_next(&c)) != 0;) {
        double v;
        const char *unit;
        if (rc < 0 || c.nfields <= icol || c.nfields <= vcol || c.nfields <= ucol)
            continue;
        if (strcmp(c.field[icol], item) || wp_parse_double(c.field[vcol], &v))
            continue;
        unit = c.field[ucol];
        if (strcmp(unit, "lbs_co2e") == 0)
            v *= WP_G_PER_LB;
        else if (strcmp(unit, "kg_co2e") == 0)
            v *= 1000.0;
        else if (strcmp(unit, "GWh") == 0)
            v *= 3.6e12; /* joules */
        *value = v;
        return 0;
    }
    return -ENOENT;
}

/* The table's six figures, read once: every run read back derives its
 * equivalents, and a ledger's export reads a million. */
static struct {
    double car_km, flight, car_life, american, tree, reactor_gwh;
    int rc;
} eq;
static pthread_once_t eq_once = PTHREAD_ONCE_INIT;

static void eq_load(void)
{
    eq.rc = equivalent("car_km_eu", &eq.car_km) ||
                    equivalent("flight_ny_sf_one_passenger", &eq.flight) ||
                    equivalent("car_lifetime_including_fuel", &eq.car_life) ||
                    equivalent("american_life_one_year_average", &eq.american) ||
                    equivalent("tree_year_sequestration", &eq.tree) ||
                    equivalent("nuclear_reactor_gigawatt_hour", &eq.reactor_gwh)
                ? -ENOENT
                : 0;
}

int wp_equivalents(double emissions_g, double energy_j, struct wp_equivalents *out)
{
    pthread_once(&eq_once, eq_load);
    if (eq.rc)
        return eq.rc;
    out->car_km_eu = emissions_g / eq.car_km;
    out->flights_ny_sf = emissions_g / eq.flight;
    out->car_lifetime_share = emissions_g / eq.car_life;
    out->american_year_share = emissions_g / eq.american;
    out->tree_years = emissions_g / eq.tree;
    /* one GWh is one hour of a 1 GW reactor */
    out->reactor_s = energy_j / eq.reactor_gwh * 3600.0;
    return 0;
}
