/* wattprint run's options. Every value is checked before anything starts:
 * numbers against the session's one table of limits, names and choices
 * here; then what the command line left unset comes from the files. */
#define _GNU_SOURCE
#include "run_opts.h"

#include "config_opts.h"
#include "work_opts.h"

#include "../interop/pushgateway.h"
#include "../ledger/ledger.h"
#include "../util/outfile.h"
#include "../work/progress.h"
#include "../util/util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_S 1.0

enum {
    O_INTERVAL = 256,
    O_JSON,
    O_TDP,
    O_REQ,
    O_LEDGER,
    O_NOLEDGER,
    O_GPUS,
    O_PROJECT,
    O_EXPERIMENT,
    O_TAG,
    O_JOB,
    O_CHECKPOINT,
    O_TOTAL,
    O_UNIT,
    O_PROGRESS,
    O_PROGRESS_EVERY,
    O_ATTRIBUTE,
    O_SENSORS,
    O_NO_DETECT,
    O_DEFER,
    O_EXPECTED,
    O_DRY_RUN,
    O_MIN_SAVING,
    O_MIN_SAVING_G,
    O_PUSH,
};

static const struct option longopts[] = {
    {"interval", required_argument, NULL, O_INTERVAL},
    {"json", required_argument, NULL, O_JSON},
    {"cpu-tdp", required_argument, NULL, O_TDP},
    {"require-measured", no_argument, NULL, O_REQ},
    {"gpus", required_argument, NULL, O_GPUS},
    {"attribute", required_argument, NULL, O_ATTRIBUTE},
    {"sensors", required_argument, NULL, O_SENSORS},
    {"ledger", required_argument, NULL, O_LEDGER},
    {"no-ledger", no_argument, NULL, O_NOLEDGER},
    {"project", required_argument, NULL, O_PROJECT},
    {"experiment", required_argument, NULL, O_EXPERIMENT},
    {"tag", required_argument, NULL, O_TAG},
    {"job", required_argument, NULL, O_JOB},
    {"checkpoint", required_argument, NULL, O_CHECKPOINT},
    {"total", required_argument, NULL, O_TOTAL},
    {"unit", required_argument, NULL, O_UNIT},
    {"progress", required_argument, NULL, O_PROGRESS},
    {"progress-every", required_argument, NULL, O_PROGRESS_EVERY},
    {"no-detect", no_argument, NULL, O_NO_DETECT},
    {"defer-within", required_argument, NULL, O_DEFER},
    {"expected-duration", required_argument, NULL, O_EXPECTED},
    {"dry-run", no_argument, NULL, O_DRY_RUN},
    {"min-saving", required_argument, NULL, O_MIN_SAVING},
    {"min-saving-g", required_argument, NULL, O_MIN_SAVING_G},
    {"push-gateway", required_argument, NULL, O_PUSH},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    WP_CARBON_LONGOPTS,
    WP_WORK_LONGOPTS,
    {NULL, 0, NULL, 0},
};

/* The numeric options: where each goes, and its limits. */
static const struct {
    int opt;
    const char *name;
    enum wp_field field; /* the session's limits; WP_FIELD_NONE: lo/hi here */
    size_t at;           /* offsetof its double in struct run_opts */
    double lo, hi;
    const char *want;
} numbers[] = {
    {O_INTERVAL, "--interval", WP_FIELD_INTERVAL, offsetof(struct run_opts, session.interval_s), 0,
     0, NULL},
    {O_TDP, "--cpu-tdp", WP_FIELD_CPU_TDP, offsetof(struct run_opts, session.cpu_tdp_w), 0, 0,
     NULL},
    {O_CHECKPOINT, "--checkpoint", WP_FIELD_CHECKPOINT, offsetof(struct run_opts, checkpoint_s), 0,
     0, NULL},
    {O_TOTAL, "--total", WP_FIELD_NONE, offsetof(struct run_opts, total), 1e-300, 1e30,
     "a positive amount of work"},
    {O_PROGRESS_EVERY, "--progress-every", WP_FIELD_NONE,
     offsetof(struct run_opts, progress_every_s), 0.5, 86400, "a number of seconds from 0.5"},
    {O_MIN_SAVING, "--min-saving", WP_FIELD_NONE, offsetof(struct run_opts, min_saving_pct), 0, 100,
     "a percentage from 0 to 100"},
    {O_MIN_SAVING_G, "--min-saving-g", WP_FIELD_NONE, offsetof(struct run_opts, min_saving_g), 0,
     1e12, "a mass of CO2e in grams, 0 or more"},
};

