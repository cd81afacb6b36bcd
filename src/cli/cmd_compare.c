/* wattprint compare: did a change save energy? Two groups of runs (two
 * experiments, two tags, or two lists of run ids), their energy, duration and
 * CO2e per unit of work with 95 % intervals, the ratio B/A with its interval,
 * and a verdict in words. */
#include "cli.h"
#include "config_opts.h"
#include "ledger_opts.h"

#include "../stats/stats.h"
#include "../util/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint compare SELECTION SELECTION [--json] [--ledger PATH]\n"
    "  where each SELECTION is --experiment NAME, --tag KEY=VALUE or --runs ID,ID,...\n"
    "\nCompares group B (the second) with group A (the first): energy, duration and\n"
    "CO2e per unit of work (per run when the runs reported none), each group's mean\n"
    "with a 95 % interval, and B/A with its interval (percentile bootstrap); the\n"
    "difference is significant when that interval excludes 1. Needs at least two\n"
    "runs in each group. A group of more than 4096 runs is compared by its newest\n"
    "4096, and that is said.\n";

/* The runs of a group compared: its newest, when it has more. That bounds
 * what is held (each run's whole document) and the bootstrap's time
 * (10,000 resamples of every group); at 4096 runs an interval is already
 * narrow. */
#define MAX_RUNS 4096

struct group {
    char label[160];
    json_t *runs;
    double e[MAX_RUNS], d[MAX_RUNS], g[MAX_RUNS];
    int n;
    bool cut; /* it has more runs than MAX_RUNS: the newest are compared */
};

/* One --experiment, --tag or --runs, as the runs it selects. */
static int select_runs(struct wp_ledger *l, int kind, const char *arg, struct group *grp)
{
    char err[1024];
    struct wp_query q = {0};

    snprintf(grp->label, sizeof grp->label, "%s %s",
             kind == 'e'   ? "experiment"
             : kind == 't' ? "tag"
                           : "runs",
             arg);
    if (kind == 'r') {
        /* the whole list: a fixed buffer cut a long one short without a word */
        char *copy = strdup(arg), *save = NULL;
        int rc = copy ? 0 : -1;
        grp->runs = json_array();
        for (char *id = copy ? strtok_r(copy, ",", &save) : NULL; id && rc == 0;
             id = strtok_r(NULL, ",", &save)) {
            json_t *run = NULL;
            if (json_array_size(grp->runs) == MAX_RUNS)
                snprintf(err, sizeof err, "at most %d runs a group", MAX_RUNS);
            else
                run = wp_ledger_get(l, id, false, err, sizeof err);
            if (run) {
                wp_cli_push(grp->runs, run);
            } else {
                fprintf(stderr, "wattprint compare: --runs: %s\n", err);
                rc = -1;
            }
        }
        if (!copy)
            fprintf(stderr, "wattprint compare: out of memory\n");
        free(copy);
        return rc;
    }
    if (kind == 'e')
        q.experiment = arg;
    else if (wp_tag_parse(arg, &q.tags[q.n_tags++]) != 0) {
        fprintf(stderr, "wattprint compare: --tag: '%s' is not KEY=VALUE\n", arg);
        return -1;
    }
    q.limit = MAX_RUNS + 1; /* the newest first: one more tells there are more */
    if (!(grp->runs = wp_ledger_list(l, &q, false, err, sizeof err))) {
        fprintf(stderr, "wattprint compare: %s\n", err);
        return -1;
    }
    if ((grp->cut = json_array_size(grp->runs) > MAX_RUNS))
        json_array_remove(grp->runs, MAX_RUNS);
    return 0;
}

/* A run's id and the group (0 or 1) that selected it. */
struct member_id {
    const char *id;
    int group;
};

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct member_id *)a)->id, ((const struct member_id *)b)->id);
}

/* Each run once, in one group only, and no group empty: a run counted twice
 * weighs twice in a mean, and a run in both groups compares with itself.
 * The ids are sorted, so that groups of any size are checked in n log n.
 * Returns 0, or -1 said. */
