/* The public API: a whole measurement, nested windows, and every misuse
 * answered with an error code, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wattprint.h"

static wattprint_options opts = {.struct_size = sizeof(wattprint_options),
                                 .ledger = "",
                                 .interval_s = 0.01,
                                 .intensity_g_per_kwh = 400};

static volatile double sink; /* keeps the busy loop from being optimised away */

static void busy(double seconds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 10000; i++)
            sink += i;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);
}

static void whole_run_with_nested_windows(void **state)
{
    wattprint_meter *m;
    wattprint_result outer = WATTPRINT_RESULT_INIT, a = WATTPRINT_RESULT_INIT,
                     b = WATTPRINT_RESULT_INIT, total = WATTPRINT_RESULT_INIT;
    char *json = NULL;
    (void)state;

    assert_int_equal(wattprint_open(&opts, &m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(m), WATTPRINT_OK);
    assert_int_equal(wattprint_window_begin(m, "outer"), WATTPRINT_OK);
    assert_int_equal(wattprint_window_begin(m, "a"), WATTPRINT_OK);
    busy(0.1);
    assert_int_equal(wattprint_add_work(m, 100, "tokens"), WATTPRINT_OK);
    assert_int_equal(wattprint_window_end(m, "a", &a), WATTPRINT_OK);
    assert_int_equal(wattprint_window_begin(m, "b"), WATTPRINT_OK);
    busy(0.1);
    assert_int_equal(wattprint_add_work(m, 50, NULL), WATTPRINT_OK);
    assert_int_equal(wattprint_window_end(m, "b", &b), WATTPRINT_OK);
    assert_int_equal(wattprint_window_end(m, "outer", &outer), WATTPRINT_OK);
    assert_int_equal(wattprint_stop(m), WATTPRINT_OK);
    assert_int_equal(wattprint_read(m, &total), WATTPRINT_OK);

    assert_true(a.energy_j > 0 && b.energy_j > 0);
    assert_float_equal(a.work_done, 100, 0);
    assert_float_equal(outer.work_done, 150, 0);
    /* the inner windows lie within the outer one */
    assert_true(a.energy_j + b.energy_j <= outer.energy_j * (1 + 1e-9));
    assert_true(outer.energy_j <= total.energy_j * (1 + 1e-9));
    assert_float_equal(total.emissions_g, total.facility_energy_j / 3.6e6 * 400, 1e-9);
    assert_int_equal(wattprint_window_json(m, "a", &json), WATTPRINT_OK);
    assert_non_null(strstr(json, "\"name\":\"a\""));
    wattprint_free(json);
    assert_int_equal(wattprint_json(m, &json), WATTPRINT_OK);
    assert_non_null(strstr(json, "\"unit\": \"tokens\""));
    wattprint_free(json);
    wattprint_close(m);
}

static void misuse_is_an_error_code(void **state)
{
    wattprint_meter *m;
    wattprint_result r = WATTPRINT_RESULT_INIT;
    char *json;
    (void)state;

    assert_int_equal(wattprint_open(&opts, NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_start(NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_open(&opts, &m), WATTPRINT_OK);
    assert_int_equal(wattprint_window_begin(m, "early"), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_stop(m), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_add_work(m, 1, NULL), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_start(m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(m), WATTPRINT_ESTATE);
    assert_non_null(strstr(wattprint_last_error(), "already started"));
    assert_int_equal(wattprint_window_end(m, "never-opened", &r), WATTPRINT_ENOENT);
    assert_non_null(strstr(wattprint_last_error(), "never-opened"));
    assert_int_equal(wattprint_window_begin(m, ""), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_window_begin(m, NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_window_begin(m, "w"), WATTPRINT_OK);
    assert_int_equal(wattprint_window_begin(m, "w"), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_window_json(m, "w", &json), WATTPRINT_ENOENT);
    assert_int_equal(wattprint_add_work(m, -1, NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_add_work(m, NAN, NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_add_work(m, 1, "tokens"), WATTPRINT_OK);
    assert_int_equal(wattprint_add_work(m, 1, "samples"), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_read(m, NULL), WATTPRINT_EINVAL);
    assert_int_equal(wattprint_stop(m), WATTPRINT_OK);
    assert_int_equal(wattprint_stop(m), WATTPRINT_ESTATE);
    wattprint_close(m);
    /* use after close: refused without touching the freed handle */
    assert_int_equal(wattprint_start(m), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_read(m, &r), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_window_end(m, "w", &r), WATTPRINT_ESTATE);
    wattprint_close(m); /* closing twice is harmless */
    wattprint_close(NULL);
}

static void bad_options(void **state)
{
    wattprint_meter *m = (wattprint_meter *)1;
    wattprint_options o = opts;
    const char *tags[] = {"novalue", NULL};
    (void)state;

    o.pue = 0.5;
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_EINVAL);
    assert_null(m);
    o = opts;
    o.interval_s = -1;
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_EINVAL);
    o = opts;
    o.intensity_g_per_kwh = INFINITY;
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_EINVAL);
    o = opts;
    o.region = "atlantis";
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_ENOENT);
    assert_non_null(strstr(wattprint_last_error(), "unknown region"));
    o = opts;
    o.tags = tags;
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_EINVAL);
    assert_string_equal(wattprint_strerror(WATTPRINT_ENOENT), "not found");
    assert_string_equal(wattprint_version(), "0.1.0");
}

/* The first layout of the options and the result as an older program was
 * compiled with: a prefix of today's. Under AddressSanitizer, a read or a
 * write past them fails the test. */
struct older_options {
    size_t struct_size;
    double interval_s;
    const char *region;
    double intensity_g_per_kwh;
    double pue;
    const char *provider;
    const char *ledger;
};

struct older_result {
    size_t struct_size;
    double duration_s, energy_j;
};

static void abi_sizes(void **state)
{
    struct older_options *old = malloc(sizeof *old); /* on the heap: ASan sees its end */
    struct older_result *res = malloc(sizeof *res);
    wattprint_options zero = {0};
    wattprint_result unset = {0};
    wattprint_meter *m;
    (void)state;

    assert_int_equal(wattprint_open(&zero, &m), WATTPRINT_EINVAL);
    assert_non_null(strstr(wattprint_last_error(), "WATTPRINT_OPTIONS_INIT"));
    *old = (struct older_options){sizeof *old, 0.01, "FR", 0, 1.2, NULL, ""};
    assert_int_equal(wattprint_open((const wattprint_options *)old, &m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(m), WATTPRINT_OK);
    assert_int_equal(wattprint_read(m, &unset), WATTPRINT_EINVAL);
    assert_non_null(strstr(wattprint_last_error(), "WATTPRINT_RESULT_INIT"));
    res->struct_size = sizeof *res;
    assert_int_equal(wattprint_read(m, (wattprint_result *)res), WATTPRINT_OK);
    assert_int_equal(res->struct_size, sizeof *res);
    assert_true(res->duration_s >= 0 && res->energy_j >= 0);
    assert_int_equal(wattprint_window_begin(m, "w"), WATTPRINT_OK);
    assert_int_equal(wattprint_window_end(m, "w", (wattprint_result *)res), WATTPRINT_OK);
    wattprint_close(m);
    free(old);
    free(res);
}

struct log {
    int n;
    char last[512];
};

static void collect(int level, const char *message, void *user)
{
    struct log *l = user;
    assert_int_equal(level, WATTPRINT_LOG_WARNING);
    l->n++;
    snprintf(l->last, sizeof l->last, "%s", message);
}

/* Warnings go to the host's function, and nowhere once it is unset. */
static void warnings_go_to_the_host(void **state)
{
    struct log got = {0};
    wattprint_options o = opts;
    wattprint_meter *m;
    (void)state;

    o.ledger = "/proc/wattprint-cannot/ledger.db";
    wattprint_set_log(collect, &got);
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(m), WATTPRINT_OK);
    assert_int_equal(wattprint_stop(m), WATTPRINT_OK);
    wattprint_close(m);
    assert_true(got.n >= 1);
    assert_non_null(strstr(got.last, "cannot record this run"));
    wattprint_set_log(NULL, NULL);
    got.n = 0;
    assert_int_equal(wattprint_open(&o, &m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(m), WATTPRINT_OK);
    wattprint_close(m);
    assert_int_equal(got.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_run_with_nested_windows),
        cmocka_unit_test(misuse_is_an_error_code),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(abi_sizes),
        cmocka_unit_test(warnings_go_to_the_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
