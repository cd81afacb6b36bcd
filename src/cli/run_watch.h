/* What runs beside the measured command: the watcher (the progress file and
 * the live line) and cloud detection. */
#ifndef WP_RUN_WATCH_H
#define WP_RUN_WATCH_H

#include "../account/cloud.h"
#include "live.h"
#include "../run/run.h"
#include "../session/session.h"
#include "../work/progress.h"
#include "../work/scrape.h"

#include <pthread.h>
#include <stdbool.h>

struct wp_watcher {
    struct wp_run *run;
    struct wp_session *session;
    struct wp_progress *progress;
    struct wp_scraper *scraper; /* NULL: no --work-url */
    struct wp_live *live;
    pthread_mutex_t mu; /* guards run->work */
    int stop_pipe[2];   /* a byte ends the watcher's thread */
    pthread_t thread;
    bool started;
};

/* Starts the watcher's thread (with every signal blocked in it). */
void wp_watcher_start(struct wp_watcher *w, enum wp_live_mode mode, double every_s);

/* Stops the thread, reads the progress file (and the scraper's work) a last
 * time at t_s, removes the live line and the file. */
void wp_watcher_finish(struct wp_watcher *w, double t_s);

struct wp_detector {
    struct wp_cloud_info info;
    long budget_ms;
    pthread_t thread;
    bool started;
};

/* DMI now (files, no network); where it names a cloud, its metadata service
 * on a thread, within budget_ms. */
void wp_detector_start(struct wp_detector *d, long budget_ms);

/* Waits for the thread; the result stays in d->info. */
void wp_detector_finish(struct wp_detector *d);

#endif
