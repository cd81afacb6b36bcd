/* wattprint estimate: the footprint of training and inference from what is
 * known, or of a whole job from a short measured run. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "ledger_opts.h"

#include "../estimate/model_file.h"
#include "estimate_out.h"
#include "../util/util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint estimate [inputs] [--json PATH]\n"
    "\n"
    "Training:  --params N --tokens D (FLOPs = 6ND) | --flops F | --model FILE\n"
    "           [--active-params N] (mixture of experts: FLOPs from the active ones)\n"
    "           [--teacher-params N] (distillation: 2N FLOPs per token more)\n"
    "           [--trainable-params N|FRACTION] (LoRA, frozen layers: (4 + 2f) x N x D)\n"
    "           --hardware NAME [--count G] [--mfu U] (default: calibrated on published runs)\n"
    "           --hours H (wall) | --device-hours H\n"
    "           --power W (average per device; default the power figure) | --power-total W\n"
    "Inference: --inference --params N --tokens-per-query T --queries-per-day Q --days N\n"
    "           --hardware NAME [--count G] (devices per replica)\n"
    "           [--batch auto|B] (default auto: the batch the load gives, Little's law)\n"
    "           [--precision fp32|fp16|bf16|fp8|int8|int4|fp4|nvfp4|mxfp4]\n"
    "           [--kv-precision P] (default: 16-bit, as vLLM keeps it) [--beams K]\n"
    "           [--architecture dense|moe|hybrid] [--input-tokens I] [--power W]\n"
    "           [--compare KEY=VALUE[,KEY=VALUE]]... (precision, kv-precision, params,\n"
    "           active-params, batch, beams, count, hardware, sparsity=2:4): side by side\n"
    "From a run: --from RUN|last --total-work N  (its energy per unit of work, scaled)\n"
    "           --from RUN --inference --tokens-per-query T --queries-per-day Q --days N\n"
    "Carbon:    --region CODE --intensity G --pue X --provider NAME --wue L\n"
    "           --offsite-wue L --embodied-g G --lifetime-years Y\n"
    "\n"
    "wattprint hardware lists the hardware names. Every assumption is printed.\n";

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

enum {
    O_NUMERIC = 256, /* the numeric options: O_NUMERIC + their index in numeric[] */
    O_HW = 512,
    O_MODEL,
    O_INF,
    O_FROM,
    O_JSON,
    O_LEDGER,
    O_PRECISION,
    O_COMPARE,
    O_INPUT,
    O_BATCH,
    O_KV,
    O_ARCH,
};

/* Every numeric option: its name, where it goes, and its largest value. */
#define IN(f) offsetof(struct est_opts, in.f)
static const struct {
    const char *name;
    size_t offset;
    double max;
} numeric[] = {
    {"params", IN(params), 1e15},
    {"tokens", IN(tokens), 1e18},
    {"flops", IN(flops), 1e32},
    {"count", IN(count), 1e7},
    {"mfu", IN(mfu), 1.0},
    {"hours", IN(hours), 1e6},
    {"device-hours", IN(device_hours), 1e12},
    {"power", IN(power_w), 1e5},
    {"power-total", IN(power_total_w), 1e10},
    {"tokens-per-query", IN(tokens_per_query), 1e9},
    {"queries-per-day", IN(queries_per_day), 1e13},
    {"days", IN(days), 1e5},
    {"active-params", IN(active_params), 1e15},
    {"teacher-params", IN(teacher_params), 1e15},
    {"trainable-params", IN(trainable), 1e15},
    {"beams", IN(beams), 64},
    {"total-work", offsetof(struct est_opts, total_work), 1e30},
};
#define N_NUMERIC (sizeof numeric / sizeof *numeric)

