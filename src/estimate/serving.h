/* The serving model: continuous batching as vLLM-class servers run it. Each
 * decode step costs a per-layer overhead, the memory traffic of the weights
 * a batch touches and of its paged KV cache, and the batch's FLOPs (added,
 * not the larger of them: kernels do not overlap them perfectly). Prefill is
 * compute at the fitted utilisation. Power rises with the batch per device
 * from a low to a high fraction of the power figure. The constants are fitted
 * on measured serving (data/serving_runs.csv, tools/fit_serving.py). */
#ifndef WP_SERVING_H
#define WP_SERVING_H

#include "hardware.h"

#include <stdbool.h>
#include <stddef.h>

enum wp_precision { WP_FP32, WP_FP16, WP_BF16, WP_FP8, WP_INT8, WP_INT4, WP_NVFP4, WP_MXFP4 };

/* "fp16" -> WP_FP16; "fp4" is NVFP4. Returns 0, or -EINVAL. */
int wp_precision_parse(const char *s, enum wp_precision *out);
const char *wp_precision_name(enum wp_precision p);

/* The KV cache's precision a server keeps for weights of precision p when
 * not told: 16 bits (vLLM's default, also for FP8 and 4-bit weights), 32
 * beside FP32 weights. */
enum wp_precision wp_kv_precision_default(enum wp_precision p);

struct wp_serve_in {
    double params;                 /* total: what memory holds */
    double active_params;          /* per token (mixture of experts); 0: params */
    double layers, hidden, kv_dim; /* 0: from params (stated) */
    struct wp_hardware hw;
    double count; /* devices serving one replica (tensor parallel) */
    double batch; /* concurrent sequences (queries) */
    double beams; /* sequences decoded per query (beam search); 0 or 1: one */
    enum wp_precision precision;
    enum wp_precision kv_precision;
    bool kv_given;                      /* kv_precision set; else the default above */
    bool hybrid;                        /* attention on a few layers, state-space on the rest */
    double input_tokens, output_tokens; /* per query */
    double sparsity;                    /* 2:4 structured sparsity: 0 or 0.5 of the weights */
};

/* The fitted constants (data/serving_model.csv). */
struct wp_serve_consts {
    double bw_fraction[2];       /* achieved fraction of peak bandwidth: Hopper, Blackwell */
    double mfu[2];               /* achieved fraction of peak FLOP/s: Hopper, Blackwell */
    double step_s_per_layer;     /* scheduling and launch overhead per step and layer */
    double power_low;            /* power / power figure at batch 1 per device */
    double power_high;           /* ... as the batch per device grows */
    double power_batch;          /* the batch per device over which it rises (1 - e^-b/B) */
    double kv_traffic;           /* paged KV reads, relative to their bytes */
    double hybrid_kv;            /* a hybrid state-space model's KV traffic, relative */
    double lowp_eff;             /* FP8/FP4 kernels: achieved fraction of their peak, relative */
    double spread_lo, spread_hi; /* 10th and 90th percentile, measured / model */
    int rows;                    /* measurements fitted */
};

struct wp_serve_out {
    double energy_per_query_j, energy_per_token_j;
    double energy_lo_factor, energy_hi_factor;
    double prefill_energy_j, decode_energy_j; /* per query */
    double prefill_s, step_s, query_s;        /* latency */
    double tokens_per_s;                      /* output tokens, whole replica */
    double power_w_per_device;                /* during decode */
    bool memory_bound;                        /* memory traffic above compute time */
    double weight_bytes;                      /* held in memory */
    double weight_read_bytes; /* read per decode step (a batch touches more experts) */
    double kv_bytes_per_token, memory_needed_bytes;
    double batch;      /* the batch estimated: as asked, or what fits */
    double batch_fits; /* sequences whose KV cache fits beside the weights */
    bool preempts;     /* the batch asked would not fit: estimated at batch_fits */
    double layers, hidden, kv_dim;
    bool shape_assumed;
    bool generation_fitted; /* the hardware's generation is in the measurements */
    enum wp_precision kv_precision;
    double peak_used;
    const char *peak_kind;
};

#define WP_SERVE_DEFAULT_INPUT  512
#define WP_SERVE_DEFAULT_OUTPUT 256

/* The constants from data/serving_model.csv. */
int wp_serve_calibration(struct wp_serve_consts *c);

/* The model with the given constants. Returns 0, or -EINVAL (bad input) or
 * -E2BIG (the weights alone do not fit in the devices' memory) with the
 * reason in err. A batch whose KV cache would not fit is estimated at the
 * batch that fits (out->preempts). */
int wp_serve_model(const struct wp_serve_in *in, const struct wp_serve_consts *c,
                   struct wp_serve_out *out, char *err, size_t cap);

#endif
