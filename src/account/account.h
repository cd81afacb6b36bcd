/* Carbon accounting: IT energy -> facility energy (PUE) -> CO2e (grid
 * intensity) -> equivalents and SCI. Pure arithmetic over plain structs, plus
 * lookups in the bundled tables. */
#ifndef WP_ACCOUNT_H
#define WP_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define WP_PUE_MIN 1.0
#define WP_PUE_MAX 3.0
/* World average grid intensity (IEA 2019), used when no region is given. */
#define WP_WORLD_INTENSITY_G_PER_KWH 475.0
#define WP_J_PER_KWH                 3.6e6
#define WP_G_PER_LB                  453.592

enum wp_mix_source {
    WP_MIX_COAL,
    WP_MIX_GAS,
    WP_MIX_OIL,
    WP_MIX_NUCLEAR,
    WP_MIX_HYDRO,
    WP_MIX_WIND,
    WP_MIX_SOLAR,
    WP_MIX_OTHER_RENEWABLE,
    WP_MIX_COUNT
};

struct wp_region {
    char code[64];    /* "FRA", "gcp:europe-west1", "world" */
    char name[128];   /* "France", "gcp europe-west1 (St. Ghislain, BEL)" */
    char country3[4]; /* the region's country, ISO 3166 alpha-3, or "" */
    double intensity_g_per_kwh;
    int year; /* of the intensity figure, 0 if not known */
    char source[256];
    bool has_mix; /* the country's generation mix is known */
    char mix_year_country[64];
    double mix_twh[WP_MIX_COUNT];
    double mix_total_twh;
    bool assumed; /* no region was given: the world average */
};

/* Finds a region by ISO 3166 alpha-2 or alpha-3 country code ("FR", "FRA")
 * or PROVIDER:REGION ("gcp:europe-west1"), case-insensitively. Returns 0, or
 * -ENOENT with up to three nearest valid codes written to suggest. */
int wp_region_find(const char *code, struct wp_region *out, char *suggest, size_t cap);

/* Fills out with the world average, marked assumed. */
void wp_region_world(struct wp_region *out);

/* Prints every known region code with its intensity, year and source. */
void wp_regions_print(FILE *f);

/* The PUE of a provider preset (aws, gcp, azure, onprem, personal, ...).
 * Returns 0 and fills *pue and source, or -ENOENT with the known names in
 * suggest. */
int wp_provider_pue(const char *name, double *pue, char *source, size_t source_cap, char *suggest,
                    size_t cap);

/* The on-site WUE a provider publishes (data/providers.csv), L per IT kWh.
 * Returns 0 and fills *wue and source, or -ENOENT (none published). */
int wp_provider_wue(const char *name, double *wue, char *source, size_t source_cap);

/* The water the power plants of region's country consume per kWh they
 * supply (data/electricity_water.csv; the world average for "world").
 * Returns 0 and fills *l_per_kwh and source, or -ENOENT (no figure). */
int wp_region_offsite_wue(const struct wp_region *region, double *l_per_kwh, char *source,
                          size_t cap);

/* Everything the accounting assumes, with where each figure came from. */
struct wp_assumptions {
    double pue;
    char pue_source[512];
    bool pue_assumed; /* the default 1.0, not given */
    struct wp_region region;
    char intensity_source[512]; /* "table", "--intensity", "electricitymaps" + detail */
    double embodied_g;          /* M for SCI as given; 0 when not given */
    bool has_embodied;
    double lifetime_years; /* the service life amortising the hardware's manufacture */
    double wue_l_per_kwh;  /* on-site water usage effectiveness (The Green Grid), L per IT kWh */
    bool has_wue;          /* given, or the provider's: water is reported */
    char wue_source[256];  /* "given", or the provider's published figure */
    /* off-site water: what the power plants consume per kWh of the region's
     * electricity (data/electricity_water.csv, or given) */
    double offsite_wue_l_per_kwh;
    bool has_offsite_wue; /* given, or the region's country is in the table */
    char offsite_wue_source[256];
};

struct wp_carbon {
    double it_energy_j;
    double facility_energy_j;
    double emissions_g;
    double water_l;         /* on-site water: IT kWh x WUE; 0 without a WUE */
    double water_offsite_l; /* the power plants': facility kWh x off-site WUE; 0 without one */
};

/* facility = IT x PUE; emissions = facility kWh x intensity; water = IT
 * kWh x WUE (The Green Grid's WUE is site water over IT energy); off-site
 * water = facility kWh x the electricity's water intensity (Li et al. 2023:
 * the grid supplies the whole facility). */
void wp_account(double it_energy_j, const struct wp_assumptions *a, struct wp_carbon *out);

/* grams of CO2e for an energy in joules at an intensity in g/kWh. */
double wp_emissions_g(double energy_j, double intensity_g_per_kwh);

/* SCI = (E x I + M) / R, in grams per functional unit (Green Software
 * Foundation; ISO/IEC 21031). E in joules, I in g/kWh, M in grams. */
double wp_sci_g(double energy_j, double intensity_g_per_kwh, double embodied_g, double units);

/* CO2e of familiar things, for equivalents; values from data/equivalents.csv. */
struct wp_equivalents {
    double car_km_eu;           /* km driven by an average EU car */
    double flights_ny_sf;       /* one passenger, New York - San Francisco */
    double car_lifetime_share;  /* of an average car's lifetime, fuel included */
    double american_year_share; /* of an average American's yearly footprint */
    double tree_years;          /* years of one tree's sequestration */
    double reactor_s;           /* seconds a 1 GW reactor runs to supply the energy */
};

/* Computes equivalents of emissions_g and of facility energy_j. Returns 0, or
 * -ENOENT when the bundled table lacks a row (a build defect). */
int wp_equivalents(double emissions_g, double energy_j, struct wp_equivalents *out);

/* The ISO 3166 alpha-2 code of an alpha-3 code ("FRA" -> "FR"). Returns 0
 * or -ENOENT. */
int wp_country_alpha2(const char *alpha3, char out[3]);

/* Live intensity from the Electricity Maps API (optional). */

/* Parses a "carbon-intensity/latest" response body: {"zone": "FR",
 * "carbonIntensity": 56, "datetime": "..."}. Returns 0 and *g (and the
 * datetime in when, "" if absent), or -EINVAL. */
int wp_emaps_parse(const char *body, size_t len, double *g, char *when, size_t when_cap);

/* Fetches the latest intensity of zone (a country's alpha-2 code) with token,
 * from $WATTPRINT_ELECTRICITYMAPS_URL or the public API, giving up after
 * timeout_s. Returns 0 and *g, or a negative errno with the reason in err. */
int wp_emaps_fetch(const char *zone, const char *token, double timeout_s, double *g, char *when,
                   size_t when_cap, char *err, size_t err_cap);
#endif