static int check_groups(struct group g[2])
{
    size_t n = json_array_size(g[0].runs) + json_array_size(g[1].runs), k = 0, i;
    struct member_id *ids;
    json_t *run;
    int rc = 0;

    for (int m = 0; m < 2; m++)
        if (json_array_size(g[m].runs) == 0) {
            fprintf(stderr, "wattprint compare: %s (%s) selects no runs; nothing to compare\n",
                    m ? "B" : "A", g[m].label);
            return -1;
        }
    if (!(ids = malloc(n * sizeof *ids))) {
        fprintf(stderr, "wattprint compare: out of memory\n");
        return -1;
    }
    for (int m = 0; m < 2; m++)
        json_array_foreach(g[m].runs, i, run) ids[k++] =
            (struct member_id){wp_json_str(run, WPF_RUN_ID), m};
    qsort(ids, n, sizeof *ids, by_id);
    for (i = 1; i < n && rc == 0; i++)
        if (strcmp(ids[i - 1].id, ids[i].id) == 0) {
            fprintf(stderr,
                    "wattprint compare: run %s is %s; each run may be counted once, in one "
                    "group\n",
                    ids[i].id, ids[i - 1].group == ids[i].group ? "given twice" : "in both groups");
            rc = -1;
        }
    free(ids);
    return rc;
}

/* The unit both groups measured their work in, or NULL (then per run). */
static const char *common_unit(struct group g[2])
{
    const char *unit = NULL;

    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *run;
        json_array_foreach(g[k].runs, i, run)
        {
            json_t *w = wp_json_get(run, WPF_WORK);
            const char *u = wp_json_str(w, WPF_UNIT);
            if (!(wp_json_num(w, WPF_DONE) > 0) || (unit && strcmp(unit, u) != 0))
                return NULL;
            unit = u;
        }
    }
    return unit;
}

static void values(struct group *grp, bool per_unit)
{
    size_t i;
    json_t *run;

    grp->n = 0;
    json_array_foreach(grp->runs, i, run)
    {
        double w = per_unit ? wp_json_num(wp_json_get(run, WPF_WORK), WPF_DONE) : 1.0;
        if (grp->n == MAX_RUNS)
            break;
        grp->e[grp->n] = wp_json_num(wp_json_get(run, WPF_ENERGY), WPF_TOTAL_J) / w;
        grp->d[grp->n] = wp_json_num(run, WPF_DURATION_S) / w;
        grp->g[grp->n] = wp_json_num(wp_json_get(run, WPF_CARBON), WPF_EMISSIONS_G) / w;
        grp->n++;
    }
}

static json_t *interval_json(const struct wp_interval *v)
{
    return json_pack("{s:f, s:[f, f]}", "mean", v->mean, "ci95", v->lo, v->hi);
}

/* One quantity: both groups' means, the ratio, and a line for people. */
static json_t *quantity(struct group g[2], const double *a, const double *b, const char *name,
                        const char *per, bool human, void (*fmt)(double, char *, size_t))
{
    struct wp_interval ia, ib, r;
    bool sig = false;
    int rc;
    json_t *o;

    wp_stats_mean(a, g[0].n, &ia);
    wp_stats_mean(b, g[1].n, &ib);
    rc = wp_stats_ratio(a, g[0].n, b, g[1].n, &r, &sig);
    o = json_pack("{s:o, s:o}", "a", interval_json(&ia), "b", interval_json(&ib));
    wp_cli_put(o, "ratio", rc ? json_null() : json_real(r.mean));
    wp_cli_put(o, "ratio_ci95", rc ? json_null() : json_pack("[f, f]", r.lo, r.hi));
    wp_cli_put(o, "significant", json_boolean(rc == 0 && sig));
    if (human) {
        char m[2][32], lo[2][32], hi[2][32];
        const struct wp_interval *v[2] = {&ia, &ib};
        for (int k = 0; k < 2; k++) {
            fmt(v[k]->mean, m[k], sizeof m[k]);
            fmt(v[k]->lo, lo[k], sizeof lo[k]);
            fmt(v[k]->hi, hi[k], sizeof hi[k]);
        }
        printf("  %-9s %s  A %s (%s to %s)  B %s (%s to %s)", name, per, m[0], lo[0], hi[0], m[1],
               lo[1], hi[1]);
        if (rc == 0)
            printf("  B/A %.2f (%.2f to %.2f)%s", r.mean, r.lo, r.hi,
                   sig ? "" : ", not significant");
        printf("\n");
    }
    return o;
}

