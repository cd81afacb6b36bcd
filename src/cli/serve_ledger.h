/* wattprint serve --ledger: a ledger record for every period of serving
 * (an hour by default, aligned to the clock, so days and months add up), each
 * with the node's energy in it and the work the server counted in it. The
 * current period is a running row, checkpointed every minute. */
#ifndef WP_SERVE_LEDGER_H
#define WP_SERVE_LEDGER_H

#include "../account/assume.h"
#include "../run/run.h"
#include "../session/session.h"
#include "../work/scrape.h"

struct wp_serve_ledger_opts {
    const char *path; /* a file or a PostgreSQL URI */
    double every_s;   /* the period */
    struct wp_session *session;
    struct wp_scraper *scraper; /* NULL: no work */
    const struct wp_assumptions *assume;
    struct wp_labels labels;
    int argc;
    char *const *argv;
    struct wp_diag diag;
};

struct wp_serve_ledger;

/* Prepares recording (o and what it points to must outlive it): registers a
 * checkpoint tick on the session, so call it before wp_session_start.
 * Returns 0 and *out, or a negative errno. */
int wp_serve_ledger_open(const struct wp_serve_ledger_opts *o, struct wp_serve_ledger **out);

/* Begins the first period, on a thread of its own; after wp_session_start. */
void wp_serve_ledger_begin(struct wp_serve_ledger *l);

/* Writes the last period (up to now) and stops; frees l. */
void wp_serve_ledger_stop(struct wp_serve_ledger *l);

#endif
