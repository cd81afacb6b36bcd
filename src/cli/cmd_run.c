/* wattprint run [options] -- COMMAND [ARG...]: measure one command. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "config_opts.h"
#include "spawn.h"

#include "../account/cloud.h"
#include "../ledger/recorder.h"
#include "../meter/meter.h"
#include "../report/live.h"
#include "../report/run.h"
#include "../work/progress.h"
#include "../util/util.h"

#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <pthread.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_S 1.0

struct run_opts {
    double interval_s;
    double cpu_tdp_w;
    double checkpoint_s;
    const char *gpus;
    bool attribute;
    const char *sensors;
    const char *json_path;
    const char *ledger_path;
    bool no_ledger;
    bool require_measured;
    bool quiet;
    struct wp_carbon_opts carbon;
    struct wp_labels labels;
    double total;
    const char *unit;
    enum wp_live_mode progress;
    double progress_every_s;
    bool interval_set, no_detect;
    int n_settings; /* the values taken from configuration files */
    char settings[WP_MAX_SETTINGS][WP_SETTING_LEN];
};

#define DETECT_BUDGET_MS 200 /* the metadata services answer in a few ms */

#define DEFAULT_CHECKPOINT_S 5.0 /* how often a running run's totals reach the ledger */

static void run_usage(FILE *f)
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
            "  --attribute WHAT    process: count only the command's share of each GPU, by\n"
            "                      its processes' SM utilisation (default none: whole GPUs)\n"
            "  --project NAME      file the run under a project in the ledger\n"
            "  --experiment NAME   ... and an experiment (a sweep, an ablation)\n"
            "  --tag KEY=VALUE     ... with tags (repeatable)\n"
            "  --job ID            a job whose parts on several nodes add up (default:\n"
            "                      $SLURM_JOB_ID, else $TORCHELASTIC_RUN_ID)\n"
            "  --ledger PATH       ledger file (default $WATTPRINT_LEDGER, else\n"
            "                      $XDG_DATA_HOME/wattprint/ledger.db)\n"
            "  --no-ledger         do not record the run\n"
            "  --checkpoint S      seconds between the ledger's checkpoints of a running\n"
            "                      run (default 5; at least the sampling interval)\n"
            "  --total N           the work the whole job will do (for predictions)\n"
            "  --unit NAME         the unit of work (default steps; e.g. tokens, samples)\n"
            "  --progress WHEN     live line on stderr: auto (on a terminal), always, never\n"
            "  --progress-every S  without a terminal, a plain line every S s (default "
            "60)\n" WP_CARBON_HELP
            "  --no-detect         do not ask a cloud's metadata service for the provider\n"
            "                      and region (asked only where DMI names AWS, GCP or Azure)\n"
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
    char *copy = strdup(path), *dir;
    int rc = 0;

    if (!copy)
        return -1;
    dir = dirname(copy);
    if (access(dir, W_OK) != 0) {
        fprintf(stderr, "wattprint run: --json %s: cannot write in %s: %s\n", path, dir,
                strerror(errno));
        rc = -1;
    }
    free(copy);
    return rc;
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
    o->sensors = wp_cli_setting("sensors", o->sensors, NULL, &from);
    note_setting(o, "sensors", o->sensors, from);
    if (!o->interval_set && (v = wp_cli_setting("interval", NULL, NULL, &from)) &&
        wp_parse_double(v, &o->interval_s) == 0)
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

