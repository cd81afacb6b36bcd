/* Fuzz target: a server's metrics page as --work-url reads it, through the
 * scraper's counting (two counters, one narrowed by a label), applied twice
 * so that the second page meets the first one's series (resets, new ones). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "work/promtext.h"
#include "work/scrape.h"

static int label(void *ctx, const struct wp_prom_sample *s)
{
    char v[64];
    (void)ctx;
    (void)wp_prom_label(s, "model_name", v, sizeof v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_scrape_opts o = {.url = "http://127.0.0.1:1/metrics", .n_counters = 2};
    struct wp_prom_selector sel;
    struct wp_scraper *s;
    char err[256], text[256];
    size_t half = size / 2;

    o.counters[0].metric = "vllm:generation_tokens_total";
    o.counters[0].unit = "tokens";
    o.counters[1].metric = "t_sum{model_name=\"m\"}";
    o.counters[1].unit = "prompt_tokens";
    if (wp_scraper_new(&o, &s, err, sizeof err) != 0)
        return 0;
    (void)wp_scraper_apply(s, (const char *)data, half, 1.0, 1.0, err, sizeof err);
    (void)wp_scraper_apply(s, (const char *)data + half, size - half, 2.0, 2.0, err, sizeof err);
    (void)wp_prom_parse((const char *)data, size, label, NULL, err, sizeof err);
    wp_scraper_free(s);
    /* and the input as a selector */
    memcpy(text, data, size < sizeof text - 1 ? size : sizeof text - 1);
    text[size < sizeof text - 1 ? size : sizeof text - 1] = '\0';
    (void)wp_prom_selector_parse(text, &sel, err, sizeof err);
    return 0;
}
