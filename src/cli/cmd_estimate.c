/* wattprint estimate: the footprint of training and inference from what is
 * known, or of a whole job from a short measured run. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "ledger_opts.h"

#include "../estimate/estimate.h"
#include "../estimate/model_file.h"
#include "../util/util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_EXIT 2

static const char usage[] =
    "usage: wattprint estimate [inputs] [--json PATH]\n"
    "\n"
    "Training:  --params N --tokens D (FLOPs = 6ND) | --flops F | --model FILE\n"
    "           --hardware NAME [--count G] [--mfu U]\n"
    "           --hours H (wall) | --device-hours H\n"
    "           --power W (average per device; default TDP) | --power-total W\n"
    "Inference: --inference --params N --tokens-per-query T --queries-per-day Q --days N\n"
    "           --hardware NAME [--power W]  (2N FLOPs per token)\n"
    "From a run: --from RUN|last --total-work N  (its energy per unit of work, scaled)\n"
    "Carbon:    --region CODE --intensity G --pue X --provider NAME\n"
    "\n"
    "wattprint hardware lists the hardware names. Every assumption is printed.\n";

struct est_opts {
    struct wp_est_in in;
    struct wp_carbon_opts carbon;
    const char *hardware, *model, *from, *json_path, *ledger;
    double total_work;
};

static int bad(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, "wattprint estimate: %s: '%s' is not %s\n", opt, val, want);
    return -1;
}

/* A positive, finite number no larger than max. */
static int positive(const char *opt, const char *val, double max, double *out)
{
    char want[96];
    if (wp_parse_double(val, out) == 0 && *out > 0 && *out <= max)
        return 0;
    snprintf(want, sizeof want, "a positive number up to %g", max);
    return bad(opt, val, want);
}