/* The options naming a ledger label: 1 to 200 characters. */
static const struct {
    int opt;
    const char *name;
    size_t at; /* offsetof its const char * in struct run_opts */
} names[] = {
    {O_PROJECT, "--project", offsetof(struct run_opts, labels.project)},
    {O_EXPERIMENT, "--experiment", offsetof(struct run_opts, labels.experiment)},
    {O_JOB, "--job", offsetof(struct run_opts, labels.job)},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wattprint run [options] -- COMMAND [ARG...]\n"
            "\n"
            "Runs COMMAND (directly, no shell), measures the energy of the machine's CPU\n"
            "packages and DRAM while it runs, prints a summary on stderr, and exits with\n"
            "COMMAND's status (128+N if it died of signal N; 127 not found; 126 not\n"
            "executable; 125 for wattprint's own errors before COMMAND starts).\n"
            "\n"
            "Options:\n"
            "  --interval S        seconds between samples (default %.3g; 0.001 to 3600)\n"
            "  --json PATH         write the result as JSON to PATH\n"
            "  --cpu-tdp W         CPU TDP in watts for the estimate where no counter can\n"
            "                      be read (default: from the bundled table)\n"
            "  --require-measured  fail (125) rather than estimate when counters are\n"
            "                      unreadable\n"
            "  --gpus WHICH        GPUs to measure: visible (default: CUDA_VISIBLE_DEVICES,\n"
            "                      else all), all, none, or indices/UUIDs (0,2 or GPU-8f6a)\n"
            "  --sensors LIST      only these backends: rapl, rapl-perf, serve, nvml,\n"
            "                      rocm-smi, cpu-model, ram-model (default: all, in order)\n"
            "  --attribute WHAT    process: count only the command's share: of the CPU by\n"
            "                      its process tree's CPU time, of DRAM by its resident\n"
            "                      memory, of each GPU by SM utilisation; the whole\n"
            "                      machine's figures stay beside it, not added (default\n"
            "                      none: the whole machine)\n"
            "  --project NAME      file the run under a project in the ledger\n"
            "  --experiment NAME   ... and an experiment (a sweep, an ablation)\n"
            "  --tag KEY=VALUE     ... with tags (repeatable)\n"
            "  --job ID            a job whose parts on several nodes add up (default:\n"
            "                      $SLURM_JOB_ID, else $TORCHELASTIC_RUN_ID)\n"
            "  --ledger PATH       ledger file (default $WATTPRINT_LEDGER, else\n"
            "                      $XDG_DATA_HOME/wattprint/ledger.db)\n"
            "  --no-ledger         do not record the run\n"
            "  --checkpoint S      seconds between the ledger's checkpoints of a running\n"
            "                      run (default: 5, then doubling up to 60; at least the\n"
            "                      sampling interval)\n"
            "  --total N           the work the whole job will do (for predictions)\n"
            "  --unit NAME         the unit of work (default steps; e.g. tokens, samples)\n"
            "  --progress WHEN     live line on stderr: auto (on a terminal), always, never\n"
            "  --progress-every S  without a terminal, a plain line every S s (default "
            "60)\n" WP_WORK_HELP WP_CARBON_HELP
            "  --no-detect         do not ask a cloud's metadata service for the provider\n"
            "                      and region (asked only where DMI names AWS, GCP or Azure)\n"
            "  --defer-within D    start within D (90m, 8h) when the region's forecast\n"
            "                      intensity is lowest over the run; waits, then runs\n"
            "  --expected-duration D  the run's length for that choice (default: the median\n"
            "                      of this command's runs in the ledger, else 1h)\n"
            "  --min-saving P      defer only for at least P %% less CO2e (default 10)\n"
            "  --min-saving-g G    ... and at least G grams, where earlier runs tell the\n"
            "                      energy (default 1)\n"
            "  --dry-run           with --defer-within: say and write the choice, run nothing\n"
            "  --push-gateway URL  push the run's totals to a Prometheus push gateway when\n"
            "                      it ends (http://HOST:9091; group job=wattprint, the host,\n"
            "                      project, experiment)\n"
            "  -q, --quiet         no summary on stderr\n"
            "  -h, --help          this help\n"
            "\n"
            "The command gets WATTPRINT_PROGRESS, a file to which it may append lines\n"
            "such as \"done=1000 total=50000 unit=tokens\" (cumulative work).\n"
            "\n"
            "Environment: WATTPRINT_SYSFS and WATTPRINT_PROCFS replace /sys and /proc;\n"
            "WATTPRINT_REGION is the default --region; with WATTPRINT_ELECTRICITYMAPS_TOKEN\n"
            "the region's live intensity is fetched from Electricity Maps.\n"
            "Defaults for region, provider, pue, ledger, project, sensors, interval and\n"
            "detect come from ~/.config/wattprint/config and /etc/wattprint/config.\n",
            DEFAULT_INTERVAL_S);
}

