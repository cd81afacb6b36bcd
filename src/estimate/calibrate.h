/* Achieved model-FLOPs utilisation, calibrated on published training runs
 * (data/training_runs.csv): per hardware generation, ln MFU is fitted
 * against ln of the parameters each token passes through. Only the rows
 * marked "fit" are used; the "holdout" rows test the fit. */
#ifndef WP_CALIBRATE_H
#define WP_CALIBRATE_H

#include "hardware.h"

#include <stdbool.h>

struct wp_mfu_fit {
    double mfu;            /* the central figure */
    double mfu_lo, mfu_hi; /* 5th and 95th percentile of the leave-one-out errors */
    double slope;          /* d ln MFU / d ln params; 0 where the rows cannot tell */
    int rows;              /* how many runs the fit stands on */
    char generation[16];   /* whose runs ("ampere"; "all" when none match) */
    bool borrowed;         /* the hardware has no runs of its own generation */
    char ids[768];         /* the runs, comma-separated */
};

/* The calibrated MFU for work of n_eff parameters per token (FLOPs / 6 per
 * token) on hw. Returns 0, or -ENOENT if no calibration row can be read. */
int wp_mfu_calibrated(const struct wp_hardware *hw, double n_eff, struct wp_mfu_fit *out);

/* The share of a job's device-hours that trains, on devices devices: the
 * rest is lost to interruptions, restarts and work redone since the last
 * checkpoint, which grow with the cluster (one failure stops all of it).
 * 1 / (1 + k x devices), k from Llama 3's 16,384-GPU run (Dubey et al. 2024,
 * section 3.3.4: 419 unexpected interruptions in 54 days, "higher than 90 %
 * effective training time"). */
double wp_goodput(double devices);

/* The p-th percentile (0..1) of v[0..n), n > 0, linearly interpolated;
 * sorts v. */
double wp_cal_percentile(double *v, int n, double p);

#endif