/* Quality (loss=, accuracy=, metric.NAME= of the progress channel) that every
 * run of both groups reported: each group's mean, with its interval. */
static json_t *quality(struct group g[2], bool human)
{
    static double v[2][MAX_RUNS];
    json_t *out = json_object(), *first = json_array_get(g[0].runs, 0), *val;
    const char *name;

    json_object_foreach(wp_json_get(wp_json_get(first, WPF_WORK), WPF_QUALITY), name, val)
    {
        struct wp_interval iv[2];
        bool everywhere = true;
        for (int k = 0; k < 2 && everywhere; k++) {
            size_t i;
            json_t *run;
            json_array_foreach(g[k].runs, i, run)
            {
                json_t *x =
                    json_object_get(wp_json_get(wp_json_get(run, WPF_WORK), WPF_QUALITY), name);
                if (!json_is_number(x) || i >= MAX_RUNS) {
                    everywhere = false;
                    break;
                }
                v[k][i] = json_number_value(x);
            }
        }
        if (!everywhere)
            continue;
        wp_stats_mean(v[0], g[0].n, &iv[0]);
        wp_stats_mean(v[1], g[1].n, &iv[1]);
        wp_cli_put(out, name,
                   json_pack("{s:o, s:o}", "a", interval_json(&iv[0]), "b", interval_json(&iv[1])));
        if (human)
            printf("  %-9s          A %.4g (%.4g to %.4g)  B %.4g (%.4g to %.4g)\n", name,
                   iv[0].mean, iv[0].lo, iv[0].hi, iv[1].mean, iv[1].lo, iv[1].hi);
    }
    return out;
}

/* "B (experiment int8) uses 40 % less energy per token than A (experiment fp16)
 * (95 % CI 36 to 44 %), 4 vs 4 runs" */
static void verdict(struct group g[2], json_t *energy, const char *per, char *out, size_t cap)
{
    json_t *ci = json_object_get(energy, "ratio_ci95");
    double r = json_number_value(json_object_get(energy, "ratio"));

    if (g[0].n < 2 || g[1].n < 2) {
        snprintf(out, cap,
                 "too few runs to compare: at least 2 in each group are needed (A has %d, "
                 "B has %d)",
                 g[0].n, g[1].n);
    } else if (json_is_null(json_object_get(energy, "ratio"))) {
        /* a mean of zero (or less): no ratio means anything */
        bool a_none =
            !(json_number_value(json_object_get(json_object_get(energy, "a"), "mean")) > 0);
        snprintf(out, cap,
                 "cannot compare energy %s: %s measured none (0 J), so no ratio means anything; "
                 "check that the runs' counters could be read (wattprint show RUN)",
                 per,
                 a_none && !(json_number_value(
                                 json_object_get(json_object_get(energy, "b"), "mean")) > 0)
                     ? "both groups"
                 : a_none ? "A"
                          : "B");
    } else if (!json_is_true(json_object_get(energy, "significant"))) {
        snprintf(out, cap,
                 "no significant difference in energy %s: B/A %.2f (95 %% CI %.2f to %.2f), %d vs "
                 "%d runs",
                 per, r, json_real_value(json_array_get(ci, 0)),
                 json_real_value(json_array_get(ci, 1)), g[0].n, g[1].n);
    } else {
        double lo = json_real_value(json_array_get(ci, 0)),
               hi = json_real_value(json_array_get(ci, 1));
        bool less = r < 1;
        snprintf(
            out, cap,
            "B (%s) uses %.0f %% %s energy %s than A (%s) (95 %% CI %.0f to %.0f %%), %d vs %d "
            "runs",
            g[1].label, 100 * (less ? 1 - r : r - 1), less ? "less" : "more", per, g[0].label,
            100 * (less ? 1 - hi : lo - 1), 100 * (less ? 1 - lo : hi - 1), g[0].n, g[1].n);
    }
}

