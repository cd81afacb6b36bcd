/* Work from a server's metrics endpoint: an inference server's token counters
 * (Prometheus text), scraped on the sampling clock beside the energy, so that
 * joules per token are energy and work over the same moments. A scrape runs
 * on a thread of its own (HTTP may take up to its timeout); the sampler only
 * asks for one. Counter resets are taken as Prometheus takes them (the new
 * value is all new work), per series. An endpoint that cannot be read is
 * said once and retried at every tick; it never stops the measurement. */
#ifndef WP_SCRAPE_H
#define WP_SCRAPE_H

#include "../meter/meter.h"
#include "../util/diag.h"
#include "progress.h"
#include "promtext.h"

#include <stdbool.h>

#define WP_SCRAPE_TIMEOUT_MS 2000
#define WP_SCRAPE_MAX_PAGE   (16u << 20) /* a vLLM page is some 100 kB */
/* A count no server reaches: 2^53, past which a double cannot count each
 * unit; and a rate no server reaches: a billion units a second from one
 * endpoint (an H100 node generates some 10^4 to 10^5 tokens a second). A page
 * past either is refused like one that says NaN. */
#define WP_SCRAPE_MAX_VALUE 9007199254740992.0
#define WP_SCRAPE_MAX_RATE  1e9

struct wp_scrape_opts {
    const char *url;
    int n_counters; /* 1 to WP_WORK_MAX_COUNTERS: the first is the run's work */
    struct {
        const char *metric; /* a selector: NAME or NAME{label="value",...} */
        const char *unit;
    } counters[WP_WORK_MAX_COUNTERS];
    long timeout_ms;     /* 0: WP_SCRAPE_TIMEOUT_MS */
    double min_period_s; /* scrapes at most this often (0: every tick asked) */
    struct wp_diag diag; /* the first failure of each kind, once */
};

/* Checks o (URL scheme, selectors, units: distinct names of letters, digits,
 * _ and -). Returns 0, or -EINVAL with why in err. */
int wp_scrape_check(const struct wp_scrape_opts *o, char *err, size_t cap);

/* The energy a scrape is paired with: the counted total of the latest
 * reading (joules), or a negative errno. */
struct wp_scrape_energy {
    int (*read)(void *ctx, double *energy_j);
    void *ctx;
};

struct wp_scraper;

/* Starts the scraper's thread; the first wp_scraper_tick takes the baseline
 * (ask for it once the session has started). o's strings must outlive it. Returns 0 and *out, or a
 * negative errno with why in err. */
int wp_scraper_start(const struct wp_scrape_opts *o, const struct wp_scrape_energy *e,
                     struct wp_scraper **out, char *err, size_t cap);

/* Asks for a scrape (not waited for); the shape of a session tick. */
void wp_scraper_tick(void *scraper);

/* Called after each scrape from the scraper's thread (serve refreshes its page). */
void wp_scraper_on_update(struct wp_scraper *s, void (*fn)(void *), void *arg);

/* Fills w's counters, endpoint and primary unit/done with the work counted
 * so far (quality and the progress file's fields are left alone). */
void wp_scraper_work(struct wp_scraper *s, struct wp_work *w, double t_s);

/* Energy over work for counter k over the last window_s seconds (less at
 * the start): false when no work was counted in it. */
bool wp_scraper_window(struct wp_scraper *s, int k, double window_s, double *energy_per_unit_j);

/* Stops the thread; with last, scrapes once more first (unless the last
 * scrape failed: a server that has gone is not waited for). */
void wp_scraper_stop(struct wp_scraper *s, bool last);

void wp_scraper_free(struct wp_scraper *s);

/* The counting, apart from HTTP (for tests and the fuzz target): applies one
 * page at time t (seconds, monotonic) with the counted energy then. Returns 0,
 * or -EINVAL with why in err (nothing applied). */
int wp_scraper_apply(struct wp_scraper *s, const char *page, size_t len, double t_s,
                     double energy_j, char *err, size_t cap);

/* A scraper that never fetches (for wp_scraper_apply alone). */
int wp_scraper_new(const struct wp_scrape_opts *o, struct wp_scraper **out, char *err, size_t cap);

#endif
