/* The carbon options shared by the subcommands that account for CO2e:
 * --pue, --provider, --region, --intensity, --embodied-g, --wue,
 * --offsite-wue, --lifetime-years, WATTPRINT_REGION. */
#ifndef WP_CARBON_OPTS_H
#define WP_CARBON_OPTS_H

#include "../account/assume.h"

#include <getopt.h>

enum {
    WP_OPT_PUE = 1000,
    WP_OPT_PROVIDER,
    WP_OPT_REGION,
    WP_OPT_INTENSITY,
    WP_OPT_EMBODIED,
    WP_OPT_WUE,
    WP_OPT_LIFETIME,
    WP_OPT_OFFSITE_WUE,
};

#define WP_CARBON_LONGOPTS                                                                         \
    {"pue", required_argument, NULL, WP_OPT_PUE},                                                  \
        {"provider", required_argument, NULL, WP_OPT_PROVIDER},                                    \
        {"region", required_argument, NULL, WP_OPT_REGION},                                        \
        {"intensity", required_argument, NULL, WP_OPT_INTENSITY},                                  \
        {"embodied-g", required_argument, NULL, WP_OPT_EMBODIED},                                  \
        {"wue", required_argument, NULL, WP_OPT_WUE},                                              \
        {"offsite-wue", required_argument, NULL, WP_OPT_OFFSITE_WUE},                              \
    {                                                                                              \
        "lifetime-years", required_argument, NULL, WP_OPT_LIFETIME                                 \
    }

#define WP_CARBON_HELP                                                                             \
    "  --region CODE       grid region: ISO country code (FR, FRA) or PROVIDER:REGION\n"           \
    "                      (gcp:europe-west1); default $WATTPRINT_REGION, else the\n"              \
    "                      world average (wattprint regions lists the codes)\n"                    \
    "  --intensity G       grid intensity in gCO2e/kWh, overriding the region's\n"                 \
    "  --pue X             data-centre PUE, 1.0 to 3.0 (default 1.0)\n"                            \
    "  --provider NAME     PUE preset: aws, gcp, azure, onprem, personal, ...\n"                   \
    "  --embodied-g G      embodied emissions for the SCI score, grams (default: the\n"            \
    "                      hardware's manufacture per device-hour, estimated)\n"                   \
    "  --lifetime-years Y  the hardware's service life that amortises its\n"                       \
    "                      manufacture (1 to 20, default 6)\n"                                     \
    "  --wue L             on-site water usage effectiveness, litres per IT kWh\n"                 \
    "                      (0 to 20): the water is reported (default: none)\n"                     \
    "  --offsite-wue L     water the power plants consume per kWh of electricity\n"                \
    "                      (0 to 100; default: the region's country's, where known)\n"

/* Handles one carbon option (opt from getopt_long). Returns 1 if it was one
 * and valid, 0 if opt is not a carbon option, -1 after printing why the value
 * is wrong (prog names the subcommand in the message). */
int wp_cli_carbon_opt(const char *prog, int opt, const char *arg, struct wp_carbon_opts *o);

/* wp_carbon_resolve after filling what the options left unset from the
 * configuration files, saying why on stderr as prog. Returns 0 or -1. */
int wp_cli_carbon_resolve(const char *prog, struct wp_carbon_opts *o, struct wp_assumptions *a);

#endif
