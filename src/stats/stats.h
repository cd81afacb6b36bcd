/* Two groups of runs compared: means and the ratio of means, each with a 95 %
 * interval from a percentile bootstrap. The generator is seeded from the data
 * alone, so the same runs give the same interval every time. */
#ifndef WP_STATS_H
#define WP_STATS_H

#include <stdbool.h>

#define WP_STATS_RESAMPLES 10000

struct wp_interval {
    double mean, lo, hi;
};

/* The mean of x[0..n) and its 95 % interval (n >= 2; with n == 1 the interval
 * is the value itself). */
void wp_stats_mean(const double *x, int n, struct wp_interval *out);

/* mean(b) / mean(a) and its 95 % interval, resampling each group on its own;
 * significant when the interval excludes 1. Returns -EINVAL when a group has fewer
 * than 2 values or a mean is not positive. */
int wp_stats_ratio(const double *a, int na, const double *b, int nb, struct wp_interval *out,
                   bool *significant);

#endif
