/* The Prometheus text reader and the scraper's counting: the format's
 * grammar accepted and refused line by line, selectors, and counters
 * through baselines, resets and series that come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"
#include "work/promtext.h"
#include "work/scrape.h"

struct seen {
    int n;
    double sum;
    enum wp_prom_type type;
};

static int add(void *ctx, const struct wp_prom_sample *s)
{
    struct seen *v = ctx;
    v->n++;
    v->sum += isfinite(s->value) ? s->value : 0;
    v->type = s->type;
    return 0;
}

static int parse(const char *text, struct seen *v, char *err)
{
    memset(v, 0, sizeof *v);
    return wp_prom_parse(text, strlen(text), add, v, err, 200);
}

static void accepted_pages(void **state)
{
    struct seen v;
    char err[200];

    (void)state;
    assert_int_equal(parse("", &v, err), 0);
    assert_int_equal(parse("a 1\nb{x=\"y\"} 2 1700000000000\n\n  # a comment\n", &v, err), 0);
    assert_int_equal(v.n, 2);
    assert_true(v.sum == 3);
    /* a missing last newline, blanks and tabs, a trailing comma, escapes, odd values */
    assert_int_equal(parse("a{x=\"q\\\"\\\\\\n\",y=\"\",} \t 1e3\nb NaN\nc +Inf\nd -Inf", &v, err),
                     0);
    assert_int_equal(v.n, 4);
    assert_true(v.sum == 1000);
    assert_int_equal(parse("# TYPE vllm:x_total counter\nvllm:x_total 5\n", &v, err), 0);
    assert_int_equal(v.type, WP_PROM_COUNTER);
    assert_int_equal(parse("# TYPE h histogram\nh_sum 5\n", &v, err), 0);
    assert_int_equal(v.type, WP_PROM_HISTOGRAM);
    assert_int_equal(parse("# TYPE h histogram\nhx_sum 5\n", &v, err), 0);
    assert_int_equal(v.type, WP_PROM_UNTYPED);
    assert_int_equal(parse("# HELP a says \\\\ and \\n\na 1\n", &v, err), 0);
    assert_int_equal(parse("# TYPE\n# HELP\n#TYPE x y\n", &v, err),
                     0); /* comments, as Go reads them */
}

static void refused_pages(void **state)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"<html><body>502</body></html>\n", "line 1: not a sample"},
        {"a\n", "not followed by a blank"},
        {"a 1\nb one\n", "line 2: a sample's value is not a number"},
        {"a{x=y} 1\n", "not quoted"},
        {"a{x=\"y} 1\n", "not closed"},
        {"a{x=\"\\t\"} 1\n", "escape other than"},
        {"a{x=\"y\" z=\"w\"} 1\n", "not separated"},
        {"a{9=\"y\"} 1\n", "label name"},
        {"a{x} 1\n", "no '='"},
        {"a 1 12.5\n", "timestamp is not an integer"},
        {"a 1 2 3\n", "text after its timestamp"},
        {"# TYPE a countr\na 1\n", "TYPE is not"},
        {"# TYPE a counter extra\n", "TYPE is not"},
        {"# TYPE \n", "TYPE names no metric"},
        {"# HELP a bad \\t escape\n", "HELP text has an escape"},
        {"a 1\r\n", "not a number"},
    };
    struct seen v;
    char err[200];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        if (parse(bad[i].text, &v, err) != -EINVAL)
            fail_msg("accepted: %s", bad[i].text);
        if (!strstr(err, bad[i].why))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].text, err, bad[i].why);
    }
    assert_int_equal(wp_prom_parse("a 1\0b 2\n", 8, add, &v, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "NUL"));
}