/* Parses options; returns the index of COMMAND in argv, or -1 (message said). */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
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
        O_NO_DETECT
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
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        WP_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;

    o->interval_s = DEFAULT_INTERVAL_S;
    o->checkpoint_s = DEFAULT_CHECKPOINT_S;
    o->progress_every_s = 60;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:qh", longopts, NULL)) != -1) {
        int carbon = wp_carbon_opt("wattprint run", c, optarg, &o->carbon);
        if (carbon < 0)
            return -1;
        if (carbon > 0)
            continue;
        switch (c) {
        case O_INTERVAL:
            if (wp_parse_double(optarg, &o->interval_s) || o->interval_s < 0.001 ||
                o->interval_s > 3600)
                return bad("--interval", optarg, "a number of seconds from 0.001 to 3600");
            o->interval_set = true;
            break;
        case O_NO_DETECT:
            o->no_detect = true;
            break;
        case O_JSON:
            if (!*optarg)
                return bad("--json", optarg, "a file path");
            o->json_path = optarg;
            break;
        case O_TDP:
            if (wp_parse_double(optarg, &o->cpu_tdp_w) || o->cpu_tdp_w <= 0 || o->cpu_tdp_w > 5000)
                return bad("--cpu-tdp", optarg, "a power in watts above 0 and at most 5000");
            break;
        case O_REQ:
            o->require_measured = true;
            break;
        case O_SENSORS: {
            char err[256];
            if (wp_sensors_check_list(optarg, err, sizeof err)) {
                fprintf(stderr, "wattprint run: --sensors: %s\n", err);
                return -1;
            }
            o->sensors = optarg;
            break;
        }
        case O_ATTRIBUTE:
            if (strcmp(optarg, "process") != 0 && strcmp(optarg, "none") != 0)
                return bad("--attribute", optarg, "process or none");
            o->attribute = strcmp(optarg, "process") == 0;
            break;
        case O_GPUS:
            if (!*optarg || strspn(optarg, ", ") == strlen(optarg))
                return bad("--gpus", optarg, "all, visible, none or a list of indices and UUIDs");
            o->gpus = optarg;
            break;
        case O_LEDGER:
            if (!*optarg)
                return bad("--ledger", optarg, "a file path");
            o->ledger_path = optarg;
            break;
        case O_NOLEDGER:
            o->no_ledger = true;
            break;
        case O_PROJECT:
        case O_EXPERIMENT:
        case O_JOB:
            if (!*optarg || strlen(optarg) > 200)
                return bad(c == O_PROJECT      ? "--project"
                           : c == O_EXPERIMENT ? "--experiment"
                                               : "--job",
                           optarg, "a name of 1 to 200 characters");
            *(c == O_PROJECT      ? &o->labels.project
              : c == O_EXPERIMENT ? &o->labels.experiment
                                  : &o->labels.job) = optarg;
            break;
        case O_TOTAL:
            if (wp_parse_double(optarg, &o->total) || o->total <= 0 || o->total > 1e30)
                return bad("--total", optarg, "a positive amount of work");
            break;
        case O_UNIT: {
            struct wp_work probe = {0};
            char line[64];
            snprintf(line, sizeof line, "unit=%.40s", optarg);
            if (strlen(optarg) > 31 || wp_progress_line(&probe, line, strlen(line), 0))
                return bad("--unit", optarg, "a unit name (letters, digits, _ and -)");
            o->unit = optarg;
            break;
        }
        case O_PROGRESS:
            if (strcmp(optarg, "auto") == 0)
                o->progress = WP_LIVE_AUTO;
            else if (strcmp(optarg, "always") == 0)
                o->progress = WP_LIVE_ALWAYS;
            else if (strcmp(optarg, "never") == 0)
                o->progress = WP_LIVE_NEVER;
            else
                return bad("--progress", optarg, "auto, always or never");
            break;
        case O_PROGRESS_EVERY:
            if (wp_parse_double(optarg, &o->progress_every_s) || o->progress_every_s < 0.5 ||
                o->progress_every_s > 86400)
                return bad("--progress-every", optarg, "a number of seconds from 0.5");
            break;
        case O_CHECKPOINT:
            if (wp_parse_double(optarg, &o->checkpoint_s) || o->checkpoint_s < 0.1 ||
                o->checkpoint_s > 3600)
                return bad("--checkpoint", optarg, "a number of seconds from 0.1 to 3600");
            break;
        case O_TAG:
            if (o->labels.n_tags == WP_MAX_TAGS)
                return bad("--tag", optarg, "allowed: at most 32 tags");
            if (wp_tag_parse(optarg, &o->labels.tags[o->labels.n_tags]))
                return bad("--tag", optarg, "KEY=VALUE (key up to 63 characters)");
            o->labels.n_tags++;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            run_usage(stdout);
            exit(0);
        case ':':
            fprintf(stderr, "wattprint run: %s needs a value (see wattprint run --help)\n",
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "wattprint run: unknown option '%s' (see wattprint run --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
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
    if (check_root_env("WATTPRINT_SYSFS") || check_root_env("WATTPRINT_PROCFS"))
        return -1;
    apply_config(o);
    if (o->json_path && check_json_path(o->json_path))
        return -1;
    return optind;
}

static int open_meter(const struct run_opts *o, struct wp_meter **out)
{
    struct wp_sensor_env env = {
        .sysfs_root = wp_sysfs_root(),
        .procfs_root = wp_procfs_root(),
        .cpu_tdp_w = o->cpu_tdp_w,
        .allow_estimates = !o->require_measured,
        .gpus = o->gpus,
        .gpus_only = wp_sensors_other_rank(),
        .attribute_process = o->attribute,
        .only = o->sensors,
    };
    struct wp_sensor **sensors;
    int n = wp_sensors_probe(&env, &sensors);

    if (n < 0) {
        fprintf(stderr, "wattprint run: cannot open the sensors: %s\n", strerror(-n));
        return -1;
    }
    if (env.gpu_error ||
        (o->gpus && strcmp(o->gpus, "none") != 0 && !(env.covered & (1u << WP_GPU)))) {
        if (!env.gpu_error)
            fprintf(stderr, "wattprint run: --gpus %s: no GPU could be opened (%s)\n", o->gpus,
                    env.gpu_why[0] ? env.gpu_why : "no GPU library found");
        wp_sensors_close(sensors, n);
        return -1;
    }
    if (o->require_measured && !(env.covered & (1u << WP_CPU))) {
        fprintf(stderr, "wattprint run: --require-measured: %s; not running the command\n",
                env.unreadable ? "the energy counters exist but cannot be read (see above)"
                               : "no CPU energy counter (RAPL) can be read on this machine");
        wp_sensors_close(sensors, n);
        return -1;
    }
    if (wp_meter_create(sensors, n, o->interval_s, out)) {
        fprintf(stderr, "wattprint run: out of memory\n");
        return -1;
    }
    return 0;
}

/* Reads the progress file and draws the live line while the command runs. */
struct watcher {
    struct wp_run *run;
    struct wp_progress *progress;
    struct wp_live *live;
    pthread_mutex_t mu; /* guards run->work */
    pthread_cond_t cv;
    bool stop;
};

static void watch_once(struct watcher *w)
{
    struct wp_run *run = w->run;
    /* energy is known as of the last reading: predict from that moment */
    double measured_s = wp_meter_duration_s(run->meter), pe, pd;
    double elapsed = wp_meter_elapsed_s(run->meter);
    struct wp_energy_totals t;
    struct wp_live_status st = {0};
    struct wp_carbon c;

    pthread_mutex_lock(&w->mu);
    if (w->progress)
        wp_progress_poll(w->progress, &run->work, elapsed);
    wp_meter_totals(run->meter, &t);
    wp_account(t.total_j, &run->assume, &c);
    st.elapsed_s = elapsed;
    st.power_w = wp_meter_recent_power_w(run->meter);
    st.energy_j = t.total_j;
    st.emissions_g = c.emissions_g;
    st.unit = run->work.unit;
    st.done = run->work.done;
    st.total = run->work.total;
    if (measured_s > 0 && wp_work_predict(&run->work, t.total_j, measured_s, &pe, &pd)) {
        struct wp_carbon pc;
        wp_account(pe, &run->assume, &pc);
        st.predicted = true;
        st.predicted_energy_j = pe;
        st.predicted_emissions_g = pc.emissions_g;
        st.predicted_duration_s = pd;
    }
    pthread_mutex_unlock(&w->mu);
    wp_live_update(w->live, &st, wp_mono_s());
}

static void *watch(void *arg)
{
    struct watcher *w = arg;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        next.tv_nsec += 250 * 1000 * 1000;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &next) != ETIMEDOUT)
            ;
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        watch_once(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Cloud detection, off the command's path: DMI now (files, no network);
 * where it names a cloud, that cloud's metadata on a thread while the
 * command runs. */
struct detector {
    struct wp_cloud_info info;
    pthread_t thread;
    bool started;
};

static void *detect(void *arg)
{
    wp_cloud_metadata(arg, DETECT_BUDGET_MS);
    return NULL;
}

/* Called with every signal blocked, so the thread takes none. */
static void detect_start(struct detector *d, const struct run_opts *o)
{
    if (!o->no_detect && wp_cloud_dmi(wp_sysfs_root(), &d->info) != WP_CLOUD_NONE)
        d->started = pthread_create(&d->thread, NULL, detect, &d->info) == 0;
}

static void detect_finish(struct detector *d, const struct run_opts *o, struct wp_run *run)
{
    if (d->started)
        pthread_join(d->thread, NULL);
    run->cloud = d->info;
    wp_carbon_detected(&run->assume, &o->carbon, &d->info);
}

int wp_cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    struct wp_run run = {0};
    struct wp_recorder rec = {0};
    struct watcher watcher = {.run = &run};
    struct detector detector = {0};
    pthread_t watch_thread;
    bool watching = false;
    struct wp_child_end end;
    int cmd, rc;

    cmd = parse_opts(argc, argv, &o);
    if (cmd < 0 || wp_carbon_resolve_cli("wattprint run", &o.carbon, &run.assume))
        return WP_EXIT_USAGE;
    if (open_meter(&o, &run.meter))
        return WP_EXIT_USAGE;

    wp_uuid7(run.run_id);
    run.argc = argc - cmd;
    run.argv = argv + cmd;
    if (!getcwd(run.cwd, sizeof run.cwd))
        run.cwd[0] = '\0';
    if (gethostname(run.host, sizeof run.host) != 0)
        run.host[0] = '\0';
    snprintf(run.user, sizeof run.user, "%s", getenv("USER") ? getenv("USER") : "");
    run.labels = o.labels;
    run.n_settings = o.n_settings;
    run.settings = o.settings;
    run.status = WP_RUN_RUNNING;
    snprintf(run.work.unit, sizeof run.work.unit, "%s", o.unit ? o.unit : "steps");
    run.work.unit_from_cli = o.unit != NULL;
    run.work.total = o.total;
    run.work.total_from_cli = o.total > 0;
    if (wp_progress_open(&watcher.progress) == 0)
        setenv("WATTPRINT_PROGRESS", wp_progress_path(watcher.progress), 1);
    else
        wp_warn("cannot create the progress file; WATTPRINT_PROGRESS is not set");

    wp_spawn_install_handlers();
    /* A closed stderr must not kill wattprint and so replace the command's exit status. */
    signal(SIGPIPE, SIG_IGN);
    run.start_wall_s = wp_wall_s();
    wp_run_account(&run);
    rec.guard = &watcher.mu; /* the watcher updates run.work under it */
    pthread_mutex_init(&watcher.mu, NULL);
    wp_recorder_open(&rec, &run, o.ledger_path, o.no_ledger);
    if (rec.ledger)
        wp_meter_on_tick(run.meter, o.checkpoint_s, wp_recorder_checkpoint, &rec);
    rc = wp_meter_start(run.meter);
    if (rc) {
        fprintf(stderr, "wattprint run: cannot start the sampler: %s\n", strerror(-rc));
        wp_ledger_close(rec.ledger);
        wp_meter_free(run.meter);
        return WP_EXIT_USAGE;
    }
    {
        pthread_condattr_t ca;
        sigset_t all, old;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&watcher.cv, &ca);
        pthread_condattr_destroy(&ca);
        watcher.live = wp_live_begin(o.progress, o.progress == WP_LIVE_NEVER ? 0
                                                 : o.progress == WP_LIVE_ALWAYS || !isatty(2)
                                                     ? o.progress_every_s
                                                     : 0);
        /* signals stay with the main thread, which forwards them */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        watching = pthread_create(&watch_thread, NULL, watch, &watcher) == 0;
        detect_start(&detector, &o);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    rc = wp_spawn_run(argv + cmd, &end);
    if (watching) {
        pthread_mutex_lock(&watcher.mu);
        watcher.stop = true;
        pthread_cond_signal(&watcher.cv);
        pthread_mutex_unlock(&watcher.mu);
        pthread_join(watch_thread, NULL);
    }
    wp_meter_stop(run.meter);
    /* the last lines the command wrote, and the line given back */
    if (watcher.progress)
        wp_progress_poll(watcher.progress, &run.work, wp_meter_duration_s(run.meter));
    wp_live_end(watcher.live);
    wp_progress_close(watcher.progress);
    pthread_mutex_destroy(&watcher.mu);
    pthread_cond_destroy(&watcher.cv);
    run.end_wall_s = wp_wall_s();
    detect_finish(&detector, &o, &run);
    if (rc) {
        fprintf(stderr, "wattprint run: cannot start %s: %s\n", argv[cmd], strerror(-rc));
        run.status = WP_RUN_FAILED;
        wp_recorder_finish(&rec);
        wp_meter_free(run.meter);
        return WP_EXIT_USAGE;
    }
    if (end.exec_errno)
        wp_warn("cannot run '%s': %s", argv[cmd], strerror(end.exec_errno));

    run.exit_status = end.exit_status;
    run.exit_code = end.exit_code;
    run.signal = end.signal;
    if (end.signal || end.forwarded)
        run.status = WP_RUN_INTERRUPTED;
    else if (end.exec_errno || end.exit_code != 0)
        run.status = WP_RUN_FAILED;
    else
        run.status = WP_RUN_COMPLETED;

    /* Fetched after the run, so a slow API never delays the command. */
    wp_carbon_live(&run.assume, &o.carbon);
    wp_run_account(&run);
    if (!o.quiet)
        wp_run_print_summary(&run, stderr);
    if (o.json_path)
        wp_run_write_json(&run, o.json_path);
    wp_recorder_finish(&rec);
    wp_meter_free(run.meter);
    return end.exit_status;
}
