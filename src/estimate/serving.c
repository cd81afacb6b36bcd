/* The serving model's arithmetic, and its calibration on the bundled
 * measurements (data/inference_runs.csv). */
#include "serving.h"

#include "calibrate.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_inference_runs[];
extern const size_t wp_data_inference_runs_len;

#define KV_BYTES      2.0    /* the KV cache is kept in 16 bits whatever the weights */
#define MEMORY_USABLE 0.9    /* of the devices' memory, as vLLM's default reserves */
#define POWER_COMPUTE 0.9    /* prefill near the power limit: Patel et al. 2024 */
#define COMPUTE_MFU   0.5    /* compute-bound inference kernels: assumed */
#define SPARSE_BYTES  0.5625 /* 2:4 sparsity: half the values plus 2-bit indices */
#define MAX_ROWS      64

static const struct {
    const char *name;
    enum wp_precision p;
    double bytes; /* per weight */
} precisions[] = {
    {"fp32", WP_FP32, 4}, {"fp16", WP_FP16, 2}, {"bf16", WP_BF16, 2},
    {"fp8", WP_FP8, 1},   {"int8", WP_INT8, 1}, {"int4", WP_INT4, 0.5625}, /* + group scales */
};

int wp_precision_parse(const char *s, enum wp_precision *out)
{
    for (size_t i = 0; i < sizeof precisions / sizeof *precisions; i++)
        if (strcasecmp(s, precisions[i].name) == 0) {
            *out = precisions[i].p;
            return 0;
        }
    return -EINVAL;
}

const char *wp_precision_name(enum wp_precision p)
{
    return precisions[p].name;
}

/* The peak that the precision's matrix products run at: FP8 and INT8 where
 * the hardware has them, else FP16 (weights dequantised; INT4 is always
 * weight-only). */
static double peak_for(const struct wp_hardware *hw, enum wp_precision p, const char **kind)
{
    *kind = "BF16/FP16";
    if (p == WP_FP32 && hw->peak_fp32_flops > 0) {
        *kind = "FP32";
        return hw->peak_fp32_flops;
    }
    if (p == WP_FP8 && hw->peak_fp8_flops > 0) {
        *kind = "FP8";
        return hw->peak_fp8_flops;
    }
    if (p == WP_INT8 && hw->peak_int8_ops > 0) {
        *kind = "INT8";
        return hw->peak_int8_ops;
    }
    return hw->peak_flops;
}

static int fail(char *err, size_t cap, int rc, const char *why)
{
    snprintf(err, cap, "%s", why);
    return rc;
}

/* Layers, width and KV width from the parameter count where the model file
 * did not give them: N = 12 L d^2 with d = 128 L (Llama 2 7B: 32 x 4096),
 * and grouped-query attention with 8 KV heads of 128 above d = 1024. */
static void shape(const struct wp_serve_in *in, double n, struct wp_serve_out *o)
{
    o->layers = in->layers > 0 ? in->layers : fmax(1, round(cbrt(n / (12.0 * 128 * 128))));
    o->hidden = in->hidden > 0 ? in->hidden : 128 * o->layers;
    o->kv_dim = in->kv_dim > 0 ? in->kv_dim : fmin(o->hidden, 1024);
    o->shape_assumed = !(in->layers > 0 && in->hidden > 0 && in->kv_dim > 0);
}

static int check(const struct wp_serve_in *in, char *err, size_t cap)
{
    if (!(in->params > 0) || !(in->count >= 1) || !(in->batch >= 1) || !(in->output_tokens >= 1) ||
        !(in->input_tokens >= 0))
        return fail(err, cap, -EINVAL, "serving needs parameters, devices, a batch and tokens");
    if (in->active_params > in->params)
        return fail(err, cap, -EINVAL, "active parameters exceed the total");
    if (!(in->hw.memory_bw_bytes_s > 0) || !(in->hw.peak_flops > 0) || !(in->hw.tdp_w > 0))
        return fail(err, cap, -EINVAL,
                    "the hardware has no memory bandwidth, peak FLOP/s or power figure");
    return 0;
}

int wp_serve_model(const struct wp_serve_in *in, const struct wp_serve_consts *c,
                   struct wp_serve_out *o, char *err, size_t cap)
{
    double active, g = in->count, b = in->batch, ctx, read_params, bpp, t_mem, t_comp, u;
    double peak, tdp = in->hw.tdp_w, pf_flops;
    int rc;

