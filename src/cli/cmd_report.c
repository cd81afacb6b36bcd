/* wattprint report: a run, an experiment or a project, as people read it. */
#include "cli.h"
#include "ledger_opts.h"

#include "../report/report.h"
#include "../util/outfile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint report RUN|last [outputs] [--ledger PATH]\n"
    "       wattprint report --experiment E | --project P [outputs] [--ledger PATH]\n"
    "\n"
    "Outputs (PATH - is stdout; with none, Markdown on stdout):\n"
    "  --html PATH         one self-contained HTML file: charts (SVG), breakdown, CO2e,\n"
    "                      the region's energy mix, every assumption, the method\n"
    "  --markdown PATH     the same as Markdown, for a README or a paper's appendix\n"
    "  --model-card PATH   Hugging Face model card: the co2_eq_emissions YAML block and\n"
    "                      the \"Environmental impact\" section\n"
    "  --training-type T   for the model card (default pre-training; e.g. fine-tuning)\n"
    "  --sci               the SCI score with its functional unit and boundary\n";

/* Writes text to path (- for stdout) and says what it wrote to a file. */
static int emit(const char *path, char *text, const char *what, size_t n_runs)
{
    char err[512];
    size_t len;
    int rc = 0;

    if (!text) {
        fprintf(stderr, "wattprint report: out of memory writing the %s\n", what);
        return 1;
    }
    len = strlen(text);
    if (strcmp(path, "-") == 0) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "wattprint report: cannot write the %s: %s\n", what, strerror(errno));
            rc = 1;
        }
    } else if (wp_out_write(path, text, len, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint report: cannot write the %s: %s\n", what, err);
        rc = 1;
    } else {
        fprintf(stderr, "wattprint report: wrote the %s of %zu run%s to %s (%.1f kB)\n", what,
                n_runs, n_runs == 1 ? "" : "s", path, len / 1000.0);
    }
    free(text);
    return rc;
}

struct report_opts {
    struct wp_ledger_opts lo;
    const char *html, *md, *card, *training;
    bool sci;
};

/* Parses argv. Returns the index of the run argument (argc for none), -1
 * after --help, or -2 (said why). */
static int parse(int argc, char **argv, struct report_opts *o)
{
    enum { O_LEDGER = 256, O_EXP, O_PROJ, O_HTML, O_MD, O_CARD, O_TT, O_SCI };
    static const struct option longopts[] = {
        {"ledger", required_argument, NULL, O_LEDGER},
        {"experiment", required_argument, NULL, O_EXP},
        {"project", required_argument, NULL, O_PROJ},
        {"html", required_argument, NULL, O_HTML},
        {"markdown", required_argument, NULL, O_MD},
        {"model-card", required_argument, NULL, O_CARD},
        {"training-type", required_argument, NULL, O_TT},
        {"sci", no_argument, NULL, O_SCI},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **text[] = {[O_LEDGER - O_LEDGER] = &o->lo.ledger_path,
                           [O_EXP - O_LEDGER] = &o->lo.q.experiment,
                           [O_PROJ - O_LEDGER] = &o->lo.q.project,
                           [O_HTML - O_LEDGER] = &o->html,
                           [O_MD - O_LEDGER] = &o->md,
                           [O_CARD - O_LEDGER] = &o->card,
                           [O_TT - O_LEDGER] = &o->training};
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c >= O_LEDGER && c <= O_TT) {
            *text[c - O_LEDGER] = optarg;
        } else if (c == O_SCI) {
            o->sci = true;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return -1;
        } else {
            fprintf(stderr,
                    c == ':' ? "wattprint report: %s needs a value\n"
                             : "wattprint report: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -2;
        }
    }
    return optind;
}

/* What a group's totals read of each run: columns, and one member taken out
 * of the document (its range), none parsed whole. */
enum {
    T_DURATION,
    T_HOURS,
    T_ENERGY,
    T_RANGE,
    T_FACILITY,
    T_EMISSIONS,
    T_PUE,
    T_METHOD,
    T_REGION,
    T_EMBODIED,
    T_WATER,
    T_OFFSITE,
    T_N
};
static const char *const totals_members[T_N] = {"duration_s",
                                                "device_hours",
                                                "energy.total_j",
                                                "energy.total_range_j",
                                                "facility_energy_j",
                                                "carbon.emissions_g",
                                                "pue",
                                                "method",
                                                "carbon.region",
                                                "embodied_emissions_g",
                                                "carbon.water_l",
                                                "carbon.water_offsite_l"};

static double num(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_NUM ? v->num : 0;
}

