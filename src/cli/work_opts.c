/* --work-url, --work-metric, --work-unit and --work-from. The presets' metric
 * names are those the servers' own documentation lists: vLLM's production
 * metrics, TGI's metrics reference (its token counts are histograms, whose
 * _sum is cumulative, updated a request at a time), llama.cpp's server
 * (started with --metrics) and SGLang's (--enable-metrics). */
#include "work_opts.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *generated, *prompt;
} presets[] = {
    {"vllm", "vllm:generation_tokens_total", "vllm:prompt_tokens_total"},
    {"tgi", "tgi_request_generated_tokens_sum", "tgi_request_input_length_sum"},
    {"llama.cpp", "llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_total"},
    {"sglang", "sglang:generation_tokens_total", "sglang:prompt_tokens_total"},
};

int wp_cli_work_opt(const char *prog, int opt, const char *arg, struct wp_work_opts *o)
{
    switch (opt) {
    case WP_OPT_WORK_URL:
        o->url = arg;
        return 1;
    case WP_OPT_WORK_FROM:
        for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
            if (strcmp(arg, presets[i].name) == 0) {
                o->preset = presets[i].name;
                return 1;
            }
        fprintf(stderr, "%s: --work-from: '%s' is not vllm, tgi, llama.cpp or sglang\n", prog, arg);
        return -1;
    case WP_OPT_WORK_METRIC:
    case WP_OPT_WORK_UNIT: {
        bool metric = opt == WP_OPT_WORK_METRIC;
        int *n = metric ? &o->n_metrics : &o->n_units;
        if (*n == WP_WORK_MAX_COUNTERS) {
            fprintf(stderr, "%s: %s: at most %d\n", prog, metric ? "--work-metric" : "--work-unit",
                    WP_WORK_MAX_COUNTERS);
            return -1;
        }
        (metric ? o->metrics : o->units)[(*n)++] = arg;
        return 1;
    }
    }
    return 0;
}

bool wp_cli_work_wanted(const struct wp_work_opts *o)
{
    return o->url || o->preset || o->n_metrics || o->n_units;
}

/* A unit from a metric's name: vllm:prompt_tokens_total -> prompt_tokens. */
static void unit_of(const char *metric, char *out, size_t cap)
{
    const char *p = strrchr(metric, ':'), *brace = strchr(metric, '{');
    size_t n;

    p = p && (!brace || p < brace) ? p + 1 : metric;
    n = brace ? (size_t)(brace - p) : strlen(p);
    if (n > 6 && strncmp(p + n - 6, "_total", 6) == 0)
        n -= 6;
    else if (n > 4 && strncmp(p + n - 4, "_sum", 4) == 0)
        n -= 4;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static int fill(struct wp_work_opts *o, const char *first_unit, struct wp_scrape_opts *out)
{
    if (o->preset) {
        for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
            if (strcmp(o->preset, presets[i].name) == 0) {
                o->metrics[0] = presets[i].generated;
                o->metrics[1] = presets[i].prompt;
            }
        o->n_metrics = 2;
    }
    if (o->n_units > o->n_metrics)
        return -1;
    *out = (struct wp_scrape_opts){.url = o->url, .n_counters = o->n_metrics};
    for (int k = 0; k < o->n_metrics; k++) {
        out->counters[k].metric = o->metrics[k];
        if (k < o->n_units) {
            out->counters[k].unit = o->units[k];
        } else if (k == 0) {
            out->counters[k].unit = first_unit ? first_unit : "tokens";
        } else {
            unit_of(o->metrics[k], o->derived[k], sizeof o->derived[k]);
            out->counters[k].unit = o->derived[k];
        }
    }
    return 0;
}

int wp_cli_work_resolve(const char *prog, struct wp_work_opts *o, const char *first_unit,
                        struct wp_scrape_opts *out)
{
    char err[512];

    if (!wp_cli_work_wanted(o))
        return 0;
    if (!o->url) {
        fprintf(stderr,
                "%s: --work-metric, --work-unit and --work-from need --work-url (the "
                "server's metrics page, e.g. http://127.0.0.1:8000/metrics)\n",
                prog);
        return -1;
    }
    if (o->preset && o->n_metrics) {
        fprintf(stderr,
                "%s: --work-from %s names the metrics already: drop --work-metric, or "
                "--work-from\n",
                prog, o->preset);
        return -1;
    }
    if (!o->preset && !o->n_metrics) {
        fprintf(stderr,
                "%s: --work-url needs the counter to read: --work-metric NAME, or "
                "--work-from vllm|tgi|llama.cpp|sglang\n",
                prog);
        return -1;
    }
    if (fill(o, first_unit, out)) {
        fprintf(stderr, "%s: %d --work-unit for %d metric%s: give one per metric, in order\n", prog,
                o->n_units, o->n_metrics, o->n_metrics == 1 ? "" : "s");
        return -1;
    }
    if (wp_scrape_check(out, err, sizeof err)) {
        fprintf(stderr, "%s: --work-url/--work-metric/--work-unit: %s\n", prog, err);
        return -1;
    }
    return 0;
}
