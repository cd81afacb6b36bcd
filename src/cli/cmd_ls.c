/* wattprint ls and wattprint show: the runs in the ledger. */
#include "cli.h"
#include "ledger_opts.h"

#include "../run/run.h"

#include "../util/util.h"

#include <stdio.h>
#include <string.h>

static const char ls_usage[] =
    "usage: wattprint ls [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                    [--since DATE] [--limit N] [--json] [--ledger PATH]\n"
    "\nLists recorded runs, newest first. --since takes 2026-11-01, 2026-11-01T12:00:00Z\n"
    "or a span back from now (90m, 24h, 7d).\n";

int wp_cmd_ls(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    json_t *runs, *run;
    size_t i;
    int first = wp_cli_ledger_parse("wattprint ls", ls_usage, "fl", argc, argv, &o);

    if (first < 0)
        return 2;
    if (first < argc) {
        fprintf(stderr, "wattprint ls: unexpected argument '%s'\n", argv[first]);
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint ls", &o, WP_LEDGER_READ)))
        return 1;
    runs = wp_ledger_list(l, &o.q, false, err, sizeof err);
    wp_ledger_close(l);
    if (!runs) {
        fprintf(stderr, "wattprint ls: %s\n", err);
        return 1;
    }
    if (o.json) {
        json_dumpf(runs, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        putchar('\n');
    } else {
        printf("%-19s %-20s %-11s %10s %10s %10s  %-20s %s\n", "RUN", "START", "STATUS", "DURATION",
               "ENERGY", "CO2e", "PROJECT/EXPERIMENT", "COMMAND");
        json_array_foreach(runs, i, run)
        {
            char d[32], e[32], m[32], cmd[256], pe[64];
            wp_fmt_duration(wp_json_num(run, "duration_s"), d, sizeof d);
            wp_fmt_energy(wp_json_num(json_object_get(run, "energy"), "total_j"), e, sizeof e);
            wp_fmt_mass(wp_json_num(json_object_get(run, "carbon"), "emissions_g"), m, sizeof m);
            wp_run_command_text(run, cmd, sizeof cmd);
            snprintf(pe, sizeof pe, "%.30s/%.30s",
                     *wp_json_str(run, "project") ? wp_shown(wp_json_str(run, "project")) : "-",
                     *wp_json_str(run, "experiment") ? wp_shown(wp_json_str(run, "experiment"))
                                                     : "-");
            printf("%-19.18s %-20.19s %-11s %10s %10s %10s  %-20s %s\n",
                   wp_shown(wp_json_str(run, "run_id")), wp_shown(wp_json_str(run, "start")),
                   wp_shown(wp_json_str(run, "status")), d, e, m, pe, wp_shown(cmd));
        }
    }
    json_decref(runs);
    return 0;
}

static void print_run(json_t *run)
{
    json_t *energy = json_object_get(run, "energy"), *carbon = json_object_get(run, "carbon");
    json_t *tags = json_object_get(run, "tags"), *v, *ch;
    char cmd[1024], d[32], e[32], m[32];
    const char *key;
    size_t i;

    wp_run_command_text(run, cmd, sizeof cmd);
    wp_fmt_duration(wp_json_num(run, "duration_s"), d, sizeof d);
    printf("run %s  %s (exit %d)\n", wp_shown(wp_json_str(run, "run_id")),
           wp_shown(wp_json_str(run, "status")), (int)wp_json_num(run, "exit_code"));
    printf("  command   %s\n", wp_shown(cmd));
    printf("  started   %s on %s%s%s, in %s\n", wp_shown(wp_json_str(run, "start")),
           wp_shown(wp_json_str(run, "host")), *wp_json_str(run, "user") ? " as " : "",
           wp_shown(wp_json_str(run, "user")), wp_shown(wp_json_str(run, "cwd")));
    printf("  duration  %s\n", d);
    printf("  filed     project %s, experiment %s, job %s",
           *wp_json_str(run, "project") ? wp_shown(wp_json_str(run, "project")) : "-",
           *wp_json_str(run, "experiment") ? wp_shown(wp_json_str(run, "experiment")) : "-",
           *wp_json_str(run, "job") ? wp_shown(wp_json_str(run, "job")) : "-");
    json_object_foreach(tags, key, v)
        printf(", %s=%s", wp_shown(key), wp_shown(json_string_value(v)));
    printf("\n");
    wp_fmt_energy(wp_json_num(energy, "total_j"), e, sizeof e);
    printf("  energy    %s (%s)\n", e, wp_json_str(run, "method"));
    json_array_foreach(json_object_get(run, "channels"), i, ch)
    {
        wp_fmt_energy(wp_json_num(ch, "energy_j"), e, sizeof e);
        printf("    %-6s %-12s %10s  %s %s%s\n", wp_shown(wp_json_str(ch, "component")),
               wp_shown(wp_json_str(ch, "device")), e, wp_shown(wp_json_str(ch, "method")),
               wp_shown(wp_json_str(ch, "sensor")),
               json_is_true(json_object_get(ch, "lost")) ? ", LOST mid-run" : "");
    }
    wp_fmt_energy(wp_json_num(run, "facility_energy_j"), e, sizeof e);
    printf("  facility  %s at PUE %.3g\n", e, wp_json_num(run, "pue"));
    wp_fmt_mass(wp_json_num(carbon, "emissions_g"), m, sizeof m);
    printf("  carbon    %s CO2e at %.4g g/kWh, %s\n", m, wp_json_num(carbon, "intensity_g_per_kwh"),
           wp_shown(wp_json_str(carbon, "region_name")));
    json_array_foreach(json_object_get(run, "assumptions"), i, v)
        printf("  assumed   %s\n", wp_shown(json_string_value(v)));
}

static const char show_usage[] = "usage: wattprint show RUN|last [--json] [--ledger PATH]\n"
                                 "\nShows one run: its id (or a unique prefix of it), or the "
                                 "last one.\n";

int wp_cmd_show(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    json_t *run;
    int first = wp_cli_ledger_parse("wattprint show", show_usage, "", argc, argv, &o);

    if (first < 0)
        return 2;
    if (first != argc - 1) {
        fprintf(stderr, "wattprint show: give one run id, or 'last'\n");
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint show", &o, WP_LEDGER_READ)))
        return 1;
    run = wp_ledger_get(l, argv[first], o.json, err, sizeof err);
    wp_ledger_close(l);
    if (!run) {
        fprintf(stderr, "wattprint show: %s\n", err);
        return 1;
    }
    if (o.json) {
        json_dumpf(run, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        putchar('\n');
    } else {
        print_run(run);
    }
    json_decref(run);
    return 0;
}
