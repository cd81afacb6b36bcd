/* The watcher and the detector: threads beside the measured command that
 * never touch it. Both are started with every signal blocked, so signals
 * stay with the main thread, which forwards them. */
#define _GNU_SOURCE
#include "run_watch.h"

#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

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

#define FLOOD_STEP_S 0.002

/* Until the command first writes to the progress file, or has run for
 * WATCH_AFTER_S, the file is read on a clock, every SHORT_STEP_MS (a writer
 * at 256 MiB/s leaves at most 13 MiB before the first read); then an inotify
 * watch wakes the watcher at each write (a burst is read as it comes) and no
 * clock is needed. A short command that writes none never makes the watch,
 * whose closing would delay its end (wp_progress_watch). */
#define WATCH_AFTER_S 2.0
#define SHORT_STEP_MS 50

/* One look: the progress file, and the live line when due. Returns the
 * bytes the command had appended to the progress file since the last look. */
static long watch_once(struct wp_watcher *w)
{
    struct wp_live_status st = {0};
    bool draw = wp_live_due(w->live, wp_mono_s());
    long got = 0;
    struct wp_reading r;
    struct wp_work work;

    /* a reading only when the line is to be drawn: else just the progress file */
    if (draw && wp_session_read(w->session, false, &r) != 0)
        return 0;
    /* parsed outside the lock, which checkpoints on the recorder's thread take */
    pthread_mutex_lock(&w->mu);
    work = w->run->work;
    pthread_mutex_unlock(&w->mu);
    if (w->progress)
        got = wp_progress_poll(w->progress, &work, wp_session_elapsed_s(w->session));
    if (w->scraper) /* the endpoint's counter is the work: it overrides done= lines */
        wp_scraper_work(w->scraper, &work, wp_session_elapsed_s(w->session));
    pthread_mutex_lock(&w->mu);
    w->run->work = work;
    if (draw)
        live_status(w, &r, r.elapsed_s, &st);
    pthread_mutex_unlock(&w->mu);
    if (draw) {
        wp_reading_free(&r);
        wp_live_update(w->live, &st, wp_mono_s());
    }
    return got;
}

/* Milliseconds from now to t (0 when past). */
static int ms_until(const struct timespec *t)
{
    struct timespec now;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (double)(t->tv_sec - now.tv_sec) * 1e3 + (double)(t->tv_nsec - now.tv_nsec) / 1e6;
    return ms > 0 ? (int)ms + 1 : 0;
}

static bool past(const struct timespec *t)
{
    return ms_until(t) == 0;
}

/* Milliseconds until the live line is due (-1: no line, no timeout). */
static int line_due_ms(const struct wp_live *l)
{
    double ms = l ? (wp_live_due_s(l) - wp_mono_s()) * 1e3 : -1;

    return !l ? -1 : ms > 0 ? (int)ms + 1 : 0;
}

static void *watch(void *arg)
{
    struct wp_watcher *w = arg;
    const struct timespec pause = {0, (long)(FLOOD_STEP_S * 1e9)};
    struct timespec next;
    int notify = -1;
    double watch_at = wp_mono_s() + WATCH_AFTER_S;
    bool asked = !w->progress; /* for the watch */

    /* twice as often as the live line is drawn, and at least once a second
     * (the progress file, where there is no inotify; the scraper's work). A
     * write to the progress file wakes it at once, at most once per
     * FLOOD_STEP_S. With inotify and no scraper, nothing else needs a clock:
     * it sleeps until the next line is due, or until a write or the stop. */
    double period = wp_live_period_s(w->live) / 2, step_s = period > 0 && period < 1 ? period : 1;

    clock_gettime(CLOCK_MONOTONIC, &next);
    wp_timespec_add(&next, step_s);
    for (;;) {
        if (!asked && wp_mono_s() >= watch_at) {
            notify = wp_progress_watch(w->progress);
            asked = true;
        }
        struct pollfd pf[2] = {{.fd = w->stop_pipe[0], .events = POLLIN},
                               {.fd = notify, .events = POLLIN}};
        bool written, clocked = notify < 0 || w->scraper;
        int ms = clocked ? ms_until(&next) : line_due_ms(w->live);
        if (!asked && (ms < 0 || ms > SHORT_STEP_MS))
            ms = SHORT_STEP_MS;
        poll(pf, notify >= 0 ? 2 : 1, ms);
        if (pf[0].revents)
            break;
        written = notify >= 0 && pf[1].revents;
        if (written)
            wp_progress_notify_drain(w->progress);
        if (watch_once(w) > 0)
            watch_at = 0; /* written: watched from now on */
        if (past(&next)) {
            wp_timespec_add(&next, step_s);
            if (past(&next)) /* far behind (a stopped process): no burst to catch up */
                clock_gettime(CLOCK_MONOTONIC, &next);
        }
        /* a flooding writer wakes this thread no more than every pause: the
         * file then holds at most what it writes in that time */
        if (written)
            nanosleep(&pause, NULL);
    }
    return NULL;
}

void wp_watcher_start(struct wp_watcher *w, enum wp_live_mode mode, double every_s)
{
    w->live = wp_live_begin(mode, every_s);
    if (pipe2(w->stop_pipe, O_CLOEXEC) != 0)
        return; /* no watcher: the progress file is still read at the end */
    w->started = wp_thread_start(&w->thread, watch, w) == 0;
    if (!w->started) {
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
    }
}

void wp_watcher_finish(struct wp_watcher *w, double t_s)
{
    if (w->started) {
        while (write(w->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(w->thread, NULL);
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        w->started = false;
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
