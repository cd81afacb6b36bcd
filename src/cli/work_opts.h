/* The options that read work from a server's metrics endpoint, shared by
 * wattprint run and wattprint serve: --work-url, --work-metric (repeatable),
 * --work-unit (repeatable, one per metric in order), --work-from PRESET. */
#ifndef WP_WORK_OPTS_H
#define WP_WORK_OPTS_H

#include "../work/scrape.h"

#include <getopt.h>
#include <stdbool.h>

enum {
    WP_OPT_WORK_URL = 1100,
    WP_OPT_WORK_METRIC,
    WP_OPT_WORK_UNIT,
    WP_OPT_WORK_FROM,
};

#define WP_WORK_LONGOPTS                                                                           \
    {"work-url", required_argument, NULL, WP_OPT_WORK_URL},                                        \
        {"work-metric", required_argument, NULL, WP_OPT_WORK_METRIC},                              \
        {"work-unit", required_argument, NULL, WP_OPT_WORK_UNIT},                                  \
    {                                                                                              \
        "work-from", required_argument, NULL, WP_OPT_WORK_FROM                                     \
    }

#define WP_WORK_HELP                                                                               \
    "  --work-url URL      read the work from a server's Prometheus metrics page\n"                \
    "                      (an inference server's /metrics), beside the energy\n"                  \
    "  --work-metric NAME  the counter to read there: NAME or NAME{label=\"value\"}\n"             \
    "                      (repeatable; the first is the work, the others beside it)\n"            \
    "  --work-unit UNIT    its unit (repeatable, one per metric; default tokens, then\n"           \
    "                      from each metric's name)\n"                                             \
    "  --work-from SERVER  the token counters of vllm, tgi, llama.cpp or sglang\n"                 \
    "                      (generated tokens as the work, prompt tokens beside)\n"

struct wp_work_opts {
    const char *url;
    const char *preset;
    int n_metrics, n_units;
    const char *metrics[WP_WORK_MAX_COUNTERS];
    const char *units[WP_WORK_MAX_COUNTERS];
    char derived[WP_WORK_MAX_COUNTERS][32]; /* units made from metric names */
};

/* Handles one work option. Returns 1 if it was one and valid, 0 if opt is not
 * a work option, -1 after printing why (prog names the subcommand). */
int wp_cli_work_opt(const char *prog, int opt, const char *arg, struct wp_work_opts *o);

/* Whether any work option was given. */
bool wp_cli_work_wanted(const struct wp_work_opts *o);

/* Checks the options together and fills out (whose strings point into o);
 * first_unit is the default unit of the first counter (NULL: tokens).
 * Returns 0, or -1 after printing why. */
int wp_cli_work_resolve(const char *prog, struct wp_work_opts *o, const char *first_unit,
                        struct wp_scrape_opts *out);

#endif