static int bad(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, "wattprint run: %s: '%s' is not %s\n", opt, val, want);
    return -1;
}

void wp_run_say_session_error(const struct wp_session_error *e)
{
    static const char *const opt[] = {
        [WP_FIELD_INTERVAL] = "--interval",
        [WP_FIELD_CPU_TDP] = "--cpu-tdp",
        [WP_FIELD_GPUS] = "--gpus",
        [WP_FIELD_SENSORS] = "--sensors",
        [WP_FIELD_REQUIRE_MEASURED] = "--require-measured",
        [WP_FIELD_ATTRIBUTE] = "--attribute process",
    };
    const char *name = (size_t)e->field < sizeof opt / sizeof *opt ? opt[e->field] : NULL;

    if (name)
        fprintf(stderr, "wattprint run: %s: %s%s\n", name, e->msg,
                e->field == WP_FIELD_REQUIRE_MEASURED ? "; not running the command" : "");
    else
        fprintf(stderr, "wattprint run: %s\n", e->msg);
}

/* A numeric option from the table. Returns 1 (taken), 0 (not one), -1. */
static int number_opt(struct run_opts *o, int c, const char *arg)
{
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        double *at = (double *)((char *)o + numbers[i].at), v;
        const struct wp_limit *l = wp_limit_of(numbers[i].field);
        if (numbers[i].opt != c)
            continue;
        if (wp_parse_double(arg, &v) || (l ? wp_limit_check(numbers[i].field, v) != 0
                                           : !(v >= numbers[i].lo && v <= numbers[i].hi)))
            return bad(numbers[i].name, arg, l ? l->what : numbers[i].want);
        *at = v;
        o->interval_set |= c == O_INTERVAL;
        o->checkpoint_set |= c == O_CHECKPOINT;
        return 1;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char **at = (const char **)((char *)o + names[i].at);
        if (names[i].opt != c)
            continue;
        if (!*arg || strlen(arg) > 200)
            return bad(names[i].name, arg, "a name of 1 to 200 characters");
        *at = arg;
        return 1;
    }
    return 0;
}

