/* The estimator: the footprint of training and inference from what is known
 * before (or without) running: parameters, tokens, FLOPs, hardware, hours,
 * power. Pure arithmetic; carbon through account/. */
#ifndef WP_ESTIMATE_H
#define WP_ESTIMATE_H

#include "calibrate.h"
#include "hardware.h"
#include "serving.h"
#include "wall.h"

#include <stdbool.h>
#include <stddef.h>

/* Every input is 0 when not given. */
struct wp_est_in {
    double params, tokens, flops;
    double active_params;  /* mixture of experts: parameters each token passes through */
    double teacher_params; /* distillation: the teacher's forward pass per token */
    double trainable;      /* LoRA, frozen layers: a fraction (<= 1) or a count; 0: all */
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
    double batch; /* concurrent queries per replica; 0: what the load gives (Little's law) */
    double sparsity;
    double beams; /* sequences per query (beam search); 0 or 1: one */
    enum wp_precision kv_precision;
    bool kv_given;       /* kv_precision set; else the server's default for the weights */
    bool hybrid;         /* a hybrid state-space model (attention on a few layers) */
    double input_tokens; /* the prompt; 0 is a prompt-less query (the CLI defaults it to 512) */
    enum wp_precision precision;
    double layers, hidden, kv_dim; /* from a model file; 0: from params */
};

/* What stopped an estimate, for the front end to word with its own names. */
enum wp_est_problem {
    WP_EST_OK,
    WP_EST_NOTHING,           /* no training or serving input at all */
    WP_EST_ACTIVE_OVER_TOTAL, /* active parameters exceed the total */
    WP_EST_HOURS_DISAGREE,    /* hours x count is not device-hours */
    WP_EST_TOKENS_NO_PARAMS,  /* tokens without parameters or FLOPs */
    WP_EST_TRAINABLE,         /* trainable parameters above the (active) total */
    WP_EST_NO_TIME,           /* nothing tells how long it runs */
    WP_EST_NO_POWER,          /* no power and no hardware power figure */
    WP_EST_SERVE_INPUTS,      /* serving lacks params, tokens, queries or days */
    WP_EST_SERVE_HARDWARE,    /* serving lacks an accelerator's peak and bandwidth */
    WP_EST_SERVE_TOTAL_POWER, /* a whole-system power given for serving */
    WP_EST_DOES_NOT_FIT,      /* weights and KV cache exceed the devices' memory */
    WP_EST_OTHER,             /* see the message */
};

/* Where a figure came from, for the front end to name. */
enum wp_est_from {
    WP_FROM_NONE,
    WP_FROM_GIVEN,       /* the input itself (MFU, device-hours, power per device) */
    WP_FROM_HOURS_COUNT, /* wall hours x device count */
    WP_FROM_FLOPS,       /* FLOPs / (peak FLOP/s x MFU) */
    WP_FROM_CALIBRATED,  /* the fit on published runs */
    WP_FROM_TOTAL_POWER, /* a whole-system power */
    WP_FROM_HARDWARE,    /* the hardware table's power figure */
};

struct wp_est_out {
    enum wp_est_problem problem; /* why wp_estimate failed */
    double flops;                /* training FLOPs (0 if unknown) */
    double trainable_fraction;   /* of the (active) parameters that get weight gradients */
    double device_hours, wall_s;
    double device_hours_lo, device_hours_hi; /* the calibration's 90 % band */
    double it_energy_j, it_energy_lo_j, it_energy_hi_j;
    double power_w_per_device; /* 0 with power_total_w */
    double mfu;
    double goodput; /* device-hours from FLOPs: the share that trains (wp_goodput); else 0 */
    enum wp_est_from mfu_from;
    bool calibrated; /* mfu came from the fit below */
    struct wp_mfu_fit fit;
    enum wp_est_from time_from;  /* how device-hours were found */
    enum wp_est_from power_from; /* where the power came from */
    /* inference over the deployment's life */
    double inf_flops, inf_device_hours, inf_energy_j, inf_energy_lo_j, inf_energy_hi_j;
    double inf_tokens, inf_queries;
    struct wp_serve_out serve;
    struct wp_serve_consts consts;
    /* the batch: as given, or from the load (batch_auto) */
    bool batch_auto;
    double concurrency;       /* queries in flight: per second x seconds per query */
    double replicas;          /* replicas the load needs at the memory's batch cap */
    double batch1_query_j;    /* energy per query at batch 1, for comparison */
    double batch_cap;         /* the largest batch whose KV cache fits */
    double batch_cap_query_j; /* energy per query at that batch */
    /* training on a TDP: the accelerators' average draw as a share of it
     * (all 0 where the power was given or is a measured system figure) */
    struct wp_band draw;
    /* the whole server at the wall: server / accelerators, and the energies */
    enum wp_wall_from wall_from;
    struct wp_band host;                /* 1 + the host ratio; 1 for a system figure */
    struct wp_band train_host;          /* the same for training: per rated watt over the draw */
    struct wp_band server_energy_j;     /* training */
    double server_power_w_per_device;   /* training; 0 with a whole-system power */
    struct wp_band inf_server_energy_j; /* serving over the deployment's life */
    struct wp_band server_energy_per_query_j;
};

/* Landauer's limit at 300 K, J per bit erased: k_B T ln 2. */
#define WP_LANDAUER_J 2.871e-21

/* Computes the estimate. Returns 0, or -EINVAL (or -E2BIG: the model does
 * not fit in the serving devices) with out->problem set and what is wrong
 * in err, in plain words (the front end names its options). */
int wp_estimate(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap);

#endif
