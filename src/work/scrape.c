/* The scraper: a server's counters read beside the energy. Each counter is
 * the sum of the series its selector picks, each series followed apart (one
 * engine of several restarting is a reset of its series alone). A series on
 * the first page read is a baseline, except where the server was not
 * listening at the first attempt: then it started after us, and everything
 * it counted is ours. A series that appears later counts from zero. */
#include "scrape.h"

#include "../util/http.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 64   /* per counter: engines, models, ranks */
#define RING       1024 /* scrapes kept for the windows: 15 min at 1 s */

struct series {
    uint64_t key; /* of the label text */
    double last;
};

struct counter {
    struct wp_prom_selector sel;
    const char *metric, *unit;
    struct series series[MAX_SERIES];
    int n_series;
    double total; /* work counted since the baseline */
    long resets;
    bool seen, said_absent, said_full;
};

struct entry {
    double t, energy_j, work[WP_WORK_MAX_COUNTERS];
};

struct wp_scraper {
    struct wp_scrape_opts o;
    struct wp_scrape_energy energy;
    struct wp_http_client *http; /* one connection kept; NULL: one per scrape */
    char shown[256];             /* the URL as it may be said */
    struct counter c[WP_WORK_MAX_COUNTERS];
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    pthread_t thread;
    bool started, want, stop;
    bool attempted, baseline, server_was_down, last_failed, said_failure;
    bool ending; /* the last scrape, after the command */
    long scrapes, failed;
    struct entry ring[RING];
    int ring_n, ring_head; /* head: the next slot */
    void (*on_update)(void *);
    void *update_arg;
};

/* A page's matches, kept aside until the whole page has parsed. */
struct match {
    int k;
    uint64_t key;
    double value;
};

struct page {
    struct wp_scraper *s;
    struct match m[MAX_SERIES * WP_WORK_MAX_COUNTERS];
    int n;
    char *err;
    size_t cap;
};

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

int wp_scrape_check(const struct wp_scrape_opts *o, char *err, size_t cap)
{
    struct wp_prom_selector sel;

    if (!o->url || (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)) {
        snprintf(err, cap, "'%s' is not an http:// or https:// URL", o->url ? o->url : "");
        return -EINVAL;
    }
    if (o->n_counters < 1 || o->n_counters > WP_WORK_MAX_COUNTERS) {
        snprintf(err, cap, "1 to %d metrics can be read", WP_WORK_MAX_COUNTERS);
        return -EINVAL;
    }
    for (int k = 0; k < o->n_counters; k++) {
        const char *u = o->counters[k].unit;
        if (strlen(o->counters[k].metric) >= sizeof((struct wp_work *)0)->counters[0].metric) {
            snprintf(err, cap, "a metric of over 255 characters");
            return -EINVAL;
        }
        if (wp_prom_selector_parse(o->counters[k].metric, &sel, err, cap))
            return -EINVAL;
        if (!u || !wp_work_unit_valid(u, strlen(u))) {
            snprintf(err, cap, "'%s' is not a unit (1 to 31 letters, digits, _ and -)", u ? u : "");
            return -EINVAL;
        }
        for (int j = 0; j < k; j++)
            if (strcmp(o->counters[j].unit, u) == 0) {
                snprintf(err, cap, "two metrics in one unit (%s): give each its own", u);
                return -EINVAL;
            }
    }
    return 0;
}

/* The URL without its user and password. */
static void shown_url(const char *url, char *out, size_t cap)
{
    const char *host = strstr(url, "://") + 3, *at = strchr(host, '@'), *slash = strchr(host, '/');

    if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(host - url), url, at + 1);
    else
        snprintf(out, cap, "%s", url);
}

