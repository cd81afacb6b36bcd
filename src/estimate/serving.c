/* The serving model's arithmetic (serving.h), and its constants
 * (data/serving_model.csv, fitted by tools/fit_serving.py). */
#include "serving.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_serving_model[];
extern const size_t wp_data_serving_model_len;

#define MEMORY_USABLE 0.9    /* of the devices' memory, as vLLM's default reserves */
#define SPARSE_BYTES  0.5625 /* 2:4 sparsity: half the values plus 2-bit indices */

static const struct {
    const char *name;
    enum wp_precision p;
    double bytes; /* per weight, with the block scales of the 4-bit formats */
} precisions[] = {
    {"fp32", WP_FP32, 4},        {"fp16", WP_FP16, 2},
    {"bf16", WP_BF16, 2},        {"fp8", WP_FP8, 1},
    {"int8", WP_INT8, 1},        {"int4", WP_INT4, 0.5625},
    {"nvfp4", WP_NVFP4, 0.5625}, /* an FP8 scale per 16 */ {"mxfp4", WP_MXFP4, 0.53125},
};

int wp_precision_parse(const char *s, enum wp_precision *out)
{
    if (strcasecmp(s, "fp4") == 0) { /* NVIDIA's 4-bit float, the common meaning */
        *out = WP_NVFP4;
        return 0;
    }
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

enum wp_precision wp_kv_precision_default(enum wp_precision p)
{
    return p == WP_FP32 ? WP_FP32 : WP_BF16; /* vLLM's "auto" for 16-bit and quantised models */
}

static bool is_fp4(enum wp_precision p)
{
    return p == WP_NVFP4 || p == WP_MXFP4;
}

/* The peak the precision's products run at: FP8, FP4 and INT8 units where
 * the hardware has them (a low-precision kernel), else BF16/FP16 (weights
 * dequantised: INT4 is always weight-only). */
static double peak_for(const struct wp_hardware *hw, enum wp_precision p, const char **kind,
                       bool *lowp)
{
    *kind = "BF16/FP16";
    *lowp = true;
    if (p == WP_FP32 && hw->peak_fp32_flops > 0) {
        *kind = "FP32";
        *lowp = false;
        return hw->peak_fp32_flops;
    }
    if (p == WP_FP8 && hw->peak_fp8_flops > 0) {
        *kind = "FP8";
        return hw->peak_fp8_flops;
    }
    if (is_fp4(p) && hw->peak_fp4_flops > 0) {
        *kind = "FP4";
        return hw->peak_fp4_flops;
    }
    if (p == WP_INT8 && hw->peak_int8_ops > 0) {
        *kind = "INT8";
        return hw->peak_int8_ops;
    }
    *lowp = false;
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
        !(in->input_tokens >= 0) || in->beams < 0)
        return fail(err, cap, -EINVAL, "serving needs parameters, devices, a batch and tokens");
    if (in->active_params > in->params)
        return fail(err, cap, -EINVAL, "active parameters exceed the total");
    if (!(in->hw.memory_bw_bytes_s > 0) || !(in->hw.peak_flops > 0) || !(in->hw.tdp_w > 0))
        return fail(err, cap, -EINVAL,
                    "the hardware has no memory bandwidth, peak FLOP/s or power figure");
    return 0;
}

/* Memory: the weights must fit; the KV cache is paged, so a batch that
 * would not fit at the mean context runs at the batch that does. */
static int memory(const struct wp_serve_in *in, double seqs_per_query, struct wp_serve_out *o,
                  char *err, size_t cap)
{
    double usable = MEMORY_USABLE * in->count * in->hw.memory_bytes;
    double per_query =
        seqs_per_query * (in->input_tokens + in->output_tokens / 2.0) * o->kv_bytes_per_token;

    o->batch = in->batch;
    o->batch_fits = INFINITY;
    o->memory_needed_bytes = o->weight_bytes + in->batch * per_query;
    if (!(in->hw.memory_bytes > 0))
        return 0;
    if (o->weight_bytes > usable) {
        snprintf(err, cap, "%.4g GB of weights do not fit in %.0f x %s (%.4g GB usable)",
                 o->weight_bytes / 1e9, in->count, in->hw.name, usable / 1e9);
        return -E2BIG;
    }
    o->batch_fits = per_query > 0 ? floor((usable - o->weight_bytes) / per_query) : INFINITY;
    if (o->batch_fits < 1)
        o->batch_fits = 1; /* one sequence at a time, its cache swapped in pieces */
    if (in->batch > o->batch_fits) {
        o->preempts = true;
        o->batch = o->batch_fits;
    }
    return 0;
}

/* One decode step of b sequences, and whether its memory traffic exceeds
 * its compute time. */
static double step_s(const struct wp_serve_in *in, const struct wp_serve_consts *c,
                     struct wp_serve_out *o, double b, double bpp, double peak, int gen)
{
    double active = in->active_params > 0 ? in->active_params : in->params;
    double ctx = in->input_tokens + in->output_tokens / 2.0, g = in->count, t_mem, t_comp;
    double touched = active < in->params ? in->params * (1 - pow(1 - active / in->params, b))
                                         : in->params; /* the experts a batch routes to */

