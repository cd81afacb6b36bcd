/* Recording one run in the ledger while it runs. */
#include "recorder.h"

#include <string.h>

static void failed(struct wp_recorder *r, const char *what, const char *err)
{
    if (!r->said)
        wp_diag(&r->diag, WP_HINT_NONE,
                "the ledger cannot record this run (%s: %s); the measurement is unaffected", what,
                err);
    r->said = true;
    wp_ledger_close(r->ledger);
    r->ledger = NULL;
}

void wp_recorder_open(struct wp_recorder *r, struct wp_run *run, const char *path_opt,
                      bool disabled)
{
    char path[4096], err[1024];

    r->run = run;
    r->ledger = NULL;
    if (disabled)
        return;
    if (!wp_ledger_path(path_opt, path, sizeof path)) {
        wp_diag(&r->diag, WP_HINT_LEDGER_PATH, "the ledger cannot record this run (no path)");
        r->said = true;
        return;
    }
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &r->ledger, err, sizeof err) != 0) {
        r->ledger = NULL;
        failed(r, "open", err);
        return;
    }
    if (wp_ledger_begin(r->ledger, run, err, sizeof err) != 0)
        failed(r, "start", err);
}

void wp_recorder_checkpoint(void *arg)
{
    struct wp_recorder *r = arg;
    struct wp_run snapshot;
    struct wp_reading reading;
    char err[1024];

    if (!r->ledger || !r->read || r->read(r->read_ctx, false, &reading) != 0)
        return;
    if (r->guard)
        pthread_mutex_lock(r->guard);
    snapshot = *r->run;
    if (r->guard)
        pthread_mutex_unlock(r->guard);
    memset(&snapshot.reading, 0, sizeof snapshot.reading); /* the run's own stays its own */
    wp_run_set_reading(&snapshot, &reading);
    if (wp_ledger_checkpoint(r->ledger, &snapshot, err, sizeof err) != 0)
        failed(r, "checkpoint", err);
    wp_run_release(&snapshot);
}

void wp_recorder_finish(struct wp_recorder *r)
{
    char err[1024];

    if (r->ledger && wp_ledger_finish(r->ledger, r->run, err, sizeof err) != 0)
        failed(r, "finish", err);
    wp_ledger_close(r->ledger);
    r->ledger = NULL;
}
