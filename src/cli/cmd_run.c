/* wattprint run [options] -- COMMAND [ARG...]: measure one command. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "spawn.h"

#include "../meter/meter.h"
#include "../report/run.h"
#include "../util/util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_S 1.0

struct run_opts {
    double interval_s;
    double cpu_tdp_w;
    const char *gpus;
    const char *json_path;
    const char *ledger_path;
    bool no_ledger;
    bool require_measured;
    bool quiet;
    struct wp_carbon_opts carbon;
};

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
            "  --ledger PATH       ledger database to record the run in\n"
            "  --no-ledger         do not record the run\n" WP_CARBON_HELP
            "  -q, --quiet         no summary on stderr\n"
            "  -h, --help          this help\n"
            "\n"
            "Environment: WATTPRINT_SYSFS and WATTPRINT_PROCFS replace /sys and /proc;\n"
            "WATTPRINT_REGION is the default --region; with WATTPRINT_ELECTRICITYMAPS_TOKEN\n"
            "the region's live intensity is fetched from Electricity Maps.\n",
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

/* Parses options; returns the index of COMMAND in argv, or -1 (message said). */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    enum { O_INTERVAL = 256, O_JSON, O_TDP, O_REQ, O_LEDGER, O_NOLEDGER, O_GPUS };
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, O_INTERVAL},
        {"json", required_argument, NULL, O_JSON},
        {"cpu-tdp", required_argument, NULL, O_TDP},
        {"require-measured", no_argument, NULL, O_REQ},
        {"gpus", required_argument, NULL, O_GPUS},
        {"ledger", required_argument, NULL, O_LEDGER},
        {"no-ledger", no_argument, NULL, O_NOLEDGER},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        WP_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;

    o->interval_s = DEFAULT_INTERVAL_S;
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
    if (o->require_measured && (env.unreadable > 0 || !(env.covered & (1u << WP_CPU)))) {
        fprintf(stderr, "wattprint run: --require-measured: %s; not running the command\n",
                env.unreadable ? "some energy counters exist but cannot be read (see above)"
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

int wp_cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    struct wp_run run = {0};
    struct wp_child_end end;
    int cmd, rc;

    cmd = parse_opts(argc, argv, &o);
    if (cmd < 0 || wp_carbon_resolve("wattprint run", &o.carbon, &run.assume))
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

    wp_spawn_install_handlers();
    run.start_wall_s = wp_wall_s();
    rc = wp_meter_start(run.meter);
    if (rc) {
        fprintf(stderr, "wattprint run: cannot start the sampler: %s\n", strerror(-rc));
        wp_meter_free(run.meter);
        return WP_EXIT_USAGE;
    }
    rc = wp_spawn_run(argv + cmd, &end);
    wp_meter_stop(run.meter);
    run.end_wall_s = wp_wall_s();
    if (rc) {
        fprintf(stderr, "wattprint run: cannot start %s: %s\n", argv[cmd], strerror(-rc));
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
    wp_meter_free(run.meter);
    return end.exit_status;
}
