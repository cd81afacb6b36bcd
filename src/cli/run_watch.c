/* The watcher and the detector: threads beside the measured command that
 * never touch it. Both are started with every signal blocked, so signals
 * stay with the main thread, which forwards them. */
#include "run_watch.h"

#include "../util/util.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

/* The live line's figures from one reading. */
static void live_status(struct wp_watcher *w, const struct wp_reading *r, double elapsed,
                        struct wp_live_status *st)
{
    struct wp_run *run = w->run;
    struct wp_carbon c;
    double pe, pd;

    wp_account(r->totals.total_j, &run->assume, &c);
    st->elapsed_s = elapsed;
    st->power_w = r->recent_power_w;
    st->energy_j = r->totals.total_j;
    st->emissions_g = c.emissions_g;
    st->unit = run->work.unit;
    st->done = run->work.done;
    st->total = run->work.total;
    /* energy is known as of the last reading: predict from that moment */
    if (r->duration_s > 0 &&
        wp_work_predict(&run->work, r->totals.total_j, r->duration_s, &pe, &pd)) {
        struct wp_carbon pc;
        wp_account(pe, &run->assume, &pc);
        st->predicted = true;
        st->predicted_energy_j = pe;
        st->predicted_emissions_g = pc.emissions_g;
        st->predicted_duration_s = pd;
    }
}

static void watch_once(struct wp_watcher *w)
{
    struct wp_live_status st = {0};
    bool draw = wp_live_due(w->live, wp_mono_s());
    struct wp_reading r;
    struct wp_work work;

    /* a reading only when the line is to be drawn: else just the progress file */
    if (draw && wp_session_read(w->session, false, &r) != 0)
        return;
    /* parsed outside the lock, which checkpoints on the recorder's thread take */
    pthread_mutex_lock(&w->mu);
    work = w->run->work;
    pthread_mutex_unlock(&w->mu);
    if (w->progress)
        wp_progress_poll(w->progress, &work, wp_session_elapsed_s(w->session));
    if (w->scraper) /* the endpoint's counter is the work: it overrides done= lines */
        wp_scraper_work(w->scraper, &work, wp_session_elapsed_s(w->session));
    pthread_mutex_lock(&w->mu);
    w->run->work = work;
    if (draw)
        live_status(w, &r, r.elapsed_s, &st);
    pthread_mutex_unlock(&w->mu);
    if (!draw)
        return;
    wp_reading_free(&r);
    wp_live_update(w->live, &st, wp_mono_s());
}

static void *watch(void *arg)
{
    struct wp_watcher *w = arg;
    struct timespec next;

    /* twice as often as the live line is drawn, and at least once a second
     * (the progress file); a log line every minute does not wake it more */
    double period = wp_live_period_s(w->live) / 2, step_s = period > 0 && period < 1 ? period : 1;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        wp_timespec_add(&next, step_s);
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &next) != ETIMEDOUT)
            ;
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        watch_once(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

void wp_watcher_start(struct wp_watcher *w, enum wp_live_mode mode, double every_s)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->live = wp_live_begin(mode, every_s);
    w->started = wp_thread_start(&w->thread, watch, w) == 0;
}

void wp_watcher_finish(struct wp_watcher *w, double t_s)
{
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    /* the last lines the command wrote, and the terminal given back */
    if (w->progress)
        wp_progress_poll(w->progress, &w->run->work, t_s);
    if (w->scraper)
        wp_scraper_work(w->scraper, &w->run->work, t_s);
    wp_live_end(w->live);
    wp_progress_close(w->progress);
    w->live = NULL;
    w->progress = NULL;
    pthread_cond_destroy(&w->cv);
}

static void *detect(void *arg)
{
    struct wp_detector *d = arg;
    wp_cloud_metadata(&d->info, d->budget_ms);
    return NULL;
}

void wp_detector_start(struct wp_detector *d, long budget_ms)
{

    if (wp_cloud_dmi(wp_sysfs_root(), &d->info) == WP_CLOUD_NONE)
        return;
    d->budget_ms = budget_ms;
    d->started = wp_thread_start(&d->thread, detect, d) == 0;
}

void wp_detector_finish(struct wp_detector *d)
{
    if (d->started)
        pthread_join(d->thread, NULL);
    d->started = false;
}