int wp_scraper_new(const struct wp_scrape_opts *o, struct wp_scraper **out, char *err, size_t cap)
{
    struct wp_scraper *s;

    *out = NULL;
    if (wp_scrape_check(o, err, cap))
        return -EINVAL;
    if (!(s = calloc(1, sizeof *s))) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    s->o = *o;
    if (!s->o.timeout_ms)
        s->o.timeout_ms = WP_SCRAPE_TIMEOUT_MS;
    shown_url(o->url, s->shown, sizeof s->shown);
    for (int k = 0; k < o->n_counters; k++) {
        wp_prom_selector_parse(o->counters[k].metric, &s->c[k].sel, err, cap);
        s->c[k].metric = o->counters[k].metric;
        s->c[k].unit = o->counters[k].unit;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    *out = s;
    return 0;
}

static int on_sample(void *ctx, const struct wp_prom_sample *smp)
{
    struct page *pg = ctx;
    struct wp_scraper *s = pg->s;

    for (int k = 0; k < s->o.n_counters; k++) {
        if (!wp_prom_selects(&s->c[k].sel, smp))
            continue;
        if (smp->type == WP_PROM_GAUGE) {
            snprintf(pg->err, pg->cap, "line %d: %s is a gauge, not a counter", smp->line,
                     s->c[k].sel.name);
            return -EINVAL;
        }
        if (!isfinite(smp->value) || smp->value < 0 || smp->value > WP_SCRAPE_MAX_VALUE) {
            snprintf(pg->err, pg->cap, "line %d: %s is %g, not a count%s", smp->line,
                     s->c[k].sel.name, smp->value,
                     smp->value > WP_SCRAPE_MAX_VALUE ? " (above 2^53, no counter reaches it)"
                                                      : "");
            return -EINVAL;
        }
        if (pg->n < (int)(sizeof pg->m / sizeof *pg->m))
            pg->m[pg->n++] = (struct match){k, fnv1a(smp->labels, smp->labels_len), smp->value};
    }
    return 0;
}

/* The last value of a counter's series, or -1 when it is new. Under mu. */
static double last_of(const struct counter *c, uint64_t key)
{
    for (int i = 0; i < c->n_series; i++)
        if (c->series[i].key == key)
            return c->series[i].last;
    return -1;
}

/* Refuses a page whose counts grew faster than WP_SCRAPE_MAX_RATE since the
 * last page (a server's bug, or not a count): nothing of it is counted.
 * Returns 0, or -EINVAL with why. Under mu. */
static int check_rate(struct wp_scraper *s, const struct page *pg, double t_s, char *err,
                      size_t cap)
{
    const struct entry *last = &s->ring[(s->ring_head + RING - 1) % RING];
    double dt;

    if (!s->baseline || s->ring_n == 0)
        return 0;
    dt = t_s - last->t > 1e-3 ? t_s - last->t : 1e-3;
    for (int i = 0; i < pg->n; i++) {
        double before = last_of(&s->c[pg->m[i].k], pg->m[i].key);
        double grew =
            before >= 0 && pg->m[i].value >= before ? pg->m[i].value - before : pg->m[i].value;
        if (grew / dt > WP_SCRAPE_MAX_RATE) {
            snprintf(err, cap,
                     "%s grew by %g in %.3g s, faster than any server counts (%g a "
                     "second); the page is not used",
                     s->c[pg->m[i].k].metric, grew, dt, WP_SCRAPE_MAX_RATE);
            return -EINVAL;
        }
    }
    return 0;
}

/* One series' value into its counter. Under mu. */
static void count(struct wp_scraper *s, const struct match *m)
{
    struct counter *c = &s->c[m->k];
    int i = 0;

    while (i < c->n_series && c->series[i].key != m->key)
        i++;
    if (i == c->n_series) {
        if (i == MAX_SERIES) {
            if (!c->said_full)
                wp_diag(&s->o.diag, WP_HINT_NONE,
                        "%s has over %d series at %s: the first %d are counted; narrow it "
                        "with labels (NAME{label=\"value\"})",
                        c->metric, MAX_SERIES, s->shown, MAX_SERIES);
            c->said_full = true;
            return;
        }
        c->n_series++;
        c->series[i] = (struct series){m->key, 0};
        /* on the first page of a server that was up before us: a baseline */
        if (!s->baseline && !s->server_was_down) {
            c->series[i].last = m->value;
            return;
        }
    }
    if (m->value < c->series[i].last) { /* a restart: all of the new value is new */
        c->resets++;
        c->total += m->value;
    } else {
        c->total += m->value - c->series[i].last;
    }
    c->series[i].last = m->value;
}

/* Keeps (t, energy, work) for the windows. Under mu. */
static void remember(struct wp_scraper *s, double t_s, double energy_j)
{
    struct entry *e = &s->ring[s->ring_head];

    e->t = t_s;
    e->energy_j = energy_j;
    for (int k = 0; k < s->o.n_counters; k++)
        e->work[k] = s->c[k].total;
    s->ring_head = (s->ring_head + 1) % RING;
    if (s->ring_n < RING)
        s->ring_n++;
}

int wp_scraper_apply(struct wp_scraper *s, const char *text, size_t len, double t_s,
                     double energy_j, char *err, size_t cap)
{
    struct page *pg = malloc(sizeof *pg);
    int rc;

    if (!pg) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    *pg = (struct page){.s = s, .err = err, .cap = cap};
    rc = wp_prom_parse(text, len, on_sample, pg, err, cap);
    if (rc == 0) {
        pthread_mutex_lock(&s->mu);
        if ((rc = check_rate(s, pg, t_s, err, cap)) != 0) {
            pthread_mutex_unlock(&s->mu);
            free(pg);
            return rc;
        }
        for (int i = 0; i < pg->n; i++)
            count(s, &pg->m[i]);
        for (int k = 0; k < s->o.n_counters; k++) {
            bool here = false;
            for (int i = 0; i < pg->n && !here; i++)
                here = pg->m[i].k == k;
            s->c[k].seen |= here;
            if (!here && !s->c[k].seen && !s->c[k].said_absent)
                wp_diag(&s->o.diag, WP_HINT_NONE,
                        "%s is not on the page at %s (yet): it counts from zero when it "
                        "appears; check the name if it never does",
                        s->c[k].metric, s->shown);
            s->c[k].said_absent |= !here;
        }
        s->baseline = true;
        remember(s, t_s, energy_j);
        pthread_mutex_unlock(&s->mu);
    }
    free(pg);
    return rc ? -EINVAL : 0;
}

/* Says the first failure, once: the measurement goes on without it. */
static void failed(struct wp_scraper *s, int rc, const char *why)
{
    pthread_mutex_lock(&s->mu);
    s->failed++;
    s->last_failed = true;
    bool say = !s->said_failure, starting = !s->baseline && rc == -ECONNREFUSED;
    s->said_failure = true;
    pthread_mutex_unlock(&s->mu);
    if (say && s->ending) /* often a server that went with the command */
        wp_diag(&s->o.diag, WP_HINT_NONE,
                "cannot read the work from %s after the command: %s; the work read before is "
                "kept",
                s->shown, why);
    else if (say && starting)
        wp_diag(&s->o.diag, WP_HINT_NONE,
                "cannot read the work from %s yet: nothing listens there (a server still "
                "starting?); retried at every reading, and what it counts from its start is "
                "this measurement's (said once)",
                s->shown);
    else if (say)
        wp_diag(&s->o.diag, WP_HINT_NONE,
                "cannot read the work from %s: %s; retried at every reading, the measurement "
                "goes on (said once)",
                s->shown, why);
}

/* One scrape: the energy of the reading that asked for it, then the page. */
static void scrape_once(struct wp_scraper *s)
{
    struct wp_http_request rq = {.url = s->o.url,
                                 .headers = {"Accept: text/plain;version=0.0.4"},
                                 .timeout_ms = s->o.timeout_ms,
                                 .max_body = WP_SCRAPE_MAX_PAGE,
                                 .no_proxy = 1};
    struct wp_http_response rs;
    double energy_j = 0, t_s;
    char err[512], why[600];
    int rc;

    if (s->energy.read && s->energy.read(s->energy.ctx, &energy_j) != 0)
        return;
    t_s = wp_mono_s();
    if (!s->http)
        s->http = wp_http_client_new(); /* on the scraper's thread, where it is used */
    rc = s->http ? wp_http_client_fetch(s->http, &rq, &rs, err, sizeof err)
                 : wp_http_fetch(&rq, &rs, err, sizeof err);
    pthread_mutex_lock(&s->mu);
    if (!s->attempted && rc == -ECONNREFUSED)
        s->server_was_down = true; /* it starts after us: all it counts is ours */
    s->attempted = true;
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        failed(s, rc, rc == -ETIMEDOUT ? "no answer within the timeout" : err);
    } else if (rs.status != 200) {
        snprintf(why, sizeof why, "it answered HTTP %ld", rs.status);
        failed(s, 0, why);
    } else if (wp_scraper_apply(s, rs.body, rs.len, t_s, energy_j, err, sizeof err) != 0) {
        snprintf(why, sizeof why, "not a Prometheus text page: %s", err);
        failed(s, 0, why);
    } else {
        pthread_mutex_lock(&s->mu);
        s->last_failed = false;
        pthread_mutex_unlock(&s->mu);
    }
    free(rs.body);
    /* counted once done: a count read with the work is that of a finished scrape */
    pthread_mutex_lock(&s->mu);
    s->scrapes++;
    pthread_mutex_unlock(&s->mu);
    if (s->on_update)
        s->on_update(s->update_arg);
}

