/* The MFU fit: ordinary least squares in log space, per generation, over
 * the published runs bundled in data/training_runs.csv. */
#include "calibrate.h"

#include "../data/csv.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

extern const char wp_data_training_runs[];
extern const size_t wp_data_training_runs_len;

#define MAX_RUNS   128
#define MIN_SLOPE  4    /* rows needed before a size slope is fitted */
#define BAND_LO    0.05 /* the range: a 90 % band of a new run's error */
#define BAND_HI    0.95
#define REF_PARAMS 1e10

/* (1 / 0.90 - 1) / 16,384: the loss of Llama 3's run per device */
#define GOODPUT_K 6.78e-6

double wp_goodput(double devices)
{
    return devices > 0 ? 1.0 / (1.0 + GOODPUT_K * devices) : 1.0;
}

struct run {
    char id[48], gen[16];
    double x, y; /* ln(n_eff / 1e10), ln MFU */
};

/* One published run as a point of the fit; 0, or -EINVAL if it is not usable. */
static int run_point(const struct wp_csv *h, const struct wp_csv *r, struct run *out)
{
    struct wp_hardware hw;
    double params = wp_csv_positive(h, r, "params", 0),
           active = wp_csv_positive(h, r, "active_params", 0);
    double teacher = wp_csv_positive(h, r, "teacher_params", 0),
           tokens = wp_csv_positive(h, r, "tokens", 0), count = wp_csv_positive(h, r, "count", 0);
    double flops = wp_csv_positive(h, r, "flops", 0), dh = wp_csv_positive(h, r, "device_hours", 0),
           n_eff;

    if (wp_hardware_find(wp_csv_get(h, r, "hardware"), &hw, NULL, 0) != 0 || !(hw.peak_flops > 0) ||
        !(dh > 0))
        return -EINVAL;
    if (!(flops > 0))
        flops = 6.0 * (active > 0 ? active : params) * tokens + 2.0 * teacher * tokens;
    n_eff = tokens > 0 ? flops / (6.0 * tokens) : (active > 0 ? active : params);
    if (!(flops > 0) || !(n_eff > 0))
        return -EINVAL;
    snprintf(out->id, sizeof out->id, "%s", wp_csv_get(h, r, "id"));
    snprintf(out->gen, sizeof out->gen, "%s", hw.calibrate_as);
    out->x = log(n_eff / REF_PARAMS);
    /* the utilisation while training: the run's interruptions taken out
     * (a run whose cluster size is not published: none) */
    out->y = log(flops / (hw.peak_flops * dh * 3600.0 * wp_goodput(count)));
    return 0;
}

static int load_runs(struct run *runs, int cap)
{
    struct wp_csv h, r;
    int n = 0;

    wp_csv_init(&h, wp_data_training_runs, wp_data_training_runs_len);
    if (wp_csv_next(&h) != 1)
        return 0;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (n < cap && wp_csv_next(&r) == 1)
        if (strcmp(wp_csv_get(&h, &r, "role"), "fit") == 0 && run_point(&h, &r, &runs[n]) == 0)
            n++;
    return n;
}

/* Intercept and slope over the runs of one generation (all if gen is NULL),
 * leaving out run skip (-1: none); the slope only if asked for and the runs
 * can tell it. */
static int fit(const struct run *runs, int n, const char *gen, int skip, bool slope, double *a,
               double *b)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, lo = INFINITY, hi = -INFINITY;
    int k = 0;

    for (int i = 0; i < n; i++) {
        if (i == skip || (gen && strcmp(runs[i].gen, gen) != 0))
            continue;
        sx += runs[i].x;
        sy += runs[i].y;
        lo = fmin(lo, runs[i].x);
        hi = fmax(hi, runs[i].x);
        k++;
    }
    if (k == 0)
        return 0;
    *b = 0;
    if (slope && k >= MIN_SLOPE && hi - lo > log(10.0)) {
        double mx = sx / k, my = sy / k;
        for (int i = 0; i < n; i++)
            if (i != skip && (!gen || strcmp(runs[i].gen, gen) == 0)) {
                sxx += (runs[i].x - mx) * (runs[i].x - mx);
                sxy += (runs[i].x - mx) * (runs[i].y - my);
            }
        /* utilisation does not fall with size; and no steeper than sqrt */
        *b = fmin(fmax(sxy / sxx, 0.0), 0.5);
    }
    *a = sy / k - *b * sx / k;
    return k;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

double wp_cal_percentile(double *v, int n, double p)
{
    double pos = p * (n - 1);
    int i = (int)pos;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* Residuals of every run (of gen's, or all) predicted as a new run would
 * be: by its generation's fit without it (leave one out). In-sample
 * residuals are smaller than a new run's error; these are what a range for
 * a run not in the table must cover. A generation left with no run falls back
 * to the mean of all the others. */
static int residuals(const struct run *runs, int n, const char *gen, double *res)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        double a, b;
        if (gen && strcmp(runs[i].gen, gen) != 0)
            continue;
        if (fit(runs, n, runs[i].gen, i, true, &a, &b) == 0)
            fit(runs, n, NULL, i, false, &a, &b);
        res[k++] = runs[i].y - (a + b * runs[i].x);
    }
    return k;
}

static void list_ids(const struct run *runs, int n, const char *gen, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used + 1 < cap; i++)
        if (!gen || strcmp(runs[i].gen, gen) == 0)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", runs[i].id);
}

int wp_mfu_calibrated(const struct wp_hardware *hw, double n_eff, struct wp_mfu_fit *out)
{
    struct run runs[MAX_RUNS];
    double res[MAX_RUNS], a = 0, b = 0, lnm;
    int n = load_runs(runs, MAX_RUNS), k, nres;
    const char *gen = hw->calibrate_as[0] ? hw->calibrate_as : NULL;

    memset(out, 0, sizeof *out);
    if (n == 0)
        return -ENOENT;
    k = gen ? fit(runs, n, gen, -1, true, &a, &b) : 0;
    if (k == 0) { /* no run of its generation: the mean of all, whatever their size */
        gen = NULL;
        k = fit(runs, n, NULL, -1, false, &a, &b);
    }
    out->rows = k;
    out->slope = b;
    snprintf(out->generation, sizeof out->generation, "%s", gen ? gen : "all");
    out->borrowed = strcmp(hw->generation, out->generation) != 0;
    list_ids(runs, n, gen, out->ids, sizeof out->ids);
    lnm = a + b * log((n_eff > 0 ? n_eff : REF_PARAMS) / REF_PARAMS);
    out->mfu = fmin(fmax(exp(lnm), 0.01), 0.8);
    /* every generation's runs: 5 to 14 per generation cannot tell their
     * spreads apart, and a range for a new run needs its tails */
    nres = residuals(runs, n, NULL, res);
    out->mfu_lo = out->mfu * exp(wp_cal_percentile(res, nres, BAND_LO));
    out->mfu_hi = out->mfu * exp(wp_cal_percentile(res, nres, BAND_HI));
    return 0;
}
