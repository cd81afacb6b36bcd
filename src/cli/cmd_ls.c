/* wattprint ls and wattprint show: the runs in the ledger. */
#include "cli.h"
#include "ledger_opts.h"

#include "../run/run.h"

#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ls_usage[] =
    "usage: wattprint ls [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                    [--since DATE] [--limit N] [--json] [--ledger PATH]\n"
    "\nLists recorded runs, newest first. --since takes 2026-11-01, 2026-11-01T12:00:00Z\n"
    "or a span back from now (90m, 24h, 7d).\n";

/* One listed run, as the ledger yields it (newest first), into f: a
 * buffer over stdout, so that an error before its first 64 KiB leaves
 * stdout empty, and one after gives whole lines (wp_out_abort). */
struct listing {
    bool json;
    long n;
    FILE *f;
};

static int list_json(json_t *run, void *arg)
{
    struct listing *ls = arg;

    return wp_cli_json_element(ls->f, run, ls->n++ == 0) ? -ENOMEM : 0;
}

/* The table reads these members alone: the ledger keeps each in a column,
 * so no run's document is read (wp_ledger_each_values). */
enum { L_ID, L_START, L_STATUS, L_DURATION, L_ENERGY, L_CO2E, L_PROJECT, L_EXPERIMENT, L_COMMAND };
static const char *const line_members[] = {"run_id",     "start",          "status",
                                           "duration_s", "energy.total_j", "carbon.emissions_g",
                                           "project",    "experiment",     "command"};

static const char *text_of(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_TEXT ? v->text : "";
}

static double num_of(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_NUM ? v->num : 0;
}

static int list_line(const struct wp_ledger_value *v, int n, void *arg)
{
    struct listing *ls = arg;
    char d[32], e[32], m[32], cmd[256], pe[64];

    (void)n;
    ls->n++;
    wp_fmt_duration(num_of(&v[L_DURATION]), d, sizeof d);
    wp_fmt_energy(num_of(&v[L_ENERGY]), e, sizeof e);
    wp_fmt_mass(num_of(&v[L_CO2E]), m, sizeof m);
    snprintf(cmd, sizeof cmd, "%s", text_of(&v[L_COMMAND])); /* as wp_command_text cuts it */
    snprintf(pe, sizeof pe, "%.30s/%.30s",
             *text_of(&v[L_PROJECT]) ? wp_shown(text_of(&v[L_PROJECT])) : "-",
             *text_of(&v[L_EXPERIMENT]) ? wp_shown(text_of(&v[L_EXPERIMENT])) : "-");
    fprintf(ls->f, "%-19.18s %-20.19s %-11s %10s %10s %10s  %-20s %s\n",
            wp_shown(text_of(&v[L_ID])), wp_shown(text_of(&v[L_START])),
            wp_shown(text_of(&v[L_STATUS])), d, e, m, pe, wp_shown(cmd));
    return 0;
}

