/* The meter: turns sensor readings into per-channel energy over a window,
 * correcting counter wrap, with a sampling thread between start and stop.
 * Energy is kept as integer microjoules, so counter arithmetic is exact. */
#ifndef WP_METER_H
#define WP_METER_H

#include "../sensors/sensor.h"

#include <stdbool.h>
#include <stdint.h>

struct wp_meter;

struct wp_energy_totals {
    double total_j; /* cpu + dram + gpu, each joule once */
    double cpu_j, dram_j, gpu_j;
    double low_j, high_j; /* the total's likely range (equal to it when measured) */
    double psys_j;        /* apart: it overlaps the packages */
    bool has_psys;
    bool any_estimated;
};

/* One channel of a reading: the sensor's description, and values. */
struct wp_reading_channel {
    struct wp_channel ch;
    double energy_j; /* since the first reading */
    double power_w;  /* between the last two readings */
    bool lost;       /* stopped reading mid-run; energy kept up to then */
    unsigned wraps;
    unsigned resets;    /* went backwards with no plausible wrap: intervals not counted */
    double uncounted_s; /* their seconds in all */
};

/* Everything a meter knows at one moment, as plain values taken under one
 * lock: what the result model and the sinks read. */
struct wp_reading {
    double duration_s;     /* first reading to the last one taken */
    double elapsed_s;      /* first reading to now (the duration once stopped) */
    double age_s;          /* since the last reading */
    double interval_s;     /* the sampling interval in force */
    double recent_power_w; /* counted channels, between the last two readings */
    int n_channels;
    struct wp_reading_channel *channels;
    struct wp_energy_totals totals;
    int n_samples;    /* 0 unless asked for */
    double *sample_t; /* n_samples times, seconds since the start */
    double *sample_e; /* n_samples x n_channels cumulative energies, J */
};

/* Fills out (which the caller frees with wp_reading_free) with one
 * consistent reading, with the stored samples when with_samples. Returns 0
 * or -ENOMEM (out is then empty). */
int wp_meter_read(struct wp_meter *m, bool with_samples, struct wp_reading *out);

/* Totals of per-channel energies e[0..r->n_channels) (joules) by the meter's
 * rules (each joule once, psys apart), for a window between two readings. */
void wp_reading_totals_of(const struct wp_reading *r, const double *e,
                          struct wp_energy_totals *out);

/* Frees what wp_meter_read allocated and empties r. */
void wp_reading_free(struct wp_reading *r);

/* Longest interval at which no channel can wrap twice between two reads, with
 * a factor 2 margin: min over channels of range / max_power / 2. Returns 0
 * when no channel wraps. */
double wp_meter_max_interval(struct wp_sensor *const *sensors, int n);

/* Creates a meter over n sensors, which it takes and closes in
 * wp_meter_free. interval_s is clamped to wp_meter_max_interval (with a
 * warning through diag, which is kept for warnings while sampling; NULL:
 * none). Returns 0 and *out, or -ENOMEM (the sensors are then closed). */
int wp_meter_create(struct wp_sensor **sensors, int n, double interval_s,
                    const struct wp_diag *diag, struct wp_meter **out);

/* Calls fn(arg) from the sampling thread, after a reading, at most every
 * every_s seconds (and not under the meter's lock, so fn may read the meter).
 * Set before wp_meter_start; up to WP_METER_MAX_TICKS of them, called in the
 * order set. Used to checkpoint long runs and to scrape a server's work.
 * Returns 0, or -ENOSPC when all are taken. */
#define WP_METER_MAX_TICKS 4
int wp_meter_on_tick(struct wp_meter *m, double every_s, void (*fn)(void *), void *arg);

/* Reads every counter (the baseline) and starts the sampling thread.
 * Returns 0 or a negative errno. */
int wp_meter_start(struct wp_meter *m);

/* Stops the thread and takes the final reading. Safe to call twice. */
void wp_meter_stop(struct wp_meter *m);

/* Takes one reading of every channel now (what the thread does each tick). */
void wp_meter_sample(struct wp_meter *m);

void wp_meter_free(struct wp_meter *m);

/* Seconds from the first reading to the last one taken. */
double wp_meter_duration_s(struct wp_meter *m);
/* Seconds since the first reading: now while running, the duration once stopped. */
double wp_meter_elapsed_s(struct wp_meter *m);
double wp_meter_energy_j(struct wp_meter *m, int i);
bool wp_meter_lost(struct wp_meter *m, int i);
unsigned wp_meter_wraps(struct wp_meter *m, int i);
void wp_meter_totals(struct wp_meter *m, struct wp_energy_totals *out);

/* Seconds since the last reading was taken. */
double wp_meter_age_s(struct wp_meter *m);

/* Stored samples: times (seconds since start) and cumulative energy per
 * channel. Long runs are downsampled so that at most WP_METER_MAX_SAMPLES
 * are kept; the first and last reading are always kept. */
#define WP_METER_MAX_SAMPLES 4096
int wp_meter_n_samples(struct wp_meter *m);
/* Copies sample k: its time, and n_channels energies in joules. */
void wp_meter_get_sample(struct wp_meter *m, int k, double *t_s, double *energy_j);

#endif