static void *run(void *arg)
{
    struct wp_scraper *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->want && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop)
            break;
        s->want = false;
        pthread_mutex_unlock(&s->mu);
        scrape_once(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int wp_scraper_start(const struct wp_scrape_opts *o, const struct wp_scrape_energy *e,
                     struct wp_scraper **out, char *err, size_t cap)
{
    int rc = wp_scraper_new(o, out, err, cap);

    if (rc)
        return rc;
    (*out)->energy = *e;
    if ((rc = wp_thread_start(&(*out)->thread, run, *out)) != 0) {
        snprintf(err, cap, "cannot start a thread: %s", strerror(rc));
        wp_scraper_free(*out);
        *out = NULL;
        return -rc;
    }
    (*out)->started = true;
    return 0;
}

void wp_scraper_tick(void *arg)
{
    struct wp_scraper *s = arg;

    pthread_mutex_lock(&s->mu);
    s->want = true; /* asked, not waited for: ticks during a scrape are one */
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void wp_scraper_on_update(struct wp_scraper *s, void (*fn)(void *), void *arg)
{
    s->on_update = fn;
    s->update_arg = arg;
}

void wp_scraper_work(struct wp_scraper *s, struct wp_work *w, double t_s)
{
    pthread_mutex_lock(&s->mu);
    w->n_counters = s->o.n_counters;
    for (int k = 0; k < s->o.n_counters; k++) {
        snprintf(w->counters[k].metric, sizeof w->counters[k].metric, "%s", s->c[k].metric);
        snprintf(w->counters[k].unit, sizeof w->counters[k].unit, "%s", s->c[k].unit);
        w->counters[k].done = s->c[k].total;
        w->counters[k].resets = s->c[k].resets;
    }
    snprintf(w->endpoint, sizeof w->endpoint, "%s", s->shown);
    w->scrapes = s->scrapes;
    w->failed = s->failed;
    snprintf(w->unit, sizeof w->unit, "%s", s->c[0].unit);
    w->unit_from_cli = true;
    if (s->c[0].seen && s->c[0].total != w->done) {
        if (!w->reported)
            w->first_done_s = t_s;
        w->last_done_s = t_s;
    }
    w->reported |= s->c[0].seen;
    w->done = s->c[0].total;
    pthread_mutex_unlock(&s->mu);
}

bool wp_scraper_window(struct wp_scraper *s, int k, double window_s, double *energy_per_unit_j)
{
    double since = wp_mono_s() - window_s;
    bool ok = false;

    pthread_mutex_lock(&s->mu);
    if (k >= 0 && k < s->o.n_counters && s->ring_n >= 2) {
        const struct entry *last = &s->ring[(s->ring_head + RING - 1) % RING], *first = last;
        /* the oldest kept scrape within the window; none if the last is older */
        for (int i = 2; i <= s->ring_n; i++) {
            const struct entry *e = &s->ring[(s->ring_head + RING - i) % RING];
            if (e->t < since)
                break;
            first = e;
        }
        double work = last->work[k] - first->work[k];
        if (last->t >= since && work > 0) {
            *energy_per_unit_j = (last->energy_j - first->energy_j) / work;
            ok = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void wp_scraper_stop(struct wp_scraper *s, bool last)
{
    bool again;

    if (!s || !s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->started = false;
    pthread_mutex_lock(&s->mu);
    again = last && !s->last_failed;
    s->ending = true;
    pthread_mutex_unlock(&s->mu);
    if (again)
        scrape_once(s);
}

void wp_scraper_free(struct wp_scraper *s)
{
    if (!s)
        return;
    wp_scraper_stop(s, false);
    wp_http_client_free(s->http);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