static int parse(int argc, char **argv, int kinds[2], const char *args[2], struct wp_ledger_opts *o)
{
    static const struct option opts[] = {{"experiment", required_argument, NULL, 'e'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"ledger", required_argument, NULL, 'L'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, n = 0;

    memset(o, 0, sizeof *o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else if (c == 'L') {
            o->ledger_path = optarg;
        } else if (c == 'j') {
            o->json = true;
        } else if (c == 'e' || c == 't' || c == 'r') {
            if (n == 2) {
                fprintf(stderr, "wattprint compare: give exactly two selections (A, then B)\n");
                return -1;
            }
            kinds[n] = c;
            args[n++] = optarg;
        } else {
            fputs(usage, stderr);
            return -1;
        }
    }
    if (n != 2 || optind != argc) {
        fprintf(stderr, "wattprint compare: give exactly two selections (A, then B); see --help\n");
        return -1;
    }
    return 0;
}

int wp_cmd_compare(int argc, char **argv)
{
    static struct group g[2];
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    const char *args[2], *unit;
    char per[48], line[512];
    int kinds[2], rc = 0;
    json_t *out;

    if (parse(argc, argv, kinds, args, &o) != 0)
        return 2;
    if (!(l = wp_cli_ledger_open("wattprint compare", &o, WP_LEDGER_READ)))
        return 1;
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = select_runs(l, kinds[k], args[k], &g[k]);
    wp_ledger_close(l);
    if (rc != 0 || check_groups(g) != 0) {
        json_decref(g[0].runs);
        json_decref(g[1].runs);
        return 1;
    }
    unit = common_unit(g);
    snprintf(per, sizeof per, "per %s", unit ? unit : "run");
    if (unit && strlen(unit) > 1 && unit[strlen(unit) - 1] == 's') /* "per token" */
        per[strlen(per) - 1] = '\0';
    values(&g[0], unit != NULL);
    values(&g[1], unit != NULL);
    if (!o.json)
        printf("wattprint compare: A = %s (%d runs%s), B = %s (%d runs%s)\n", g[0].label, g[0].n,
               g[0].cut ? ", the newest of more" : "", g[1].label, g[1].n,
               g[1].cut ? ", the newest of more" : "");
    out = json_pack("{s:{s:s, s:i, s:b}, s:{s:s, s:i, s:b}, s:s}", "a", "selection", g[0].label,
                    "runs", g[0].n, "newest_of_more", g[0].cut, "b", "selection", g[1].label,
                    "runs", g[1].n, "newest_of_more", g[1].cut, "per", per);
    wp_cli_put(out, "energy_j", quantity(g, g[0].e, g[1].e, "energy", per, !o.json, wp_fmt_energy));
    wp_cli_put(out, "duration_s",
               quantity(g, g[0].d, g[1].d, "duration", per, !o.json, wp_fmt_duration));
    wp_cli_put(out, "emissions_g", quantity(g, g[0].g, g[1].g, "CO2e", per, !o.json, wp_fmt_mass));
    wp_cli_put(out, "quality", quality(g, !o.json));
    verdict(g, json_object_get(out, "energy_j"), per, line, sizeof line);
    /* the headline figures at the top, as tools read them */
    wp_cli_put(out, "ratio",
               json_incref(json_object_get(json_object_get(out, "energy_j"), "ratio")));
    wp_cli_put(out, "ratio_ci95",
               json_incref(json_object_get(json_object_get(out, "energy_j"), "ratio_ci95")));
    wp_cli_put(out, "significant",
               json_incref(json_object_get(json_object_get(out, "energy_j"), "significant")));
    wp_cli_put(out, "verdict", json_string(line));
    if (o.json) {
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        putchar('\n');
    } else {
        printf("verdict: %s\n", line);
    }
    json_decref(out);
    json_decref(g[0].runs);
    json_decref(g[1].runs);
    return 0;
}