static int choice_opt(struct run_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_SENSORS: /* the session checks the names */
        o->session.sensors = arg;
        return 1;
    case O_ATTRIBUTE:
        if (strcmp(arg, "process") != 0 && strcmp(arg, "none") != 0)
            return bad("--attribute", arg, "process or none");
        o->session.attribute_process = strcmp(arg, "process") == 0;
        return 1;
    case O_GPUS:
        if (!*arg || strspn(arg, ", ") == strlen(arg))
            return bad("--gpus", arg, "all, visible, none or a list of indices and UUIDs");
        o->session.gpus = arg;
        return 1;
    case O_PROGRESS:
        if (strcmp(arg, "auto") == 0)
            o->progress = WP_LIVE_AUTO;
        else if (strcmp(arg, "always") == 0)
            o->progress = WP_LIVE_ALWAYS;
        else if (strcmp(arg, "never") == 0)
            o->progress = WP_LIVE_NEVER;
        else
            return bad("--progress", arg, "auto, always or never");
        return 1;
    }
    return 0;
}

static int text_opt(struct run_opts *o, int c, const char *arg)
{
    struct wp_work probe = {0};
    char line[64];

    switch (c) {
    case O_JSON:
    case O_LEDGER:
        if (!*arg)
            return bad(c == O_JSON ? "--json" : "--ledger", arg, "a file path");
        *(c == O_JSON ? &o->json_path : &o->ledger_path) = arg;
        return 1;
    case O_PUSH: {
        char err[300];
        if (wp_push_url_check(arg, err, sizeof err)) {
            fprintf(stderr, "wattprint run: --push-gateway: %s\n", err);
            return -1;
        }
        o->push_gateway = arg;
        return 1;
    }
    case O_UNIT:
        snprintf(line, sizeof line, "unit=%.40s", arg);
        if (strlen(arg) > 31 || wp_progress_line(&probe, line, strlen(line), 0))
            return bad("--unit", arg, "a unit name (letters, digits, _ and -)");
        o->unit = arg;
        return 1;
    case O_TAG:
        if (o->labels.n_tags == WP_MAX_TAGS)
            return bad("--tag", arg, "allowed: at most 32 tags");
        if (wp_tag_parse(arg, &o->labels.tags[o->labels.n_tags]))
            return bad("--tag", arg, "KEY=VALUE (key up to 63 characters)");
        o->labels.n_tags++;
        return 1;
    }
    return 0;
}

static int flag_opt(struct run_opts *o, int c)
{
    switch (c) {
    case O_REQ:
        o->session.require_measured = true;
        return 1;
    case O_NOLEDGER:
        o->no_ledger = true;
        return 1;
    case O_NO_DETECT:
        o->no_detect = true;
        return 1;
    case O_DRY_RUN:
        o->dry_run = true;
        return 1;
    case 'q':
        o->quiet = true;
        return 1;
    }
    return 0;
}

/* One option. Returns 1 when taken, -1 after saying why it is wrong. */
static int one_opt(struct run_opts *o, int c, const char *arg, char **argv)
{
    int rc = wp_cli_carbon_opt("wattprint run", c, arg, &o->carbon);

    if (rc == 0)
        rc = wp_cli_work_opt("wattprint run", c, arg, &o->work);
    if (c == O_DEFER || c == O_EXPECTED) {
        double *at = c == O_DEFER ? &o->defer_within_s : &o->expected_s;
        if (wp_parse_span(arg, at) != 0 || *at > 7 * 86400) {
            fprintf(stderr,
                    "wattprint run: %s: '%s' is not a duration up to 7 days (90m, 8h, 3600)\n",
                    c == O_DEFER ? "--defer-within" : "--expected-duration", arg);
            return -1;
        }
        return 1;
    }

    if (rc == 0)
        rc = number_opt(o, c, arg);
    if (rc == 0)
        rc = choice_opt(o, c, arg);
    if (rc == 0)
        rc = text_opt(o, c, arg);
    if (rc == 0)
        rc = flag_opt(o, c);
    if (rc != 0)
        return rc;
    if (c == 'h') {
        usage(stdout);
        exit(0);
    }
    if (c == ':')
        fprintf(stderr, "wattprint run: %s needs a value (see wattprint run --help)\n",
                argv[optind - 1]);
    else
        fprintf(stderr, "wattprint run: unknown option '%s' (see wattprint run --help)\n",
                argv[optind - 1]);
    return -1;
}

