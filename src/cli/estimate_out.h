/* wattprint estimate's parts: the options, and the printing of training,
 * serving and comparisons (cmd_estimate.c, estimate_serve.c). */
#ifndef WP_ESTIMATE_OUT_H
#define WP_ESTIMATE_OUT_H

#include "carbon_opts.h"

#include "../estimate/estimate.h"

#include <jansson.h>

#define USAGE_EXIT         2
#define WP_EST_MAX_COMPARE 8

struct est_opts {
    struct wp_est_in in;
    struct wp_carbon_opts carbon;
    const char *hardware, *model, *from, *json_path, *ledger;
    const char *compare[WP_EST_MAX_COMPARE];
    int ncompare;
    double total_work;
    bool arch_moe; /* --architecture moe: needs --active-params */
    double units;  /* systems named by --hardware ("DGX H100"): --count of them */
};

void wp_est_assume(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wp_est_write_json(json_t *o, const char *path);

/* The estimator's problem in the CLI's words (its options), with err (the
 * estimator's own words) where no option is concerned. */
const char *wp_est_problem_text(const struct wp_est_out *r, const char *err);

/* Where a figure came from, naming the options: what is "mfu", "time" or
 * "power". */
const char *wp_est_from_text(const char *what, enum wp_est_from from);

/* "1.2 kWh (0.9 kWh to 1.6 kWh)", or without the range where lo == hi. */
void wp_est_fmt_energy_range(double j, double lo, double hi, char *out, size_t cap);

/* Prints IT, facility energy and CO2e; sets "<key>it_energy_j" and friends. */
void wp_est_print_carbon(const struct wp_assumptions *a, double it_j, json_t *out,
                         const char *label, const char *key);

/* Which scope the whole server's figure has, in words. */
const char *wp_est_wall_text(const struct wp_est_out *r);

/* The whole server at the wall: e (energy and band, IT) from host (1 + the
 * host ratio used, per joule of the accelerators), its scope, and the
 * carbon; sets "<key>it_energy_j", "<key>it_energy_range_j" and friends (key
 * "server_" also sets server_host_ratio and server_scope). */
void wp_est_print_wall(const struct wp_est_out *r, struct wp_band e, struct wp_band host,
                       const struct wp_assumptions *a, json_t *out, json_t *assume,
                       const char *key);

/* The hardware's manufacture for device_hours: as given (--embodied-g), or
 * the accelerators' and their servers' share estimated (account/embodied.h);
 * "<key>embodied_emissions_g", null around a CPU. */
void wp_est_print_embodied(const struct est_opts *o, const struct wp_assumptions *a,
                           double device_hours, json_t *out, const char *key);

/* The serving section and its JSON (--inference). */
void wp_est_print_serving(const struct est_opts *o, const struct wp_est_out *r,
                          const struct wp_assumptions *a, json_t *out, json_t *assume);

/* --compare: the alternatives beside the base. Returns 0, or USAGE_EXIT
 * after saying which alternative is wrong. */
int wp_est_compare(const struct est_opts *o, const struct wp_est_out *base,
                   const struct wp_assumptions *a, json_t *out);

#endif
