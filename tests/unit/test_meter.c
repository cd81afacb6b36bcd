/* The meter over a scripted sensor: wrap handling, lost channels, totals that
 * count each joule once, sample downsampling, and the sampling thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <errno.h>

#include "meter/meter.h"

#define MAX_CH 4

/* Each read returns the next row of values; a value of UINT64_MAX means the
 * channel fails on that read. Past the last row, the last row repeats. */
struct script {
    int n_rows, row;
    uint64_t values[16][MAX_CH];
};

static void scripted_read(struct wp_sensor *s, double now, uint64_t *e, bool *ok)
{
    struct script *sc = s->priv;
    int r = sc->row < sc->n_rows ? sc->row : sc->n_rows - 1;
    (void)now;
    for (int c = 0; c < s->n_channels; c++) {
        ok[c] = sc->values[r][c] != UINT64_MAX;
        e[c] = sc->values[r][c];
    }
    sc->row++;
}

static void scripted_close(struct wp_sensor *s)
{
    wp_sensor_free(s);
}

static int scripted_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    (void)env;
    (void)out;
    return -1;
}

static const struct wp_sensor_ops scripted_ops = {"scripted", 1u << WP_CPU, scripted_probe,
                                                  scripted_read, scripted_close};

static struct wp_meter *make(struct script *sc, const struct wp_channel *chans, int n,
                             double interval)
{
    struct wp_sensor **list = calloc(1, sizeof *list);
    struct wp_meter *m = NULL;
    list[0] = wp_sensor_alloc(&scripted_ops, n);
    memcpy(list[0]->channels, chans, (size_t)n * sizeof *chans);
    list[0]->priv = sc;
    assert_int_equal(wp_meter_create(list, 1, interval, NULL, &m), 0);
    return m;
}

static void wraps_and_totals(void **state)
{
    static struct script sc = {
        .n_rows = 4,
        .values = {{100, 10, 0, 0}, {900, 20, 5, 50}, {200, 30, 9, 70}, {300, 40, 10, 90}},
    };
    const struct wp_channel ch[4] = {
        {.sensor = "s",
         .component = WP_CPU,
         .device = "package-0",
         .counted = true,
         .range_uj = 1000},
        {.sensor = "s", .component = WP_DRAM, .device = "dram-0", .counted = true},
        {.sensor = "s", .component = WP_CORE, .device = "core-0", .counted = false},
        {.sensor = "s", .component = WP_PSYS, .device = "psys", .counted = false},
    };
    struct wp_energy_totals t;
    struct wp_meter *m = make(&sc, ch, 4, 0);
    (void)state;

    assert_int_equal(wp_meter_start(m), 0);
    wp_meter_sample(m);
    wp_meter_sample(m);
    wp_meter_stop(m);
    /* 100 -> 900 (800), -> wrap -> 200 (100 + 200), -> 300 (100) */
    assert_float_equal(wp_meter_energy_j(m, 0), 1200e-6, 1e-12);
    assert_int_equal(wp_meter_wraps(m, 0), 1);
    assert_float_equal(wp_meter_energy_j(m, 1), 30e-6, 1e-12);
    wp_meter_totals(m, &t);
    assert_float_equal(t.cpu_j, 1200e-6, 1e-12);
    assert_float_equal(t.dram_j, 30e-6, 1e-12);
    assert_float_equal(t.total_j, 1230e-6, 1e-12);
    assert_true(t.has_psys);
    assert_float_equal(t.psys_j, 90e-6, 1e-12);
    assert_false(t.any_estimated);
    wp_meter_stop(m); /* twice is harmless */
    wp_meter_free(m);
}

static void lost_channel_keeps_energy(void **state)
{
    static struct script sc = {
        .n_rows = 4,
        .values = {{0, 0}, {500, 5}, {UINT64_MAX, 6}, {9000, 7}},
    };
    const struct wp_channel ch[2] = {
        {.sensor = "s", .component = WP_CPU, .device = "package-0", .counted = true},
        {.sensor = "s",
         .component = WP_DRAM,
         .device = "dram",
         .counted = true,
         .method = WP_ESTIMATED},
    };
    struct wp_energy_totals t;
    struct wp_meter *m = make(&sc, ch, 2, 0);
    (void)state;

    assert_int_equal(wp_meter_start(m), 0);
    wp_meter_sample(m);
    wp_meter_sample(m);
    wp_meter_stop(m);
    assert_true(wp_meter_lost(m, 0));
    assert_float_equal(wp_meter_energy_j(m, 0), 500e-6, 1e-12); /* not 9000 */
    assert_false(wp_meter_lost(m, 1));
    assert_float_equal(wp_meter_energy_j(m, 1), 7e-6, 1e-12);
    wp_meter_totals(m, &t);
    assert_true(t.any_estimated);
    wp_meter_free(m);
}

