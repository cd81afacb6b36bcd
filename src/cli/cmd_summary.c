/* wattprint summary --by project|experiment|tag:KEY|day|host|user|job: rollups. */
#include "cli.h"
#include "ledger_opts.h"

#include "../util/util.h"

#include <stdio.h>

static const char usage[] =
    "usage: wattprint summary --by project|experiment|tag:KEY|day|host|user|job\n"
    "                         [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                         [--since DATE] [--json] [--ledger PATH]\n"
    "\nRuns, duration, device-hours, energy, facility energy and CO2e per group and in\n"
    "total; the water on site and at the power plants and the hardware's embodied\n"
    "CO2e where runs carry them. Device-hours count each GPU of a run, or the\n"
    "machine when it had none.\n";

/* The footprint's columns: on-site water, the power plants' water, the
 * hardware's manufacture. */
static const struct {
    const char *member, *title;
} footprint[3] = {{"water_l", "WATER-SITE"},
                  {"water_offsite_l", "WATER-PLANTS"},
                  {"embodied_emissions_g", "EMBODIED"}};

/* A footprint cell: litres, or a mass of CO2e; "-" where no run has it. */
static void footprint_cell(json_t *v, bool mass)
{
    char t[32];

    if (!json_is_number(v))
        snprintf(t, sizeof t, "-");
    else if (mass)
        wp_fmt_mass(json_number_value(v), t, sizeof t);
    else
        wp_fmt_volume(json_number_value(v), t, sizeof t);
    printf(" %12s", t);
}

static void print_table(json_t *groups, const char *by)
{
    /* the footprint's columns where any run carries them (the total does) */
    json_t *all = json_array_get(groups, json_array_size(groups) - 1), *g;
    bool cols[3];
    size_t i;

    for (int c = 0; c < 3; c++)
        cols[c] = json_is_number(json_object_get(all, footprint[c].member));
    printf("%-28s %8s %12s %12s %12s %12s %12s", by, "RUNS", "DURATION", "DEV-HOURS", "ENERGY",
           "FACILITY", "CO2e");
    for (int c = 0; c < 3; c++)
        if (cols[c])
            printf(" %12s", footprint[c].title);
    putchar('\n');
    json_array_foreach(groups, i, g)
    {
        json_t *k = json_object_get(g, "key");
        char d[32], e[32], f[32], m[32];
        bool total = json_is_true(json_object_get(g, "total"));
        wp_fmt_duration(json_number_value(json_object_get(g, "duration_s")), d, sizeof d);
        wp_fmt_energy(json_number_value(json_object_get(g, "energy_j")), e, sizeof e);
        wp_fmt_energy(json_number_value(json_object_get(g, "facility_energy_j")), f, sizeof f);
        wp_fmt_mass(json_number_value(json_object_get(g, "emissions_g")), m, sizeof m);
        printf("%-28.28s %8lld %12s %12.4g %12s %12s %12s",
               total               ? "TOTAL"
               : json_is_string(k) ? wp_shown(json_string_value(k))
                                   : "(none)",
               (long long)json_integer_value(json_object_get(g, "runs")), d,
               json_number_value(json_object_get(g, "device_hours")), e, f, m);
        for (int c = 0; c < 3; c++)
            if (cols[c])
                footprint_cell(json_object_get(g, footprint[c].member), c == 2);
        putchar('\n');
    }
}

int wp_cmd_summary(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    json_t *groups;
    int first = wp_cli_ledger_parse("wattprint summary", usage, "fb", argc, argv, &o);

    if (first < 0)
        return 2;
    if (first < argc || !o.by) {
        fprintf(stderr, "wattprint summary: %s\n",
                first < argc ? "unexpected argument" : "--by is required (see --help)");
        return 2;
    }
    if (wp_ledger_check_by(o.by, err, sizeof err)) {
        fprintf(stderr, "wattprint summary: --by: %s\n", err);
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint summary", &o, WP_LEDGER_READ)))
        return 1;
    groups = wp_ledger_summary(l, o.by, &o.q, err, sizeof err);
    wp_ledger_close(l);
    if (!groups) {
        fprintf(stderr, "wattprint summary: %s\n", err);
        return 1;
    }
    if (o.json) {
        json_dumpf(groups, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        putchar('\n');
    } else {
        print_table(groups, o.by);
    }
    json_decref(groups);
    return 0;
}