static int parse(int argc, char **argv, struct est_opts *o)
{
    enum {
        O_PARAMS = 256,
        O_TOKENS,
        O_FLOPS,
        O_HW,
        O_COUNT,
        O_MFU,
        O_HOURS,
        O_DEVHOURS,
        O_POWER,
        O_POWERTOT,
        O_MODEL,
        O_INF,
        O_TPQ,
        O_QPD,
        O_DAYS,
        O_FROM,
        O_TOTAL,
        O_JSON,
        O_LEDGER
    };
    static const struct option longopts[] = {
        {"params", required_argument, NULL, O_PARAMS},
        {"tokens", required_argument, NULL, O_TOKENS},
        {"flops", required_argument, NULL, O_FLOPS},
        {"hardware", required_argument, NULL, O_HW},
        {"count", required_argument, NULL, O_COUNT},
        {"mfu", required_argument, NULL, O_MFU},
        {"hours", required_argument, NULL, O_HOURS},
        {"device-hours", required_argument, NULL, O_DEVHOURS},
        {"power", required_argument, NULL, O_POWER},
        {"power-total", required_argument, NULL, O_POWERTOT},
        {"model", required_argument, NULL, O_MODEL},
        {"inference", no_argument, NULL, O_INF},
        {"tokens-per-query", required_argument, NULL, O_TPQ},
        {"queries-per-day", required_argument, NULL, O_QPD},
        {"days", required_argument, NULL, O_DAYS},
        {"from", required_argument, NULL, O_FROM},
        {"total-work", required_argument, NULL, O_TOTAL},
        {"json", required_argument, NULL, O_JSON},
        {"ledger", required_argument, NULL, O_LEDGER},
        {"help", no_argument, NULL, 'h'},
        WP_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct wp_est_in *in = &o->in;
    int c, rc = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int carbon = wp_carbon_opt("wattprint estimate", c, optarg, &o->carbon);
        if (carbon < 0)
            return -1;
        if (carbon > 0)
            continue;
        switch (c) {
        case O_PARAMS:
            rc = positive("--params", optarg, 1e15, &in->params);
            break;
        case O_TOKENS:
            rc = positive("--tokens", optarg, 1e18, &in->tokens);
            break;
        case O_FLOPS:
            rc = positive("--flops", optarg, 1e32, &in->flops);
            break;
        case O_HW:
            o->hardware = optarg;
            break;
        case O_COUNT:
            rc = positive("--count", optarg, 1e7, &in->count);
            break;
        case O_MFU:
            rc = positive("--mfu", optarg, 1.0, &in->mfu);
            break;
        case O_HOURS:
            rc = positive("--hours", optarg, 1e6, &in->hours);
            break;
        case O_DEVHOURS:
            rc = positive("--device-hours", optarg, 1e12, &in->device_hours);
            break;
        case O_POWER:
            rc = positive("--power", optarg, 1e5, &in->power_w);
            break;
        case O_POWERTOT:
            rc = positive("--power-total", optarg, 1e10, &in->power_total_w);
            break;
        case O_MODEL:
            o->model = optarg;
            break;
        case O_INF:
            in->inference = true;
            break;
        case O_TPQ:
            rc = positive("--tokens-per-query", optarg, 1e9, &in->tokens_per_query);
            break;
        case O_QPD:
            rc = positive("--queries-per-day", optarg, 1e13, &in->queries_per_day);
            break;
        case O_DAYS:
            rc = positive("--days", optarg, 1e5, &in->days);
            break;
        case O_FROM:
            o->from = optarg;
            break;
        case O_TOTAL:
            rc = positive("--total-work", optarg, 1e30, &o->total_work);
            break;
        case O_JSON:
            o->json_path = optarg;
            break;
        case O_LEDGER:
            o->ledger = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        case ':':
            fprintf(stderr, "wattprint estimate: %s needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "wattprint estimate: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
        if (rc)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "wattprint estimate: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void add_assumption(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_assumption(json_t *arr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(buf));
}

static int write_json(json_t *o, const char *path)
{
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
        fprintf(stderr, "wattprint estimate: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

static void print_carbon(const struct wp_assumptions *a, double it_j, json_t *out,
                         const char *prefix)
{
    struct wp_carbon c;
    struct wp_equivalents q;
    char e[32], f[32], m[32], key[64];

    wp_account(it_j, a, &c);
    wp_fmt_energy(c.it_energy_j, e, sizeof e);
    wp_fmt_energy(c.facility_energy_j, f, sizeof f);
    wp_fmt_mass(c.emissions_g, m, sizeof m);
    printf("  %-13s %s IT, %s at PUE %.3g, %s CO2e at %.4g g/kWh\n", prefix, e, f, a->pue, m,
           a->region.intensity_g_per_kwh);
    if (wp_equivalents(c.emissions_g, c.facility_energy_j, &q) == 0 && c.emissions_g > 1000)
        printf("  %-13s %.3g km by car, %.3g NY-SF flights, %.2g of a car's lifetime\n", "",
               q.car_km_eu, q.flights_ny_sf, q.car_lifetime_share);
    snprintf(key, sizeof key, "%s", strcmp(prefix, "training") == 0 ? "" : "inference_");
    {
        char k[96];
        snprintf(k, sizeof k, "%sit_energy_j", key);
        json_object_set_new(out, k, json_real(c.it_energy_j));
        snprintf(k, sizeof k, "%sfacility_energy_j", key);
        json_object_set_new(out, k, json_real(c.facility_energy_j));
        snprintf(k, sizeof k, "%semissions_g", key);
        json_object_set_new(out, k, json_real(c.emissions_g));
    }
}

/* --from RUN --total-work N: a short measured run, scaled to the whole job. */
static int from_run(struct est_opts *o, struct wp_assumptions *a)
{
    struct wp_ledger_opts lo = {.ledger_path = o->ledger};
    struct wp_ledger *l = wp_ledger_open_cli("wattprint estimate", &lo, WP_LEDGER_READ);
    char err[1024], e[32], f[32], m[32], d[32];
    json_t *run, *work, *samples, *out;
    double done, energy, duration, per_unit, total_e, lo_f = 1, hi_f = 1;

    if (!l)
        return 1;
    run = wp_ledger_get(l, o->from, true, err, sizeof err);
    wp_ledger_close(l);
    if (!run) {
        fprintf(stderr, "wattprint estimate: %s\n", err);
        return 1;
    }
    work = json_object_get(run, "work");
    done = json_number_value(json_object_get(work, "done"));
    if (!(done > 0)) {
        fprintf(stderr,
                "wattprint estimate: run %s reported no work (the program writes "
                "done=N to WATTPRINT_PROGRESS)\n",
                json_string_value(json_object_get(run, "run_id")));
        json_decref(run);
        return USAGE_EXIT;
    }
    energy = json_number_value(json_object_get(json_object_get(run, "energy"), "total_j"));
    duration = json_number_value(json_object_get(run, "duration_s"));
    per_unit = energy / done;
    total_e = per_unit * o->total_work;
    /* The range: the whole job at the run's 10th and 90th percentile of power. */
    samples = json_object_get(run, "samples");
    {
        json_t *t = json_object_get(samples, "t_s"), *ej = json_object_get(samples, "energy_j");
        size_t n = json_array_size(t);
        double *pw = n > 1 ? calloc(n - 1, sizeof *pw) : NULL;
        size_t k = 0;
        for (size_t i = 1; pw && i < n; i++) {
            double dt = json_number_value(json_array_get(t, i)) -
                        json_number_value(json_array_get(t, i - 1));
            double de = 0;
            json_t *row = json_array_get(ej, i), *prev = json_array_get(ej, i - 1);
            for (size_t c = 0; c < json_array_size(row); c++)
                de += json_number_value(json_array_get(row, c)) -
                      json_number_value(json_array_get(prev, c));
            if (dt > 0)
                pw[k++] = de / dt;
        }
        if (k >= 3 && energy > 0) {
            double mean = energy / duration;
            for (size_t i = 1; i < k; i++) /* insertion sort: a few thousand at most */
                for (size_t j = i; j > 0 && pw[j] < pw[j - 1]; j--) {
                    double tmp = pw[j];
                    pw[j] = pw[j - 1];
                    pw[j - 1] = tmp;
                }
            lo_f = pw[k / 10] / mean;
            hi_f = pw[k - 1 - k / 10] / mean;
        }
        free(pw);
    }
    wp_fmt_energy(per_unit, e, sizeof e);
    printf("wattprint estimate: from run %.18s (%.4g %s in %.3g s, %s energy)\n",
           json_string_value(json_object_get(run, "run_id")), done,
           json_string_value(json_object_get(work, "unit")), duration,
           json_string_value(json_object_get(run, "method")));
    printf("  per unit      %s IT energy per unit of work (%.4g J / %.4g)\n", e, energy, done);
    wp_fmt_energy(total_e, e, sizeof e);
    wp_fmt_energy(total_e * lo_f, f, sizeof f);
    wp_fmt_energy(total_e * hi_f, m, sizeof m);
    wp_fmt_duration(duration / done * o->total_work, d, sizeof d);
    printf("  whole job     %.4g %s: %s IT energy (%s to %s), %s on this machine\n", o->total_work,
           json_string_value(json_object_get(work, "unit")), e, f, m, d);
    /* The run's own PUE and intensity unless new ones were given. */
    if (!o->carbon.pue_set && !o->carbon.provider)
        a->pue = json_number_value(json_object_get(run, "pue"));
    if (!o->carbon.region && !o->carbon.intensity_set && !getenv("WATTPRINT_REGION"))
        a->region.intensity_g_per_kwh = json_number_value(
            json_object_get(json_object_get(run, "carbon"), "intensity_g_per_kwh"));
    out = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "from",
                    json_string_value(json_object_get(run, "run_id")), "unit",
                    json_string_value(json_object_get(work, "unit")), "total_work", o->total_work,
                    "energy_per_unit_j", per_unit, "wall_s", duration / done * o->total_work,
                    "it_energy_low_j", total_e * lo_f, "it_energy_high_j", total_e * hi_f, "pue",
                    a->pue, "intensity_g_per_kwh", a->region.intensity_g_per_kwh, "device_hours",
                    duration / done * o->total_work / 3600.0, "flops", 0.0);
    print_carbon(a, total_e, out, "training");
    printf("  method        linear in work: the job at the measured energy per unit; the range "
           "is the job at the run's 10th and 90th percentile of power\n");
    json_decref(run);
    {
        int rc = o->json_path ? write_json(out, o->json_path) : 0;
        json_decref(out);
        return rc;
    }
}

int wp_cmd_estimate(int argc, char **argv)
{
    struct est_opts o = {0};
    struct wp_assumptions a;
    struct wp_est_out r;
    char err[512], sug[256];
    json_t *out, *assume;
    int rc = 0;

    if (parse(argc, argv, &o) || wp_carbon_resolve_cli("wattprint estimate", &o.carbon, &a))
        return USAGE_EXIT;
    if (o.from) {
        if (!(o.total_work > 0)) {
            fprintf(stderr, "wattprint estimate: --from needs --total-work N (the whole job's "
                            "work, in the run's unit)\n");
            return USAGE_EXIT;
        }
        return from_run(&o, &a);
    }
    if (o.total_work > 0) {
        fprintf(stderr, "wattprint estimate: --total-work goes with --from RUN\n");
        return USAGE_EXIT;
    }
    if (o.hardware) {
        if (wp_hardware_find(o.hardware, &o.in.hw, sug, sizeof sug) != 0) {
            fprintf(stderr,
                    "wattprint estimate: --hardware: unknown '%s'; nearest: %s "
                    "(wattprint hardware lists them)\n",
                    o.hardware, sug);
            return USAGE_EXIT;
        }
        o.in.has_hardware = true;
    }
    if (o.model) {
        struct wp_model_info mi;
        FILE *f = fopen(o.model, "rb");
        if (!f) {
            fprintf(stderr, "wattprint estimate: --model %s: %s\n", o.model, strerror(errno));
            return USAGE_EXIT;
        }
        rc = wp_model_read(f, &mi, err, sizeof err);
        fclose(f);
        if (rc) {
            fprintf(stderr, "wattprint estimate: --model %s: %s\n", o.model, err);
            return USAGE_EXIT;
        }
        if (o.in.params > 0 && fabs(o.in.params - mi.params) > 0.01 * mi.params) {
            fprintf(stderr, "wattprint estimate: --params %.4g disagrees with %s's %.4g\n",
                    o.in.params, o.model, mi.params);
            return USAGE_EXIT;
        }
        o.in.params = mi.params;
        printf("model         %s: %s, %.4g parameters in %ld tensors, mostly %s\n", o.model,
               mi.format, mi.params, mi.tensors, mi.dtype);
    }
    if (wp_estimate(&o.in, &r, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint estimate: %s\n", err);
        return USAGE_EXIT;
    }

    out = json_object();
    assume = json_array();
    printf("wattprint estimate%s\n", o.in.inference ? " (training and inference)" : "");
    if (o.in.has_hardware)
        printf("  hardware      %.0f x %s (TDP %.0f W, peak %.4g TFLOP/s dense BF16/FP16)\n",
               o.in.count > 0 ? o.in.count : 1, o.in.hw.name, o.in.hw.tdp_w,
               o.in.hw.peak_flops / 1e12);
    if (r.flops > 0) {
        printf("  FLOPs         %.4g%s\n", r.flops,
               o.in.flops > 0 ? " (given)" : " (6 x params x tokens, Kaplan et al. 2020)");
        add_assumption(assume, "training FLOPs %.4g: %s", r.flops,
                       o.in.flops > 0 ? "given" : "6 x parameters x tokens");
    }
    if (r.device_hours > 0) {
        char d[32];
        wp_fmt_duration(r.wall_s, d, sizeof d);
        printf("  time          %.4g device-hours, %s wall (%s)\n", r.device_hours, d, r.time_from);
        add_assumption(assume, "device-hours from %s", r.time_from);
        if (strcmp(r.time_from, "FLOPs / (peak FLOP/s x MFU)") == 0) {
            printf("  utilisation   MFU %.3g: %s\n", r.mfu, r.mfu_source);
            add_assumption(assume, "MFU %.3g: %s", r.mfu, r.mfu_source);
        }
    }
    printf("  power         %s%s\n", r.power_w_per_device > 0 ? "" : "whole system, ",
           r.power_from);
    add_assumption(assume, "power: %s%s", r.power_w_per_device > 0 ? "" : "whole system, ",
                   r.power_from);
    if (r.power_w_per_device > 0)
        add_assumption(assume, "%.4g W per device", r.power_w_per_device);
    add_assumption(assume, "PUE %.3g: %s", a.pue, a.pue_source);
    add_assumption(assume, "grid intensity %.4g g/kWh (%s): %s", a.region.intensity_g_per_kwh,
                   a.region.name, a.intensity_source);
    if (r.it_energy_j > 0)
        print_carbon(&a, r.it_energy_j, out, "training");
    if (r.it_energy_j > 0 && o.in.tokens > 0) {
        char e[32];
        wp_fmt_energy(r.it_energy_j / o.in.tokens, e, sizeof e);
        printf("  per token     %s IT energy per training token\n", e);
        json_object_set_new(out, "energy_per_token_j", json_real(r.it_energy_j / o.in.tokens));
    }
    if (r.it_energy_j > 0 && r.flops > 0) {
        double per_flop = r.it_energy_j / r.flops;
        printf("  per FLOP      %.3g J, %.3g times Landauer's limit (kT ln 2 at 300 K, %.3g J "
               "per bit): an order of magnitude for context\n",
               per_flop, per_flop / WP_LANDAUER_J, WP_LANDAUER_J);
        json_object_set_new(out, "energy_per_flop_j", json_real(per_flop));
        json_object_set_new(out, "landauer_ratio", json_real(per_flop / WP_LANDAUER_J));
    }
    if (o.in.inference) {
        char d[32];
        wp_fmt_duration(r.inf_device_hours * 3600.0, d, sizeof d);
        printf("  inference     %.4g tokens (2 x params FLOPs each): %.4g FLOPs, %.4g "
               "device-hours at MFU %.3g\n",
               r.inf_tokens, r.inf_flops, r.inf_device_hours, r.mfu);
        print_carbon(&a, r.inf_energy_j, out, "inference");
        json_object_set_new(out, "inference_flops", json_real(r.inf_flops));
        json_object_set_new(out, "inference_device_hours", json_real(r.inf_device_hours));
        json_object_set_new(out, "inference_tokens", json_real(r.inf_tokens));
        if (r.it_energy_j > 0) {
            double share = r.it_energy_j / (r.it_energy_j + r.inf_energy_j);
            printf("  split         training %.1f%%, inference %.1f%% of the energy\n", 100 * share,
                   100 * (1 - share));
            json_object_set_new(out, "training_share", json_real(share));
        }
        add_assumption(assume, "inference: 2 x parameters FLOPs per token, at the same MFU");
    }
    printf("  assumptions   PUE %.3g (%s); %.4g g/kWh, %s (%s)\n", a.pue, a.pue_source,
           a.region.intensity_g_per_kwh, a.region.name, a.intensity_source);
    json_object_set_new(out, "flops", json_real(r.flops));
    json_object_set_new(out, "device_hours", json_real(r.device_hours));
    json_object_set_new(out, "wall_s", json_real(r.wall_s));
    json_object_set_new(out, "pue", json_real(a.pue));
    json_object_set_new(out, "intensity_g_per_kwh", json_real(a.region.intensity_g_per_kwh));
    json_object_set_new(out, "region", json_string(a.region.code));
    json_object_set_new(out, "mfu", json_real(r.mfu));
    json_object_set_new(out, "power_w_per_device",
                        r.power_w_per_device > 0 ? json_real(r.power_w_per_device) : json_null());
    json_object_set_new(out, "hardware",
                        o.in.has_hardware ? json_string(o.in.hw.name) : json_null());
    json_object_set_new(out, "count", json_real(o.in.count > 0 ? o.in.count : 1));
    json_object_set_new(out, "assumptions", assume);
    if (o.json_path)
        rc = write_json(out, o.json_path);
    json_decref(out);
    return rc;
}

static const char hw_usage[] = "usage: wattprint hardware\n\nLists the hardware the estimator "
                               "knows: TDP, peak FLOP/s and utilisation.\n";

int wp_cmd_hardware(int argc, char **argv)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fputs(hw_usage, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    wp_hardware_print(stdout);
    return 0;
}