static void selectors(void **state)
{
    struct wp_prom_selector sel;
    struct wp_prom_sample s = {.name = "m", .name_len = 1, .labels = "", .labels_len = 0};
    const char *labels = "model_name=\"a\\\"b\", engine = \"0\"";
    char err[200], v[32];

    (void)state;
    assert_int_equal(wp_prom_selector_parse("m", &sel, err, sizeof err), 0);
    assert_true(wp_prom_selects(&sel, &s));
    s.labels = labels;
    s.labels_len = strlen(labels);
    assert_true(wp_prom_selects(&sel, &s));
    assert_true(wp_prom_label(&s, "model_name", v, sizeof v));
    assert_string_equal(v, "a\"b");
    assert_true(wp_prom_label(&s, "engine", v, sizeof v));
    assert_string_equal(v, "0");
    assert_false(wp_prom_label(&s, "engin", v, sizeof v));
    assert_int_equal(wp_prom_selector_parse("m{engine=\"0\"}", &sel, err, sizeof err), 0);
    assert_true(wp_prom_selects(&sel, &s));
    assert_int_equal(wp_prom_selector_parse("m{engine=\"1\"}", &sel, err, sizeof err), 0);
    assert_false(wp_prom_selects(&sel, &s));
    assert_int_equal(
        wp_prom_selector_parse("m{model_name=\"a\\\"b\",engine=\"0\"}", &sel, err, sizeof err), 0);
    assert_int_equal(sel.n_matchers, 2);
    assert_true(wp_prom_selects(&sel, &s));
    assert_int_equal(wp_prom_selector_parse("mm", &sel, err, sizeof err), 0);
    assert_false(wp_prom_selects(&sel, &s));
    assert_int_equal(wp_prom_selector_parse("m{a=b}", &sel, err, sizeof err), -EINVAL);
    assert_int_equal(wp_prom_selector_parse("m x", &sel, err, sizeof err), -EINVAL);
    assert_int_equal(wp_prom_selector_parse("{a=\"b\"}", &sel, err, sizeof err), -EINVAL);
    assert_int_equal(
        wp_prom_selector_parse("m{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\"}", &sel, err, sizeof err),
        -EINVAL);
}

static struct wp_scraper *scraper(const char *metric)
{
    struct wp_scrape_opts o = {.url = "http://127.0.0.1:1/metrics", .n_counters = 1};
    struct wp_scraper *s;
    char err[200];

    o.counters[0].metric = metric;
    o.counters[0].unit = "tokens";
    assert_int_equal(wp_scraper_new(&o, &s, err, sizeof err), 0);
    return s;
}

static double done(struct wp_scraper *s, long *resets)
{
    struct wp_work w = {0};
    wp_scraper_work(s, &w, 0);
    if (resets)
        *resets = w.counters[0].resets;
    return w.done;
}

static void apply(struct wp_scraper *s, const char *page, double t, double e)
{
    char err[200];
    assert_int_equal(wp_scraper_apply(s, page, strlen(page), t, e, err, sizeof err), 0);
}

/* A baseline, increases, a reset of one engine of two, an engine that
 * appears later, and a page that does not parse changing nothing. */
static void counting(void **state)
{
    struct wp_scraper *s = scraper("t_total");
    double now = wp_mono_s();
    long resets;
    char err[200];

    (void)state;
    apply(s, "t_total{e=\"0\"} 100\nt_total{e=\"1\"} 50\nother 7\n", now, 0);
    assert_true(done(s, NULL) == 0); /* the server predates us: a baseline */
    apply(s, "t_total{e=\"0\"} 110\nt_total{e=\"1\"} 55\n", now, 10);
    assert_true(done(s, NULL) == 15);
    /* engine 1 restarts and counts 4; engine 0 goes on */
    apply(s, "t_total{e=\"0\"} 120\nt_total{e=\"1\"} 4\n", now, 20);
    assert_true(done(s, &resets) == 29);
    assert_int_equal(resets, 1);
    /* a new engine: all of its count is new */
    apply(s, "t_total{e=\"0\"} 120\nt_total{e=\"1\"} 4\nt_total{e=\"2\"} 6\n", now, 25);
    assert_true(done(s, NULL) == 35);
    /* garbage half-way: nothing of the page is taken */
    const char *half = "t_total{e=\"0\"} 500\n<html>\n";
    assert_int_equal(wp_scraper_apply(s, half, strlen(half), now, 30, err, sizeof err), -EINVAL);
    assert_true(done(s, NULL) == 35);
    /* a series that is away for a scrape and comes back higher is no reset */
    apply(s, "t_total{e=\"0\"} 130\n", now, 30);
    apply(s, "t_total{e=\"0\"} 130\nt_total{e=\"1\"} 9\nt_total{e=\"2\"} 6\n", now, 40);
    assert_true(done(s, &resets) == 50);
    assert_int_equal(resets, 1);
    wp_scraper_free(s);
}

static int said_n;

static void count_said(void *ctx, enum wp_hint hint, const char *msg)
{
    (void)ctx;
    (void)hint;
    said_n += strstr(msg, "has over 64 series") != NULL;
}

