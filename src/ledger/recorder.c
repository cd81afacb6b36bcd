/* Recording one run in the ledger while it runs, on a thread of its own: the
 * ledger may be locked by another process for seconds, and neither the
 * command's start nor the sampling thread may wait for it. The sampler only
 * asks for a checkpoint; the recorder's thread opens the ledger, writes the
 * first row and the checkpoints when it can; the final result is written
 * after the command, waiting as long as SQLite's busy timeout allows. A
 * failed checkpoint (a disk full for a moment) costs that checkpoint only. */
#include "recorder.h"

#include "ledger_int.h"

#include "../util/cancel.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *path_of(struct wp_recorder *r)
{
    return r->path[0] ? r->path : getenv("WATTPRINT_LEDGER");
}

static void say(struct wp_recorder *r, const char *what, const char *err)
{
    /* a server's failures, and a file's that only found it locked, wait for
     * the end: the final write may succeed, or the run goes to the spool */
    if (wp_ledger_is_uri(path_of(r)) || (r->ledger && r->ledger->gave_up_waiting)) {
        if (!r->first_err[0])
            snprintf(r->first_err, sizeof r->first_err, "%s: %s", what, err);
        return;
    }
    if (!r->said)
        wp_diag(&r->diag, WP_HINT_NONE,
                "the ledger cannot record this run (%s: %s); the measurement is unaffected", what,
                err);
    r->said = true;
}

