/* The Prometheus text exposition format (version 0.0.4), read strictly: a
 * page is taken whole or not at all, as Prometheus itself takes it, so an
 * error page or a half-written answer never passes for a counter's value.
 * And selectors naming the series to read: NAME or NAME{label="value",...}. */
#ifndef WP_PROMTEXT_H
#define WP_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

#define WP_PROM_MAX_NAME        160
#define WP_PROM_MAX_MATCHERS    4
#define WP_PROM_MAX_LABEL_VALUE 128

enum wp_prom_type {
    WP_PROM_UNTYPED,
    WP_PROM_COUNTER,
    WP_PROM_GAUGE,
    WP_PROM_HISTOGRAM,
    WP_PROM_SUMMARY
};

/* One sample as the parser hands it over: pointers into the page. */
struct wp_prom_sample {
    const char *name;
    size_t name_len;
    const char *labels; /* the text between the braces, validated; "" without */
    size_t labels_len;
    double value;
    enum wp_prom_type type; /* of its family, where a TYPE line declared it */
    int line;
};

/* Called for each sample; a non-zero return stops the parse and is returned. */
typedef int (*wp_prom_fn)(void *ctx, const struct wp_prom_sample *s);

/* Parses a page of len bytes, calling fn for every sample in order. Returns
 * 0, the callback's non-zero value, or -EINVAL with "line N: why" in err.
 * fn sees samples before the rest of the page is checked: keep what it saw
 * aside until 0 comes back. */
int wp_prom_parse(const char *text, size_t len, wp_prom_fn fn, void *ctx, char *err, size_t cap);

/* The value of label name in a sample's validated label text, unescaped into
 * value (truncated to cap). Returns true when the label is present. */
bool wp_prom_label(const struct wp_prom_sample *s, const char *name, char *value, size_t cap);

/* Which series a counter is read from: every series of the metric name,
 * narrowed by equality matchers on labels. */
struct wp_prom_selector {
    char name[WP_PROM_MAX_NAME];
    int n_matchers;
    struct {
        char label[64];
        char value[WP_PROM_MAX_LABEL_VALUE];
    } matchers[WP_PROM_MAX_MATCHERS];
};

/* Parses NAME or NAME{label="value",...}. Returns 0, or -EINVAL with why in err. */
int wp_prom_selector_parse(const char *text, struct wp_prom_selector *out, char *err, size_t cap);

/* Whether a sample belongs to the selector's series. */
bool wp_prom_selects(const struct wp_prom_selector *sel, const struct wp_prom_sample *s);

#endif