    memset(o, 0, sizeof *o);
    if ((rc = check(in, err, cap)))
        return rc;
    active = in->active_params > 0 ? in->active_params : in->params;
    shape(in, active, o);
    bpp = precisions[in->precision].bytes * (in->sparsity > 0 ? SPARSE_BYTES : 1.0);
    peak = peak_for(&in->hw, in->precision, &o->peak_kind) * (in->sparsity > 0 ? 2.0 : 1.0);
    o->peak_used = peak;
    o->weight_bytes = in->params * bpp;
    o->kv_bytes_per_token = 2.0 * o->layers * o->kv_dim * KV_BYTES;
    o->memory_needed_bytes =
        o->weight_bytes + b * (in->input_tokens + in->output_tokens) * o->kv_bytes_per_token;
    if (in->hw.memory_bytes > 0 &&
        o->memory_needed_bytes > MEMORY_USABLE * g * in->hw.memory_bytes) {
        snprintf(err, cap,
                 "%.4g GB of weights and KV cache do not fit in %.0f x %s (%.4g GB usable)",
                 o->memory_needed_bytes / 1e9, g, in->hw.name,
                 MEMORY_USABLE * g * in->hw.memory_bytes / 1e9);
        return -E2BIG;
    }
    /* Prefill: 2N FLOPs per prompt token plus causal attention. */
    pf_flops = 2.0 * active * in->input_tokens +
               2.0 * o->layers * in->input_tokens * in->input_tokens * o->hidden;
    o->prefill_s = pf_flops / (g * peak * c->mfu);
    o->prefill_energy_j = g * tdp * c->power_compute * o->prefill_s;
    /* Decode at the mean context. Experts: a batch touches more of them. */
    ctx = in->input_tokens + in->output_tokens / 2.0;
    read_params = fmin(in->params, active * b);
    o->weight_read_bytes = read_params * bpp;
    t_mem = (o->weight_read_bytes + b * ctx * o->kv_bytes_per_token) /
            (g * in->hw.memory_bw_bytes_s * c->bw_fraction);
    t_comp = b * (2.0 * active + 4.0 * o->layers * ctx * o->hidden) / (g * peak * c->mfu);
    o->step_s = fmax(t_mem, t_comp);
    o->memory_bound = t_mem >= t_comp;
    u = t_comp / o->step_s;
    o->power_w_per_device = tdp * (c->power_memory + (c->power_compute - c->power_memory) * u);
    o->decode_energy_j = g * o->power_w_per_device * o->step_s * in->output_tokens / b;
    o->energy_per_query_j = o->prefill_energy_j + o->decode_energy_j;
    o->energy_per_token_j = o->energy_per_query_j / in->output_tokens;
    o->query_s = o->prefill_s + o->step_s * in->output_tokens;
    o->tokens_per_s = b / o->step_s;
    o->energy_lo_factor = c->spread_lo;
    o->energy_hi_factor = c->spread_hi;
    return 0;
}

struct meas {
    struct wp_serve_in in;
    double energy_per_token_j, time_per_token_s;
    char id[64];
};

/* One measurement as the model's input; 0, or -EINVAL if it cannot be used. */
static int row_to_meas(const struct wp_csv *h, const struct wp_csv *r, struct meas *m)
{
    memset(m, 0, sizeof *m);
    if (wp_hardware_find(wp_csv_get(h, r, "hardware"), &m->in.hw, NULL, 0) != 0 ||
        wp_precision_parse(wp_csv_get(h, r, "precision"), &m->in.precision) != 0)
        return -EINVAL;
    snprintf(m->id, sizeof m->id, "%s", wp_csv_get(h, r, "id"));
    m->in.params = wp_csv_positive(h, r, "params", 0);
    m->in.active_params = wp_csv_positive(h, r, "active_params", 0);
    m->in.layers = wp_csv_positive(h, r, "layers", 0);
    m->in.hidden = wp_csv_positive(h, r, "hidden", 0);
    m->in.kv_dim = wp_csv_positive(h, r, "kv_dim", 0);
    m->in.count = wp_csv_positive(h, r, "count", 1);
    m->in.batch = wp_csv_positive(h, r, "batch", 1);
    m->in.input_tokens = wp_csv_positive(h, r, "input_tokens", WP_SERVE_DEFAULT_INPUT);
    m->in.output_tokens = wp_csv_positive(h, r, "output_tokens", WP_SERVE_DEFAULT_OUTPUT);
    m->energy_per_token_j = wp_csv_positive(h, r, "energy_per_token_j", 0);
    m->time_per_token_s = wp_csv_positive(h, r, "time_per_token_s", 0);
    return m->energy_per_token_j > 0 && m->time_per_token_s > 0 ? 0 : -EINVAL;
}

/* Achieved bandwidth = the ideal step time / the measured time per token;
 * power fraction = measured power / power figure; geometric means. */
int wp_serve_calibration(struct wp_serve_consts *c)
{
    static struct meas m[MAX_ROWS];
    struct wp_csv h, r;
    struct wp_serve_consts ideal = {1, 1, 1, COMPUTE_MFU, 1, 1, 0, ""};
    double lb = 0, lp = 0, ratio[MAX_ROWS];
    char err[256];
    int n = 0;
    size_t used = 0;

    memset(c, 0, sizeof *c);
    wp_csv_init(&h, wp_data_inference_runs, wp_data_inference_runs_len);
    if (wp_csv_next(&h) != 1)
        return -ENOENT;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (n < MAX_ROWS && wp_csv_next(&r) == 1) {
        struct wp_serve_out o;
        if (strcmp(wp_csv_get(&h, &r, "role"), "fit") != 0 || row_to_meas(&h, &r, &m[n]) != 0 ||
            wp_serve_model(&m[n].in, &ideal, &o, err, sizeof err) != 0)
            continue;
        lb += log(o.step_s / m[n].time_per_token_s);
        lp += log(m[n].energy_per_token_j / m[n].time_per_token_s / m[n].in.hw.tdp_w);
        used += (size_t)snprintf(c->ids + used, used < sizeof c->ids ? sizeof c->ids - used : 0,
                                 "%s%s", n ? ", " : "", m[n].id);
        n++;
    }
    if (n == 0)
        return -ENOENT;
    c->bw_fraction = exp(lb / n);
    c->power_memory = fmin(exp(lp / n), POWER_COMPUTE);
    c->power_compute = POWER_COMPUTE;
    c->mfu = COMPUTE_MFU;
    c->rows = n;
    c->spread_lo = c->spread_hi = 1;
    for (int i = 0; i < n; i++) {
        struct wp_serve_out o;
        wp_serve_model(&m[i].in, c, &o, err, sizeof err);
        ratio[i] = m[i].energy_per_token_j / o.energy_per_token_j;
    }
    c->spread_lo = fmin(wp_cal_percentile(ratio, n, 0.1), 1.0);
    c->spread_hi = fmax(wp_cal_percentile(ratio, n, 0.9), 1.0);
    return 0;
}
