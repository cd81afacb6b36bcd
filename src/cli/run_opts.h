/* wattprint run's options: parsed from a table, checked against the
 * session's limits, completed from the configuration files. */
#ifndef WP_RUN_OPTS_H
#define WP_RUN_OPTS_H

#include "carbon_opts.h"
#include "work_opts.h"

#include "live.h"
#include "../run/run.h"
#include "../session/session.h"

#include <stdbool.h>

#define WP_RUN_DEFAULT_CHECKPOINT_S   5.0  /* how often a running run reaches the ledger */
#define WP_RUN_MAX_CHECKPOINT_S       60.0 /* ... spaced out, doubling, up to this */
#define WP_RUN_DEFAULT_MIN_SAVING_PCT 10.0 /* --defer-within waits for at least this ... */
#define WP_RUN_DEFAULT_MIN_SAVING_G   1.0  /* ... and this many grams, where known */

struct run_opts {
    struct wp_session_opts session; /* interval, cpu-tdp, gpus, sensors, attribute, ... */
    bool checkpoint_set;            /* --checkpoint given: kept as given, never spaced out */
    double checkpoint_s;
    const char *json_path;
    const char *ledger_path;
    bool no_ledger;
    const char *push_gateway; /* --push-gateway: its base URL; NULL: none */
    bool quiet;
    struct wp_carbon_opts carbon;
    struct wp_labels labels;
    double total;
    const char *unit;
    enum wp_live_mode progress;
    double progress_every_s;
    bool interval_set, no_detect;
    double defer_within_s, expected_s; /* --defer-within, --expected-duration; 0: not given */
    bool dry_run;
    double min_saving_pct, min_saving_g; /* a deferral must save this much, both */
    struct wp_work_opts work;            /* --work-url and its kin */
    struct wp_scrape_opts scrape;        /* what they say; scrape.url NULL: none */
    int n_settings;                      /* the values taken from configuration files */
    char settings[WP_MAX_SETTINGS][WP_SETTING_LEN];
};

/* Parses argv (wattprint run's, from "run"): returns the index of COMMAND,
 * or -1 after one line on stderr. Exits 0 after --help. */
int wp_run_parse(int argc, char **argv, struct run_opts *o);

/* --defer-within: chooses the start from the region's forecast and waits for
 * it (signals cancel). Returns 0 to run now, 1 after a dry run (said and
 * written), or 128 + the signal that cancelled the wait. */
struct wp_run;
int wp_run_defer(const struct run_opts *o, const struct wp_run *run, char *const *cmd);

/* "wattprint run: --NAME: MESSAGE" for a session error, naming the option. */
void wp_run_say_session_error(const struct wp_session_error *e);

#endif
