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
    double psys_j; /* apart: it overlaps the packages */
    bool has_psys;
    bool any_estimated;
};

/* Energy added to a counter that went from prev to cur, where it wraps modulo
 * range (0: a 64-bit counter that never wraps). A counter that went backwards
 * without a range was reset: 0 is returned and the caller rebases. */
uint64_t wp_counter_delta(uint64_t prev, uint64_t cur, uint64_t range);

/* Longest interval at which no channel can wrap twice between two reads, with
 * a factor 2 margin: min over channels of range / max_power / 2. Returns 0
 * when no channel wraps. */
double wp_meter_max_interval(struct wp_sensor *const *sensors, int n);

/* Creates a meter over n sensors, which it takes and closes in
 * wp_meter_free. interval_s is clamped to wp_meter_max_interval (with a
 * warning). Returns 0 and *out, or -ENOMEM (the sensors are then closed). */
int wp_meter_create(struct wp_sensor **sensors, int n, double interval_s, struct wp_meter **out);

/* Calls fn(arg) from the sampling thread, after a reading, at most every
 * every_s seconds (and not under the meter's lock, so fn may read the meter).
 * Set before wp_meter_start. Used to checkpoint long runs. */
void wp_meter_on_tick(struct wp_meter *m, double every_s, void (*fn)(void *), void *arg);

/* Reads every counter (the baseline) and starts the sampling thread.
 * Returns 0 or a negative errno. */
int wp_meter_start(struct wp_meter *m);

/* Stops the thread and takes the final reading. Safe to call twice. */
void wp_meter_stop(struct wp_meter *m);

/* Takes one reading of every channel now (what the thread does each tick). */
void wp_meter_sample(struct wp_meter *m);

void wp_meter_free(struct wp_meter *m);

double wp_meter_interval_s(const struct wp_meter *m);
/* Seconds from the first reading to the last one taken. */
double wp_meter_duration_s(struct wp_meter *m);
/* Seconds since the first reading: now while running, the duration once stopped. */
double wp_meter_elapsed_s(struct wp_meter *m);
int wp_meter_n_channels(const struct wp_meter *m);
const struct wp_channel *wp_meter_channel(const struct wp_meter *m, int i);
double wp_meter_energy_j(struct wp_meter *m, int i);
bool wp_meter_lost(struct wp_meter *m, int i);
unsigned wp_meter_wraps(struct wp_meter *m, int i);
void wp_meter_totals(struct wp_meter *m, struct wp_energy_totals *out);

/* Totals of per-channel energies e[0..n_channels) (joules), by the same
 * rules: each joule once, psys apart. */
void wp_meter_totals_of(const struct wp_meter *m, const double *e, struct wp_energy_totals *out);

/* Copies every channel's energy so far, in joules, into e[0..n_channels). */
void wp_meter_energies(struct wp_meter *m, double *e);

/* Power of the counted channels between the last two readings, W. */
double wp_meter_recent_power_w(struct wp_meter *m);

/* Power of channel i between the last two readings, W (0 before two). */
double wp_meter_channel_power_w(struct wp_meter *m, int i);

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
