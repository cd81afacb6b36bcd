/* Carbon assumptions from options, shared by the CLI and the library. */
#ifndef WP_ASSUME_H
#define WP_ASSUME_H

#include "account.h"

#include "../util/diag.h"

struct wp_carbon_opts {
    const char *region, *provider; /* NULL: not given */
    double pue, intensity, embodied_g, wue, offsite_wue;
    bool pue_set, intensity_set, embodied_set, wue_set, offsite_wue_set;
    double lifetime_years; /* the hardware's service life; 0: the default */
    /* where region, provider and pue came from when not from their options
     * (a configuration file's name); NULL: the option */
    const char *region_from, *provider_from, *pue_from;
    /* how the front end names these settings, for sources and messages
     * (NULL: plain words) */
    const struct wp_carbon_names *names;
};

/* The names a front end gives its settings: "--pue" (CLI), "pue" (library). */
struct wp_carbon_names {
    const char *region, *intensity, *pue, *provider;
};

struct wp_cloud_info;

/* Resolves the options (and WATTPRINT_REGION) into assumptions: looks up the
 * region and provider, picks the PUE. Returns 0, or a negative errno with the reason (and
 * the nearest valid names) in err. */
int wp_carbon_resolve(const struct wp_carbon_opts *o, struct wp_assumptions *a, char *err,
                      size_t cap);

/* Applies what cloud detection found where nothing was given: the provider's
 * PUE, and the region's intensity when the metadata named a known region.
 * Labelled "detected". */
void wp_carbon_detected(struct wp_assumptions *a, const struct wp_carbon_opts *o,
                        const struct wp_cloud_info *cloud);

/* With WATTPRINT_ELECTRICITYMAPS_TOKEN set, replaces the table's intensity
 * with the live one; on failure keeps the table's and says so once through
 * d. */
void wp_carbon_live(struct wp_assumptions *a, const struct wp_carbon_opts *o,
                    const struct wp_diag *d);

#endif