static int check_root_env(const char *var)
{
    const char *v = getenv(var);
    struct stat st;

    if (!v || !*v)
        return 0;
    if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "wattprint run: %s=%s is not a directory; unset it or point it at a "
                "tree laid out like /sys or /proc\n",
                var, v);
        return -1;
    }
    return 0;
}

static int check_json_path(const char *path)
{
    char err[512];

    if (wp_out_check(path, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "wattprint run: --json: %s\n", err);
    return -1;
}

/* Notes that key's value came from a file, for the run's assumptions. */
static void note_setting(struct run_opts *o, const char *key, const char *value, const char *from)
{
    if (from && o->n_settings < WP_MAX_SETTINGS)
        snprintf(o->settings[o->n_settings++], WP_SETTING_LEN, "%s %.100s from %.150s", key, value,
                 from);
}

/* What the command line left unset, from the configuration files (their
 * values were checked when they were read). */
static void apply_config(struct run_opts *o)
{
    const char *from, *v;

    o->labels.project = wp_cli_setting("project", o->labels.project, NULL, &from);
    note_setting(o, "project", o->labels.project, from);
    o->session.sensors = wp_cli_setting("sensors", o->session.sensors, NULL, &from);
    note_setting(o, "sensors", o->session.sensors, from);
    if (!o->interval_set && (v = wp_cli_setting("interval", NULL, NULL, &from)) &&
        wp_parse_double(v, &o->session.interval_s) == 0)
        note_setting(o, "interval", v, from);
    if (!o->no_detect && (v = wp_cli_setting("detect", NULL, NULL, &from)) &&
        strcmp(v, "no") == 0) {
        o->no_detect = true;
        note_setting(o, "detect", v, from);
    }
    if (!o->no_ledger) {
        o->ledger_path = wp_cli_setting("ledger", o->ledger_path, "WATTPRINT_LEDGER", &from);
        note_setting(o, "ledger", o->ledger_path, from);
    }
}

/* What the options say together, once all are read. */
static int check_together(int argc, char **argv, struct run_opts *o)
{
    if (!o->labels.job) {
        const char *slurm = getenv("SLURM_JOB_ID"), *elastic = getenv("TORCHELASTIC_RUN_ID");
        o->labels.job = (slurm && *slurm) ? slurm : (elastic && *elastic) ? elastic : NULL;
    }
    if (o->no_ledger && o->ledger_path) {
        fprintf(stderr, "wattprint run: --ledger and --no-ledger contradict each other\n");
        return -1;
    }
    if (optind >= argc) {
        fprintf(stderr, "wattprint run: no command given; usage: wattprint run [options] -- "
                        "COMMAND [ARG...]\n");
        return -1;
    }
    (void)argv;
    if (check_root_env("WATTPRINT_SYSFS") || check_root_env("WATTPRINT_PROCFS"))
        return -1;
    if (o->json_path && check_json_path(o->json_path))
        return -1;
    if (!o->no_ledger) {
        char path[4096], err[4600];
        if (wp_ledger_path(o->ledger_path, path, sizeof path) &&
            wp_ledger_check_place(path, err, sizeof err) != 0) {
            fprintf(stderr, "wattprint run: ledger %s\n", err);
            return -1;
        }
    }
    if (wp_cli_work_resolve("wattprint run", &o->work, o->unit, &o->scrape))
        return -1;
    return 0;
}

int wp_run_parse(int argc, char **argv, struct run_opts *o)
{
    int c;

    o->session.interval_s = DEFAULT_INTERVAL_S;
    o->checkpoint_s = WP_RUN_DEFAULT_CHECKPOINT_S;
    o->progress_every_s = 60;
    o->min_saving_pct = WP_RUN_DEFAULT_MIN_SAVING_PCT;
    o->min_saving_g = WP_RUN_DEFAULT_MIN_SAVING_G;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:qh", longopts, NULL)) != -1)
        if (one_opt(o, c, optarg, argv) < 0)
            return -1;
    if (check_together(argc, argv, o))
        return -1;
    apply_config(o);
    return optind;
}