    o->weight_read_bytes = touched * bpp;
    t_mem = (o->weight_read_bytes + b * ctx * o->kv_bytes_per_token * c->kv_traffic) /
            (g * in->hw.memory_bw_bytes_s * c->bw_fraction[gen]);
    t_comp = b * (2.0 * active + 4.0 * o->layers * ctx * o->hidden) / (g * peak * c->mfu[gen]);
    o->memory_bound = t_mem >= t_comp;
    return c->step_s_per_layer * o->layers + t_mem + t_comp;
}

int wp_serve_model(const struct wp_serve_in *in, const struct wp_serve_consts *c,
                   struct wp_serve_out *o, char *err, size_t cap)
{
    double active, g = in->count, seqs = in->beams > 1 ? in->beams : 1, bpp, peak, b, frac;
    int gen, rc;
    bool lowp;

    memset(o, 0, sizeof *o);
    if ((rc = check(in, err, cap)))
        return rc;
    active = in->active_params > 0 ? in->active_params : in->params;
    shape(in, active, o);
    gen = strcmp(in->hw.generation, "blackwell") == 0;
    o->generation_fitted = gen || strcmp(in->hw.generation, "hopper") == 0;
    o->kv_precision = in->kv_given ? in->kv_precision : wp_kv_precision_default(in->precision);
    bpp = precisions[in->precision].bytes * (in->sparsity > 0 ? SPARSE_BYTES : 1.0);
    peak = peak_for(&in->hw, in->precision, &o->peak_kind, &lowp) * (in->sparsity > 0 ? 2.0 : 1.0) *
           (lowp ? c->lowp_eff : 1.0);
    o->peak_used = peak;
    o->weight_bytes = in->params * bpp;
    o->kv_bytes_per_token = 2.0 * o->layers * o->kv_dim * precisions[o->kv_precision].bytes *
                            (in->hybrid ? c->hybrid_kv : 1.0);
    if ((rc = memory(in, seqs, o, err, cap)))
        return rc;
    b = o->batch;
    /* Prefill: 2N FLOPs per prompt token plus causal attention, once per
     * query (beams share the prompt). */
    o->prefill_s = (2.0 * active * in->input_tokens +
                    2.0 * o->layers * in->input_tokens * in->input_tokens * o->hidden) /
                   (g * peak * c->mfu[gen]);
    o->step_s = step_s(in, c, o, b * seqs, bpp, peak, gen);
    frac = c->power_low +
           (c->power_high - c->power_low) * (1.0 - exp(-(b * seqs / g) / c->power_batch));
    o->power_w_per_device = in->hw.tdp_w * frac;
    o->prefill_energy_j = g * o->power_w_per_device * o->prefill_s;
    o->decode_energy_j = g * o->power_w_per_device * o->step_s * in->output_tokens / b;
    o->energy_per_query_j = o->prefill_energy_j + o->decode_energy_j;
    o->energy_per_token_j = o->energy_per_query_j / in->output_tokens;
    o->query_s = o->prefill_s + o->step_s * in->output_tokens;
    o->tokens_per_s = b * in->output_tokens / (o->prefill_s * b + o->step_s * in->output_tokens);
    o->energy_lo_factor = c->spread_lo;
    o->energy_hi_factor = c->spread_hi;
    return 0;
}

/* The constants, by name; a missing one is an error, not a zero. */
int wp_serve_calibration(struct wp_serve_consts *c)
{
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
        {"bw_hopper", offsetof(struct wp_serve_consts, bw_fraction[0])},
        {"bw_blackwell", offsetof(struct wp_serve_consts, bw_fraction[1])},
        {"mfu_hopper", offsetof(struct wp_serve_consts, mfu[0])},
        {"mfu_blackwell", offsetof(struct wp_serve_consts, mfu[1])},
        {"step_s_per_layer", offsetof(struct wp_serve_consts, step_s_per_layer)},
        {"power_low", offsetof(struct wp_serve_consts, power_low)},
        {"power_high", offsetof(struct wp_serve_consts, power_high)},
        {"power_batch", offsetof(struct wp_serve_consts, power_batch)},
        {"kv_traffic", offsetof(struct wp_serve_consts, kv_traffic)},
        {"hybrid_kv", offsetof(struct wp_serve_consts, hybrid_kv)},
        {"lowp_eff", offsetof(struct wp_serve_consts, lowp_eff)},
        {"range_low", offsetof(struct wp_serve_consts, spread_lo)},
        {"range_high", offsetof(struct wp_serve_consts, spread_hi)},
    };
    struct wp_csv h, r;
    unsigned found = 0;

    memset(c, 0, sizeof *c);
    wp_csv_init(&h, wp_data_serving_model, wp_data_serving_model_len);
    if (wp_csv_next(&h) != 1)
        return -ENOENT;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        const char *name = wp_csv_get(&h, &r, "name");
        double v = wp_csv_positive(&h, &r, "value", 0);
        if (strcmp(name, "fit_rows") == 0)
            c->rows = (int)v;
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(name, names[i].name) == 0 && v > 0) {
                *(double *)((char *)c + names[i].off) = v;
                found |= 1u << i;
            }
    }
    return found == (1u << (sizeof names / sizeof *names)) - 1 ? 0 : -EINVAL;
}