static bool stopping(struct wp_recorder *r)
{
    bool stop;
    pthread_mutex_lock(&r->mu);
    stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* A copy of the run with a fresh reading (wp_run_release it). The run's
 * guard is taken without blocking for long: the owner may hold it while it
 * stops the recorder. Returns 0, or a negative errno when stopped or unreadable. */
static int snapshot_of(struct wp_recorder *r, struct wp_run *snap)
{
    struct timespec ms = {0, 1000000};
    struct wp_reading reading;

    if (!r->read || r->read(r->read_ctx, false, &reading) != 0)
        return -EIO;
    while (r->guard && pthread_mutex_trylock(r->guard) == EBUSY) {
        if (stopping(r)) {
            wp_reading_free(&reading);
            return -EBUSY;
        }
        nanosleep(&ms, NULL);
    }
    *snap = *r->run;
    if (r->guard)
        pthread_mutex_unlock(r->guard);
    memset(&snap->reading, 0, sizeof snap->reading); /* the run's own stays its own */
    wp_run_set_reading(snap, &reading);
    return 0;
}

/* Whether open_and_begin writes the first row. */
enum begin { NO_BEGIN, BEGIN, BEGIN_UNLESS_STOPPED };

/* Opens the ledger and writes the first row as begin says. On the
 * recorder's thread, not once the command has ended: the final write makes
 * the row, and a short command's end then waits for nothing. Returns 0 or a
 * negative errno (said). */
static int open_and_begin(struct wp_recorder *r, enum begin begin)
{
    char path[4096], err[1024];
    struct wp_run snap;
    int rc;

    if (!wp_ledger_path(r->path[0] ? r->path : NULL, path, sizeof path)) {
        if (!r->said)
            wp_diag(&r->diag, WP_HINT_LEDGER_PATH, "the ledger cannot record this run (no path)");
        r->said = true;
        return -ENOENT;
    }
    if (wp_ledger_open(path, WP_LEDGER_RECORD, &r->ledger, err, sizeof err) != 0) {
        r->ledger = NULL;
        say(r, "open", err);
        return -EIO;
    }
    if (r->ledger->sent > 0)
        wp_diag(&r->diag, WP_HINT_NONE,
                "%ld run%s kept while the ledger was out of reach %s sent to it%s", r->ledger->sent,
                r->ledger->sent == 1 ? "" : "s", r->ledger->sent == 1 ? "was" : "were",
                r->ledger->replaced ? " (replacing the checkpoints it had kept)" : "");
    if (r->ledger->send_err[0])
        wp_diag(&r->diag, WP_HINT_NONE, "runs kept while the ledger was out of reach: %s",
                r->ledger->send_err);
    if (begin == NO_BEGIN || (begin == BEGIN_UNLESS_STOPPED && stopping(r)) ||
        snapshot_of(r, &snap) != 0)
        return 0; /* stopped already: the final write makes the row */
    rc = wp_ledger_begin(r->ledger, &snap, err, sizeof err);
    wp_run_release(&snap);
    if (rc != 0)
        say(r, "start", err);
    return 0;
}

/* A WAL file deleted under the open ledger would swallow every later write
 * of this run: the ledger is reopened (a new WAL), and that is said once. */
static void reopen_if_wal_lost(struct wp_recorder *r)
{
    char path[4096], err[1024];

    if (!r->ledger || !wp_ledger_wal_lost(r->ledger))
        return;
    snprintf(path, sizeof path, "%s", r->ledger->path);
    snprintf(r->wal_lost_path, sizeof r->wal_lost_path, "%s", path);
    wp_ledger_close_lost(r->ledger);
    r->ledger = NULL;
    if (!r->said_wal)
        wp_diag(&r->diag, WP_HINT_NONE,
                "the ledger's write-ahead log %s-wal was deleted while this run was recording "
                "(what it held that was not yet in %s is gone); the ledger is reopened and this "
                "run's record continues",
                path, path);
    r->said_wal = true;
    /* other writers may still hold the deleted WAL's index: a failure now
     * is kept for the end, where the run then goes to the spool */
    if (wp_ledger_open(path, WP_LEDGER_RECORD, &r->ledger, err, sizeof err) != 0) {
        r->ledger = NULL;
        snprintf(r->first_err, sizeof r->first_err, "reopening it: %s", err);
    }
}

bool wp_checkpoint_due(double now, double every, double max, double *gap_s, double *next_s)
{
    if (!(max > every))
        return true;
    if (*gap_s == 0) { /* the first tick, one interval after the start */
        *gap_s = every;
        *next_s = now + every;
        return true;
    }
    if (now < *next_s - 0.5 * every) /* ticks come every "every": the nearest one */
        return false;
    *gap_s = fmin(2 * *gap_s, max);
    *next_s = now + *gap_s;
    return true;
}

/* Whether a checkpoint is due now: an idle command's checkpoints are most
 * of what the ledger costs it. Caller holds r->mu. */
static bool due(struct wp_recorder *r)
{
    return wp_checkpoint_due(wp_mono_s(), r->run->checkpoint_every_s, r->run->checkpoint_max_s,
                             &r->gap_s, &r->next_s);
}

/* gap_s: the gap to the next checkpoint as it was when this one was asked. */
static void checkpoint_now(struct wp_recorder *r, double gap_s)
{
    struct wp_run snap;
    char err[1024];

    reopen_if_wal_lost(r);
    if (!r->ledger || snapshot_of(r, &snap) != 0)
        return;
    if (gap_s > 0)
        snap.checkpoint_every_s = gap_s; /* the gap to the next one, for reapers */
    if (wp_ledger_checkpoint(r->ledger, &snap, err, sizeof err) != 0)
        say(r, "checkpoint", err);
    wp_run_release(&snap);
}

static void *record(void *arg)
{
    struct wp_recorder *r = arg;
    bool stopped;

    pthread_mutex_lock(&r->mu);
    while (r->after_go && !r->go && !r->stop)
        pthread_cond_wait(&r->cv, &r->mu);
    stopped = r->stop; /* ended before it started: the final write opens it */
    pthread_mutex_unlock(&r->mu);
    bool usable = !stopped && open_and_begin(r, BEGIN_UNLESS_STOPPED) == 0;

    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->want && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop)
            break;
        r->want = false;
        double gap_s = r->gap_s;
        pthread_mutex_unlock(&r->mu);
        if (usable)
            checkpoint_now(r, gap_s);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

void wp_recorder_open(struct wp_recorder *r, struct wp_run *run, const char *path_opt,
                      bool disabled)
{

    r->run = run;
    r->ledger = NULL;
    r->disabled = disabled;
    snprintf(r->path, sizeof r->path, "%s", path_opt ? path_opt : "");
    if (disabled)
        return;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->started = wp_thread_start(&r->thread, record, r) == 0;
    if (!r->started)
        open_and_begin(r, BEGIN); /* no thread: as before, at once */
}

void wp_recorder_go(struct wp_recorder *r)
{
    if (!r->started)
        return;
    pthread_mutex_lock(&r->mu);
    r->go = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void wp_recorder_checkpoint(void *arg)
{
    struct wp_recorder *r = arg;

    if (!r->started)
        return;
    pthread_mutex_lock(&r->mu);
    /* decided here, so that the ticks between checkpoints wake no thread */
    if (due(r)) {
        r->want = true; /* asked, not waited for */
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void wp_recorder_stop(struct wp_recorder *r)
{
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        r->started = false;
    }
}

/* The run kept locally for a server that could not take it; said once. */
static void spool(struct wp_recorder *r, const char *uri)
{
    char where[4096], err[1024], shown[4096];

    wp_ledger_redact(uri, shown, sizeof shown);
    if (wp_spool_keep(uri, r->run, where, sizeof where, err, sizeof err) == 0)
        wp_diag(&r->diag, WP_HINT_NONE,
                "the ledger %s cannot take this run (%s); it is kept in %s and will be sent by the "
                "next wattprint command that reaches it (or wattprint sync)",
                shown, r->first_err, where);
    else
        wp_diag(&r->diag, WP_HINT_NONE,
                "the ledger %s cannot take this run (%s), nor the local spool (%s); the "
                "measurement is unaffected",
                shown, r->first_err, err);
}

void wp_recorder_finish(struct wp_recorder *r)
{
    char err[1024] = "";

    if (r->disabled)
        return;
    wp_recorder_stop(r);
    /* the result is written even where the first row or a checkpoint was not
     * (the disk was full, the ledger locked for longer than the wait) */
    /* a server that could not be reached at the start is not waited for
     * again: the run goes to the spool at once */
    if (!r->ledger && !(wp_ledger_is_uri(path_of(r)) && r->first_err[0]))
        open_and_begin(r, NO_BEGIN);
    reopen_if_wal_lost(r);
    if (r->ledger)
        r->ledger->gave_up_waiting = false; /* what the final write meets decides */
    bool done = r->ledger && wp_ledger_finish(r->ledger, r->run, err, sizeof err) == 0;

    if (done)
        snprintf(r->recorded_in, sizeof r->recorded_in, "%s", r->ledger->path);

    if (!done && r->wal_lost_path[0]) {
        /* its WAL deleted under it and not yet usable again (other writers
         * still hold the dead one): kept beside it, added by the next command */
        if (!r->first_err[0])
            snprintf(r->first_err, sizeof r->first_err, "after its WAL was deleted: %s", err);
        spool(r, r->wal_lost_path);
    } else if (r->ledger && !done && r->ledger->gave_up_waiting) {
        /* a file locked by another writer past the wait, or a signal to end
         * while waiting: kept beside it, added by the next command */
        snprintf(r->first_err, sizeof r->first_err, "%s",
                 wp_cancelled() ? "asked to end while another process held its lock"
                                : "another process held its lock for " WP_LEDGER_BUSY_TEXT);
        spool(r, r->ledger->path);
    } else {
        if (r->ledger && !done)
            say(r, "finish", err); /* once in all: an earlier failure was said already */
        if (!done && r->first_err[0])
            spool(r, path_of(r));
    }
    wp_ledger_close(r->ledger);
    r->ledger = NULL;
    r->disabled = true; /* finished once */
}
