/* Recording one run in the ledger while it runs: the row at the start,
 * checkpoints from the sampling thread, everything at the end. Failures are
 * said once through diag and never change the run's outcome. */
#ifndef WP_RECORDER_H
#define WP_RECORDER_H

#include "ledger.h"

#include <pthread.h>

struct wp_recorder {
    struct wp_ledger *ledger; /* NULL: not open (yet, or it failed) */
    struct wp_run *run;
    pthread_mutex_t *guard; /* held while the run is copied for a checkpoint; may be NULL */
    /* the reading a checkpoint records (the session's wp_session_read) */
    int (*read)(void *ctx, bool with_samples, struct wp_reading *out);
    void *read_ctx;
    struct wp_diag diag;
    bool said, said_wal;
    char wal_lost_path[4096]; /* the ledger whose WAL was deleted under it; "" if none */
    char first_err[512];      /* a server's first failure, said with the spool at the end */
    char recorded_in[4096];   /* after wp_recorder_finish: the ledger that holds the run ("" if
                                 none did: disabled, failed or spooled, each said) */
    /* the recorder's own thread (wp_recorder_open starts it) */
    char path[4096];
    /* set before wp_recorder_open: the thread opens the ledger only after
     * wp_recorder_go (the command has started). Loading a server's client
     * library holds the dynamic loader's lock, and the caller's next thread
     * or the command's start would wait for it. */
    bool after_go;
    bool disabled, started, want, stop, go;
    double gap_s, next_s; /* the run's checkpoint gap now, and when the next is due (under mu) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Starts recording at path (NULL: the default path): a thread opens the
 * ledger and writes the run's row as running, without delaying the caller.
 * With disabled, records nothing. */
void wp_recorder_open(struct wp_recorder *r, struct wp_run *run, const char *path, bool disabled);

/* The command has started: the thread may open the ledger now (after_go). */
void wp_recorder_go(struct wp_recorder *r);

/* A checkpoint of the run with a fresh reading; arg is the recorder. Safe
 * to call from the sampling thread (wp_session_on_tick). With the run's
 * checkpoint_max_s, the ticks between due checkpoints are skipped: the gap
 * doubles from checkpoint_every_s up to the maximum, and each checkpoint's
 * JSON says the gap to the next (checkpoint_interval_s, which other hosts'
 * reapers read). */
void wp_recorder_checkpoint(void *arg);

/* The spacing policy above: whether a tick at now (monotonic seconds) is a
 * due checkpoint, updating the gap to the next and when it is due (both 0
 * before the first). Without max > every, every tick is due. */
bool wp_checkpoint_due(double now, double every, double max, double *gap_s, double *next_s);

/* Stops the thread (no checkpoint after this: the run may then change
 * without its guard). Safe to call twice. */
void wp_recorder_stop(struct wp_recorder *r);

/* Stops the thread, writes the finished run with its samples (opening the
 * ledger now if the thread could not), and closes the ledger. */
void wp_recorder_finish(struct wp_recorder *r);

#endif
