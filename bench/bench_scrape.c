/* Benchmark: what one scrape of --work-url costs wattprint beyond the HTTP
 * request: a vLLM-sized metrics page (histograms per model and engine) parsed
 * strictly and counted, beside the floor of reading it once (finding each
 * line's end and each value's number, with no checks). The scrape runs once a
 * second on its own thread, so this per-scrape time is also its share of one
 * core per second of serving.
 * Usage: bench_scrape [ITERATIONS]. */
#define _GNU_SOURCE
#include "work/scrape.h"

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

/* 24 histogram families of 30 buckets for 2 models x 2 engines, and the
 * token counters: about what vLLM serves. */
static char *page(size_t *len, double tokens)
{
    size_t cap = 1 << 22, n = 0;
    char *p = malloc(cap);

    for (int f = 0; f < 24; f++) {
        n += (size_t)snprintf(p + n, cap - n,
                              "# HELP vllm:family_%d_seconds A histogram.\n"
                              "# TYPE vllm:family_%d_seconds histogram\n",
                              f, f);
        for (int m = 0; m < 4; m++) {
            for (int b = 0; b < 30; b++)
                n += (size_t)snprintf(p + n, cap - n,
                                      "vllm:family_%d_seconds_bucket{le=\"%g\",model_name=\"model-"
                                      "%d\",engine=\"%d\"} %d.0\n",
                                      f, 0.001 * (1 << (b % 20)), m / 2, m % 2, b * 7);
            n += (size_t)snprintf(
                p + n, cap - n,
                "vllm:family_%d_seconds_sum{model_name=\"model-%d\",engine=\"%d\"} "
                "12.5\n",
                f, m / 2, m % 2);
        }
    }
    n += (size_t)snprintf(p + n, cap - n,
                          "# TYPE vllm:generation_tokens_total counter\n"
                          "vllm:generation_tokens_total{model_name=\"model-0\",engine=\"0\"} %.1f\n"
                          "vllm:generation_tokens_total{model_name=\"model-1\",engine=\"1\"} %.1f\n"
                          "# TYPE vllm:prompt_tokens_total counter\n"
                          "vllm:prompt_tokens_total{model_name=\"model-0\",engine=\"0\"} %.1f\n",
                          tokens, tokens, 3 * tokens);
    *len = n;
    return p;
}

/* The floor: each line's end found and its last token read as a number. */
static double floor_pass(const char *p, size_t len)
{
    const char *end = p + len;
    double sum = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
        if (!nl)
            break;
        if (*p != '#' && (sp = memrchr(p, ' ', (size_t)(nl - p))))
            sum += strtod(sp + 1, NULL);
        p = nl + 1;
    }
    return sum;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    struct wp_scrape_opts o = {.url = "http://127.0.0.1:1/metrics", .n_counters = 2};
    struct wp_scraper *s;
    char err[256];
    size_t len;
    double t0, t_floor, t_scrape, sink = 0;
    char *text = page(&len, 1000);

    o.counters[0].metric = "vllm:generation_tokens_total";
    o.counters[0].unit = "tokens";
    o.counters[1].metric = "vllm:prompt_tokens_total";
    o.counters[1].unit = "prompt_tokens";
    if (wp_scraper_new(&o, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    t0 = cpu_s();
    for (int i = 0; i < iters; i++)
        sink += floor_pass(text, len);
    t_floor = (cpu_s() - t0) / iters;
    t0 = cpu_s();
    for (int i = 0; i < iters; i++)
        if (wp_scraper_apply(s, text, len, i, i, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    t_scrape = (cpu_s() - t0) / iters;
    printf("scrape: a %zu-byte page (%d series), %d times\n", len, 24 * 4 * 31 + 3, iters);
    printf("  floor (line ends and values, no checks) %8.1f us per page\n", t_floor * 1e6);
    printf("  wattprint (strict parse and counting)   %8.1f us per page  (%.2fx the floor; "
           "%.3f %% of a core at 1 scrape/s)\n",
           t_scrape * 1e6, t_scrape / t_floor, t_scrape * 100);
    wp_scraper_free(s);
    free(text);
    return sink < 0;
}