int wp_cmd_ls(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    struct listing ls = {0};
    struct wp_out *out;
    char err[1024];
    int first = wp_cli_ledger_parse("wattprint ls", ls_usage, "fl", argc, argv, &o), rc;

    if (first < 0)
        return 2;
    if (first < argc) {
        fprintf(stderr, "wattprint ls: unexpected argument '%s'\n", argv[first]);
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint ls", &o, WP_LEDGER_READ)))
        return 1;
    /* 64 KiB of buffer: not the stack */
    if (!(out = calloc(1, sizeof *out)) || wp_out_open(out, NULL, err, sizeof err) != 0 ||
        !(ls.f = wp_out_stream(out))) {
        fprintf(stderr, "wattprint ls: out of memory\n");
        wp_ledger_close(l);
        free(out);
        return 1;
    }
    ls.json = o.json;
    if (ls.json)
        fputs("[", ls.f);
    else
        fprintf(ls.f, "%-19s %-20s %-11s %10s %10s %10s  %-20s %s\n", "RUN", "START", "STATUS",
                "DURATION", "ENERGY", "CO2e", "PROJECT/EXPERIMENT", "COMMAND");
    /* each run printed as it is read: a ledger of any size in constant memory */
    rc = ls.json ? wp_ledger_each(l, &o.q, WP_EACH_NEWEST, list_json, &ls, err, sizeof err)
                 : wp_ledger_each_values(l, &o.q, WP_EACH_NEWEST, line_members,
                                         (int)(sizeof line_members / sizeof *line_members),
                                         list_line, &ls, err, sizeof err);
    wp_ledger_close(l);
    if (ls.json && rc == 0)
        fputs(ls.n ? "\n]\n" : "]\n", ls.f);
    if (fclose(ls.f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && wp_out_close(out, err, sizeof err) != 0)
        rc = -EIO;
    else if (rc != 0)
        wp_out_abort(out);
    if (rc != 0 && out->err) /* the words main uses for any command's stdout */
        fprintf(stderr, "wattprint ls: cannot write the output: %s\n", strerror(out->err));
    else if (rc != 0)
        fprintf(stderr, "wattprint ls: %s\n", rc == -ENOMEM ? "out of memory" : err);
    free(out);
    return rc != 0;
}

static void print_run(json_t *run)
{
    json_t *energy = wp_json_get(run, WPF_ENERGY), *carbon = wp_json_get(run, WPF_CARBON);
    json_t *tags = wp_json_get(run, WPF_TAGS), *v, *ch;
    char cmd[1024], d[32], e[32], m[32];
    const char *key;
    size_t i;

    wp_run_command_text(run, cmd, sizeof cmd);
    wp_fmt_duration(wp_json_num(run, WPF_DURATION_S), d, sizeof d);
    printf("run %s  %s (exit %d)\n", wp_shown(wp_json_str(run, WPF_RUN_ID)),
           wp_shown(wp_json_str(run, WPF_STATUS)), (int)wp_json_num(run, WPF_EXIT_CODE));
    printf("  command   %s\n", wp_shown(cmd));
    printf("  started   %s on %s%s%s, in %s\n", wp_shown(wp_json_str(run, WPF_START)),
           wp_shown(wp_json_str(run, WPF_HOST)), *wp_json_str(run, WPF_USER) ? " as " : "",
           wp_shown(wp_json_str(run, WPF_USER)), wp_shown(wp_json_str(run, WPF_CWD)));
    printf("  duration  %s\n", d);
    printf("  filed     project %s, experiment %s, job %s",
           *wp_json_str(run, WPF_PROJECT) ? wp_shown(wp_json_str(run, WPF_PROJECT)) : "-",
           *wp_json_str(run, WPF_EXPERIMENT) ? wp_shown(wp_json_str(run, WPF_EXPERIMENT)) : "-",
           *wp_json_str(run, WPF_JOB) ? wp_shown(wp_json_str(run, WPF_JOB)) : "-");
    json_object_foreach(tags, key, v)
        printf(", %s=%s", wp_shown(key), wp_shown(json_string_value(v)));
    printf("\n");
    wp_fmt_energy(wp_json_num(energy, WPF_TOTAL_J), e, sizeof e);
    printf("  energy    %s (%s)\n", e, wp_json_str(run, WPF_METHOD));
    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        wp_fmt_energy(wp_json_num(ch, WPF_ENERGY_J), e, sizeof e);
        printf("    %-6s %-12s %10s  %s %s%s%s\n", wp_shown(wp_json_str(ch, WPF_COMPONENT)),
               wp_shown(wp_json_str(ch, WPF_DEVICE)), e, wp_shown(wp_json_str(ch, WPF_METHOD)),
               wp_shown(wp_json_str(ch, WPF_SENSOR)),
               wp_json_true(ch, WPF_COUNTED) ? "" : ", not added (inside or overlapping others)",
               wp_json_true(ch, WPF_LOST) ? ", LOST mid-run" : "");
    }
    wp_fmt_energy(wp_json_num(run, WPF_FACILITY_ENERGY_J), e, sizeof e);
    printf("  facility  %s at PUE %.3g\n", e, wp_json_num(run, WPF_PUE));
    wp_fmt_mass(wp_json_num(carbon, WPF_EMISSIONS_G), m, sizeof m);
    printf("  carbon    %s CO2e at %.4g g/kWh, %s\n", m,
           wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH),
           wp_shown(wp_json_str(carbon, WPF_REGION_NAME)));
    json_array_foreach(wp_json_get(run, WPF_ASSUMPTIONS), i, v)
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