static void downsampling_keeps_first_and_last(void **state)
{
    static struct script sc = {.n_rows = 1, .values = {{1}}};
    const struct wp_channel ch[1] = {
        {.sensor = "s", .component = WP_CPU, .device = "package-0", .counted = true},
    };
    struct wp_meter *m = make(&sc, ch, 1, 0);
    double t, e;
    (void)state;

    assert_int_equal(wp_meter_start(m), 0);
    for (int i = 0; i < 3 * WP_METER_MAX_SAMPLES; i++)
        wp_meter_sample(m);
    wp_meter_stop(m);
    assert_true(wp_meter_n_samples(m) <= WP_METER_MAX_SAMPLES);
    assert_true(wp_meter_n_samples(m) >= WP_METER_MAX_SAMPLES / 4);
    wp_meter_get_sample(m, 0, &t, &e);
    assert_float_equal(t, 0.0, 0);
    wp_meter_get_sample(m, wp_meter_n_samples(m) - 1, &t, &e);
    assert_float_equal(t, wp_meter_duration_s(m), 1e-12);
    wp_meter_free(m);
}

static void thread_samples_at_the_interval(void **state)
{
    static struct script sc = {.n_rows = 1, .values = {{1}}};
    const struct wp_channel ch[1] = {
        {.sensor = "s", .component = WP_CPU, .device = "package-0", .counted = true},
    };
    struct wp_meter *m = make(&sc, ch, 1, 0.01);
    struct timespec ts = {0, 200 * 1000 * 1000};
    (void)state;

    assert_int_equal(wp_meter_start(m), 0);
    nanosleep(&ts, NULL);
    wp_meter_stop(m);
    /* 0.2 s at 100 Hz: about 20 readings; allow for a slow, loaded machine */
    assert_true(wp_meter_n_samples(m) >= 5);
    assert_true(wp_meter_n_samples(m) <= 25);
    wp_meter_free(m);
}

static _Atomic int ticked[4];

static void tick_hook(void *arg)
{
    ticked[(int)(intptr_t)arg]++;
}

/* Several tick hooks, each at its own rate; a fifth is refused. */
static void tick_hooks(void **state)
{
    static struct script sc = {.n_rows = 1, .values = {{1}}};
    const struct wp_channel ch[1] = {
        {.sensor = "s", .component = WP_CPU, .device = "package-0", .counted = true},
    };
    struct wp_meter *m = make(&sc, ch, 1, 0.001);
    struct timespec ms = {0, 1000 * 1000};
    (void)state;

    assert_int_equal(wp_meter_on_tick(m, 0, tick_hook, (void *)(intptr_t)0), 0);
    assert_int_equal(wp_meter_on_tick(m, 0, tick_hook, (void *)(intptr_t)1), 0);
    assert_int_equal(wp_meter_on_tick(m, 1e9, tick_hook, (void *)(intptr_t)2), 0);
    assert_int_equal(wp_meter_on_tick(m, 0, tick_hook, (void *)(intptr_t)3), 0);
    assert_int_equal(wp_meter_on_tick(m, 0, tick_hook, (void *)(intptr_t)3), -ENOSPC);
    assert_int_equal(wp_meter_start(m), 0);
    for (int i = 0; i < 20000 && ticked[1] < 3; i++) /* until the state, not for a time */
        nanosleep(&ms, NULL);
    wp_meter_stop(m);
    assert_true(ticked[0] >= 3 && ticked[1] >= 3);
    assert_int_equal(ticked[2], 0); /* every 1e9 s: never due */
    assert_true(ticked[3] >= 3);
    wp_meter_free(m);
}

static void no_channels(void **state)
{
    struct wp_sensor **list = calloc(1, sizeof *list);
    struct wp_energy_totals t;
    struct wp_meter *m = NULL;
    (void)state;
    assert_int_equal(wp_meter_create(list, 0, 1.0, NULL, &m), 0);
    assert_int_equal(wp_meter_start(m), 0);
    wp_meter_stop(m);
    wp_meter_totals(m, &t);
    assert_float_equal(t.total_j, 0, 0);
    wp_meter_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wraps_and_totals),
        cmocka_unit_test(lost_channel_keeps_energy),
        cmocka_unit_test(downsampling_keeps_first_and_last),
        cmocka_unit_test(thread_samples_at_the_interval),
        cmocka_unit_test(no_channels),
        cmocka_unit_test(tick_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
