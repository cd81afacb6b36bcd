/* The estimator's arithmetic: FLOPs (6ND training, 2N per token inference),
 * device-hours from peak FLOP/s and utilisation, energy from power. */
#include "estimate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *why)
{
    snprintf(err, cap, "%s", why);
    return -EINVAL;
}

/* Device-hours for some FLOPs on the given hardware at its utilisation. */
static double device_hours_for(double flops, const struct wp_est_in *in, double mfu)
{
    return flops / (in->hw.peak_flops * mfu) / 3600.0;
}

int wp_estimate(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap)
{
    double count = in->count > 0 ? in->count : 1;
    bool training = in->flops > 0 || in->tokens > 0 || in->hours > 0 || in->device_hours > 0;

    memset(out, 0, sizeof *out);
    if (!training && !in->inference)
        return fail(err, cap,
                    "nothing to estimate: give --params and --tokens, --flops, "
                    "--hours or --device-hours (training), or --inference");

    out->mfu = in->mfu > 0 ? in->mfu : in->hw.mfu;
    out->mfu_source = in->mfu > 0 ? "--mfu" : in->hw.mfu_source;

    if (in->flops > 0)
        out->flops = in->flops;
    else if (in->params > 0 && in->tokens > 0)
        out->flops = 6.0 * in->params * in->tokens; /* Kaplan et al. 2020 */
    else if (in->tokens > 0 && !in->inference)
        return fail(err, cap,
                    "--tokens needs --params (training FLOPs are 6 x params x "
                    "tokens), or give --flops");

    if (in->hours > 0 && in->device_hours > 0 && in->count > 0 &&
        fabs(in->hours * in->count - in->device_hours) > 0.01 * in->device_hours)
        return fail(err, cap,
                    "--hours x --count disagrees with --device-hours; give "
                    "two of the three");

    /* Time. */
    if (training) {
        if (in->device_hours > 0) {
            out->device_hours = in->device_hours;
            out->time_from = "--device-hours";
        } else if (in->hours > 0) {
            out->device_hours = in->hours * count;
            out->time_from = "--hours x --count";
        } else if (out->flops > 0 && in->has_hardware && in->hw.peak_flops > 0) {
            out->device_hours = device_hours_for(out->flops, in, out->mfu);
            out->time_from = "FLOPs / (peak FLOP/s x MFU)";
        } else {
            return fail(err, cap,
                        "cannot tell how long it runs: give --hours or --device-hours, or "
                        "--hardware with a peak FLOP/s (an accelerator) and --flops or "
                        "--params with --tokens");
        }
        out->wall_s = (in->hours > 0 ? in->hours : out->device_hours / count) * 3600.0;
    }

    /* Power. */
    if (in->power_total_w > 0) {
        out->power_from = "--power-total (the whole system)";
    } else if (in->power_w > 0) {
        out->power_w_per_device = in->power_w;
        out->power_from = "--power (average per device)";
    } else if (in->has_hardware && in->hw.tdp_w > 0) {
        out->power_w_per_device = in->hw.tdp_w;
        out->power_from = "the hardware's TDP (measured averages differ: give --power if known)";
    } else {
        return fail(err, cap,
                    "no power: give --power W (per device), --power-total W, "
                    "or --hardware with a known TDP");
    }
    if (training) {
        if (in->power_total_w > 0)
            out->it_energy_j = in->power_total_w * out->wall_s;
        else
            out->it_energy_j = out->power_w_per_device * out->device_hours * 3600.0;
    }

    /* Inference over a deployment's life: 2N FLOPs per token. */
    if (in->inference) {
        if (!(in->params > 0) || !(in->tokens_per_query > 0) || !(in->queries_per_day > 0) ||
            !(in->days > 0))
            return fail(err, cap,
                        "--inference needs --params, --tokens-per-query, "
                        "--queries-per-day and --days");
        if (!in->has_hardware || !(in->hw.peak_flops > 0))
            return fail(err, cap, "--inference needs --hardware with a peak FLOP/s");
        out->inf_tokens = in->tokens_per_query * in->queries_per_day * in->days;
        out->inf_flops = 2.0 * in->params * out->inf_tokens;
        out->inf_device_hours = device_hours_for(out->inf_flops, in, out->mfu);
        if (in->power_total_w > 0)
            return fail(err, cap,
                        "--power-total applies to training: give --power per "
                        "device for --inference");
        out->inf_energy_j = out->power_w_per_device * out->inf_device_hours * 3600.0;
    }
    return 0;
}
