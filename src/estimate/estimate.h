/* The estimator: the footprint of training and inference from what is known
 * before (or without) running: parameters, tokens, FLOPs, hardware, hours,
 * power. Pure arithmetic; carbon through account/. */
#ifndef WP_ESTIMATE_H
#define WP_ESTIMATE_H

#include "calibrate.h"
#include "hardware.h"
#include "serving.h"

#include <stdbool.h>
#include <stddef.h>

/* Every input is 0 when not given. */
struct wp_est_in {
    double params, tokens, flops;
    double active_params;  /* mixture of experts: parameters each token passes through */
    double teacher_params; /* distillation: the teacher's forward pass per token */
    bool has_hardware;
    struct wp_hardware hw;
    double count;
    double mfu; /* 0: calibrated on published runs */
    double hours, device_hours;
    double power_w;       /* average per device; 0: the hardware's power figure */
    double power_total_w; /* the whole system (Strubell's p_t) */
    bool inference;
    double tokens_per_query, queries_per_day, days;
    /* serving */
    double batch, sparsity;
    double input_tokens; /* the prompt; 0 is a prompt-less query (the CLI defaults it to 512) */
    enum wp_precision precision;
    double layers, hidden, kv_dim; /* from a model file; 0: from params */
};

struct wp_est_out {
    double flops; /* training FLOPs (0 if unknown) */
    double device_hours, wall_s;
    double device_hours_lo, device_hours_hi; /* the calibration's 10th-90th percentile */
    double it_energy_j, it_energy_lo_j, it_energy_hi_j;
    double power_w_per_device; /* 0 with power_total_w */
    double mfu;
    const char *mfu_source;
    bool calibrated; /* mfu came from the fit below */
    struct wp_mfu_fit fit;
    const char *time_from;  /* how device-hours were found */
    const char *power_from; /* where the power came from */
    /* inference over the deployment's life */
    double inf_flops, inf_device_hours, inf_energy_j, inf_energy_lo_j, inf_energy_hi_j;
    double inf_tokens, inf_queries;
    struct wp_serve_out serve;
    struct wp_serve_consts consts;
};

/* Landauer's limit at 300 K, J per bit erased: k_B T ln 2. */
#define WP_LANDAUER_J 2.871e-21

/* Computes the estimate. Returns 0, or -EINVAL (or -E2BIG: the model does
 * not fit in the serving devices) with what is wrong or missing, and what
 * would suffice, in err. */
int wp_estimate(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap);

#endif