/* More series than a counter follows: the first 64 are counted, said once. */
static void too_many_series(void **state)
{
    struct wp_scrape_opts o = {
        .url = "http://127.0.0.1:1/metrics", .n_counters = 1, .diag = {count_said, NULL}};
    struct wp_scraper *s;
    char err[200], page[8192];
    size_t n;

    (void)state;
    o.counters[0].metric = "t";
    o.counters[0].unit = "tokens";
    assert_int_equal(wp_scraper_new(&o, &s, err, sizeof err), 0);
    for (int round = 1; round <= 2; round++) {
        n = 0;
        for (int i = 0; i < 65; i++)
            n += (size_t)snprintf(page + n, sizeof page - n, "t{e=\"%d\"} %d\n", i, round);
        assert_int_equal(wp_scraper_apply(s, page, n, 0, 0, err, sizeof err), 0);
    }
    assert_true(done(s, NULL) == 64); /* one more each, of the 64 followed */
    assert_int_equal(said_n, 1);
    wp_scraper_free(s);
}

static void refused_values(void **state)
{
    struct wp_scraper *s = scraper("t");
    char err[200];

    (void)state;
    assert_int_equal(wp_scraper_apply(s, "t NaN\n", 6, 0, 0, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not a count"));
    assert_int_equal(wp_scraper_apply(s, "t -1\n", 5, 0, 0, err, sizeof err), -EINVAL);
    assert_int_equal(wp_scraper_apply(s, "# TYPE t gauge\nt 3\n", 19, 0, 0, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "gauge, not a counter"));
    wp_scraper_free(s);
}

/* A count past 2^53, or a growth faster than any server counts, is refused
 * like NaN: nothing of that page is counted, and the next good one is. */
static void impossible_counts(void **state)
{
    struct wp_scraper *s = scraper("t");
    char err[200];

    (void)state;
    apply(s, "t 0\n", 100, 0);
    assert_int_equal(wp_scraper_apply(s, "t 1e308\n", 8, 101, 1, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "above 2^53"));
    assert_int_equal(wp_scraper_apply(s, "t 5e12\n", 7, 101, 1, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "faster than any server counts"));
    assert_true(done(s, NULL) == 0);
    apply(s, "t 1000\n", 101, 1); /* 1,000 a second: counted */
    assert_true(done(s, NULL) == 1000);
    wp_scraper_free(s);
}

/* Energy over work in a window: from the oldest scrape in it to the last. */
static void windows(void **state)
{
    struct wp_scraper *s = scraper("t");
    double now = wp_mono_s(), jpu;

    (void)state;
    assert_false(wp_scraper_window(s, 0, 60, &jpu));
    apply(s, "t 0\n", now - 1000, 0);     /* outside both windows */
    apply(s, "t 100\n", now - 600, 100);  /* in the 15 min one */
    apply(s, "t 1000\n", now - 30, 1000); /* in both */
    apply(s, "t 1100\n", now, 1300);
    assert_true(wp_scraper_window(s, 0, 60, &jpu));
    assert_true(fabs(jpu - 3.0) < 1e-9); /* 300 J over 100 units */
    assert_true(wp_scraper_window(s, 0, 900, &jpu));
    assert_true(fabs(jpu - 1.2) < 1e-9); /* 1200 J over 1000 units */
    assert_false(wp_scraper_window(s, 1, 60, &jpu));
    apply(s, "t 1100\n", now, 1400); /* no work since the last: none in a tiny window */
    assert_false(wp_scraper_window(s, 0, 1e-9, &jpu));
    wp_scraper_free(s);
}

static void checked_options(void **state)
{
    struct wp_scrape_opts o = {.url = "http://h/metrics", .n_counters = 2};
    char err[200];

    (void)state;
    o.counters[0].metric = "a_total";
    o.counters[0].unit = "tokens";
    o.counters[1].metric = "b_total";
    o.counters[1].unit = "tokens";
    assert_int_equal(wp_scrape_check(&o, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "two metrics in one unit"));
    o.counters[1].unit = "prompt_tokens";
    assert_int_equal(wp_scrape_check(&o, err, sizeof err), 0);
    o.url = "file:///etc/passwd";
    assert_int_equal(wp_scrape_check(&o, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_pages),  cmocka_unit_test(refused_pages),
        cmocka_unit_test(selectors),       cmocka_unit_test(counting),
        cmocka_unit_test(refused_values),  cmocka_unit_test(impossible_counts),
        cmocka_unit_test(windows),         cmocka_unit_test(checked_options),
        cmocka_unit_test(too_many_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
