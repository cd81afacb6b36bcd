/* Percentile bootstrap of means and of a ratio of means. */
#include "stats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64*: small, and enough for resampling indices */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t seed_of(const double *x, int n, uint64_t h)
{
    for (int i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        h = (h ^ bits) * 0x100000001b3ULL;
    }
    return h ? h : 1;
}

static double mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n ? s / n : 0;
}

static double resampled_mean(const double *x, int n, uint64_t *s)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += x[next(s) % (uint64_t)n];
    return sum / n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The 2.5th and 97.5th percentiles of v[0..n), sorted in place. */
static void percentiles(double *v, int n, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    *lo = v[(int)(0.025 * (n - 1))];
    *hi = v[(int)(0.975 * (n - 1) + 0.5)];
}

void wp_stats_mean(const double *x, int n, struct wp_interval *out)
{
    static double boot[WP_STATS_RESAMPLES];
    uint64_t s = seed_of(x, n, 0xcbf29ce484222325ULL);

    out->mean = out->lo = out->hi = mean_of(x, n);
    if (n < 2)
        return;
    for (int k = 0; k < WP_STATS_RESAMPLES; k++)
        boot[k] = resampled_mean(x, n, &s);
    percentiles(boot, WP_STATS_RESAMPLES, &out->lo, &out->hi);
}

int wp_stats_ratio(const double *a, int na, const double *b, int nb, struct wp_interval *out,
                   bool *significant)
{
    static double boot[WP_STATS_RESAMPLES];
    uint64_t s = seed_of(b, nb, seed_of(a, na, 0x84222325cbf29ce4ULL));
    double ma = mean_of(a, na), mb = mean_of(b, nb);

    *significant = false;
    if (na < 2 || nb < 2 || !(ma > 0) || !(mb > 0))
        return -EINVAL;
    out->mean = mb / ma;
    for (int k = 0; k < WP_STATS_RESAMPLES; k++) {
        double ra = resampled_mean(a, na, &s);
        boot[k] = ra > 0 ? resampled_mean(b, nb, &s) / ra : out->mean;
    }
    percentiles(boot, WP_STATS_RESAMPLES, &out->lo, &out->hi);
    *significant = out->lo > 1.0 || out->hi < 1.0;
    return 0;
}
