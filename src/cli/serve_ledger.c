/* A daemon's energy in the ledger, one record per period. Each period is a
 * run of its own (wp_run, the recorder): its reading is the session's reading
 * less the one at the period's start, channel by channel, and its work the
 * scraper's counters less theirs then. */
#include "serve_ledger.h"

#include "../ledger/recorder.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECKPOINT_S 60.0

struct wp_serve_ledger {
    struct wp_serve_ledger_opts o;
    pthread_mutex_t mu; /* guards run (the recorder's guard), base, open */
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stop, open;
    struct wp_run run;
    struct wp_recorder rec;
    struct wp_work base_work;
    double *base_e; /* each channel's energy at the period's start */
    int n_base;
    double base_mono_s;
};

/* The session's reading less the period's start: what a checkpoint records. */
static int period_reading(void *arg, bool with_samples, struct wp_reading *out)
{
    struct wp_serve_ledger *l = arg;
    int rc = wp_session_read(l->o.session, false, out);
    double *e;

    (void)with_samples;
    if (rc)
        return rc;
    if (!(e = calloc((size_t)out->n_channels + 1, sizeof *e))) {
        wp_reading_free(out);
        return -ENOMEM;
    }
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < out->n_channels; i++) {
        e[i] = out->channels[i].energy_j - (i < l->n_base ? l->base_e[i] : 0);
        out->channels[i].energy_j = e[i];
    }
    out->duration_s = out->elapsed_s = wp_mono_s() - l->base_mono_s;
    pthread_mutex_unlock(&l->mu);
    wp_reading_totals_of(out, e, &out->totals);
    free(e);
    return 0;
}

/* The scraper's work less the period's start; the work so far in *now
 * (NULL: not wanted), which the next period starts from. */
static void period_work(struct wp_serve_ledger *l, struct wp_work *w, struct wp_work *now_out)
{
    struct wp_work now = {0};

    if (!l->o.scraper)
        return;
    wp_scraper_work(l->o.scraper, &now, 0);
    if (now_out)
        *now_out = now;
    *w = now;
    pthread_mutex_lock(&l->mu);
    w->done = now.done - l->base_work.done;
    for (int k = 0; k < now.n_counters; k++)
        w->counters[k].done = now.counters[k].done - l->base_work.counters[k].done;
    w->scrapes = now.scrapes - l->base_work.scrapes;
    w->failed = now.failed - l->base_work.failed;
    pthread_mutex_unlock(&l->mu);
    w->reported = now.reported && w->done > 0;
}

/* A new period from now: its run opened in the ledger as running. */
static void begin_period(struct wp_serve_ledger *l)
{
    struct wp_run *r = &l->run;

    pthread_mutex_lock(&l->mu);
    memset(r, 0, sizeof *r);
    wp_uuid7(r->run_id);
    r->status = WP_RUN_RUNNING;
    r->argc = l->o.argc;
    r->argv = l->o.argv;
    r->labels = l->o.labels;
    r->assume = *l->o.assume;
    r->checkpoint_every_s = CHECKPOINT_S;
    r->start_wall_s = wp_wall_s();
    pthread_mutex_unlock(&l->mu);
    wp_run_place(r); /* the run is not shared yet: no checkpoint reads it while closed */
    wp_run_account(r);
    l->rec = (struct wp_recorder){
        .guard = &l->mu, .read = period_reading, .read_ctx = l, .diag = l->o.diag};
    wp_recorder_open(&l->rec, r, l->o.path, false);
    pthread_mutex_lock(&l->mu);
    l->open = true;
    pthread_mutex_unlock(&l->mu);
}

/* Closes the period at now: its reading and work, written as completed. */
static void end_period(struct wp_serve_ledger *l)
{
    struct wp_reading r;
    struct wp_work w = {0}, now = {0};

    wp_session_sample(l->o.session); /* the period ends now, not at the last tick */
    pthread_mutex_lock(&l->mu);
    l->open = false;
    pthread_mutex_unlock(&l->mu);
    wp_recorder_stop(&l->rec); /* from here the run is this thread's alone */
    if (period_reading(l, false, &r) == 0) {
        period_work(l, &w, &now);
        l->run.work = w;
        l->run.end_wall_s = wp_wall_s();
        l->run.status = WP_RUN_COMPLETED;
        /* the next period starts where this one ends */
        pthread_mutex_lock(&l->mu);
        double *grown = realloc(l->base_e, ((size_t)r.n_channels + 1) * sizeof *grown);
        if (grown) {
            l->base_e = grown;
            for (int i = 0; i < r.n_channels; i++)
                l->base_e[i] = (i < l->n_base ? l->base_e[i] : 0) + r.channels[i].energy_j;
            l->n_base = r.n_channels;
        }
        l->base_mono_s += r.duration_s;
        pthread_mutex_unlock(&l->mu);
        wp_run_set_reading(&l->run, &r);
        pthread_mutex_lock(&l->mu);
        l->base_work = now; /* the work of no period is lost or counted twice */
        pthread_mutex_unlock(&l->mu);
    }
    wp_recorder_finish(&l->rec);
    wp_run_release(&l->run);
}

/* Seconds until the next multiple of every_s on the wall clock; one just
 * ahead (a wake-up a hair early by the wall clock) is the one just passed. */
static double until_boundary(double every_s)
{
    double now = wp_wall_s(), d = (floor(now / every_s) + 1) * every_s - now;
    return d < every_s / 100 ? d + every_s : d;
}

static void *record(void *arg)
{
    struct wp_serve_ledger *l = arg;

    begin_period(l);
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        wp_timespec_add(&at, until_boundary(l->o.every_s));
        if (pthread_cond_timedwait(&l->cv, &l->mu, &at) != ETIMEDOUT || l->stop)
            continue;
        pthread_mutex_unlock(&l->mu);
        end_period(l);
        begin_period(l);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    end_period(l);
    return NULL;
}

/* From the sampling thread: the current period's work, then a checkpoint. */
static void checkpoint(void *arg)
{
    struct wp_serve_ledger *l = arg;
    struct wp_work w = {0};

    period_work(l, &w, NULL);
    pthread_mutex_lock(&l->mu);
    if (l->open) {
        l->run.work = w;
        wp_recorder_checkpoint(&l->rec); /* asks, never waits */
    }
    pthread_mutex_unlock(&l->mu);
}

int wp_serve_ledger_open(const struct wp_serve_ledger_opts *o, struct wp_serve_ledger **out)
{
    struct wp_serve_ledger *l = calloc(1, sizeof *l);
    pthread_condattr_t ca;

    if (!(*out = l))
        return -ENOMEM;
    l->o = *o;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    return wp_session_on_tick(o->session, CHECKPOINT_S, checkpoint, l);
}

void wp_serve_ledger_begin(struct wp_serve_ledger *l)
{
    l->base_mono_s = wp_mono_s();
    l->started = wp_thread_start(&l->thread, record, l) == 0;
    if (!l->started)
        wp_diag(&l->o.diag, WP_HINT_NONE, "cannot start the ledger's thread: nothing is recorded");
}

void wp_serve_ledger_stop(struct wp_serve_ledger *l)
{
    if (!l)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->base_e);
    free(l);
}