static void make_longopts(struct option *lo)
{
    static const struct option rest[] = {
        {"hardware", required_argument, NULL, O_HW},
        {"model", required_argument, NULL, O_MODEL},
        {"inference", no_argument, NULL, O_INF},
        {"from", required_argument, NULL, O_FROM},
        {"json", required_argument, NULL, O_JSON},
        {"ledger", required_argument, NULL, O_LEDGER},
        {"precision", required_argument, NULL, O_PRECISION},
        {"compare", required_argument, NULL, O_COMPARE},
        {"input-tokens", required_argument, NULL, O_INPUT},
        {"batch", required_argument, NULL, O_BATCH},
        {"kv-precision", required_argument, NULL, O_KV},
        {"architecture", required_argument, NULL, O_ARCH},
        {"help", no_argument, NULL, 'h'},
        WP_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    size_t k = 0;
    for (size_t i = 0; i < N_NUMERIC; i++)
        lo[k++] = (struct option){numeric[i].name, required_argument, NULL, O_NUMERIC + (int)i};
    memcpy(lo + k, rest, sizeof rest);
}

static int parse_other(int c, struct est_opts *o)
{
    double v;
    switch (c) {
    case O_HW:
        o->hardware = optarg;
        return 0;
    case O_MODEL:
        o->model = optarg;
        return 0;
    case O_INF:
        o->in.inference = true;
        return 0;
    case O_FROM:
        o->from = optarg;
        return 0;
    case O_JSON:
        o->json_path = optarg;
        return 0;
    case O_LEDGER:
        o->ledger = optarg;
        return 0;
    case O_PRECISION:
        return wp_precision_parse(optarg, &o->in.precision) == 0
                   ? 0
                   : bad("--precision", optarg,
                         "fp32, fp16, bf16, fp8, int8, int4, fp4 (NVFP4), nvfp4 or mxfp4");
    case O_COMPARE:
        if (o->ncompare >= WP_EST_MAX_COMPARE)
            return bad("--compare", optarg, "allowed: at most 8 alternatives");
        o->compare[o->ncompare++] = optarg;
        return 0;
    case O_BATCH:
        if (strcmp(optarg, "auto") == 0) {
            o->in.batch = 0;
            return 0;
        }
        if (wp_parse_double(optarg, &v) || !(v >= 1) || v > 1e6)
            return bad("--batch", optarg, "'auto' or a number of queries from 1 to 1e6");
        o->in.batch = v;
        return 0;
    case O_KV:
        o->in.kv_given = true;
        return wp_precision_parse(optarg, &o->in.kv_precision) == 0
                   ? 0
                   : bad("--kv-precision", optarg, "fp32, fp16, bf16, fp8, int8 or int4");
    case O_ARCH:
        if (strcmp(optarg, "dense") && strcmp(optarg, "moe") && strcmp(optarg, "hybrid"))
            return bad("--architecture", optarg, "dense, moe or hybrid");
        o->in.hybrid = strcmp(optarg, "hybrid") == 0;
        o->arch_moe = strcmp(optarg, "moe") == 0;
        return 0;
    case O_INPUT:
        if (wp_parse_double(optarg, &v) || !(v >= 0) || v > 1e7)
            return bad("--input-tokens", optarg, "a number of tokens from 0 to 1e7");
        o->in.input_tokens = v;
        return 0;
    }
    return 1;
}

static int parse(int argc, char **argv, struct est_opts *o)
{
    struct option longopts[N_NUMERIC + 24];
    int c;

    make_longopts(longopts);
    o->in.input_tokens = WP_SERVE_DEFAULT_INPUT;
    o->in.precision = WP_FP16;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int carbon = wp_cli_carbon_opt("wattprint estimate", c, optarg, &o->carbon), rc;
        char name[40];
        if (carbon < 0)
            return -1;
        if (carbon > 0)
            continue;
        if (c >= O_NUMERIC && c < O_NUMERIC + (int)N_NUMERIC) {
            size_t i = (size_t)(c - O_NUMERIC);
            snprintf(name, sizeof name, "--%s", numeric[i].name);
            if (positive(name, optarg, numeric[i].max, (double *)((char *)o + numeric[i].offset)))
                return -1;
            continue;
        }
        if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        }
        if (c == ':') {
            fprintf(stderr, "wattprint estimate: %s needs a value\n", argv[optind - 1]);
            return -1;
        }
        if ((rc = parse_other(c, o)) < 0)
            return -1;
        if (rc > 0) {
            fprintf(stderr, "wattprint estimate: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wattprint estimate: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* The run's 10th and 90th percentile of sampled power, as factors of its
 * mean; left at 1 with fewer than 3 intervals. */
static void power_spread(json_t *samples, double mean_w, double *lo_f, double *hi_f)
{
    json_t *t = wp_json_get(samples, WPF_T_S), *ej = wp_json_get(samples, WPF_ENERGY_J);
    size_t n = json_array_size(t);
    double *pw = n > 1 ? calloc(n - 1, sizeof *pw) : NULL;
    int k = 0;

    for (size_t i = 1; pw && i < n; i++) {
        double dt =
            json_number_value(json_array_get(t, i)) - json_number_value(json_array_get(t, i - 1));
        double de = 0;
        json_t *row = json_array_get(ej, i), *prev = json_array_get(ej, i - 1);
        for (size_t c = 0; c < json_array_size(row); c++)
            de += json_number_value(json_array_get(row, c)) -
                  json_number_value(json_array_get(prev, c));
        if (dt > 0)
            pw[k++] = de / dt;
    }
    if (k >= 3) {
        *lo_f = wp_cal_percentile(pw, k, 0.1) / mean_w;
        *hi_f = wp_cal_percentile(pw, k, 0.9) / mean_w;
    }
    free(pw);
}

/* --from with --inference: the same figures under the serving names. */
static void serving_keys(const struct est_opts *o, json_t *out, double total_e, double lo_f,
                         double hi_f, double per_unit)
{
    double per_query = per_unit * (o->in.tokens_per_query > 0 ? o->in.tokens_per_query : 1);
    wp_cli_put(out, "inference_it_energy_j", json_real(total_e));
    wp_cli_put(out, "inference_it_energy_range_j",
               json_pack("[f,f]", total_e * lo_f, total_e * hi_f));
    wp_cli_put(out, "energy_per_token_j", json_real(per_unit));
    wp_cli_put(out, "energy_per_query_j", json_real(per_query));
}

/* --from RUN --total-work N: a short measured run, scaled to the whole job. */
static int from_run(struct est_opts *o, struct wp_assumptions *a)
{
    struct wp_ledger_opts lo = {.ledger_path = o->ledger};
    struct wp_ledger *l = wp_cli_ledger_open("wattprint estimate", &lo, WP_LEDGER_READ);
    char err[1024], e[32], f[48], d[32], one[32], range[112];
    json_t *run, *work, *out;
    double done, energy, duration, per_unit, total_e, lo_f = 1, hi_f = 1;

    if (!l)
        return 1;
    run = wp_ledger_get(l, o->from, true, err, sizeof err);
    wp_ledger_close(l);
    if (!run) {
        fprintf(stderr, "wattprint estimate: %s\n", err);
        return 1;
    }
    work = wp_json_get(run, WPF_WORK);
    done = wp_json_num(work, WPF_DONE);
    if (!(done > 0)) {
        fprintf(stderr,
                "wattprint estimate: run %s reported no work (the program writes "
                "done=N to WATTPRINT_PROGRESS)\n",
                wp_json_str(run, WPF_RUN_ID));
        json_decref(run);
        return USAGE_EXIT;
    }
    energy = wp_json_num(wp_json_get(run, WPF_ENERGY), WPF_TOTAL_J);
    duration = wp_json_num(run, WPF_DURATION_S);
    per_unit = energy / done;
    total_e = per_unit * o->total_work;
    if (energy > 0 && duration > 0)
        power_spread(wp_json_get(run, WPF_SAMPLES), energy / duration, &lo_f, &hi_f);
    wp_fmt_energy(per_unit, e, sizeof e);
    wp_fmt_count(done, f, sizeof f);
    wp_unit_singular(wp_json_str(work, WPF_UNIT), one, sizeof one);
    printf("wattprint estimate: from run %.18s (%s %s in %.3g s, %s energy)\n",
           wp_json_str(run, WPF_RUN_ID), f, wp_json_str(work, WPF_UNIT), duration,
           wp_json_str(run, WPF_METHOD));
    printf("  per %-9s %s IT energy (%.4g J / %s)\n", one, e, energy, f);
    wp_est_fmt_energy_range(total_e, total_e * lo_f, total_e * hi_f, range, sizeof range);
    wp_fmt_duration(duration / done * o->total_work, d, sizeof d);
    wp_fmt_count(o->total_work, f, sizeof f);
    printf("  whole job     %s %s: %s IT energy, %s on this machine\n", f,
           wp_json_str(work, WPF_UNIT), range, d);
    /* The run's own PUE and intensity unless new ones were given. */
    /* (a configuration file's default is not a new one: the run knows better) */
    if (!(o->carbon.pue_set && !o->carbon.pue_from) &&
        !(o->carbon.provider && !o->carbon.provider_from))
        a->pue = wp_json_num(run, WPF_PUE);
    if (!(o->carbon.region && !o->carbon.region_from) && !o->carbon.intensity_set &&
        !getenv("WATTPRINT_REGION"))
        a->region.intensity_g_per_kwh =
            json_number_value(wp_json_get(wp_json_get(run, WPF_CARBON), WPF_INTENSITY_G_PER_KWH));
    out = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "from",
                    wp_json_str(run, WPF_RUN_ID), "unit", wp_json_str(work, WPF_UNIT), "total_work",
                    o->total_work, "energy_per_unit_j", per_unit, "wall_s",
                    duration / done * o->total_work, "it_energy_low_j", total_e * lo_f,
                    "it_energy_high_j", total_e * hi_f, "pue", a->pue, "intensity_g_per_kwh",
                    a->region.intensity_g_per_kwh, "device_hours",
                    duration / done * o->total_work / 3600.0, "flops", 0.0);
    wp_est_print_carbon(a, total_e, out, o->in.inference ? "serving" : "training", "");
    if (o->in.inference)
        serving_keys(o, out, total_e, lo_f, hi_f, per_unit);
    printf("  method        linear in work: the job at the measured energy per unit%s\n",
           strchr(range, '(') ? "; the range is the job at the run's 10th and 90th percentile "
                                "of power"
                              : " (the run's power did not vary: no range)");
    json_decref(run);
    {
        int rc = o->json_path ? wp_est_write_json(out, o->json_path) : 0;
        json_decref(out);
        return rc;
    }
}

static int resolve_hardware(struct est_opts *o)
{
    char sug[512];
    if (!o->hardware)
        return 0;
    if (wp_hardware_find(o->hardware, &o->in.hw, sug, sizeof sug) != 0) {
        fprintf(stderr,
                "wattprint estimate: --hardware: unknown '%s'; %s: %s (wattprint hardware "
                "lists them)\n",
                o->hardware, strchr(sug, '-') ? "that family has" : "nearest", sug);
        return -1;
    }
    o->in.has_hardware = true;
    if (o->in.hw.per_unit > 1) { /* a system: --count counts systems */
        double units = o->in.count > 0 ? o->in.count : 1;
        o->in.count = units * o->in.hw.per_unit;
        o->units = units;
    }
    return 0;
}

/* --model: parameters, experts and shape from the file's header. */
static int read_model(struct est_opts *o)
{
    struct wp_model_info mi;
    char err[512];
    double active;
    FILE *f;
    int rc;

    if (!o->model)
        return 0;
    if (!(f = fopen(o->model, "rb"))) {
        fprintf(stderr, "wattprint estimate: --model %s: %s\n", o->model, strerror(errno));
        return -1;
    }
    rc = wp_model_read(f, &mi, err, sizeof err);
    fclose(f);
    if (rc) {
        fprintf(stderr, "wattprint estimate: --model %s: %s\n", o->model, err);
        return -1;
    }
    if (o->in.params > 0 && fabs(o->in.params - mi.params) > 0.01 * mi.params) {
        fprintf(stderr, "wattprint estimate: --params %.4g disagrees with %s's %.4g\n",
                o->in.params, o->model, mi.params);
        return -1;
    }
    o->in.params = mi.params;
    o->in.layers = (double)mi.layers;
    o->in.hidden = (double)mi.hidden;
    o->in.kv_dim = (double)mi.kv_dim;
    {
        char dtype[4 * sizeof mi.dtype], path[1024];
        wp_term_safe(mi.dtype, dtype, sizeof dtype); /* a file's text never drives the terminal */
        wp_term_safe(o->model, path, sizeof path);
        printf("model         %s: %s, %.4g parameters in %ld tensors, mostly %s\n", path, mi.format,
               mi.params, mi.tensors, dtype);
    }
    if (mi.experts > 0) {
        active = wp_model_active_params(&mi);
        if (active > 0 && !(o->in.active_params > 0))
            o->in.active_params = active;
        printf("  experts     %ld, %ld used per token: %.4g active parameters%s\n", mi.experts,
               mi.experts_used, o->in.active_params,
               active > 0 ? ""
                          : " (the file does not say how many are used: give --active-params)");
        if (!(o->in.active_params > 0)) {
            fprintf(stderr,
                    "wattprint estimate: --model %s has %ld experts but does not say "
                    "how many each token uses: give --active-params N\n",
                    o->model, mi.experts);
            return -1;
        }
    }
    return 0;
}

static void print_header(const struct est_opts *o)
{
    bool training =
        o->in.tokens > 0 || o->in.flops > 0 || o->in.hours > 0 || o->in.device_hours > 0;
    printf("wattprint estimate%s\n", !o->in.inference ? ""
                                     : training       ? " (training and inference)"
                                                      : " (inference)");
    if (o->in.has_hardware)
        printf(
            "  hardware      %.0f x %s (%.0f W %s, peak %.4g TFLOP/s dense BF16/FP16, %.4g GB at "
            "%.4g GB/s)\n",
            o->in.count > 0 ? o->in.count : 1, o->in.hw.name, o->in.hw.tdp_w, o->in.hw.power_kind,
            o->in.hw.peak_flops / 1e12, o->in.hw.memory_bytes / 1e9,
            o->in.hw.memory_bw_bytes_s / 1e9);
    if (o->in.has_hardware && o->in.hw.per_unit > 1)
        printf("                that is %.4g x %s of %.4g devices each (--count counts the "
               "unit named)\n",
               o->units, o->in.hw.unit, o->in.hw.per_unit);
}

static void print_utilisation(const struct wp_est_out *r, json_t *out, json_t *assume)
{
    const struct wp_mfu_fit *f = &r->fit;
    if (!r->calibrated) {
        printf("  utilisation   MFU %.3g: %s\n", r->mfu, wp_est_from_text("mfu", r->mfu_from));
        wp_est_assume(assume, "MFU %.3g: %s", r->mfu, wp_est_from_text("mfu", r->mfu_from));
        return;
    }
    printf("  utilisation   MFU %.3g (%.3g to %.3g, the 90 %% band of a new run's error): fitted "
           "on %d published %s runs%s\n",
           r->mfu, f->mfu_lo, f->mfu_hi, f->rows, f->generation,
           f->borrowed ? " (none on this hardware's own generation)" : "");
    printf("                runs: %s\n", f->ids);
    wp_est_assume(assume,
                  "MFU %.3g (5th-95th percentile of leave-one-out errors %.3g-%.3g) fitted on %d "
                  "published %s "
                  "training runs: %s",
                  r->mfu, f->mfu_lo, f->mfu_hi, f->rows, f->generation, f->ids);
    wp_cli_put(out, "mfu_range", json_pack("[f,f]", f->mfu_lo, f->mfu_hi));
    wp_cli_put(out, "calibration_runs", json_string(f->ids));
}

static void print_training(const struct est_opts *o, const struct wp_est_out *r,
                           const struct wp_assumptions *a, json_t *out, json_t *assume)
{
    if (r->flops > 0) {
        bool partial = r->trainable_fraction < 1 && !(o->in.flops > 0);
        printf("  FLOPs         %.4g%s%s\n", r->flops,
               o->in.flops > 0 ? " (given)"
               : partial       ? " ((4 + 2 x trainable share) x params x tokens: frozen weights "
                                 "get no weight gradients)"
                               : " (6 x params x tokens, Kaplan et al. 2020)",
               o->in.teacher_params > 0 ? ", plus the teacher's 2 x params per token" : "");
        wp_est_assume(assume, "training FLOPs %.4g: %s", r->flops,
                      o->in.flops > 0 ? "given"
                      : partial       ? "(4 + 2 x trainable share) x (active) parameters x tokens"
                                      : "6 x (active) parameters x tokens");
        if (partial)
            wp_est_assume(assume, "trainable: %.3g of the parameters get weight gradients",
                          r->trainable_fraction);
        wp_cli_put(out, "trainable_fraction", json_real(r->trainable_fraction));
        if (o->in.active_params > 0)
            wp_est_assume(assume, "mixture of experts: %.4g of %.4g parameters active per token",
                          o->in.active_params, o->in.params);
    }
    if (r->device_hours > 0) {
        char d[32];
        wp_fmt_duration(r->wall_s, d, sizeof d);
        if (r->device_hours_hi > r->device_hours_lo)
            printf("  time          %.4g device-hours (%.4g to %.4g), %s wall (%s)\n",
                   r->device_hours, r->device_hours_lo, r->device_hours_hi, d,
                   wp_est_from_text("time", r->time_from));
        else
            printf("  time          %.4g device-hours, %s wall (%s)\n", r->device_hours, d,
                   wp_est_from_text("time", r->time_from));
        wp_est_assume(assume, "device-hours from %s", wp_est_from_text("time", r->time_from));
        if (r->time_from == WP_FROM_FLOPS) {
            print_utilisation(r, out, assume);
            printf("  goodput       %.3g of the device-hours train on %.0f devices (interruptions "
                   "and restarts grow with the cluster: Llama 3's 16,384 GPUs lost 10 %%)\n",
                   r->goodput, o->in.count > 0 ? o->in.count : 1);
            wp_est_assume(assume, "goodput %.3g on %.0f devices (1 / (1 + 6.78e-6 x devices))",
                          r->goodput, o->in.count > 0 ? o->in.count : 1);
            wp_cli_put(out, "goodput", json_real(r->goodput));
        }
    }
    wp_cli_put(out, "device_hours_range",
               json_pack("[f,f]", r->device_hours_lo, r->device_hours_hi));
    wp_cli_put(out, "it_energy_range_j", json_pack("[f,f]", r->it_energy_lo_j, r->it_energy_hi_j));
    if (r->it_energy_j > 0) {
        char e[96];
        wp_est_fmt_energy_range(r->it_energy_j, r->it_energy_lo_j, r->it_energy_hi_j, e, sizeof e);
        printf("  energy        %s IT: the accelerators\n", e);
        wp_est_print_carbon(a, r->it_energy_j, out, "training", "");
        wp_est_print_wall(r, r->server_energy_j, r->train_host, a, out, assume, "server_");
        if (r->server_power_w_per_device > 0)
            wp_cli_put(out, "server_power_w_per_device", json_real(r->server_power_w_per_device));
        wp_est_print_embodied(o, a, r->device_hours, out, "");
    }
    if (r->it_energy_j > 0 && o->in.tokens > 0) {
        char e[32];
        wp_fmt_energy(r->it_energy_j / o->in.tokens, e, sizeof e);
        printf("  per token     %s IT energy per training token (accelerators)\n", e);
        wp_cli_put(out, "energy_per_token_j", json_real(r->it_energy_j / o->in.tokens));
    }
    if (r->it_energy_j > 0 && r->flops > 0) {
        double per_flop = r->it_energy_j / r->flops;
        printf("  per FLOP      %.3g J, %.3g times Landauer's limit (kT ln 2 at 300 K, %.3g J "
               "per bit): an order of magnitude for context\n",
               per_flop, per_flop / WP_LANDAUER_J, WP_LANDAUER_J);
        wp_cli_put(out, "energy_per_flop_j", json_real(per_flop));
        wp_cli_put(out, "landauer_ratio", json_real(per_flop / WP_LANDAUER_J));
    }
}

static void set_common(const struct est_opts *o, const struct wp_est_out *r,
                       const struct wp_assumptions *a, json_t *out)
{
    bool inference_only = r->device_hours <= 0 && o->in.inference;
    wp_cli_put(out, "flops", json_real(inference_only ? r->inf_flops : r->flops));
    wp_cli_put(out, "device_hours",
               json_real(inference_only ? r->inf_device_hours : r->device_hours));
    if (inference_only) {
        wp_cli_put(out, "device_hours_range",
                   json_pack("[f,f]", r->inf_device_hours, r->inf_device_hours));
        wp_cli_put(out, "it_energy_range_j",
                   json_pack("[f,f]", r->inf_energy_lo_j, r->inf_energy_hi_j));
    }
    wp_cli_put(out, "wall_s", json_real(r->wall_s));
    wp_cli_put(out, "pue", json_real(a->pue));
    wp_cli_put(out, "intensity_g_per_kwh", json_real(a->region.intensity_g_per_kwh));
    wp_cli_put(out, "region", json_string(a->region.code));
    wp_cli_put(out, "mfu", json_real(r->mfu));
    wp_cli_put(out, "power_w_per_device",
               r->power_w_per_device > 0 ? json_real(r->power_w_per_device) : json_null());
    wp_cli_put(out, "hardware", o->in.has_hardware ? json_string(o->in.hw.name) : json_null());
    wp_cli_put(out, "count", json_real(o->in.count > 0 ? o->in.count : 1));
    wp_cli_put(out, "hardware_as_given", o->hardware ? json_string(o->hardware) : json_null());
    wp_cli_put(out, "devices_per_unit",
               json_real(o->in.has_hardware && o->in.hw.per_unit > 1 ? o->in.hw.per_unit : 1));
    wp_cli_put(out, "params", json_real(o->in.params));
    wp_cli_put(out, "active_params",
               json_real(o->in.active_params > 0 ? o->in.active_params : o->in.params));
    wp_cli_put(out, "teacher_params", json_real(o->in.teacher_params));
}

/* The power line: where the figure came from, and training's average draw
 * on a TDP. */
static void print_power(const struct est_opts *o, const struct wp_est_out *r, json_t *out,
                        json_t *assume)
{
    if (r->draw.mid > 0) {
        printf("  power         %.0f W per device while training: %.2g of the %.0f W TDP (%.2g "
               "to %.2g), the measured average of training runs, not the TDP; give --power if "
               "known\n",
               r->power_w_per_device, r->draw.mid, o->in.hw.tdp_w, r->draw.lo, r->draw.hi);
        wp_est_assume(assume,
                      "power: training draws %.2g of the TDP on average (%.2g to %.2g; measured "
                      "training runs, docs/methodology.md)",
                      r->draw.mid, r->draw.lo, r->draw.hi);
        wp_cli_put(out, "power_draw_fraction",
                   json_pack("[f,f,f]", r->draw.mid, r->draw.lo, r->draw.hi));
        return;
    }
    printf("  power         %s%s\n", r->power_w_per_device > 0 ? "" : "whole system, ",
           wp_est_from_text("power", r->power_from));
    wp_est_assume(assume, "power: %s%s", r->power_w_per_device > 0 ? "" : "whole system, ",
                  wp_est_from_text("power", r->power_from));
}

static int estimate_main(struct est_opts *o, struct wp_assumptions *a)
{
    struct wp_est_out r;
    char err[512];
    json_t *out, *assume;
    int rc;

    if (resolve_hardware(o) || read_model(o))
        return USAGE_EXIT;
    if (wp_estimate(&o->in, &r, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint estimate: %s\n", wp_est_problem_text(&r, err));
        return USAGE_EXIT;
    }
    out = json_object();
    assume = json_array();
    print_header(o);
    print_training(o, &r, a, out, assume);
    print_power(o, &r, out, assume);
    if (r.power_w_per_device > 0)
        wp_est_assume(assume, "%.4g W per device", r.power_w_per_device);
    if (o->in.inference)
        wp_est_print_serving(o, &r, a, out, assume);
    wp_est_assume(assume, "PUE %.3g: %s", a->pue, a->pue_source);
    wp_est_assume(assume, "grid intensity %.4g g/kWh (%s): %s", a->region.intensity_g_per_kwh,
                  a->region.name, a->intensity_source);
    printf("  assumptions   PUE %.3g (%s); %.4g g/kWh, %s (%s)\n", a->pue, a->pue_source,
           a->region.intensity_g_per_kwh, a->region.name, a->intensity_source);
    set_common(o, &r, a, out);
    wp_cli_put(out, "assumptions", assume);
    rc = o->ncompare > 0 ? wp_est_compare(o, &r, a, out) : 0;
    if (rc == 0 && o->json_path)
        rc = wp_est_write_json(out, o->json_path);
    json_decref(out);
    return rc;
}

int wp_cmd_estimate(int argc, char **argv)
{
    struct est_opts o = {0};
    struct wp_assumptions a;

    if (parse(argc, argv, &o) || wp_cli_carbon_resolve("wattprint estimate", &o.carbon, &a))
        return USAGE_EXIT;
    if (o.arch_moe && !(o.in.active_params > 0) && !o.model) {
        fprintf(stderr, "wattprint estimate: --architecture moe needs --active-params N (the "
                        "parameters each token passes through)\n");
        return USAGE_EXIT;
    }
    if (o.ncompare > 0 && !o.in.inference) {
        fprintf(stderr, "wattprint estimate: --compare goes with --inference (it compares "
                        "serving configurations)\n");
        return USAGE_EXIT;
    }
    if (o.from) {
        if (o.in.inference && !(o.total_work > 0) && o.in.tokens_per_query > 0 &&
            o.in.queries_per_day > 0 && o.in.days > 0)
            o.total_work = o.in.tokens_per_query * o.in.queries_per_day * o.in.days;
        if (!(o.total_work > 0)) {
            fprintf(stderr, "wattprint estimate: --from needs --total-work N (the whole job's "
                            "work, in the run's unit), or --inference with --tokens-per-query, "
                            "--queries-per-day and --days\n");
            return USAGE_EXIT;
        }
        return from_run(&o, &a);
    }
    if (o.total_work > 0) {
        fprintf(stderr, "wattprint estimate: --total-work goes with --from RUN\n");
        return USAGE_EXIT;
    }
    return estimate_main(&o, &a);
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
