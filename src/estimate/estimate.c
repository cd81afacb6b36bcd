/* The estimator's arithmetic: FLOPs (6ND training, plus 2N per token for a
 * teacher), device-hours from peak FLOP/s and the calibrated utilisation,
 * energy from power; serving through the serving model. */
#include "estimate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int fail(struct wp_est_out *out, enum wp_est_problem p, char *err, size_t cap,
                const char *why)
{
    out->problem = p;
    snprintf(err, cap, "%s", why);
    return -EINVAL;
}

static int check_inputs(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap)
{
    if (in->active_params > 0 && in->params > 0 && in->active_params > in->params)
        return fail(out, WP_EST_ACTIVE_OVER_TOTAL, err, cap,
                    "the active parameters exceed the total");
    if (in->hours > 0 && in->device_hours > 0 && in->count > 0 &&
        fabs(in->hours * in->count - in->device_hours) > 0.01 * in->device_hours)
        return fail(out, WP_EST_HOURS_DISAGREE, err, cap,
                    "hours x count disagrees with the device-hours");
    return 0;
}

/* Utilisation: as given, else the fit on published runs for this hardware. */
static void utilisation(const struct wp_est_in *in, double n_eff, struct wp_est_out *out)
{
    if (in->mfu > 0) {
        out->mfu = in->mfu;
        out->mfu_from = WP_FROM_GIVEN;
        return;
    }
    if (in->has_hardware && wp_mfu_calibrated(&in->hw, n_eff, &out->fit) == 0) {
        out->mfu = out->fit.mfu;
        out->calibrated = true;
        out->mfu_from = WP_FROM_CALIBRATED;
    }
}

static int training_time(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap)
{
    double count = in->count > 0 ? in->count : 1;

    out->device_hours_lo = out->device_hours_hi = 0;
    if (in->device_hours > 0) {
        out->device_hours = in->device_hours;
        out->time_from = WP_FROM_GIVEN;
    } else if (in->hours > 0) {
        out->device_hours = in->hours * count;
        out->time_from = WP_FROM_HOURS_COUNT;
    } else if (out->flops > 0 && in->has_hardware && in->hw.peak_flops > 0 && out->mfu > 0) {
        /* the utilisation is while training; the cluster loses a share */
        double per = 1.0 / (in->hw.peak_flops * 3600.0 * wp_goodput(count));
        out->goodput = wp_goodput(count);
        out->device_hours = out->flops * per / out->mfu;
        out->time_from = WP_FROM_FLOPS;
        if (out->calibrated) { /* a higher utilisation is a shorter run */
            out->device_hours_lo = out->flops * per / out->fit.mfu_hi;
            out->device_hours_hi = out->flops * per / out->fit.mfu_lo;
        }
    } else {
        return fail(out, WP_EST_NO_TIME, err, cap, "cannot tell how long it runs");
    }
    if (!(out->device_hours_lo > 0))
        out->device_hours_lo = out->device_hours_hi = out->device_hours;
    out->wall_s = (in->hours > 0 ? in->hours : out->device_hours / count) * 3600.0;
    return 0;
}

/* The power per device: as given, else the hardware's figure; training on a
 * TDP draws its measured average share of it (wall.h). */
static int power(const struct wp_est_in *in, bool training, struct wp_est_out *out, char *err,
                 size_t cap)
{
    if (in->power_total_w > 0) {
        out->power_from = WP_FROM_TOTAL_POWER;
    } else if (in->power_w > 0) {
        out->power_w_per_device = in->power_w;
        out->power_from = WP_FROM_GIVEN;
    } else if (in->has_hardware && in->hw.tdp_w > 0) {
        out->power_w_per_device = in->hw.tdp_w;
        out->power_from = WP_FROM_HARDWARE;
        if (training && wp_wall_device_figure(&in->hw)) {
            out->draw = wp_wall_train_draw();
            out->power_w_per_device *= out->draw.mid;
        }
    } else {
        return fail(out, WP_EST_NO_POWER, err, cap, "no power");
    }
    return 0;
}

/* What the whole server adds at the wall: nothing to a whole-system power or
 * to a figure that is already the system's per accelerator (TPUs); else the
 * host ratio; around a CPU, unknown (left out). */
