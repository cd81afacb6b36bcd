/* The demo workload: a deterministic, CPU-bound dense matrix multiply.
 * Usage: wp_matmul [N] [REPEATS]. Prints the checksum and GFLOP/s. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 384;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    double *a, *b, *c, sum = 0;
    struct timespec t0, t1;

    if (n < 1 || n > 8192 || reps < 1) {
        fprintf(stderr, "usage: wp_matmul [N 1..8192] [REPEATS >= 1]\n");
        return 2;
    }
    a = malloc(sizeof *a * (size_t)n * (size_t)n);
    b = malloc(sizeof *b * (size_t)n * (size_t)n);
    c = malloc(sizeof *c * (size_t)n * (size_t)n);
    if (!a || !b || !c) {
        fprintf(stderr, "wp_matmul: out of memory\n");
        return 1;
    }
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (double)(i % 17) / 17.0;
        b[i] = (double)(i % 13) / 13.0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++) {
        for (long i = 0; i < (long)n * n; i++)
            c[i] = 0;
        /* i-k-j order keeps the inner loop streaming through rows. */
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double aik = a[(long)i * n + k];
                for (int j = 0; j < n; j++)
                    c[(long)i * n + j] += aik * b[(long)k * n + j];
            }
        sum += c[(long)(r % n) * n + (r % n)];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("matmul %dx%d x%d: checksum %.6f, %.2f GFLOP/s\n", n, n, reps, sum,
           2.0 * n * n * (double)n * reps / s / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
