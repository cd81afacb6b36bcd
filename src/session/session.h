/* The session: one measurement as wattprint run, wattprint serve and
 * libwattprint all make it. It validates the shared options (one table),
 * opens the sensors, chooses GPUs and attribution, owns the meter, and hands
 * out consistent readings. Nothing here prints: errors come back with the
 * field they concern, and each front end words them for its own users. */
#ifndef WP_SESSION_H
#define WP_SESSION_H

#include "../meter/meter.h"
#include "../util/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The options a session shares with every front end, by field. */
enum wp_field {
    WP_FIELD_NONE,
    WP_FIELD_INTERVAL,
    WP_FIELD_CPU_TDP,
    WP_FIELD_GPUS,
    WP_FIELD_SENSORS,
    WP_FIELD_REQUIRE_MEASURED,
    WP_FIELD_ATTRIBUTE,
    WP_FIELD_PUE,
    WP_FIELD_INTENSITY,
    WP_FIELD_CHECKPOINT,
};

/* A numeric option's limits and what it is, for every front end's message. */
struct wp_limit {
    enum wp_field field;
    double min, max;
    const char *what; /* "a number of seconds from 0.001 to 3600" */
};

/* The limits of field, or NULL for a field that is not a number. */
const struct wp_limit *wp_limit_of(enum wp_field field);

/* 0 when v is a finite number within field's limits, else -EINVAL. */
int wp_limit_check(enum wp_field field, double v);

struct wp_session_opts {
    double interval_s;      /* seconds between readings (within WP_FIELD_INTERVAL) */
    double cpu_tdp_w;       /* 0: the bundled table's */
    const char *gpus;       /* NULL (visible), "all", "none", or indices and UUIDs */
    const char *sensors;    /* comma-separated backends; NULL: all */
    bool require_measured;  /* refuse where the CPU's energy cannot be read */
    bool attribute_process; /* the measured processes' share of CPU, DRAM and GPUs */
    bool no_socket;         /* never read a wattprint serve socket (the daemon itself) */
    bool gpus_if_any;       /* the GPUs named are wanted where they exist, not required */
    struct wp_diag diag;    /* where warnings go (may be empty: none) */
};

struct wp_session_error {
    enum wp_field field; /* the option at fault, WP_FIELD_NONE for the machine */
    int code;            /* -EINVAL, -ENODEV, -ENOMEM */
    char msg[600];       /* what is wrong, without any option's name */
};

struct wp_session;

/* Checks o, opens the sensors and the meter. Returns 0 and *out, or a
 * negative errno with err filled. */
int wp_session_open(const struct wp_session_opts *o, struct wp_session **out,
                    struct wp_session_error *err);

/* Calls fn(arg) from the sampling thread after a reading, at most every
 * every_s seconds (up to WP_METER_MAX_TICKS such). Before wp_session_start.
 * Returns 0 or -ENOSPC. */
int wp_session_on_tick(struct wp_session *s, double every_s, void (*fn)(void *), void *arg);

/* Takes the baseline and starts sampling. Returns 0 or a negative errno. */
int wp_session_start(struct wp_session *s);

/* The measured command's pid, for attribution to its processes. */
void wp_session_attach(struct wp_session *s, pid_t pid);

/* Takes a fresh reading now. */
void wp_session_sample(struct wp_session *s);

/* Stops sampling after a last reading. Safe to call twice. */
void wp_session_stop(struct wp_session *s);

/* One consistent reading (wp_reading_free it); with samples when asked.
 * Returns 0 or -ENOMEM. */
int wp_session_read(struct wp_session *s, bool with_samples, struct wp_reading *out);

/* wp_session_read after a fresh reading if the last is older than
 * max_age_s (none if max_age_s < 0): the shape serve's source takes. */
int wp_session_read_fresh(void *session, double max_age_s, struct wp_reading *out);

/* The counted total of the latest reading, joules (the shape a scraper's
 * energy takes). Returns 0 or -ENOMEM. */
int wp_session_total_j(void *session, double *energy_j);

/* Seconds since the start (the duration once stopped). */
double wp_session_elapsed_s(struct wp_session *s);

void wp_session_free(struct wp_session *s);

#endif
