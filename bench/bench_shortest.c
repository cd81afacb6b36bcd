/* Benchmark: a CodeCarbon cell's number, the shortest of 15-17 digits that
 * reads back (wp_shortest_g) and a column taken to a document's 10 digits
 * (wp_round_g), beside the C library doing the same (snprintf at each
 * precision and strtod; "%.10g" and strtod), on the quotients a row divides
 * (energy over time, joules to kWh). CPU time per number.
 * Usage: bench_shortest [MILLIONS]. */
#define _GNU_SOURCE
#include "util/shortest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The peer: each precision in turn, the first that strtod reads back. */
static void by_trying(char *out, size_t cap, double v)
{
    for (int digits = 15; digits <= 17; digits++)
        if (snprintf(out, cap, "%.*g", digits, v) > 0 && (digits == 17 || strtod(out, NULL) == v))
            return;
}

static double rounded_by_libc(double v)
{
    char b[32];

    snprintf(b, sizeof b, "%.10g", v);
    return strtod(b, NULL);
}

int main(int argc, char **argv)
{
    size_t n = (size_t)(argc > 1 ? atof(argv[1]) : 1) * 1000000;
    double *v = malloc(n * sizeof *v), t0, t1, t2;
    volatile double sum = 0; /* the results are used: nothing is left out */
    uint64_t s = 1;
    char b[64];

    if (!v)
        return 1;
    for (size_t i = 0; i < n; i++) { /* joules over seconds, and in kWh */
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double j = (double)(s >> 34) / 1000, d = (double)((s >> 8) % 100000 + 1) / 1000;
        v[i] = i % 2 ? j / d : j / 3.6e6;
    }
    t0 = cpu_s();
    for (size_t i = 0; i < n; i++) {
        by_trying(b, sizeof b, v[i]);
        sum += b[2];
    }
    t1 = cpu_s();
    for (size_t i = 0; i < n; i++) {
        wp_shortest_g(b, sizeof b, v[i]);
        sum += b[2];
    }
    t2 = cpu_s();
    printf("shortest text of %zu numbers: snprintf at 15-17 digits and strtod (the peer) %.0f ns "
           "each, wp_shortest_g %.0f ns (%.1fx faster)\n",
           n, (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9, (t1 - t0) / (t2 - t1));
    t0 = cpu_s();
    for (size_t i = 0; i < n; i++)
        sum += rounded_by_libc(v[i]);
    t1 = cpu_s();
    for (size_t i = 0; i < n; i++)
        sum += wp_round_g(v[i], 10);
    t2 = cpu_s();
    printf("to 10 digits: \"%%.10g\" and strtod (the peer) %.0f ns each, wp_round_g %.0f ns "
           "(%.1fx faster)\n",
           (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9, (t1 - t0) / (t2 - t1));
    free(v);
    return 0;
}
