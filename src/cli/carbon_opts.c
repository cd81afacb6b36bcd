/* The carbon options shared by the subcommands that account for CO2e. */
#include "carbon_opts.h"
#include "config_opts.h"

#include "../util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INTENSITY 5000.0 /* well above any grid's (lignite is about 1,100 g/kWh) */

int wp_cli_carbon_opt(const char *prog, int opt, const char *arg, struct wp_carbon_opts *o)
{
    switch (opt) {
    case WP_OPT_PUE:
        if (wp_parse_double(arg, &o->pue) || o->pue < WP_PUE_MIN || o->pue > WP_PUE_MAX) {
            fprintf(stderr,
                    "%s: --pue: '%s' is not a PUE from 1.0 to 3.0 (1.58 is the 2019 "
                    "industry average, about 1.1 a hyperscale cloud)\n",
                    prog, arg);
            return -1;
        }
        o->pue_set = true;
        return 1;
    case WP_OPT_PROVIDER:
        o->provider = arg;
        return 1;
    case WP_OPT_REGION:
        o->region = arg;
        return 1;
    case WP_OPT_INTENSITY:
        if (wp_parse_double(arg, &o->intensity) || o->intensity < 0 ||
            o->intensity > MAX_INTENSITY) {
            fprintf(stderr,
                    "%s: --intensity: '%s' is not a grid intensity in gCO2e/kWh from 0 "
                    "to %.0f\n",
                    prog, arg, MAX_INTENSITY);
            return -1;
        }
        o->intensity_set = true;
        return 1;
    case WP_OPT_EMBODIED:
        if (wp_parse_double(arg, &o->embodied_g) || o->embodied_g < 0) {
            fprintf(stderr, "%s: --embodied-g: '%s' is not a mass in grams, 0 or more\n", prog,
                    arg);
            return -1;
        }
        o->embodied_set = true;
        return 1;
    case WP_OPT_WUE:
        if (wp_parse_double(arg, &o->wue) || !(o->wue >= 0 && o->wue <= 20)) {
            fprintf(stderr,
                    "%s: --wue: '%s' is not a water usage effectiveness, 0 to 20 litres per "
                    "kWh\n",
                    prog, arg);
            return -1;
        }
        o->wue_set = true;
        return 1;
    case WP_OPT_OFFSITE_WUE:
        /* hydro's reservoirs evaporate the most: tens of litres per kWh */
        if (wp_parse_double(arg, &o->offsite_wue) ||
            !(o->offsite_wue >= 0 && o->offsite_wue <= 100)) {
            fprintf(stderr,
                    "%s: --offsite-wue: '%s' is not the water power plants consume, 0 to 100 "
                    "litres per kWh (the world average is about 3.9)\n",
                    prog, arg);
            return -1;
        }
        o->offsite_wue_set = true;
        return 1;
    case WP_OPT_LIFETIME:
        if (wp_parse_double(arg, &o->lifetime_years) ||
            !(o->lifetime_years >= 1 && o->lifetime_years <= 20)) {
            fprintf(stderr, "%s: --lifetime-years: '%s' is not a service life of 1 to 20 years\n",
                    prog, arg);
            return -1;
        }
        return 1;
    }
    return 0;
}

int wp_cli_carbon_resolve(const char *prog, struct wp_carbon_opts *o, struct wp_assumptions *a)
{
    static const struct wp_carbon_names names = {"--region", "--intensity", "--pue", "--provider"};
    char err[512];

    o->names = &names;
    wp_cli_config_carbon(o);
    if (wp_carbon_resolve(o, a, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "%s: %s%s\n", prog, err,
            strstr(err, "unknown region") ? " (wattprint regions lists them all)" : "");
    return -1;
}
