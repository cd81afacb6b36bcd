/* The serving model: prefill is compute-bound; each decode step reads the
 * weights and the batch's KV cache once, and is bound by the larger of that
 * memory traffic and its FLOPs. Power is a calibrated fraction of the
 * hardware's power figure, higher the more compute-bound the step. */
#ifndef WP_SERVING_H
#define WP_SERVING_H

#include "hardware.h"

#include <stdbool.h>
#include <stddef.h>

enum wp_precision { WP_FP32, WP_FP16, WP_BF16, WP_FP8, WP_INT8, WP_INT4 };

/* "fp16" -> WP_FP16. Returns 0, or -EINVAL. */
int wp_precision_parse(const char *s, enum wp_precision *out);
const char *wp_precision_name(enum wp_precision p);

struct wp_serve_in {
    double params;                 /* total: what memory holds */
    double active_params;          /* per token (mixture of experts); 0: params */
    double layers, hidden, kv_dim; /* 0: from params (stated) */
    struct wp_hardware hw;
    double count; /* devices serving one replica (tensor parallel) */
    double batch; /* concurrent sequences */
    enum wp_precision precision;
    double input_tokens, output_tokens; /* per query */
    double sparsity;                    /* 2:4 structured sparsity: 0 or 0.5 of the weights */
};

/* The calibrated constants and where each came from. */
struct wp_serve_consts {
    double bw_fraction;          /* achieved fraction of memory bandwidth in decode */
    double power_memory;         /* power / power figure, memory-bound decode */
    double power_compute;        /* power / power figure, compute-bound (prefill) */
    double mfu;                  /* achieved fraction of peak when compute-bound */
    double spread_lo, spread_hi; /* 10th and 90th percentile, measured / model */
    int rows;
    char ids[512];
};

struct wp_serve_out {
    double energy_per_query_j, energy_per_token_j;
    double energy_lo_factor, energy_hi_factor;
    double prefill_energy_j, decode_energy_j; /* per query */
    double prefill_s, step_s, query_s;        /* latency */
    double tokens_per_s;                      /* output tokens, whole replica */
    double power_w_per_device;                /* during decode */
    bool memory_bound;
    double weight_bytes;      /* held in memory */
    double weight_read_bytes; /* read per decode step (a batch touches more experts) */
    double kv_bytes_per_token, memory_needed_bytes;
    double layers, hidden, kv_dim;
    bool shape_assumed;
    double peak_used;
    const char *peak_kind;
};

#define WP_SERVE_DEFAULT_INPUT  512
#define WP_SERVE_DEFAULT_OUTPUT 256

/* The constants, fitted on the bundled measurements' "fit" rows. */
int wp_serve_calibration(struct wp_serve_consts *c);

/* The model with the given constants. Returns 0, or -EINVAL (bad input) or
 * -E2BIG (the model and its KV cache do not fit in the devices' memory)
 * with the reason in err. */
int wp_serve_model(const struct wp_serve_in *in, const struct wp_serve_consts *c,
                   struct wp_serve_out *out, char *err, size_t cap);

#endif
