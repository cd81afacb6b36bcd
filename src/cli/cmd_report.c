/* wattprint report: a run, an experiment or a project, as people read it. */
#include "cli.h"
#include "ledger_opts.h"

#include "../report/report.h"

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
    FILE *f;
    int rc = 0;
    size_t len;

    if (!text) {
        fprintf(stderr, "wattprint report: out of memory writing the %s\n", what);
        return 1;
    }
    f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "wattprint report: cannot write %s: %s\n", path, strerror(errno));
        free(text);
        return 1;
    }
    len = strlen(text);
    if (fputs(text, f) < 0)
        rc = 1;
    if (f != stdout && fclose(f) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "wattprint report: cannot write %s: %s\n", path, strerror(errno));
    else if (f != stdout)
        fprintf(stderr, "wattprint report: wrote the %s of %zu run%s to %s (%.1f kB)\n", what,
                n_runs, n_runs == 1 ? "" : "s", path, len / 1000.0);
    free(text);
    return rc;
}

int wp_cmd_report(int argc, char **argv)
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
    struct wp_ledger_opts lo = {0};
    const char *html = NULL, *md = NULL, *card = NULL, *training = "pre-training";
    char err[1024], title[300];
    bool sci = false, group;
    struct wp_ledger *l;
    json_t *runs;
    int c, rc = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_LEDGER:
            lo.ledger_path = optarg;
            break;
        case O_EXP:
            lo.q.experiment = optarg;
            break;
        case O_PROJ:
            lo.q.project = optarg;
            break;
        case O_HTML:
            html = optarg;
            break;
        case O_MD:
            md = optarg;
            break;
        case O_CARD:
            card = optarg;
            break;
        case O_TT:
            training = optarg;
            break;
        case O_SCI:
            sci = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            fprintf(stderr, "wattprint report: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "wattprint report: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    group = lo.q.experiment || lo.q.project;
    if (group == (optind < argc) || argc - optind > 1) {
        fprintf(stderr, "wattprint report: give one run (an id, or last), or --experiment or "
                        "--project\n");
        return 2;
    }
    if (strchr(training, '"') || strchr(training, '\n')) {
        fprintf(stderr, "wattprint report: --training-type: no quotes or newlines\n");
        return 2;
    }
    if (!html && !md && !card && !sci)
        md = "-";
    if (!(l = wp_ledger_open_cli("wattprint report", &lo, WP_LEDGER_READ)))
        return 1;
    if (group) {
        runs = wp_ledger_list(l, &lo.q, false, err, sizeof err);
        snprintf(title, sizeof title, "%s %.200s", lo.q.experiment ? "experiment" : "project",
                 lo.q.experiment ? lo.q.experiment : lo.q.project);
        if (runs && json_array_size(runs) == 0) {
            snprintf(err, sizeof err, "no runs in %s", title);
            json_decref(runs);
            runs = NULL;
        }
    } else {
        json_t *run = wp_ledger_get(l, argv[optind], true, err, sizeof err);
        runs = run ? json_array() : NULL;
        if (runs)
            json_array_append_new(runs, run);
    }
    wp_ledger_close(l);
    if (!runs) {
        fprintf(stderr, "wattprint report: %s\n", err);
        return 1;
    }
    if (html)
        rc |= emit(html,
                   group ? wp_report_group_html(runs, title)
                         : wp_report_run_html(json_array_get(runs, 0)),
                   "HTML report", json_array_size(runs));
    if (md)
        rc |= emit(md,
                   group ? wp_report_group_markdown(runs, title)
                         : wp_report_run_markdown(json_array_get(runs, 0)),
                   "Markdown report", json_array_size(runs));
    if (card)
        rc |= emit(card, wp_report_model_card(runs, training), "model card", json_array_size(runs));
    if (sci) {
        if (group)
            fprintf(stderr, "wattprint report: --sci scores one run; give its id\n");
        else
            rc |= emit("-", wp_report_sci(json_array_get(runs, 0)), "SCI", 1);
    }
    json_decref(runs);
    return rc;
}