static int add_run(const struct wp_ledger_value *v, int n, void *arg)
{
    json_t *range = v[T_RANGE].kind == WP_VALUE_TEXT ? json_loads(v[T_RANGE].text, 0, NULL) : NULL;
    struct wp_rep_run one = {
        .duration = num(&v[T_DURATION]),
        .device_hours = num(&v[T_HOURS]),
        .energy = num(&v[T_ENERGY]),
        .facility = num(&v[T_FACILITY]),
        .emissions = num(&v[T_EMISSIONS]),
        .pue = num(&v[T_PUE]),
        .has_range = json_array_size(range) == 2,
        .lo = json_number_value(json_array_get(range, 0)),
        .hi = json_number_value(json_array_get(range, 1)),
        .has_embodied = v[T_EMBODIED].kind == WP_VALUE_NUM,
        .embodied = num(&v[T_EMBODIED]),
        .has_water = v[T_WATER].kind == WP_VALUE_NUM,
        .water_l = num(&v[T_WATER]),
        .has_offsite = v[T_OFFSITE].kind == WP_VALUE_NUM,
        .water_offsite_l = num(&v[T_OFFSITE]),
        .method = v[T_METHOD].kind == WP_VALUE_TEXT ? v[T_METHOD].text : "",
        .region = v[T_REGION].kind == WP_VALUE_TEXT ? v[T_REGION].text : "",
    };
    (void)n;
    wp_rep_totals_add_run(arg, &one);
    json_decref(range);
    return 0;
}

/* An experiment's or a project's runs: their totals by one walk, each run
 * read and let go (any number of runs in constant memory), then the newest
 * 500, which the report lists. */
static json_t *load_group(struct wp_ledger *l, const struct wp_query *q, struct wp_rep_totals *t,
                          char *err, size_t cap)
{
    struct wp_query newest = *q;
    /* newest first, as the list: the same sums in the same order, and the
     * PUEs, regions and methods named in the order they were before */
    int rc = wp_ledger_each_values(l, q, WP_EACH_NEWEST, totals_members, T_N, add_run, t, err, cap);

    if (rc != 0) {
        if (rc == -ENOMEM)
            snprintf(err, cap, "out of memory");
        return NULL;
    }
    newest.limit = q->limit > 0 && q->limit < 500 ? q->limit : 500;
    return wp_ledger_list(l, &newest, false, err, cap);
}

/* The runs the report is of, newest first, and their totals: one run, or an
 * experiment's or a project's. */
static json_t *load_runs(struct report_opts *o, const char *run_arg, struct wp_rep_totals *t,
                         char *title, size_t tcap)
{
    struct wp_ledger *l = wp_cli_ledger_open("wattprint report", &o->lo, WP_LEDGER_READ);
    char err[1024];
    json_t *runs, *run;

    memset(t, 0, sizeof *t);
    if (!l)
        return NULL;
    if (!run_arg) {
        snprintf(title, tcap, "%s %.200s", o->lo.q.experiment ? "experiment" : "project",
                 o->lo.q.experiment ? o->lo.q.experiment : o->lo.q.project);
        runs = load_group(l, &o->lo.q, t, err, sizeof err);
        if (runs && json_array_size(runs) == 0) {
            snprintf(err, sizeof err, "no runs in %s", title);
            json_decref(runs);
            runs = NULL;
        }
    } else {
        run = wp_ledger_get(l, run_arg, true, err, sizeof err);
        runs = run ? json_array() : NULL;
        if (runs) {
            wp_cli_push(runs, run);
            wp_rep_totals_add(t, run);
        }
    }
    wp_ledger_close(l);
    if (!runs)
        fprintf(stderr, "wattprint report: %s\n", err);
    return runs;
}

int wp_cmd_report(int argc, char **argv)
{
    struct report_opts o = {.training = "pre-training"};
    struct wp_rep_totals t;
    char title[300];
    bool group;
    json_t *runs;
    int first = parse(argc, argv, &o), rc = 0;

    if (first < 0)
        return first == -1 ? 0 : 2;
    group = o.lo.q.experiment || o.lo.q.project;
    if (group == (first < argc) || argc - first > 1) {
        fprintf(stderr, "wattprint report: give one run (an id, or last), or --experiment or "
                        "--project\n");
        return 2;
    }
    if (strchr(o.training, '"') || strchr(o.training, '\n')) {
        fprintf(stderr, "wattprint report: --training-type: no quotes or newlines\n");
        return 2;
    }
    if (!o.html && !o.md && !o.card && !o.sci)
        o.md = "-";
    for (int i = 0; i < 3; i++) { /* every output checked before any work */
        const char *path = i == 0 ? o.html : i == 1 ? o.md : o.card;
        char err[512];
        if (path && strcmp(path, "-") != 0 && wp_out_check(path, err, sizeof err) != 0) {
            fprintf(stderr, "wattprint report: %s\n", err);
            return 1;
        }
    }
    if (!(runs = load_runs(&o, group ? NULL : argv[first], &t, title, sizeof title)))
        return 1;
    if (o.html)
        rc |= emit(o.html,
                   group ? wp_report_group_html(runs, &t, title)
                         : wp_report_run_html(json_array_get(runs, 0)),
                   "HTML report", (size_t)t.runs);
    if (o.md)
        rc |= emit(o.md,
                   group ? wp_report_group_markdown(runs, &t, title)
                         : wp_report_run_markdown(json_array_get(runs, 0)),
                   "Markdown report", (size_t)t.runs);
    if (o.card)
        rc |=
            emit(o.card, wp_report_model_card(runs, &t, o.training), "model card", (size_t)t.runs);
    if (o.sci) {
        if (group)
            fprintf(stderr, "wattprint report: --sci scores one run; give its id\n");
        else
            rc |= emit("-", wp_report_sci(json_array_get(runs, 0)), "SCI", 1);
    }
    json_decref(runs);
    return rc;
}