static void wall_scope(const struct wp_est_in *in, struct wp_est_out *out)
{
    struct wp_band r = wp_wall_host_ratio();

    out->host = out->train_host = (struct wp_band){1, 1, 1};
    if (in->power_total_w > 0) {
        out->wall_from = WP_WALL_TOTAL_POWER;
    } else if (in->has_hardware && strcmp(in->hw.vendor, "cpu") == 0) {
        out->wall_from = WP_WALL_NONE;
    } else if (in->power_w > 0 || !in->has_hardware || wp_wall_device_figure(&in->hw)) {
        out->wall_from = WP_WALL_HOST_MODEL;
        out->host = out->train_host = (struct wp_band){1 + r.mid, 1 + r.lo, 1 + r.hi};
        if (out->draw.mid > 0) { /* training at a share of a TDP */
            struct wp_band h = wp_wall_train_host_of_rating();

            out->train_host = (struct wp_band){1 + h.mid / out->draw.mid, 1 + h.lo / out->draw.mid,
                                               1 + h.hi / out->draw.mid};
        }
    } else {
        out->wall_from = WP_WALL_SYSTEM_POWER;
    }
}

/* Training energy from device-hours (or wall time) and power, with the band
 * of both; then the whole server's. */
static void training_energy(const struct wp_est_in *in, struct wp_est_out *out)
{
    struct wp_band e, draw = out->draw.mid > 0 ? out->draw : (struct wp_band){1, 1, 1};
    double base_w = out->power_w_per_device / draw.mid;

    if (in->power_total_w > 0) { /* proportional to device-hours (and wall time) */
        out->it_energy_j = in->power_total_w * out->wall_s;
        out->it_energy_lo_j = out->it_energy_j * out->device_hours_lo / out->device_hours;
        out->it_energy_hi_j = out->it_energy_j * out->device_hours_hi / out->device_hours;
    } else {
        e = wp_band_times(out->device_hours, out->device_hours_lo, out->device_hours_hi, draw);
        out->it_energy_j = e.mid * base_w * 3600.0;
        out->it_energy_lo_j = e.lo * base_w * 3600.0;
        out->it_energy_hi_j = e.hi * base_w * 3600.0;
    }
    out->server_energy_j =
        wp_band_times(out->it_energy_j, out->it_energy_lo_j, out->it_energy_hi_j, out->train_host);
    out->server_power_w_per_device = out->power_w_per_device * out->train_host.mid;
}

/* The serving model's input from the estimator's. */
static void serve_in(const struct wp_est_in *in, struct wp_serve_in *s)
{
    memset(s, 0, sizeof *s);
    s->params = in->params;
    s->active_params = in->active_params;
    s->layers = in->layers;
    s->hidden = in->hidden;
    s->kv_dim = in->kv_dim;
    s->hw = in->hw;
    if (in->power_w > 0) /* a measured average replaces the power figure */
        s->hw.tdp_w = in->power_w;
    s->count = in->count > 0 ? in->count : 1;
    s->batch = in->batch > 0 ? in->batch : 1;
    s->beams = in->beams;
    s->precision = in->precision;
    s->kv_precision = in->kv_precision;
    s->kv_given = in->kv_given;
    s->hybrid = in->hybrid;
    s->input_tokens = in->input_tokens;
    s->output_tokens = in->tokens_per_query;
    s->sparsity = in->sparsity;
}

/* --batch auto: the batch a server reaches under the load. Little's law:
 * queries in flight = queries per second x seconds per query, where the
 * seconds per query depend on the batch; iterated to the fixed point. Above
 * what memory holds the load needs more replicas, each at the cap. */
static int batch_from_load(const struct wp_est_in *in, struct wp_serve_in *s,
                           struct wp_est_out *out, char *err, size_t cap)
{
    double qps = in->queries_per_day / 86400.0, b = 1, c = 1;
    struct wp_serve_out o;
    int rc;

    s->batch = 1;
    if ((rc = wp_serve_model(s, &out->consts, &o, err, cap)))
        return rc;
    out->batch1_query_j = o.energy_per_query_j;
    s->batch = 1e9; /* the cap: what fits */
    if ((rc = wp_serve_model(s, &out->consts, &o, err, cap)))
        return rc;
    out->batch_cap = o.batch_fits;
    out->batch_cap_query_j = o.energy_per_query_j;
    for (int i = 0; i < 100; i++) { /* the latency grows slower than the batch: it converges */
        s->batch = b;
        if ((rc = wp_serve_model(s, &out->consts, &o, err, cap)))
            return rc;
        c = qps * o.query_s;
        double next = fmin(fmax(c, 1.0), out->batch_cap);
        if (fabs(next - b) <= 1e-3 * b)
            break;
        b = sqrt(b * next); /* damped: the step is a geometric mean */
    }
    out->concurrency = c;
    out->replicas = c > out->batch_cap ? ceil(c / out->batch_cap) : 1;
    s->batch = out->replicas > 1 ? c / out->replicas : b;
    out->batch_auto = true;
    return 0;
}

/* Serving over the deployment's life through the serving model. */
static int inference(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap)
{
    struct wp_serve_in s;
    double queries, per_query_device_s;
    int rc;

    if (!(in->params > 0) || !(in->tokens_per_query > 0) || !(in->queries_per_day > 0) ||
        !(in->days > 0))
        return fail(out, WP_EST_SERVE_INPUTS, err, cap,
                    "serving needs parameters, tokens per query, queries per day and days");
    if (!in->has_hardware || !(in->hw.peak_flops > 0) || !(in->hw.memory_bw_bytes_s > 0))
        return fail(out, WP_EST_SERVE_HARDWARE, err, cap,
                    "serving needs an accelerator with a peak FLOP/s and a memory bandwidth");
    if (in->power_total_w > 0)
        return fail(out, WP_EST_SERVE_TOTAL_POWER, err, cap,
                    "a whole-system power applies to training, not serving");
    if (wp_serve_calibration(&out->consts) != 0)
        return fail(out, WP_EST_OTHER, err, cap, "the serving constants cannot be read");
    serve_in(in, &s);
    out->replicas = 1;
    if (!(in->batch > 0) && (rc = batch_from_load(in, &s, out, err, cap)) != 0) {
        out->problem = rc == -E2BIG ? WP_EST_DOES_NOT_FIT : WP_EST_OTHER;
        return rc;
    }
    if ((rc = wp_serve_model(&s, &out->consts, &out->serve, err, cap)) != 0) {
        out->problem = rc == -E2BIG ? WP_EST_DOES_NOT_FIT : WP_EST_OTHER;
        return rc;
    }
    queries = in->queries_per_day * in->days;
    out->inf_queries = queries;
    out->inf_tokens = in->tokens_per_query * queries;
    out->inf_flops = 2.0 * (in->active_params > 0 ? in->active_params : in->params) *
                     (in->tokens_per_query + s.input_tokens) * queries;
    per_query_device_s =
        s.count * (out->serve.prefill_s + out->serve.step_s * s.output_tokens / out->serve.batch);
    out->inf_device_hours = per_query_device_s * queries / 3600.0;
    out->inf_energy_j = out->serve.energy_per_query_j * queries;
    out->inf_energy_lo_j = out->inf_energy_j * out->serve.energy_lo_factor;
    out->inf_energy_hi_j = out->inf_energy_j * out->serve.energy_hi_factor;
    out->inf_server_energy_j =
        wp_band_times(out->inf_energy_j, out->inf_energy_lo_j, out->inf_energy_hi_j, out->host);
    out->server_energy_per_query_j = wp_band_times(
        out->serve.energy_per_query_j, out->serve.energy_per_query_j * out->serve.energy_lo_factor,
        out->serve.energy_per_query_j * out->serve.energy_hi_factor, out->host);
    return 0;
}

int wp_estimate(const struct wp_est_in *in, struct wp_est_out *out, char *err, size_t cap)
{
    bool training = in->flops > 0 || in->tokens > 0 || in->hours > 0 || in->device_hours > 0;
    double n_train = in->active_params > 0 ? in->active_params : in->params;
    int rc;

    memset(out, 0, sizeof *out);
    if (!training && !in->inference)
        return fail(out, WP_EST_NOTHING, err, cap, "nothing to estimate");
    if ((rc = check_inputs(in, out, err, cap)))
        return rc;
    out->trainable_fraction = in->trainable > 1 && n_train > 0 ? in->trainable / n_train
                              : in->trainable > 0              ? in->trainable
                                                               : 1.0;
    if (out->trainable_fraction > 1)
        return fail(out, WP_EST_TRAINABLE, err, cap,
                    "the trainable parameters exceed the (active) parameters");
    if (in->flops > 0)
        out->flops = in->flops;
    else if (n_train > 0 && in->tokens > 0) /* Kaplan et al. 2020; a teacher's forward */
        /* forward 2N, activations' gradients 2N, weight gradients 2N for the
         * trainable share only (LoRA, frozen layers) */
        out->flops = (4.0 + 2.0 * out->trainable_fraction) * n_train * in->tokens +
                     2.0 * in->teacher_params * in->tokens;
    else if (in->tokens > 0 && !in->inference)
        return fail(out, WP_EST_TOKENS_NO_PARAMS, err, cap,
                    "tokens need parameters (training FLOPs are 6 x params x tokens)");
    /* the utilisation the model's size achieves, whatever share it trains */
    utilisation(in,
                in->tokens > 0 && n_train > 0 && !(in->flops > 0)
                    ? n_train + in->teacher_params / 3.0
                : in->tokens > 0 && out->flops > 0 ? out->flops / (6.0 * in->tokens)
                                                   : n_train,
                out);
    if (training && (rc = training_time(in, out, err, cap)))
        return rc;
    if ((rc = power(in, training, out, err, cap)))
        return rc;
    wall_scope(in, out);
    if (training)
        training_energy(in, out);
    if (in->inference && (rc = inference(in, out, err, cap)))
        return rc;
    return 0;
}
